"""`Cloud`: the session a lesson starts in its first cell.

It starts moto (in-process, or moto's server on loopback with `endpoint=`), replaces any real AWS
identity with a fake one, keeps the kernel off the network, and wires moto to the Lambda runtime so
that real handlers run when events happen. One `Cloud` is active per process: creating another one
(re-running the first cell) closes the previous, so Restart & Run All and "run the cell twice" agree.
"""

from __future__ import annotations

import json
import os
import weakref
from typing import Any

import boto3

from . import environ, guard, logs, motoadapter, runtime_context, search
from . import trace as tr
from .asyncinvoke import AsyncInvoker
from .clock import Clock
from .destinations import Sender
from .errors import ConfigurationError
from .function import Function
from .handlers import Handler, describe
from .runtime import ACCOUNT_CONCURRENCY, FunctionRuntime, Runtime
from .scheduler import Scheduler, Work
from .sources import apigateway, s3, sns
from .sources import mappings as event_source_mappings
from .sources.pollers import INSTALLERS, POLLERS

_active: weakref.ref[Cloud] | None = None


class Cloud:
    """Real Lambda handlers on AWS services mocked by moto, inside this Python process."""

    account_id = motoadapter.ACCOUNT_ID

    def __init__(self, region: str = "us-east-1", *, timing: str | float = "classroom",
                 endpoint: str | None = None, account_concurrency: int = ACCOUNT_CONCURRENCY) -> None:
        global _active
        previous = _active() if _active is not None else None
        if previous is not None:
            previous.close()
        self.region, self.endpoint = region, endpoint
        if endpoint is not None and not guard.is_loopback(endpoint.split("//")[-1].split(":")[0].split("/")[0]):
            raise ConfigurationError(f"endpoint {endpoint!r} is not on loopback: use http://127.0.0.1:PORT")
        guard.fake_credentials(region)
        guard.install_network_guard()
        environ.install()
        logs.install()
        if endpoint is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
        boto3.DEFAULT_SESSION = None
        self._moto = motoadapter.MotoProcess(endpoint)
        search.engine().reset()  # the stand-in search cluster starts empty with every session
        if endpoint is None:
            motoadapter.fix_preexisting_clients()
        self.clock = Clock(timing)
        self.trace = tr.Trace()
        self.work = Work()
        self.scheduler = Scheduler(self.work, self._background_error)
        self.runtime = Runtime(self.clock, self.trace, self.scheduler, self.work, account_concurrency)
        self.runtime._variables_for = self._lambda_variables
        self.work.add_probe(motoadapter.running_executions)
        self._system_clients: dict[str, Any] = {}
        self.async_invoker = AsyncInvoker(self.runtime, self.clock, Sender(self._system_client, self._invoke_arn_async))
        self.apis: dict[str, apigateway.HttpApi] = {}
        self.background_errors: list[BaseException] = []
        self._closed = False
        motoadapter.install(self)
        search.engine().observer = self  # search calls join the trace as boto3's do
        self.mappings = event_source_mappings.MappingManager(self, POLLERS, INSTALLERS)
        _active = weakref.ref(self)

    # -- boto3 ---------------------------------------------------------------------------------
    def client(self, service: str, **kwargs) -> Any:
        """A boto3 client on this cloud (plain `boto3.client(...)` works too once Cloud() has started)."""
        return boto3.client(service, region_name=self.region, **kwargs)

    def resource(self, service: str, **kwargs) -> Any:
        return boto3.resource(service, region_name=self.region, **kwargs)

    def _system_client(self, service: str) -> Any:
        if service not in self._system_clients:
            self._system_clients[service] = self.client(service)
        return self._system_clients[service]

    # -- functions -----------------------------------------------------------------------------
    def function(self, name: str, handler: str | Handler, *, timeout: float = 3, memory: int = 128,
                 environment: dict[str, str] | None = None, reserved_concurrency: int | None = None,
                 dead_letter_arn: str | None = None, provisioned_concurrency: int = 0,
                 code_dir: str | None = None) -> Function:
        """Define (or redefine) a Lambda function whose handler is real Python code.

        `handler` is `def handler(event, context)` from a cell or a `"module.function"` path; the
        function also exists in moto's Lambda, so `boto3.client("lambda").invoke(...)` reaches it.
        `provisioned_concurrency=N` initializes N environments now, so the first N concurrent
        invocations start warm (moto has no provisioned-concurrency API, so it is a keyword here).
        `code_dir` is the folder a module handler is imported from (a service's folder), instead of
        sys.path, so two services may both have an `orders.py`.
        """
        from .handlers import check_callable

        check_callable(name, handler, code_dir)
        if not 1 <= timeout <= 900:
            raise ConfigurationError(f"function '{name}': timeout={timeout} s is outside Lambda's 1–900 s")
        if not 128 <= memory <= 10240:
            raise ConfigurationError(f"function '{name}': memory={memory} MB is outside Lambda's 128–10240 MB")
        motoadapter.ensure_role()
        spec: dict[str, Any] = {
            "FunctionName": name, "Runtime": "python3.11", "Role": motoadapter.ROLE_ARN,
            "Handler": handler if isinstance(handler, str) else f"notebook.{describe(handler)}",
            "Code": {"ZipFile": motoadapter.placeholder_zip_b64()}, "Timeout": timeout, "MemorySize": memory,
            "Environment": {"Variables": {k: str(v) for k, v in (environment or {}).items()}},
        }
        if dead_letter_arn:
            spec["DeadLetterConfig"] = {"TargetArn": dead_letter_arn}
        config = motoadapter.create_function(self.region, spec, reserved_concurrency)
        arn = config.function_arn
        fn = self.runtime.register(name, arn, handler, config, code_dir)
        if provisioned_concurrency:
            self.runtime.provision(fn, provisioned_concurrency)
        return Function(self, name, arn)

    def _lambda_variables(self, fn: FunctionRuntime, _env) -> dict[str, str]:
        """What Lambda puts in a sandbox's environment, plus the function's own variables."""
        config = fn.config
        variables = {
            "AWS_LAMBDA_FUNCTION_NAME": fn.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}", "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region, "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "_HANDLER": str(config.handler),
            "LAMBDA_TASK_ROOT": os.getcwd(),
        }
        variables.update({k: str(v) for k, v in (config.environment_vars or {}).items()})
        return variables

    def logs(self, function: str) -> list[str]:
        """The function's log lines (START / your prints / END / REPORT), newest invocations last."""
        return self.runtime.log_lines(function)

    def http_api(self, routes: dict[str, Any], *, name: str = "api", payload_version: str = "2.0"
                 ) -> apigateway.HttpApi:
        """An API Gateway HTTP API (payload 2.0) or REST API proxy (`payload_version="1.0"`)."""
        if payload_version not in ("1.0", "2.0"):
            raise ConfigurationError(f"payload_version={payload_version!r}: use '2.0' (HTTP API) or '1.0' (REST)")
        def resolve(key: str, target: Any) -> FunctionRuntime:
            if isinstance(target, Function):
                return self.runtime.require(target.name)
            if isinstance(target, str):
                return self.runtime.require(target)
            if callable(target):
                fn_name = f"{name}-{describe(target)}".replace(".", "-").replace("<", "").replace(">", "")
                self.function(fn_name, target)
                return self.runtime.require(fn_name)
            raise ConfigurationError(f"route {key!r}: give a cloud.function(...), a function name or a handler")
        parsed = apigateway.parse_routes(routes, resolve)
        api_id = motoadapter.register_http_api(self.region, name, [(r.key, r.function.arn) for r in parsed],
                                               payload_version)
        stage = "$default" if payload_version == "2.0" else "prod"
        api = apigateway.HttpApi(self, name, api_id, parsed, payload_version, stage)
        self.apis[name] = api
        return api

    def deploy(self, path: str, *, stage: str | None = None, options: dict[str, str] | None = None):
        """Deploy a Serverless Framework `serverless.yml` (see localcloud/serverless)."""
        from .serverless import deploy

        return deploy(self, path, stage=stage, options=options)

    # -- settling --------------------------------------------------------------------------------
    def wait(self, timeout: float = 10.0) -> None:
        """Block until every invocation, retry and poller is done; on timeout say what is pending."""
        self.work.wait_idle(timeout)
        if self.background_errors:
            error = self.background_errors.pop(0)
            raise RuntimeError(f"the local cloud hit an internal error in the background: {error!r}") from error

    def reset(self) -> None:
        """Wipe every resource, function and trace record (milliseconds), keeping this session."""
        self.mappings.stop()
        self.runtime.shutdown()
        self.scheduler.clear()
        self.work.clear()
        self.trace.clear()
        self.apis.clear()
        self._system_clients.clear()
        self._moto.reset()
        search.engine().reset()
        self.clock = Clock(self.clock.speedup)
        self.runtime.clock = self.async_invoker.clock = self.clock

    def close(self) -> None:
        global _active
        if self._closed:
            return
        self._closed = True
        motoadapter.uninstall()
        if search.engine().observer is self:
            search.engine().observer = None
        self.mappings.close()
        self.scheduler.stop()
        self.runtime.shutdown()
        self._moto.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)
        if _active is not None and _active() is self:
            _active = None

    def __enter__(self) -> Cloud:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.endpoint or "in-process moto"
        return f"<Cloud {self.region} on {where}: {len(self.runtime.functions)} functions, {len(self.trace)} records>"

    def _background_error(self, error: BaseException) -> None:
        self.background_errors.append(error)

    # -- moto hooks (motoadapter.Hooks) ----------------------------------------------------------
    def _caller(self) -> str:
        current = runtime_context.current()
        if current is not None:
            return f"function:{current.function}"
        return runtime_context.current_caller() or "client"

    def _invoke_arn_async(self, arn: str, payload: str, *, source: str) -> None:
        self.async_invoker.submit(self.runtime.require(arn), payload, source=source)

    def lambda_invoke(self, function_name: str, body: str, invocation_type: str,
                      response_headers: dict) -> bytes | None:
        fn = self.runtime.get(function_name)
        if fn is None:  # created with boto3: run the module its Handler names, as Lambda would
            config = motoadapter.moto_function(self.region, function_name)
            fn = self.runtime.functions.setdefault(function_name, FunctionRuntime(
                function_name, config.function_arn, str(config.handler), config))
        body = body or "{}"
        try:
            json.loads(body)
        except ValueError:
            raise motoadapter.JsonRESTError("InvalidRequestContentException",
                                            "Could not parse request body into json") from None
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            self.async_invoker.submit(fn, body, source=self._caller())
            return b""
        current = runtime_context.current()
        result = self.runtime.invoke(fn, body, source=self._caller(),
                                     lineage=current.lineage if current is not None else None)
        if result.outcome == tr.THROTTLED:
            raise motoadapter.TooManyRequests("Rate Exceeded.")
        if not result.ok:
            response_headers["x-amz-function-error"] = "Unhandled"
        return result.response_payload().encode()

    def sns_to_lambda(self, subscription, message, message_id, subject, attributes) -> None:
        sns.deliver(self, subscription, message, message_id, subject, attributes)

    def s3_to_lambda(self, event: dict, function_arn: str) -> None:
        s3.deliver(self, event, function_arn)

    def delivered(self, source: str, target: str, operation: str) -> None:
        self.trace.add(tr.DELIVER, self.clock.now(), source, target, operation=operation)

    def call_started(self, target: str) -> tuple[float, int, str] | None:
        """A data-plane call is about to be made: its place in the trace, or None to ignore it."""
        if runtime_context.is_system_thread():
            return None
        return self.clock.now(), self.trace.reserve(), target

    def call_finished(self, started: tuple[float, int, str], operation: str, error: Exception | None) -> None:
        """Record the call once it has answered, with how it ended, in the place reserved for it."""
        start, seq, target = started
        current = runtime_context.current()
        self.trace.add(tr.CALL, start, self._caller(), target, seq=seq, end=self.clock.now(), operation=operation,
                       function=current.function if current else None,
                       outcome=tr.ERROR if error is not None else tr.SUCCESS,
                       error=None if error is None else f"{type(error).__name__}: {error}")
