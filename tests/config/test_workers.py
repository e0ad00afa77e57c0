"""config.workers.ExclusiveSyncWorker: one idle worker wakes per connection, and it serves."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from gunicorn.workers.sync import SyncWorker

from config.workers import ExclusiveSyncWorker


class _Listener:
    """What gunicorn hands a worker: a listening socket with fileno()."""

    def __init__(self, sock):
        self.sock = sock

    def fileno(self):
        return self.sock.fileno()


def _worker(cls, listener):
    worker = cls.__new__(cls)
    worker.sockets = [listener]
    worker.PIPE = os.pipe()
    worker.wait_fds = [listener, worker.PIPE[0]]
    worker.nr = 0
    worker.notify = lambda: None
    return worker


# x86-64 system calls a thread blocked waiting for a socket sits in: poll, select,
# epoll_wait, pselect6, ppoll, epoll_pwait, epoll_pwait2.
_WAITING_CALLS = {"7", "23", "232", "270", "271", "281", "441"}


def _blocked_waiting(thread_id: int) -> bool:
    """Whether a thread of this process is blocked in a wait for file descriptors."""
    try:
        with open(f"/proc/self/task/{thread_id}/syscall") as status:
            return status.read().split()[0] in _WAITING_CALLS
    except (OSError, IndexError):
        return False


def _woken_by_one_connection(cls) -> int:
    """How many of three idle workers, all blocked waiting, wake for one new connection."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    listener = _Listener(server)
    workers = [_worker(cls, listener) for _ in range(3)]
    woken, thread_ids = [], []

    def idle(worker):
        thread_ids.append(threading.get_native_id())
        ready = worker.wait(30)
        if ready and listener in ready:
            woken.append(worker)

    threads = [threading.Thread(target=idle, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(thread_ids) < 3 or not all(_blocked_waiting(t) for t in thread_ids):
        assert time.monotonic() < deadline, "the workers never started waiting"
        time.sleep(0.01)
    client = socket.create_connection(server.getsockname())
    while not woken and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # time for any other worker the connection woke to say so
    count = len(woken)
    for worker in workers:  # the rest wake through their signal pipes
        os.write(worker.PIPE[1], b".")
    for thread in threads:
        thread.join()
    client.close()
    server.close()
    for worker in workers:
        os.close(worker.PIPE[0])
        os.close(worker.PIPE[1])
    return count


def test_one_idle_worker_wakes_per_connection():
    assert _woken_by_one_connection(ExclusiveSyncWorker) == 1
    # gunicorn's own sync worker wakes every idle worker (what this class is for).
    assert _woken_by_one_connection(SyncWorker) == 3


def test_a_signal_wakes_a_waiting_worker():
    server = socket.create_server(("127.0.0.1", 0))
    worker = _worker(ExclusiveSyncWorker, _Listener(server))
    os.write(worker.PIPE[1], b".")
    started = time.monotonic()
    assert worker.wait(5) == [worker.PIPE[0]]
    assert time.monotonic() - started < 1
    server.close()


def test_gunicorn_serves_with_it_and_stops_cleanly():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "tests.config.hello_wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--worker-class",
            "config.workers.ExclusiveSyncWorker",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        answered = []
        deadline = time.monotonic() + 30
        while len(answered) < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    answered.append(int(response.read()))
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert len(answered) == 60 and os.getpid() not in answered
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"Traceback" not in output, output.decode()
