"""A flaky HTTP dependency for lesson 09, served on 127.0.0.1 only (never a real network address).

The lesson's handlers call an "exchange-rate API" the way they would call any third-party service,
with ``requests``. This module plays that service: a ``ThreadingHTTPServer`` in a daemon thread on a
free loopback port, whose faults the student controls:

    rates = FlakyDependency()                 # http://127.0.0.1:<port>/rates, healthy
    rates.configure(failure_rate=0.3)         # 30 % of requests answer 503 (the same ones every run)
    rates.configure(latency_ms=50)            # every answer takes 50 ms
    rates.outage(0.3, 1.0, hang_ms=300)       # from 0.3 s to 1.0 s after rates.restart_clock():
                                              # every request hangs 300 ms, then answers 503
    rates.requests                            # [(seconds since the clock started, status), ...]
    rates.close()

A failing request answers ``503`` with a JSON body, as API gateways and load balancers do; which
requests fail is decided by the request's number (seeded), so a run can be repeated exactly.
"""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTHY_BODY = {"base": "EUR", "rates": {"USD": 1.08, "GBP": 0.85}}
FAILED_BODY = {"message": "Service Unavailable"}


class FlakyDependency:
    """An HTTP service on loopback whose failure rate, latency and outages can be turned."""

    def __init__(self, *, failure_rate: float = 0.0, latency_ms: float = 0.0, seed: str = "rates") -> None:
        self.failure_rate, self.latency_ms, self.seed = failure_rate, latency_ms, seed
        self.down = False
        self._outages: list[tuple[float, float, float]] = []
        self._lock = threading.Lock()
        self._count = 0
        self._t0 = time.monotonic()
        self.requests: list[tuple[float, int]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="flaky-dependency", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/rates"

    def configure(self, *, failure_rate: float | None = None, latency_ms: float | None = None,
                  down: bool | None = None) -> FlakyDependency:
        if failure_rate is not None:
            self.failure_rate = failure_rate
        if latency_ms is not None:
            self.latency_ms = latency_ms
        if down is not None:
            self.down = down
        return self

    def outage(self, start_s: float, end_s: float, *, hang_ms: float = 0.0) -> FlakyDependency:
        """Fail every request from `start_s` to `end_s` after the clock's start, each after `hang_ms`."""
        self._outages.append((start_s, end_s, hang_ms))
        return self

    def restart_clock(self) -> None:
        """Time zero for outages and for the request log; forgets earlier requests and outages' log."""
        with self._lock:
            self._t0 = time.monotonic()
            self.requests = []

    def heal(self) -> FlakyDependency:
        """Back to healthy: no failures, no latency, no outages (the request log is kept)."""
        self.failure_rate, self.latency_ms, self.down, self._outages = 0.0, 0.0, False, []
        return self

    def now(self) -> float:
        return time.monotonic() - self._t0

    def _answer(self) -> tuple[int, dict, float]:
        """Status, body and delay (s) for the next request."""
        with self._lock:
            number = self._count
            self._count += 1
            at = self.now()
        delay = self.latency_ms / 1000.0
        failed = self.down
        for start, end, hang_ms in self._outages:
            if start <= at < end:
                failed, delay = True, max(delay, hang_ms / 1000.0)
        if not failed and self.failure_rate > 0:
            failed = random.Random(f"{self.seed}:{number}").random() < self.failure_rate
        status = 503 if failed else 200
        with self._lock:
            self.requests.append((at, status))
        return status, FAILED_BODY if failed else HEALTHY_BODY, delay

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        dependency = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, body, delay = dependency._answer()
                if delay > 0:
                    time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (its timeout): nobody to answer
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence stderr
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __repr__(self) -> str:
        return (f"<FlakyDependency {self.url}: failure_rate={self.failure_rate}, latency_ms={self.latency_ms}, "
                f"down={self.down}, {len(self._outages)} outage(s)>")
