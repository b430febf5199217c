"""The Lambda runtime: functions, concurrency, invocations and their results.

Sources and the session call `start()` (non-blocking, the way pollers and async queues hand an
event to Lambda) or `invoke()` (blocking, RequestResponse). Both end in one `Result` and one trace
record, so a test or a picture sees every invocation the same way whatever caused it.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import runtime_context
from . import trace as tr
from .clock import Clock
from .environment import ExecutionEnvironment
from .errors import ConfigurationError, HandlerError, Throttled
from .handlers import Handler, check_callable
from .runtime_context import Lineage
from .scheduler import Scheduler, Timer, Work

ACCOUNT_CONCURRENCY = 1000  # AWS's default per-Region quota
# What an invocation is handed: JSON text, or a dict built afresh for this one invocation and held by
# nobody else (a poller's batch event). Decoding JSON text gives the handler its own copy; a fresh
# dict already is one, and skipping the round trip is a fifth of a poller's overhead per batch.
Event = str | dict[str, Any]
LOGS_KEPT_PER_FUNCTION = 500  # invocations whose log lines stay in memory


@dataclass
class Result:
    """How one invocation ended. `payload` is the JSON text Lambda would return."""

    function: str
    request_id: str
    outcome: str  # success | error | timeout | throttled
    payload: str | None = None
    error: dict | None = None
    record: tr.Record | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == tr.SUCCESS

    def value(self) -> Any:
        """The handler's return value, or `HandlerError` / `Throttled` with one clear line."""
        if self.outcome == tr.THROTTLED:
            raise Throttled(
                f"function '{self.function}' is at its concurrency limit (Rate Exceeded); "
                "raise reserved_concurrency or wait for running invocations to finish"
            )
        if not self.ok:
            error = self.error or {}
            raise HandlerError(self.function, error.get("errorType", "Error"), error.get("errorMessage", ""),
                               self.request_id)
        return json.loads(self.payload) if self.payload is not None else None

    def response_payload(self) -> str:
        if self.ok:
            return self.payload or "null"
        return json.dumps(self.error)


@dataclass
class FunctionRuntime:
    """Our side of one function; its configuration lives in moto's Lambda (`config`)."""

    name: str
    arn: str
    handler: str | Handler
    config: Any  # moto's LambdaFunction: timeout, memory_size, reserved_concurrency, environment_vars
    idle: list[ExecutionEnvironment] = field(default_factory=list)
    busy: int = 0
    created: int = 0
    logs: deque = field(default_factory=lambda: deque(maxlen=LOGS_KEPT_PER_FUNCTION))
    code_dir: str | None = None  # where a module handler's file lives (a service folder), else sys.path

    @property
    def reserved(self) -> int | None:
        value = self.config.reserved_concurrency
        return None if value is None else int(value)


class Invocation:
    """One attempt to run a handler; finished exactly once (by the handler or by its timeout)."""

    def __init__(self, runtime: Runtime, function: FunctionRuntime, payload: Event, *, source: str,
                 invocation: str, attempt: int, batch_size: int, event_ids: tuple[str, ...],
                 lineage: Lineage | None, on_done: Callable[[Result], None], work_token: int,
                 request_id: str | None = None, refills: bool = False) -> None:
        self.runtime, self.function, self.payload = runtime, function, payload
        self.source, self.invocation, self.attempt = source, invocation, attempt
        self.batch_size, self.event_ids, self.lineage, self.on_done = batch_size, event_ids, lineage, on_done
        self.refills = refills  # on_done may start this slot's next invocation on the same environment
        self.request_id = request_id or str(uuid.uuid4())
        self.timeout = float(function.config.timeout)
        self.memory_mb = int(function.config.memory_size)
        self.environment: ExecutionEnvironment | None = None
        self.cold = False
        self.init_ms = 0.0
        self.start = runtime.clock.now()
        self.handler_start = self.start
        self._lock = threading.Lock()
        self._finished = False
        self._timer: Timer | None = None
        self._work_token = work_token

    def handler_started(self) -> None:
        self.handler_start = self.runtime.clock.now()
        self._timer = self.runtime.scheduler.call_later(self.timeout, self._time_out, "timeout", tracked=False)

    def _time_out(self) -> None:
        error = {"errorMessage": f"Task timed out after {self.timeout:.2f} seconds", "errorType": "Sandbox.Timedout"}
        if self.finish("timeout", None, error, [], timed_out=True):
            assert self.environment is not None
            self.environment.interrupt()

    def finish(self, outcome: str, payload: str | None, error: dict | None, log: list[str], *,
               timed_out: bool = False) -> bool:
        with self._lock:
            if self._finished:
                return False
            self._finished = True
        if self._timer is not None and not timed_out:
            self.runtime.scheduler.cancel(self._timer)
        self.runtime._finished(self, outcome, payload, error, log)
        return True


