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


def _woken_by_one_connection(cls) -> int:
    """How many of three idle workers wake for one new connection."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    listener = _Listener(server)
    workers = [_worker(cls, listener) for _ in range(3)]
    woken = []

    def idle(worker):
        ready = worker.wait(1.5)
        if ready and listener in ready:
            woken.append(worker)

    threads = [threading.Thread(target=idle, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # all three waiting
    client = socket.create_connection(server.getsockname())
    time.sleep(0.5)
    count = len(woken)
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
