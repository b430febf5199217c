"""Execution environments: one thread each, cold on first use, warm after, discarded on timeout.

A Lambda execution environment serves one invocation at a time and keeps its module state between
invocations. Modelling it as a long-lived thread gives the same life cycle: init (import) happens
once on the first job, later jobs reuse the loaded handler, and concurrency is the number of busy
environments.
"""

from __future__ import annotations

import ctypes
import json
import queue
import threading
import time
import traceback
from typing import TYPE_CHECKING

from . import environ, handlers, logs, runtime_context
from .context import LambdaContext

if TYPE_CHECKING:
    from .runtime import FunctionRuntime, Invocation


class TimeoutInterrupt(BaseException):
    """Raised inside a handler thread that outlived its timeout (BaseException: `except Exception` can't eat it)."""


def error_body(exc: BaseException, error_type: str | None = None, message: str | None = None) -> dict:
    """The JSON Lambda returns for an unhandled error."""
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line or ""}\n' for f in frames],
    }


class ExecutionEnvironment:
    def __init__(self, function: FunctionRuntime, index: int, variables: dict[str, str]) -> None:
        self.function = function
        self.id = f"{function.name}/{index}"
        self.log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{index:032x}"
        self._variables = variables
        self._jobs: queue.SimpleQueue[Invocation | None] = queue.SimpleQueue()
        self.handler: handlers.Handler | None = None
        self.initialized = False
        self.init_ms = 0.0
        self.init_error: dict | None = None
        self.dead = False
        self.settling = False  # idle, but kept for its own thread's next job (see runtime._take_idle)
        self.thread = threading.Thread(target=self._serve, name=f"lambda:{self.id}", daemon=True)
        self.thread.lambda_environment = self  # type: ignore[attr-defined]
        self.thread.start()

    def submit(self, invocation: Invocation) -> None:
        self._jobs.put(invocation)

    def provision(self) -> threading.Event:
        """Initialize ahead of any invocation (provisioned concurrency): no cold start later."""
        ready = threading.Event()
        self._jobs.put(ready)  # type: ignore[arg-type]
        return ready

    def retire(self) -> None:
        self.dead = True  # never handed out again; its thread ends after any job it is running
        self._jobs.put(None)

    def interrupt(self) -> None:
        """Stop the handler still running here after its timeout (see README: timeouts)."""
        self.dead = True
        self._jobs.put(None)
        if self.thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self.thread.ident), ctypes.py_object(TimeoutInterrupt)
            )

    def _serve(self) -> None:
        environ.set_thread_variables(self._variables)
        while True:
            invocation = self._jobs.get()
            if invocation is None or self.dead:
                return
            if isinstance(invocation, threading.Event):
                self._variables["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
                environ.set_thread_variables(self._variables)
                self.init_error = self._init(None)
                invocation.set()
                continue
            try:
                self._run(invocation)
            except TimeoutInterrupt:
                return  # the runtime already reported the timeout and retired this environment

    def _init(self, invocation: Invocation | None) -> dict | None:
        started = time.monotonic()
        try:
            self.handler, _ = handlers.load(self.function.handler, self.function.code_dir)
        except TimeoutInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - the error goes back to the caller as on AWS
            self.dead = True  # AWS resets the environment after a failed init
            module = self.function.handler.rpartition(".")[0] if isinstance(self.function.handler, str) else ""
            kind = "Runtime.HandlerNotFound" if isinstance(exc, AttributeError) else "Runtime.ImportModuleError"
            return error_body(exc, kind, f"Unable to import module '{module}': {exc}")
        finally:
            self.initialized = True
            self.init_ms = (time.monotonic() - started) * 1000
            if invocation is not None:
                invocation.init_ms = self.init_ms
        return None

    def _run(self, invocation: Invocation) -> None:
        logs.install()  # cheap; re-wraps stdout if a kernel or test runner swapped it since
        current = runtime_context.Current(self.function.name, invocation.request_id, invocation.lineage, [])
        runtime_context.set_current(current)
        try:
            invocation.cold = not self.initialized
            if invocation.cold:
                failure = self._init(invocation)
                if failure is not None:
                    invocation.finish("error", None, failure, current.log)
                    return
            context = LambdaContext(
                function_name=self.function.name,
                function_version="$LATEST",
                invoked_function_arn=self.function.arn,
                memory_limit_in_mb=invocation.memory_mb,
                aws_request_id=invocation.request_id,
                log_group_name=f"/aws/lambda/{self.function.name}",
                log_stream_name=self.log_stream,
                deadline=time.monotonic() + invocation.timeout,
            )
            invocation.handler_started()
            try:
                payload = invocation.payload
                event = json.loads(payload) if isinstance(payload, str) else payload
                result = self.handler(event, context)  # type: ignore[misc]
            except TimeoutInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: Lambda reports it, the runtime lives on
                invocation.finish("error", None, error_body(exc), current.log)
                return
            try:
                body = json.dumps(result)
            except (TypeError, ValueError) as exc:
                failure = error_body(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}")
                invocation.finish("error", None, failure, current.log)
                return
            invocation.finish("success", body, None, current.log)
        finally:
            runtime_context.set_current(None)
