"""Functions: real handlers, real contexts, AWS-shaped errors, timeouts, environments, concurrency."""

from __future__ import annotations

import json
import re
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import ConfigurationError, HandlerError


def test_boto3_invoke_reaches_the_handler_with_a_real_context(cloud):
    seen = {}

    def handler(event, context):
        seen.update(
            request_id=context.aws_request_id, name=context.function_name, version=context.function_version,
            arn=context.invoked_function_arn, memory=context.memory_limit_in_mb,
            group=context.log_group_name, stream=context.log_stream_name,
            remaining=context.get_remaining_time_in_millis(),
        )
        return {"echo": event}

    fn = cloud.function("echo", handler, timeout=5, memory=256)
    response = boto3.client("lambda").invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    assert response["StatusCode"] == 200
    assert json.loads(response["Payload"].read()) == {"echo": {"a": 1}}
    assert seen["name"] == "echo" and seen["version"] == "$LATEST" and seen["arn"] == fn.arn
    assert seen["memory"] == 256 and seen["group"] == "/aws/lambda/echo" and seen["stream"]
    assert 4000 < seen["remaining"] <= 5000
    first = seen["request_id"]
    fn.invoke({})
    assert seen["request_id"] != first


def test_each_function_sees_its_own_lambda_environment_variables(cloud):
    def read(event, context):
        import os

        return {k: os.environ.get(k) for k in ("AWS_LAMBDA_FUNCTION_NAME", "TABLE", "AWS_REGION")}

    a = cloud.function("a", read, environment={"TABLE": "orders"})
    b = cloud.function("b", read, environment={"TABLE": "users"})
    assert a.invoke() == {"AWS_LAMBDA_FUNCTION_NAME": "a", "TABLE": "orders", "AWS_REGION": "us-east-1"}
    assert b.invoke()["TABLE"] == "users"
    import os

    assert "TABLE" not in os.environ  # the notebook's own environment is untouched


def test_errors_come_back_as_aws_returns_them(cloud):
    def fails(event, context):
        raise ValueError("bad order")

    fn = cloud.function("fails", fails)
    response = boto3.client("lambda").invoke(FunctionName="fails", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "bad order"
    assert any("raise ValueError" in line for line in body["stackTrace"])
    with pytest.raises(HandlerError, match="function 'fails' failed with ValueError: bad order"):
        fn.invoke({})
    assert cloud.trace.outcomes() == {"error": 2}


def test_timeouts_are_enforced_and_the_environment_is_discarded(cloud):
    fn = cloud.function("slow", "handlers_for_tests.slow", timeout=1)
    started = time.monotonic()
    with pytest.raises(HandlerError, match="Task timed out after 1.00 seconds"):
        fn.invoke({"sleep": 1.5})
    assert time.monotonic() - started < 1.4  # the caller is answered at the deadline
    fn.invoke({"sleep": 0})
    records = cloud.trace.invocations.records
    assert [r.outcome for r in records] == ["timeout", "success"]
    assert records[1].cold and records[1].environment != records[0].environment


def test_cold_then_warm_and_module_globals_live_per_environment(cloud):
    fn = cloud.function("count", "handlers_for_tests.count", environment={"TABLE": "t"})
    assert [fn.invoke()["calls"] for _ in range(3)] == [1, 2, 3]
    records = cloud.trace.invocations.records
    assert [r.cold for r in records] == [True, False, False]
    assert records[0].init_ms > 0 and records[1].init_ms == 0
    assert len({r.environment for r in records}) == 1


def test_concurrent_invocations_run_in_parallel_in_separate_environments(cloud):
    fn = cloud.function("count", "handlers_for_tests.slow")
    started = time.monotonic()
    threads = [threading.Thread(target=fn.invoke, args=({"sleep": 0.3},)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started < 0.9  # four 0.3 s handlers overlapped
    records = cloud.trace.invocations.records
    assert len({r.environment for r in records}) == 4 and all(r.cold for r in records)


def test_reserved_concurrency_throttles_sync_invokes(cloud):
    gate = threading.Event()
    fn = cloud.function("one", lambda e, c: gate.wait(2), reserved_concurrency=1)
    worker = threading.Thread(target=fn.invoke)
    worker.start()
    time.sleep(0.1)
    no_retries = Config(retries={"total_max_attempts": 1})  # boto3 would otherwise retry throttles itself
    with pytest.raises(ClientError) as error:
        boto3.client("lambda", config=no_retries).invoke(FunctionName="one", Payload=b"{}")
    assert error.value.response["Error"]["Code"] == "TooManyRequestsException"
    gate.set()
    worker.join()
    assert len(cloud.trace.filter(kind="throttle")) == 1


def test_prints_and_powertools_logs_are_captured_per_invocation(cloud):
    import io
    import sys

    from aws_lambda_powertools import Logger

    from localcloud import logs

    notebook_output = io.StringIO()
    sys.stdout = logs.RoutingStream(notebook_output)  # the notebook's stream, as Cloud() wraps it
    logger = Logger(service="orders")  # made after Cloud(), as in a lesson

    @logger.inject_lambda_context
    def handler(event, context):
        print("hello from the handler")
        logger.info("order received", extra={"order_id": event["id"]})
        return "ok"

    fn = cloud.function("logged", handler)
    assert fn.invoke({"id": "o-1"}) == "ok"
    lines = fn.logs()
    assert lines[0].startswith("START RequestId:") and lines[-1].startswith("REPORT RequestId:")
    assert "hello from the handler" in lines
    record = json.loads(next(line for line in lines if line.startswith("{")))
    assert record["order_id"] == "o-1" and record["function_name"] == "logged" and record["cold_start"] is True
    print("the cell's own output")
    sys.stdout = sys.__stdout__
    assert notebook_output.getvalue() == "the cell's own output\n"  # handler lines stay in its log


def test_dry_run_and_event_invocations(cloud):
    calls = []
    cloud.function("f", lambda e, c: calls.append(e))
    lam = boto3.client("lambda")
    assert lam.invoke(FunctionName="f", InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName="f", InvocationType="Event", Payload=b'{"x": 1}')["StatusCode"] == 202
    cloud.wait()
    assert calls == [{"x": 1}]


def test_a_handler_calling_another_through_boto3(cloud):
    cloud.function("inner", lambda e, c: {"doubled": e["n"] * 2})

    def outer(event, context):
        response = boto3.client("lambda").invoke(FunctionName="inner", Payload=json.dumps(event))
        return json.loads(response["Payload"].read())

    assert cloud.function("outer", outer).invoke({"n": 21}) == {"doubled": 42}
    call = cloud.trace.filter(kind="call").records[-1]
    assert call.source == "function:outer" and call.target == "function:inner"


def test_functions_created_with_boto3_run_the_module_their_handler_names(cloud):
    from localcloud import motoadapter

    motoadapter.ensure_role()
    lam = boto3.client("lambda")
    lam.create_function(FunctionName="counted", Runtime="python3.11", Role=motoadapter.ROLE_ARN,
                        Handler="handlers_for_tests.count", Code={"ZipFile": motoadapter.placeholder_zip()})
    assert json.loads(lam.invoke(FunctionName="counted")["Payload"].read())["calls"] == 1


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (42, "handler must be a function `def handler(event, context)`"),
        (lambda event: None, "must accept two arguments, (event, context)"),
        ("nomodule_here.handler", "cannot find module 'nomodule_here'"),
        ("nodots", "is not a 'module.function' path"),
    ],
)
def test_bad_handlers_are_refused_in_one_line(cloud, handler, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)) as error:
        cloud.function("bad", handler)
    assert "\n" not in str(error.value)


