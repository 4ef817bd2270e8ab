"""What the relay and the consumer share as long-running processes: they stop cleanly
on SIGTERM (Kubernetes) or Ctrl-C, and outlive broker and database outages by
reconnecting with capped exponential back-off."""

import logging
import signal
import time
from collections.abc import Callable

from django.db import connection as db_connection
from kombu import Connection

from pollsite.events.broker import broker_connection

logger = logging.getLogger("pollsite.events")

#: A session that ran this long was healthy: the next failure starts back-off afresh.
HEALTHY_SESSION_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 10.0


class Stopper:
    """SIGTERM/SIGINT ask the loop to finish what it is doing and exit."""

    def __init__(self):
        self.stopped = False
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def stop(self, *_):
        self.stopped = True


def run_connected(session: Callable[[Connection], None], *, what: str, stopper: Stopper, retry: bool = True) -> None:
    """Run ``session(broker connection)`` until it returns or ``stopper`` says stop.

    Any failure (broker gone, database gone) closes both connections, waits, and starts
    a new session; nothing is acknowledged or stamped by a failed session, so nothing is
    lost. With ``retry=False`` the failure is raised instead (``--once`` runs).
    """
    backoff = 0.5
    while not stopper.stopped:
        started = time.monotonic()
        try:
            with broker_connection() as connection:
                connection.ensure_connection(max_retries=1)
                session(connection)
                return
        except Exception as exc:
            db_connection.close()
            if not retry:
                raise
            if time.monotonic() - started > HEALTHY_SESSION_SECONDS:
                backoff = 0.5
            logger.warning("%s interrupted, retrying in %.1fs: %s: %s", what, backoff, exc.__class__.__name__, exc)
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
