"""PostgreSQL with pollsite's counted cursors (see pollsite.db)."""

from django.db.backends.postgresql import base
from django_prometheus.db.common import DatabaseWrapperMixin

from pollsite.db import counted_cursor


class DatabaseWrapper(DatabaseWrapperMixin, base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params["cursor_factory"] = counted_cursor(params["cursor_factory"], self.alias, self.vendor)
        return params

    def create_cursor(self, name=None):
        # Django's own (the cursor factory counts): not the mixin's, which would bypass it.
        return base.DatabaseWrapper.create_cursor(self, name=name)
