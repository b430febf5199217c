"""The run summary: the numbers a lesson quotes, and what the same run would cost on AWS Lambda.

Counts come straight from trace records (no sampling); percentiles are over handler durations of
every invocation that ran. The cost estimate bills what AWS bills for an on-demand x86 function:
one request per invocation (errors and timeouts included, throttles not), plus memory × billed
duration, where billed duration is init + handler time rounded up to the millisecond (AWS has
billed the INIT phase of on-demand functions since 1 August 2025). The free tier is ignored, so a
lesson shows the marginal price of the traffic.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, fields

from localcloud.pictures import _facts
from localcloud.trace import DEAD_LETTER, DROP, ERROR, INVOKE, RETRY, THROTTLE, TIMEOUT, Trace

# AWS Lambda list prices, us-east-1, x86, on-demand, first pricing tier (free tier not applied).
# Source: https://aws.amazon.com/lambda/pricing/ — recorded for this course on 2026-12-04; these
# prices have been AWS's published x86 rates since 1 ms billing began (December 2020).
PRICE_PER_REQUEST_USD = 0.20 / 1_000_000  # $0.20 per 1M requests
PRICE_PER_GB_SECOND_USD = 0.0000166667  # $0.0000166667 per GB-second
PRICE_REGION = "us-east-1"
PRICE_DATE = "2026-12-04"
PRICE_SOURCE = "https://aws.amazon.com/lambda/pricing/"
DEFAULT_MEMORY_MB = 128  # Lambda's default when a record does not say


@dataclass(frozen=True)
class Summary:
    """Counts, latencies and cost of one trace. `.table()` for text, `_repr_html_` for notebooks."""

    invocations: int
    errors: int
    timeouts: int
    retries: int
    throttles: int
    dead_lettered: int
    dropped: int
    cold_starts: int
    p50_ms: float
    p95_ms: float
    end_to_end_ms: float
    requests: int
    gb_seconds: float
    request_cost_usd: float
    compute_cost_usd: float

    @property
    def cost_usd(self) -> float:
        return self.request_cost_usd + self.compute_cost_usd

    @property
    def cost_per_million_runs_usd(self) -> float:
        """What a million runs like this one would cost: tiny numbers made comparable."""
        return self.cost_usd * 1_000_000

    def as_dict(self) -> dict[str, float | int]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["cost_usd"] = self.cost_usd
        return d

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs in display order; `.table()` and the HTML share them."""
        return [
            ("invocations", str(self.invocations)),
            ("errors", str(self.errors)),
            ("timeouts", str(self.timeouts)),
            ("retries", str(self.retries)),
            ("throttles", str(self.throttles)),
            ("dead-lettered", str(self.dead_lettered)),
            ("dropped", str(self.dropped)),
            ("cold starts", str(self.cold_starts)),
            ("p50 duration", f"{self.p50_ms:.1f} ms"),
            ("p95 duration", f"{self.p95_ms:.1f} ms"),
            ("end to end", f"{self.end_to_end_ms:.1f} ms"),
            ("requests billed", str(self.requests)),
            ("GB-seconds", f"{self.gb_seconds:.6f}"),
            ("cost (this run)", f"${self.cost_usd:.10f}"),
            ("cost per 1M runs", f"${self.cost_per_million_runs_usd:,.2f}"),
        ]

    def table(self) -> str:
        """Fixed-width text, identical for identical traces, so notebooks can store it."""
        rows = self.rows()
        width = max(len(k) for k, _ in rows)
        vwidth = max(len(v) for _, v in rows)
        lines = [f"{k.ljust(width)}  {v.rjust(vwidth)}" for k, v in rows]
        lines.append(f"(AWS Lambda x86 list prices, {PRICE_REGION}, recorded {PRICE_DATE})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:right;font-family:monospace'>{html.escape(v)}</td></tr>"
            for k, v in self.rows()
        )
        note = (f"AWS Lambda x86 list prices, {PRICE_REGION}, recorded {PRICE_DATE} from "
                f"<a href='{PRICE_SOURCE}'>{PRICE_SOURCE}</a>; free tier not applied.")
        return (f"<table class='localcloud-summary' style='font-size:13px'>{body}</table>"
                f"<div style='font-size:11px;color:#555'>{note}</div>")


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def billed_ms(init_ms: float, duration_ms: float) -> int:
    """AWS bills init + handler time, rounded up to the next millisecond (at least 1 ms)."""
    return max(1, math.ceil(init_ms + duration_ms - 1e-9))


def summary(trace: Trace) -> Summary:
    """Count, time and price a trace (a whole run or any filtered part)."""
    records = trace.records
    invokes = [r for r in records if r.kind == INVOKE]
    durations = [r.duration_ms for r in invokes]
    retry_records = sum(1 for r in records if r.kind == RETRY)
    retried_attempts = sum(1 for r in invokes if r.attempt > 1)
    gb_s = sum(
        (r.memory_mb or DEFAULT_MEMORY_MB) / 1024.0 * billed_ms(r.init_ms, r.duration_ms) / 1000.0
        for r in invokes
    )
    last = _facts.last_handler_end(trace)
    end_to_end = (last - _facts.origin(records)) * 1000.0 if last is not None else 0.0
    return Summary(
        invocations=len(invokes),
        errors=sum(1 for r in invokes if r.outcome == ERROR),
        timeouts=sum(1 for r in invokes if r.outcome == TIMEOUT),
        retries=max(retry_records, retried_attempts),
        throttles=sum(1 for r in records if r.kind == THROTTLE),
        dead_lettered=sum(1 for r in records if r.kind == DEAD_LETTER),
        dropped=sum(1 for r in records if r.kind == DROP),
        cold_starts=sum(1 for r in invokes if r.cold),
        p50_ms=percentile(durations, 50),
        p95_ms=percentile(durations, 95),
        end_to_end_ms=max(end_to_end, 0.0),
        requests=len(invokes),
        gb_seconds=gb_s,
        request_cost_usd=len(invokes) * PRICE_PER_REQUEST_USD,
        compute_cost_usd=gb_s * PRICE_PER_GB_SECOND_USD,
    )
