"""gunicorn's sync worker, made to lose no queued connection on a graceful stop.

On SIGTERM gunicorn's workers finish their current request and exit. Connections the
kernel had already accepted into the listen queue, but no worker had picked up, are
reset when the last copy of the socket closes: their requests were sent and are lost
(a proxy answers 502). Draining the queue is no cure while the socket stays open, since
new connections keep arriving as long as any worker holds it.

So on SIGTERM this worker takes every connection already waiting and closes its copy of
the socket at once, in the signal handler: once every worker has done so the socket is
gone, and new connections are refused (a proxy retries those elsewhere, safely). The
connections it took are answered before it exits, within ``graceful_timeout``.
"""

import errno

from gunicorn import util
from gunicorn.workers.sync import StopWaiting, SyncWorker


class _Address:
    """Stands in for a listener in a request's environ, which needs only its address:
    the real one may be closed by SIGTERM while the request is being handled."""

    def __init__(self, address):
        self.address = address

    def getsockname(self):
        return self.address


class DrainingSyncWorker(SyncWorker):
    taken: list | None = None

    def init_process(self):
        self.addresses = {id(listener): _Address(listener.getsockname()) for listener in self.sockets}
        super().init_process()

    def handle_request(self, listener, req, client, addr):
        return super().handle_request(self.addresses.get(id(listener), listener), req, client, addr)

    def handle_exit(self, sig, frame):
        self.stop_listening()
        super().handle_exit(sig, frame)

    def stop_listening(self) -> None:
        if self.taken is not None:
            return
        taken = []
        for listener in self.sockets:
            listener.setblocking(False)  # never block in a signal handler (a booting worker's may still block)
            while True:
                try:
                    client, address = listener.accept()
                except OSError as exc:
                    if exc.errno == errno.ECONNABORTED:
                        continue
                    break  # EAGAIN: nothing else waits
                taken.append((listener, client, address))
            listener.close()
        self.taken = taken

    def accept(self, listener):
        if self.taken is not None:  # stopped listening between the loop's check and here
            raise OSError(errno.EAGAIN, "stopped listening")
        try:
            super().accept(listener)
        except AttributeError:  # SIGTERM just before accept(): the listener is closed (no socket)
            if self.taken is not None:
                raise OSError(errno.EAGAIN, "stopped listening") from None
            raise

    def wait(self, timeout):
        if self.taken is not None:
            raise StopWaiting
        try:
            return super().wait(timeout)
        except (TypeError, ValueError):
            # SIGTERM arrived just before select(): the handler closed the listener, which
            # select() cannot take any more. Stop waiting, as intended.
            if self.taken is not None:
                raise StopWaiting from None
            raise

    def run(self):
        try:
            if self.taken is None:  # SIGTERM may come while the worker still boots
                super().run()
        except (AttributeError, TypeError, ValueError, OSError):
            if self.taken is None:
                raise
            # a step of the loop touched the listener SIGTERM had just closed: stop here
        for listener, client, address in self.taken or ():
            client.setblocking(1)
            util.close_on_exec(client)
            self.handle(listener, client, address)
        if self.taken is not None:
            self.log.info("worker %s stopped listening on SIGTERM and answered %d queued connection(s)", self.pid, len(self.taken))