def test_import_errors_and_unserializable_results_are_reported_as_lambda_does(cloud):
    broken = cloud.function("broken", "broken_module_for_tests.handler")
    with pytest.raises(HandlerError, match="Runtime.ImportModuleError: Unable to import module "
                                           "'broken_module_for_tests': No module named 'not_a_real_dependency'"):
        broken.invoke()
    odd = cloud.function("odd", lambda e, c: {1, 2})
    with pytest.raises(HandlerError, match="Runtime.MarshalError"):
        odd.invoke()
    with pytest.raises(ConfigurationError, match="unknown function 'nope'"):
        cloud.runtime.require("nope")
    with pytest.raises(ConfigurationError, match="not JSON-serializable"):
        odd.invoke({"when": object()})


def test_a_crashing_handler_never_kills_the_runtime(cloud):
    def exits(event, context):
        raise SystemExit(3)

    fn = cloud.function("exits", exits)
    with pytest.raises(HandlerError, match="SystemExit"):
        fn.invoke()
    assert cloud.function("fine", lambda e, c: "still here").invoke() == "still here"


def test_provisioned_concurrency_means_no_cold_start(cloud):
    import os

    fn = cloud.function("ready", lambda e, c: os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
                        provisioned_concurrency=2)
    assert fn.invoke() == "provisioned-concurrency"
    assert [r.cold for r in cloud.trace.invocations] == [False]


def test_redefining_a_function_starts_new_environments_with_new_ids(cloud):
    cloud.function("f", lambda e, c: 1).invoke()
    cloud.function("f", lambda e, c: 2).invoke()
    first, second = cloud.trace.invocations.records
    assert second.cold and second.environment != first.environment


def test_a_call_is_recorded_before_the_invocation_it_caused(cloud):
    cloud.function("target", lambda e, c: "ok")
    boto3.client("lambda").invoke(FunctionName="target", Payload=b"{}")
    kinds = [r.kind for r in cloud.trace]
    assert kinds == ["call", "invoke"]
    assert [r.seq for r in cloud.trace] == [1, 2]


def test_powertools_idempotency_on_a_dynamodb_table_runs_a_duplicate_once(cloud):
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent

    cloud.client("dynamodb").create_table(
        TableName="idempotency", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    charges = []

    @idempotent(persistence_store=DynamoDBPersistenceLayer(table_name="idempotency"))
    def handler(event, context):
        charges.append(event["order_id"])
        return {"charged": event["order_id"]}

    fn = cloud.function("charge", handler)
    assert fn.invoke({"order_id": "o-1"}) == fn.invoke({"order_id": "o-1"}) == {"charged": "o-1"}
    assert charges == ["o-1"]


def test_a_poller_slot_keeps_its_environment_when_another_caller_arrives_meanwhile(cloud):
    """A batch finishing on environment 1 starts its slot's next batch there, even if another
    invocation was asked for while it was deciding: that one gets an environment of its own."""
    fn = cloud.runtime.require(cloud.function("worker", lambda event, context: None).name)
    runtime, placed, done = cloud.runtime, {}, threading.Event()

    def record(name):
        def on_done(result):
            placed[name] = result.record.environment
            if name == "refill":
                done.set()
        return on_done

    def first_done(result):
        placed["first"] = result.record.environment
        other = threading.Thread(target=runtime.start, args=(fn, "{}"),  # e.g. the poller thread opening a slot
                                 kwargs={"source": "test", "invocation": "poll", "on_done": record("other")})
        other.start()
        other.join()
        runtime.start(fn, "{}", source="test", invocation="poll", on_done=record("refill"))

    runtime.start(fn, "{}", source="test", invocation="poll", on_done=first_done, refills=True)
    assert done.wait(5)
    cloud.wait()
    assert placed["refill"] == placed["first"] == "worker/1" and placed["other"] == "worker/2"
