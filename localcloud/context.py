"""The Lambda context object, with the attributes Powertools and real handlers read."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class LambdaContext:
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float  # time.monotonic() at which the function times out
    identity: object = None
    client_context: object = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))
