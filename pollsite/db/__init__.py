"""Database backends of every role: Django's, exporting django-prometheus's database metrics
(the same names, labels and buckets) at a fraction of their cost per query.

django-prometheus's cursor looks its labelled series up twice and enters two context
managers for every statement, a tenth of the vote path's CPU (docs/BENCHMARKS.md); these
cursors look them up once per connection. Connections are counted by django-prometheus's
own mixin. ENGINE: ``pollsite.db.postgresql`` or ``pollsite.db.sqlite3``.
"""

import time

from django_prometheus.db import errors_total, execute_many_total, execute_total, query_duration_seconds


def counted_cursor(cursor_class: type, alias: str, vendor: str) -> type:
    """``cursor_class`` counting its statements, their errors and their durations."""
    executes, many, duration = (metric.labels(alias, vendor) for metric in (execute_total, execute_many_total, query_duration_seconds))

    class CountedCursor(cursor_class):
        def execute(self, *args, **kwargs):
            executes.inc()
            started = time.perf_counter()
            try:
                return super().execute(*args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise
            finally:
                duration.observe(time.perf_counter() - started)

        def executemany(self, query, param_list, *args, **kwargs):
            executes.inc(len(param_list))
            many.inc(len(param_list))
            started = time.perf_counter()
            try:
                return super().executemany(query, param_list, *args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise
            finally:
                duration.observe(time.perf_counter() - started)

    return CountedCursor
