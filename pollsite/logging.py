"""Adds the role, the request id and the token subject to every log record."""

import logging

from django.conf import settings

from pollsite.request_context import request_id_var, subject_var


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.role = getattr(settings, "ROLE", "")
        record.request_id = getattr(record, "request_id", None) or request_id_var.get()
        subject = subject_var.get()
        if subject:
            record.subject = subject
        return True
