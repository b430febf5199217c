"""Classroom time: AWS's waits shrunk so a lesson runs in seconds, handler code left alone.

AWS waits minutes between async retries and holds failed SQS messages for a visibility timeout.
A lesson cannot, so by default every *service* delay (retry backoff, visibility timeouts, batching
windows, schedules, maximum event age) is divided by `CLASSROOM_SPEEDUP`. Handler code, and the
function timeout that bounds it, always run in real time. `Cloud(timing="aws")` keeps AWS's delays.
"""

from __future__ import annotations

import time

CLASSROOM_SPEEDUP = 1000.0  # one AWS minute of waiting lasts 60 ms in class


class Clock:
    def __init__(self, timing: str | float = "classroom") -> None:
        if timing == "classroom":
            self.speedup = CLASSROOM_SPEEDUP
        elif timing == "aws":
            self.speedup = 1.0
        elif isinstance(timing, int | float) and not isinstance(timing, bool) and timing >= 1:
            self.speedup = float(timing)
        else:
            raise ValueError(
                f"timing={timing!r} is not understood: use 'classroom' (AWS waits ÷ {CLASSROOM_SPEEDUP:g}), "
                "'aws' (real AWS waits) or a speed-up factor ≥ 1"
            )
        self.origin = time.monotonic()

    def now(self) -> float:
        """Seconds since the cloud started (the trace's time axis)."""
        return time.monotonic() - self.origin

    def real(self, aws_seconds: float) -> float:
        """How long an AWS service wait of `aws_seconds` lasts here."""
        return aws_seconds / self.speedup

    def aws(self, real_seconds: float) -> float:
        """How much AWS time a real wait of `real_seconds` stands for (event age, schedules)."""
        return real_seconds * self.speedup
