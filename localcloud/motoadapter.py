"""The one place that touches moto's internals. When moto changes, this file and its tests change.

moto gives us the AWS services; it never runs handler code without Docker, and its own Lambda
triggers are synchronous and one record at a time. These patches route every way moto would run a
function (boto3 `invoke`, SNS and S3 notifications) into our runtime, keep the settings moto does
not store (a function's DeadLetterConfig), and let `tests/test_motoadapter.py` fail loudly when a
moto release moves what they rely on.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from typing import Any, Protocol

import botocore.client
from moto import mock_aws
from moto.awslambda import models as lambda_models
from moto.core.base_backend import BackendDict
from moto.core.config import default_user_config
from moto.core.exceptions import JsonRESTError
from moto.dynamodb import models as dynamodb_models
from moto.s3 import notifications as s3_notifications
from moto.sns import models as sns_models

from . import calls

ACCOUNT_ID = "123456789012"  # moto's default account
ROLE_NAME = "localcloud-lambda-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"
# Lambda stays on moto's Docker backend class: its `invoke` is ours (patched), so Docker is never used.
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}


class Hooks(Protocol):
    """What the session does when moto would run a function, and the clock AWS waits run on."""

    clock: Any  # .real(aws_seconds) -> real seconds

    def lambda_invoke(self, function_name: str, body: str, invocation_type: str,
                      response_headers: dict) -> bytes | None: ...
    def sns_to_lambda(self, subscription: Any, message: str, message_id: str, subject: str | None,
                      attributes: dict | None) -> None: ...
    def s3_to_lambda(self, event: dict, function_arn: str) -> None: ...
    def call_started(self, target: str) -> Any: ...
    def call_finished(self, started: Any, operation: str, error: Exception | None) -> None: ...
    def delivered(self, source: str, target: str, operation: str) -> None: ...


_hooks: Hooks | None = None
_originals: dict[str, Any] = {}


class TooManyRequests(JsonRESTError):
    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)


class ResourceNotFound(JsonRESTError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


# -- patches -------------------------------------------------------------------------------------
def _lambda_invoke(self, body, request_headers, response_headers):
    if _hooks is not None:
        headers = {k.lower(): v for k, v in (request_headers or {}).items()}
        payload = body if isinstance(body, str) else (body.decode() if body else "")
        answer = _hooks.lambda_invoke(self.function_name, payload,
                                      headers.get("x-amz-invocation-type", "RequestResponse"), response_headers)
        if answer is not None:
            return answer
    return _originals["LambdaFunction.invoke"](self, body, request_headers, response_headers)


def _sns_publish(self, message, message_id, subject=None, message_attributes=None, group_id=None,
                 deduplication_id=None, message_structure=None):
    matched = self._filter_policy_matcher is None or self._filter_policy_matcher.matches(message_attributes, message)
    if self.protocol != "lambda" or _hooks is None:
        result = _originals["Subscription.publish"](self, message, message_id, subject, message_attributes,
                                                    group_id, deduplication_id, message_structure)
        if matched and _hooks is not None:  # moto delivered it (SNS → SQS / HTTP): draw the edge
            kind = "queue" if self.protocol == "sqs" else self.protocol
            _hooks.delivered(f"topic:{self.topic.name}", f"{kind}:{self.endpoint.split(':')[-1]}", "Publish")
        return result
    if not matched:
        return None
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    _hooks.sns_to_lambda(self, message, message_id, subject, message_attributes)
    return None


def _s3_invoke_lambda(account_id, event_body, fn_arn, region_name):
    if _hooks is not None:
        _hooks.s3_to_lambda(event_body, fn_arn)
        return
    _originals["_invoke_awslambda"](account_id, event_body, fn_arn, region_name)


def _create_function(self, spec):
    fn = _originals["LambdaBackend.create_function"](self, spec)
    fn.localcloud_dead_letter_arn = (spec.get("DeadLetterConfig") or {}).get("TargetArn")
    return fn


def _update_configuration(self, config_updates):
    if "DeadLetterConfig" in config_updates:
        self.localcloud_dead_letter_arn = (config_updates.get("DeadLetterConfig") or {}).get("TargetArn")
    return _originals["LambdaFunction.update_configuration"](self, config_updates)


def _get_configuration(self, *args, **kwargs):
    config = _originals["LambdaFunction.get_configuration"](self, *args, **kwargs)
    target = getattr(self, "localcloud_dead_letter_arn", None)
    if target:
        config["DeadLetterConfig"] = {"TargetArn": target}
    return config


def _state_machine_lambda(env, parameters, region, state_credentials):
    """A Step Functions Task calling Lambda: the invocation's source is the state machine."""
    from . import runtime_context

    try:
        name = env.states.context_object.context_object_data["StateMachine"]["Name"]
    except (AttributeError, KeyError, TypeError):
        name = "unknown"
    with runtime_context.caller(f"statemachine:{name}"):
        return _originals["lambda_eval_utils.execute_lambda_function_integration"](env, parameters, region,
                                                                                 state_credentials)