def _take_idle(idle: list[ExecutionEnvironment]) -> ExecutionEnvironment | None:
    """An idle environment for a new invocation, taken out of `idle` (most recently used first).

    An environment still settling (its thread is running a poller's `on_done`, which may start that
    slot's next batch) goes only to its own thread: a backlog then drains on the threads that have
    it, instead of each refill finding its environment taken and starting a cold one.
    """
    own = getattr(threading.current_thread(), "lambda_environment", None)
    if own is not None and own.settling:
        for index in range(len(idle) - 1, -1, -1):
            if idle[index] is own:
                del idle[index]
                return None if own.dead else own
    for index in range(len(idle) - 1, -1, -1):
        env = idle[index]
        if env.dead:
            del idle[index]
        elif not env.settling:
            del idle[index]
            return env
    return None


class Runtime:
    def __init__(self, clock: Clock, trace: tr.Trace, scheduler: Scheduler, work: Work,
                 account_concurrency: int = ACCOUNT_CONCURRENCY) -> None:
        self.clock, self.trace, self.scheduler, self.work = clock, trace, scheduler, work
        self.account_concurrency = account_concurrency
        self.functions: dict[str, FunctionRuntime] = {}
        self._lock = threading.Lock()
        self._busy_unreserved = 0
        self._variables_for: Callable[[FunctionRuntime, ExecutionEnvironment | None], dict[str, str]] = (
            lambda fn, env: {}
        )
        self._ids = itertools.count(1)

    # -- functions -----------------------------------------------------------------------------
    def register(self, name: str, arn: str, handler: str | Handler, config: Any,
                 code_dir: str | None = None) -> FunctionRuntime:
        check_callable(name, handler, code_dir)
        with self._lock:
            old = self.functions.get(name)
            fn = FunctionRuntime(name, arn, handler, config, code_dir=code_dir)
            if old is not None:  # new code, new environments — numbered on, so the trace tells them apart
                fn.created = old.created
            self.functions[name] = fn
        if old is not None:  # redefining a function (re-running a cell): new code, new environments
            for env in old.idle:
                env.retire()
            old.idle.clear()
        return fn

    def get(self, name_or_arn: str) -> FunctionRuntime | None:
        name = name_or_arn.split(":")[6] if name_or_arn.startswith("arn:") else name_or_arn
        return self.functions.get(name)

    def require(self, name_or_arn: str) -> FunctionRuntime:
        fn = self.get(name_or_arn)
        if fn is None:
            known = ", ".join(sorted(self.functions)) or "none yet"
            raise ConfigurationError(
                f"unknown function {name_or_arn!r} (known: {known}); define it with cloud.function(name, handler)"
            )
        return fn

    def provision(self, fn: FunctionRuntime, count: int) -> list[float]:
        """Provisioned concurrency: `count` environments initialized now; returns their init times (ms)."""
        envs = []
        for _ in range(count):
            with self._lock:
                fn.created += 1
                index = fn.created
            envs.append(ExecutionEnvironment(fn, index, self._variables_for(fn, None)))
        for env in envs:
            env.provision().wait()
        with self._lock:
            fn.idle.extend(env for env in envs if not env.dead)
        return [env.init_ms for env in envs]

    # -- concurrency ---------------------------------------------------------------------------
    def _unreserved_limit(self) -> int:
        reserved = sum(fn.reserved or 0 for fn in self.functions.values())
        return max(0, self.account_concurrency - reserved)

    def _acquire(self, fn: FunctionRuntime) -> ExecutionEnvironment | int | bool:
        """An idle environment, the index of a new one to create, or False when throttled."""
        with self._lock:
            reserved = fn.reserved
            if reserved is not None:
                if fn.busy >= reserved:
                    return False
            elif self._busy_unreserved >= self._unreserved_limit():
                return False
            else:
                self._busy_unreserved += 1
            fn.busy += 1
            env = _take_idle(fn.idle)
            if env is not None:
                return env
            fn.created += 1
            return fn.created

    def _release(self, fn: FunctionRuntime, env: ExecutionEnvironment | None, keep: bool,
                 settling: bool = False) -> None:
        with self._lock:
            fn.busy -= 1
            if fn.reserved is None:
                self._busy_unreserved -= 1
            if keep and env is not None and not env.dead and self.functions.get(fn.name) is fn:
                env.settling = settling
                fn.idle.append(env)
            elif env is not None and not env.dead:
                env.retire()

    # -- invoking ------------------------------------------------------------------------------
    def start(self, fn: FunctionRuntime, payload: Event, *, source: str, invocation: str,
              on_done: Callable[[Result], None], attempt: int = 1, batch_size: int = 0,
              event_ids: tuple[str, ...] = (), lineage: Lineage | None = None,
              request_id: str | None = None, refills: bool = False) -> Result | None:
        """Hand `payload` (an `Event`) to an environment. Returns a throttled Result, or None if started."""
        env = self._acquire(fn)
        if env is False:  # (an index of 0 never occurs: environments are numbered from 1)
            record = self.trace.add(tr.THROTTLE, self.clock.now(), source, f"function:{fn.name}",
                                    function=fn.name, attempt=attempt, outcome=tr.THROTTLED,
                                    batch_size=batch_size, event_ids=event_ids, invocation=invocation)
            return Result(fn.name, "", tr.THROTTLED, record=record)
        token = self.work.begin(f"invocation of '{fn.name}'")
        job = Invocation(self, fn, payload, source=source, invocation=invocation, attempt=attempt,
                         batch_size=batch_size, event_ids=event_ids, lineage=lineage, on_done=on_done,
                         work_token=token, request_id=request_id, refills=refills)
        if not isinstance(env, ExecutionEnvironment):
            env = ExecutionEnvironment(fn, env, self._variables_for(fn, None))
        job.environment = env
        env.submit(job)
        return None

    def invoke(self, fn: FunctionRuntime, payload: str, *, source: str, invocation: str = "sync",
               lineage: Lineage | None = None, **kwargs) -> Result:
        """RequestResponse: block until the handler returns, fails or times out."""
        done = threading.Lock()  # a bare lock is the cheapest hand-back between two threads
        done.acquire()
        box: list[Result] = []

        def on_done(result: Result) -> None:
            box.append(result)
            done.release()

        throttled = self.start(fn, payload, source=source, invocation=invocation, on_done=on_done,
                               lineage=lineage, **kwargs)
        if throttled is not None:
            return throttled
        done.acquire()
        return box[0]

    def _finished(self, job: Invocation, outcome: str, payload: str | None, error: dict | None,
                  log: list[str]) -> None:
        fn, env = job.function, job.environment
        end = self.clock.now()
        if error is not None:
            error.setdefault("requestId", job.request_id)
            error["requestId"] = job.request_id
        duration_ms = (end - job.handler_start) * 1000
        record = self.trace.add(
            tr.INVOKE, job.start, job.source, f"function:{fn.name}", end=end, function=fn.name,
            request_id=job.request_id, environment=env.id if env else None, cold=job.cold,
            init_ms=job.init_ms, duration_ms=duration_ms, attempt=job.attempt, outcome=outcome,
            error=(f"{error.get('errorType')}: {error.get('errorMessage')}" if error else None),
            batch_size=job.batch_size, event_ids=job.event_ids, invocation=job.invocation,
            memory_mb=job.memory_mb,
        )
        fn.logs.append((job.request_id, job.cold, job.init_ms, duration_ms, job.memory_mb, log, error))
        settling = job.refills and env is not None and threading.current_thread() is env.thread
        self._release(fn, env, keep=outcome != tr.TIMEOUT, settling=settling)
        saved = runtime_context.enter_system()  # what happens next is the runtime's doing, not the handler's
        try:
            job.on_done(Result(fn.name, job.request_id, outcome, payload, error, record))
        finally:
            if settling:
                env.settling = False  # type: ignore[union-attr]
            runtime_context.leave_system(saved)
            self.work.end(job._work_token)

    # -- logs ----------------------------------------------------------------------------------
    def log_lines(self, name: str) -> list[str]:
        """CloudWatch-style lines: START, what the handler printed, errors, END and REPORT."""
        fn = self.require(name)
        lines: list[str] = []
        for request_id, cold, init_ms, duration_ms, memory_mb, chunks, error in list(fn.logs):
            lines.append(f"START RequestId: {request_id} Version: $LATEST")
            lines.extend("".join(chunks).splitlines())
            if error:
                lines.append(f"[ERROR] {error.get('errorType')}: {error.get('errorMessage')}")
            lines.append(f"END RequestId: {request_id}")
            report = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                      f"Billed Duration: {max(1, round(duration_ms + 0.4999))} ms\tMemory Size: {memory_mb} MB")
            lines.append(report + (f"\tInit Duration: {init_ms:.2f} ms" if cold else ""))
        return lines

    def shutdown(self) -> None:
        with self._lock:
            functions = list(self.functions.values())
            self.functions.clear()
            self._busy_unreserved = 0
        for fn in functions:
            for env in fn.idle:
                env.retire()
