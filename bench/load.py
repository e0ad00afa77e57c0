"""An HTTP load driver for benchmarks: run it in a process apart from the server.

Closed model (``concurrency`` clients, each sending its next request when the
last one answers) or open model (``rate`` requests a second, whatever the
server does, which is how card networks send authorisations). Each client
keeps one keep-alive connection, like a browser.
"""

import http.client
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def nearest_rank(samples: Sequence[float], p: float) -> float:
    """The p-th percentile by nearest rank (the smallest sample with p% at or below it)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary_ms(samples_ms: Sequence[float], *, digits: int = 2) -> dict:
    """p50 (median) and p95 (the sample at index floor(0.95 n) once sorted) of timings in ms,
    as the in-process benchmarks report them."""
    ordered = sorted(samples_ms)
    return {
        "p50_ms": round(statistics.median(ordered), digits),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], digits),
    }


def time_calls(function: Callable[[], object], *, repeat: int, digits: int = 2) -> dict:
    """Call ``function`` ``repeat`` times in this process; its runs, p50 and p95 in ms."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return {"runs": repeat, **summary_ms(samples, digits=digits)}


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds of each process so far (Linux /proc); gone ones are left out.
    CPU time barely moves with the machine's load, unlike the clock."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found


@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    errors: int
    elapsed_s: float
    statuses: dict[int, int]
    concurrency: int
    rate: float | None = None

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        return nearest_rank(self.latencies_ms, p)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def as_row(self) -> dict:
        return {
            "name": self.name,
            "requests": len(self.latencies_ms),
            "errors": self.errors,
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
            "throughput_rps": round(self.throughput, 1),
            "concurrency": self.concurrency,
            "rate": self.rate,
        }


RequestSource = Sequence[Request] | Callable[[int], Request]


def _pick(source: RequestSource, index: int) -> Request:
    if callable(source):
        return source(index)
    return source[index % len(source)]


def _connection(base_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)


def _send(connection, request: Request) -> tuple[int, float]:
    started = time.perf_counter()
    connection.request(request.method, request.path, body=request.body, headers=request.headers)
    response = connection.getresponse()
    response.read()
    return response.status, (time.perf_counter() - started) * 1000


def run_load(
    name: str,
    base_url: str,
    requests: RequestSource,
    *,
    concurrency: int = 8,
    duration_s: float = 10.0,
    max_requests: int | None = None,
    rate: float | None = None,
    warmup: int = 20,
    ok_statuses: tuple[int, ...] = (200,),
) -> Result:
    """Send requests for ``duration_s`` seconds (or ``max_requests``) and time each one.

    With ``rate`` set, requests start on a fixed schedule shared by the clients
    and latency counts from the scheduled start, so a slow server cannot hide
    its queueing (no coordinated omission).
    """
    warm = _connection(base_url)
    for index in range(warmup):
        _send(warm, _pick(requests, index))
    warm.close()

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    lock = threading.Lock()
    counter = iter(range(10**12))
    stop_at = time.perf_counter() + duration_s
    started = time.perf_counter()
    interval = 1.0 / rate if rate else None

    def client() -> None:
        nonlocal errors
        connection = _connection(base_url)
        while True:
            with lock:
                index = next(counter)
            if max_requests is not None and index >= max_requests:
                break
            scheduled = started + index * interval if interval else None
            now = time.perf_counter()
            if scheduled is not None:
                if scheduled > stop_at:
                    break
                if scheduled > now:
                    time.sleep(scheduled - now)
            elif now > stop_at:
                break
            try:
                status, elapsed = _send(connection, _pick(requests, index))
                if scheduled is not None:
                    elapsed = (time.perf_counter() - scheduled) * 1000
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = _connection(base_url)
                with lock:
                    errors += 1
                continue
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status in ok_statuses:
                    latencies.append(elapsed)
                else:
                    errors += 1
        connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(
        name=name,
        latencies_ms=latencies,
        errors=errors,
        elapsed_s=time.perf_counter() - started,
        statuses=statuses,
        concurrency=concurrency,
        rate=rate,
    )


def report(results: Sequence[Result], *, title: str = "") -> str:
    """A plain table of p50/p95/p99 and throughput per endpoint."""
    lines = []
    if title:
        lines.append(title)
    header = f"{'endpoint':<44} {'reqs':>7} {'err':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}"
    lines.append(header)
    lines.append("-" * len(header))
    for result in results:
        row = result.as_row()
        lines.append(
            f"{row['name']:<44} {row['requests']:>7} {row['errors']:>5} {row['p50_ms']:>8} "
            f"{row['p95_ms']:>8} {row['p99_ms']:>8} {row['throughput_rps']:>8}"
        )
    text = "\n".join(lines)
    print(text, flush=True)
    return text