def running_executions() -> list[str]:
    """Names of Step Functions executions still running (cloud.wait() waits for them)."""
    if "moto.stepfunctions.parser.models" not in sys.modules:
        return []  # never imported, so nothing has run; importing it just to look costs seconds
    from moto.stepfunctions.models import stepfunctions_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    running = []
    for backends in (stepfunctions_parser_backends, stepfunctions_backends):
        for account in list(backends.values()):
            for backend in list(account.values()):
                for machine in list(getattr(backend, "state_machines", [])):
                    for execution in list(getattr(machine, "executions", [])):
                        status = getattr(execution, "status", None)
                        if getattr(status, "value", status) == "RUNNING":
                            running.append(f"execution {execution.name} of state machine {machine.name}")
    return running


def _set_subscription_attributes(self, arn, name, value):
    """moto rebuilds a filter only when FilterPolicy is set; AWS applies a new FilterPolicyScope too."""
    _originals["SNSBackend.set_subscription_attributes"](self, arn, name, value)
    if name == "FilterPolicyScope":
        from moto.sns.utils import FilterPolicyMatcher

        for subscription in self.subscriptions.values():
            if subscription.arn == arn and subscription._filter_policy is not None:
                subscription._filter_policy_matcher = FilterPolicyMatcher(subscription._filter_policy, value)


def _make_api_call(self, operation_name, api_params):
    hooks = _hooks
    original = _originals["BaseClient._make_api_call"]
    if hooks is None:
        return original(self, operation_name, api_params)
    target = calls.target_of(self.meta.service_model.service_name, operation_name, api_params)
    return calls.traced(hooks, target, operation_name, lambda: original(self, operation_name, api_params))


# moto's DynamoDB is not thread-safe: concurrent ADD updates lose increments and two conditional writes
# can both succeed. AWS serializes writes to an item, so we serialize moto's write path.
_DYNAMODB_WRITES = threading.RLock()
DYNAMODB_WRITE_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items")


def _serialized(key: str) -> Callable:
    def write(self, *args, **kwargs):
        with _DYNAMODB_WRITES:
            return _originals[key](self, *args, **kwargs)

    write.__name__ = key.rsplit(".", 1)[-1]
    return write


# Step Functions' waits (a Wait state, a Retry's IntervalSeconds × BackoffRate) are AWS time: on the
# classroom clock like every other AWS wait (moto sleeps them in real seconds).
def _aws_seconds(seconds: float) -> float:
    hooks = _hooks
    return hooks.clock.real(seconds) if hooks is not None else seconds


class _RetrierTime:
    """What moto's retrier sees as `time`: its one call, `sleep(IntervalSeconds…)`, on the classroom clock."""

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(_aws_seconds(seconds))


def _wait_state(self, env, wait_seconds):
    """A Wait state: wait the classroom-scaled time, or less if the execution stops meanwhile."""
    deadline = time.monotonic() + _aws_seconds(wait_seconds)
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)  # moto pulses it when the execution changes state


from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function  # noqa: E402

PATCHES: list[tuple[Any, str, str, Callable]] = [
    (lambda_eval_utils, "execute_lambda_function_integration", "lambda_eval_utils.execute_lambda_function_integration",
     _state_machine_lambda),
    (retrier_decl, "time", "retrier_decl.time", _RetrierTime),
    (wait_function.WaitFunction, "_wait_interval", "WaitFunction._wait_interval", _wait_state),
    (lambda_models.LambdaFunction, "invoke", "LambdaFunction.invoke", _lambda_invoke),
    (lambda_models.LambdaFunction, "update_configuration", "LambdaFunction.update_configuration",
     _update_configuration),
    (lambda_models.LambdaFunction, "get_configuration", "LambdaFunction.get_configuration", _get_configuration),
    (lambda_models.LambdaBackend, "create_function", "LambdaBackend.create_function", _create_function),
    (sns_models.Subscription, "publish", "Subscription.publish", _sns_publish),
    (sns_models.SNSBackend, "set_subscription_attributes", "SNSBackend.set_subscription_attributes",
     _set_subscription_attributes),
    (s3_notifications, "_invoke_awslambda", "_invoke_awslambda", _s3_invoke_lambda),
    (botocore.client.BaseClient, "_make_api_call", "BaseClient._make_api_call", _make_api_call),
    *[(dynamodb_models.DynamoDBBackend, name, f"DynamoDBBackend.{name}", _serialized(f"DynamoDBBackend.{name}"))
      for name in DYNAMODB_WRITE_METHODS],
]


def install(hooks: Hooks) -> None:
    global _hooks
    for owner, attribute, key, replacement in PATCHES:
        if key not in _originals:
            _originals[key] = getattr(owner, attribute)
            setattr(owner, attribute, replacement)
    _hooks = hooks


def uninstall() -> None:
    global _hooks
    _hooks = None


def add_patch(owner: Any, attribute: str, replacement: Callable) -> Callable:
    """For sources with their own moto hook (pollers): patch once, return the original."""
    key = f"{getattr(owner, '__name__', owner)}.{attribute}"
    if key not in _originals:
        _originals[key] = getattr(owner, attribute)
        setattr(owner, attribute, replacement)
    return _originals[key]


