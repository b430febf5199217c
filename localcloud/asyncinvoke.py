"""Asynchronous invocation (`InvocationType=Event`, SNS, S3, EventBridge): Lambda's own queue.

AWS rules: on a function error, two more attempts about one and two minutes later
(`MaximumRetryAttempts`, 0–2); an event older than `MaximumEventAgeInSeconds` (default 6 h) is
dropped; throttled events are retried with backoff without using up attempts; whatever is given up
on goes to the on-failure destination and/or the function's dead-letter queue, or is discarded.
Recursive loops (the same function invoked more than 16 times in one chain) are stopped.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass

from . import runtime_context
from . import trace as tr
from .clock import Clock
from .destinations import Sender, invocation_record, node_for_arn
from .runtime import FunctionRuntime, Result, Runtime
from .runtime_context import Lineage

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600  # seconds, AWS's default and maximum
RETRY_DELAYS = (60.0, 120.0)  # AWS seconds before the 2nd and 3rd attempt
THROTTLE_BACKOFF = (1.0, 300.0)  # AWS retries throttled events from 1 s, doubling, up to 5 min
RECURSION_LIMIT = 16  # Lambda's recursive-loop detection stops the 17th invocation in a chain


@dataclass
class AsyncEvent:
    function: FunctionRuntime
    payload: str
    source: str
    request_id: str
    first_seen: float
    lineage: Lineage
    attempts: int = 0
    throttles: int = 0
    token: int = 0


def event_invoke_config(fn: FunctionRuntime) -> dict:
    configs = getattr(fn.config, "event_invoke_config", None) or []
    return dict(configs[0].config) if configs else {}


class AsyncInvoker:
    def __init__(self, runtime: Runtime, clock: Clock, sender: Sender) -> None:
        self.runtime, self.clock, self.sender = runtime, clock, sender
        self._lock = threading.Lock()

    def submit(self, fn: FunctionRuntime, payload: str, *, source: str, lineage: Lineage | None = None) -> str:
        """Queue an event for `fn` and return its request id (kept across retries, as on AWS)."""
        if lineage is None:
            current = runtime_context.current()
            if current is not None:
                lineage = current.lineage or Lineage(current.request_id)
            else:
                lineage = Lineage(str(uuid.uuid4()))
        event = AsyncEvent(fn, payload, source, str(uuid.uuid4()), self.clock.now(), lineage.extended(fn.name))
        event.token = self.runtime.work.begin(f"async event for '{fn.name}'")
        if event.lineage.hops[fn.name] > RECURSION_LIMIT:
            self._give_up(event, None, "RecursiveInvocationLoop")
        else:
            self._dispatch(event)
        return event.request_id

    def _dispatch(self, event: AsyncEvent) -> None:
        config = event_invoke_config(event.function)
        max_age = config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
        if self.clock.aws(self.clock.now() - event.first_seen) > max_age:
            self._give_up(event, None, "EventAgeExceeded")
            return
        event.attempts += 1
        throttled = self.runtime.start(
            event.function, event.payload, source=event.source, invocation="async", attempt=event.attempts,
            lineage=event.lineage, request_id=event.request_id, on_done=lambda r: self._done(event, r),
        )
        if throttled is not None:
            event.attempts -= 1  # throttles do not use up retry attempts
            delay = min(THROTTLE_BACKOFF[1], THROTTLE_BACKOFF[0] * 2**event.throttles)
            event.throttles += 1
            self.runtime.scheduler.call_later(self.clock.real(delay), lambda: self._dispatch(event),
                                              f"throttled async event for '{event.function.name}'")

    def _done(self, event: AsyncEvent, result: Result) -> None:
        config = event_invoke_config(event.function)
        if result.ok:
            target = config.get("DestinationConfig", {}).get("OnSuccess", {}).get("Destination")
            if target:
                self._send_record(event, result, target, "Success")
            self.runtime.work.end(event.token)
            return
        retries = config.get("MaximumRetryAttempts", DEFAULT_RETRIES)
        if event.attempts > retries:
            self._give_up(event, result, "RetriesExhausted")
            return
        delay = RETRY_DELAYS[min(event.attempts - 1, len(RETRY_DELAYS) - 1)]
        name = event.function.name
        self.runtime.trace.add(tr.RETRY, self.clock.now(), event.source, f"function:{name}", function=name,
                               request_id=event.request_id, attempt=event.attempts + 1, outcome=result.outcome,
                               error=result.record.error if result.record else None,
                               detail={"delay_aws_s": delay})
        self.runtime.scheduler.call_later(self.clock.real(delay), lambda: self._dispatch(event),
                                          f"retry of an async event for '{name}'")

    def _send_record(self, event: AsyncEvent, result: Result, target: str, condition: str) -> None:
        record = invocation_record(event.function.arn, event.payload, result, condition, event.attempts)
        kind = "Success" if condition == "Success" else "Failure"
        self.sender.send(target, json.dumps(record), source=f"function:{event.function.name}",
                         detail_type=f"Lambda Function Invocation Result - {kind}")

    def _give_up(self, event: AsyncEvent, result: Result | None, condition: str) -> None:
        name = event.function.name
        result = result or Result(name, event.request_id, tr.ERROR, error={
            "errorMessage": condition, "errorType": condition})
        targets = []
        config = event_invoke_config(event.function)
        on_failure = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if on_failure:
            self._send_record(event, result, on_failure, condition)
            targets.append(on_failure)
        dlq = getattr(event.function.config, "localcloud_dead_letter_arn", None)
        if dlq:
            message = (result.error or {}).get("errorMessage", condition)
            self.sender.send(dlq, event.payload, source=f"function:{name}",
                             attributes={"RequestID": event.request_id, "ErrorCode": "200", "ErrorMessage": message})
            targets.append(dlq)
        now = self.clock.now()
        for target in targets:
            self.runtime.trace.add(tr.DEAD_LETTER, now, f"function:{name}", node_for_arn(target), function=name,
                                   request_id=event.request_id, attempt=event.attempts, outcome=condition,
                                   destination=node_for_arn(target), error=condition)
        if not targets:
            self.runtime.trace.add(tr.DROP, now, event.source, f"function:{name}", function=name,
                                   request_id=event.request_id, attempt=event.attempts, outcome=condition,
                                   error=f"{condition}: no on-failure destination or DLQ, AWS discards the event")
        self.runtime.work.end(event.token)
