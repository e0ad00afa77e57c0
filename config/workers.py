"""gunicorn's sync worker, woken alone for each new connection.

gunicorn's sync workers wait for a connection with ``select()`` on the shared
listening socket, so every idle worker wakes for every connection: one accepts
it, the others find nothing and go back to waiting. Behind a proxy that opens a
connection per request (docs/deploy.md) that is every idle worker woken for
every request, CPU the busy worker and Elasticsearch could have used.

``ExclusiveSyncWorker`` waits with ``epoll`` instead and registers the
listening sockets with ``EPOLLEXCLUSIVE`` (Linux 4.5 and later), so the kernel
wakes one waiting worker per connection, as nginx's workers do. Everything else
is gunicorn's sync worker: one request at a time, the same accept loop, the
same signals and heartbeat. Where ``EPOLLEXCLUSIVE`` does not exist (macOS) it
is the plain sync worker.

    gunicorn config.wsgi:application --worker-class config.workers.ExclusiveSyncWorker
"""

import os
import select

from gunicorn.workers.sync import StopWaiting, SyncWorker

EXCLUSIVE = getattr(select, "EPOLLEXCLUSIVE", None)


class ExclusiveSyncWorker(SyncWorker):
    _poller = None
    _listeners: dict

    def _poll_setup(self):
        poller = select.epoll()
        self._listeners = {}
        for listener in self.sockets:
            poller.register(listener.fileno(), select.EPOLLIN | EXCLUSIVE)
            self._listeners[listener.fileno()] = listener
        # The arbiter's signals reach the worker through this pipe: every waiter wakes.
        poller.register(self.PIPE[0], select.EPOLLIN)
        self._poller = poller
        return poller

    def wait(self, timeout):
        if EXCLUSIVE is None:
            return super().wait(timeout)
        poller = self._poller or self._poll_setup()
        self.notify()
        try:
            events = poller.poll(timeout)
        except OSError as error:  # the sockets closed under it: the worker is stopping
            if self.nr < 0:
                return self.sockets
            raise StopWaiting from error
        ready = []
        for fd, _ in events:
            if fd == self.PIPE[0]:
                os.read(self.PIPE[0], 1)
                ready.append(fd)
            else:
                ready.append(self._listeners[fd])
        return ready