def hooks() -> Hooks | None:
    return _hooks


# -- moto itself ---------------------------------------------------------------------------------
class MotoProcess:
    """moto in this process: decorators patched in (`mock_aws`) or a threaded server on loopback."""

    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint
        self._mock = None
        self._server = None
        self._saved_config = {k: dict(default_user_config.get(k, {})) for k in MOTO_CONFIG}
        # moto logs every failed Step Functions execution at ERROR with a dump of its state: a saga that
        # ends in Fail is a lesson's expected outcome, not an error of the course's.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        for key, value in MOTO_CONFIG.items():
            default_user_config.setdefault(key, {}).update(value)
        if endpoint is None:
            self._mock = mock_aws(config=MOTO_CONFIG)
            self._mock.start()
        else:
            self._start_server(endpoint)

    def _start_server(self, endpoint: str) -> None:
        from urllib.parse import urlparse

        from moto.server import ThreadedMotoServer

        url = urlparse(endpoint)
        host, port = url.hostname or "127.0.0.1", url.port or 5000
        with socket.socket() as probe:
            busy = probe.connect_ex((host, port)) == 0
        os.environ["MOTO_PORT"] = str(port)  # where moto's Step Functions send their own Lambda calls
        if not busy:  # start one; if one is already there we use it (it must share this process)
            self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
            self._server.start()

    def reset(self) -> None:
        BackendDict.reset()

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        else:
            BackendDict.reset()
        for key, value in self._saved_config.items():
            default_user_config[key] = value


def lambda_backend(region: str):
    return lambda_models.lambda_backends[ACCOUNT_ID][region]


def moto_function(region: str, name: str):
    return lambda_backend(region).get_function(name)


def ensure_role() -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT_ID]["aws"]
    try:
        iam.get_role(ROLE_NAME)
    except Exception:  # noqa: BLE001 - moto's IAMNotFoundException
        iam.create_role(ROLE_NAME, "{}", "/", None, "role for localcloud functions", [], None)


_ZIP: bytes | None = None


def placeholder_zip() -> bytes:
    """Lambda wants a code package; the real code runs from the notebook, so a stub is enough."""
    global _ZIP
    if _ZIP is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("README.txt", "Code runs in the notebook's kernel through localcloud.\n")
        _ZIP = buffer.getvalue()
    return _ZIP


_clients_fixed = False


def fix_preexisting_clients() -> int:
    """Clients made before moto was imported would reach real AWS: give them moto's stubber too.

    Once per process: clients created after moto's import get its stubber from botocore already.
    """
    global _clients_fixed
    if _clients_fixed:
        return 0
    _clients_fixed = True
    import gc

    from moto.core.models import botocore_stubber

    fixed = 0
    for obj in gc.get_objects():
        if isinstance(obj, botocore.client.BaseClient):
            obj.meta.events.register("before-send", botocore_stubber, unique_id="localcloud-moto-stubber")
            fixed += 1
    return fixed


def create_function(region: str, spec: dict[str, Any], reserved_concurrency: int | None) -> Any:
    """Create (or replace) a function in moto's Lambda straight on the backend.

    Same validation as the API, without building a boto3 client: a lesson's first function costs
    a few milliseconds instead of a third of a second.
    """
    backend = lambda_backend(region)
    try:
        backend.delete_function(spec["FunctionName"], None)
    except Exception:  # noqa: BLE001 - moto's UnknownFunctionException: nothing to replace
        pass
    fn = backend.create_function(dict(spec))
    if reserved_concurrency is not None:
        backend.put_function_concurrency(spec["FunctionName"], str(reserved_concurrency))
        fn.reserved_concurrency = reserved_concurrency
    return fn


def placeholder_zip_b64() -> str:
    """The stub package as the Lambda API carries it in JSON (base64)."""
    import base64

    return base64.b64encode(placeholder_zip()).decode()


def register_http_api(region: str, name: str, routes: list[tuple[str, str]], payload_version: str) -> str:
    """Record an HTTP API with its Lambda proxy routes in moto's API Gateway v2; returns its id.

    Straight on the backend: building a boto3 client for API Gateway makes moto import its OpenAPI
    validator (≈ 2 s), which a lesson's first API should not pay.
    """
    from moto.apigatewayv2.models import apigatewayv2_backends

    backend = apigatewayv2_backends[ACCOUNT_ID][region]
    api = backend.create_api(api_key_selection_expression=None, cors_configuration=None, description="",
                             disable_schema_validation=None, disable_execute_api_endpoint=None, name=name,
                             protocol_type="HTTP", route_selection_expression=None, tags={}, version=None)
    for route_key, function_arn in routes:
        integration = api.create_integration(connection_type="INTERNET", description="", integration_method="POST",
                                             integration_type="AWS_PROXY", integration_uri=function_arn,
                                             payload_format_version=payload_version)
        api.create_route(api_key_required=False, authorization_scopes=[], route_key=route_key,
                         target=f"integrations/{integration.id}")
    return api.api_id
