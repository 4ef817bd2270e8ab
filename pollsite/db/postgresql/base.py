"""PostgreSQL with pollsite's counted cursors (see pollsite.db), and health checks that
cost no round trip while the connection is quiet."""

import select

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

    def close_if_health_check_failed(self):
        """``CONN_HEALTH_CHECKS``: Django's check before a request reuses a connection, which
        sends ``SELECT 1`` every time, asked first of the socket.

        Between requests an idle connection has nothing to read. A server that ends it (a
        restart, ``pg_terminate_backend``, an idle timeout, a pooler closing it) sends its
        reason and closes, so the socket turns readable: only then is ``SELECT 1`` sent
        (Django's ``is_usable``) and the connection closed if that fails, to be reopened by
        the request's first query. A quiet socket costs one ``poll`` instead of a round trip,
        on every request of every role. A peer that vanished without a word is caught by
        neither check (``SELECT 1`` would wait for TCP to give up as the query does).
        """
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self._server_spoke() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def _server_spoke(self) -> bool:
        """Whether the server sent anything (a notice, its farewell, a close) since the last answer."""
        connection = self.connection
        if connection.closed:
            return True
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)  # errors and hang-ups are always reported
            return bool(poller.poll(0))
        except (OSError, ValueError):  # no socket to ask: let SELECT 1 tell
            return True
