"""Pagination shared by every role."""

from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """``?limit=`` is capped: a page never holds more than ``max_limit`` items, and a limit
    beyond what SQL's LIMIT takes (bigint) never reaches the database."""

    max_limit = 100
