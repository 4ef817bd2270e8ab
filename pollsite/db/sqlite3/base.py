"""SQLite (local runs) with pollsite's counted cursors (see pollsite.db)."""

from django.db.backends.sqlite3 import base
from django_prometheus.db.common import DatabaseWrapperMixin

from pollsite.db import counted_cursor


class DatabaseWrapper(DatabaseWrapperMixin, base.DatabaseWrapper):
    def create_cursor(self, name=None):
        cursor_class = getattr(self, "_counted_cursor", None)
        if cursor_class is None:
            cursor_class = self._counted_cursor = counted_cursor(base.SQLiteCursorWrapper, self.alias, self.vendor)
        return self.connection.cursor(factory=cursor_class)
