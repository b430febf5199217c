"""What localcloud relies on inside moto. These fail loudly, naming the piece, when a moto release moves it.

moto's internals are touched in one module (localcloud/motoadapter.py) plus the pollers' hooks; a
failure here says which assumption broke before any lesson shows a confusing symptom.
"""

from __future__ import annotations

import inspect

import moto
import pytest
from moto.awslambda import models as lambda_models
from moto.core.base_backend import BackendDict
from moto.s3 import notifications
from moto.sns import models as sns_models

from localcloud import motoadapter


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_moto_is_a_release_the_adapter_knows():
    major, minor = (int(x) for x in moto.__version__.split(".")[:2])
    assert (major, minor) == (5, 2), f"moto {moto.__version__}: re-check motoadapter.py against this release"


@pytest.mark.parametrize(("function", "expected"), [
    (lambda_models.LambdaFunction.__dict__.get("invoke"), ["self", "body", "request_headers", "response_headers"]),
    (sns_models.Subscription.__dict__.get("publish"), ["self", "message", "message_id", "subject",
                                                       "message_attributes", "group_id", "deduplication_id",
                                                       "message_structure"]),
    (notifications.__dict__.get("_invoke_awslambda"), ["account_id", "event_body", "fn_arn", "region_name"]),
])
def test_patched_functions_keep_the_signatures_we_call(function, expected):
    original = motoadapter._originals.get(f"{function.__qualname__}") if function else None
    target = original or function
    assert target is not None
    assert parameters(target) == expected


def test_the_originals_we_wrap_exist_in_this_moto():
    for owner, attribute, _key, _replacement in motoadapter.PATCHES:
        assert hasattr(owner, attribute), f"moto no longer has {owner.__name__}.{attribute}"
    assert hasattr(BackendDict, "reset")
    assert {"connection_type", "integration_type", "integration_uri", "payload_format_version"} <= set(
        parameters(__import__("moto.apigatewayv2.models", fromlist=["Api"]).Api.create_integration))


def test_kinesis_records_are_read_whichever_way_moto_stores_them(cloud):
    from localcloud.sources.kinesis import arrival, data_base64

    kinesis = cloud.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"hello", PartitionKey="k")
    from moto.kinesis.models import kinesis_backends

    shard = next(iter(kinesis_backends[cloud.account_id][cloud.region].streams["s"].shards.values()))
    item = next(iter(shard.records.values()))
    assert data_base64(item) == "aGVsbG8="
    assert arrival(item) > 1_700_000_000


def test_what_the_step_functions_and_sqs_speed_patches_rely_on(cloud):
    from moto.sqs import models as sqs_models
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    # A Retry's wait is the retrier's one use of `time`: `time.sleep(interval)`.
    retrier = inspect.getsource(motoadapter.retrier_decl)
    assert retrier.count("time.sleep(") == 1 and "time." not in retrier.replace("time.sleep(", "")
    # A Wait state waits on the execution's state event, and stops when the execution stops.
    wait = motoadapter._originals["WaitFunction._wait_interval"]
    assert parameters(wait) == ["self", "env", "wait_seconds"] and "program_state_event.wait" in inspect.getsource(wait)
    assert hasattr(Environment, "is_running")
    # The one-pass SQS deletes read a message's receipt handles and keep moto's delete bookkeeping.
    assert {"receipt_handle", "_old_receipt_handles"} <= set(vars(sqs_models.Message("id", "body")))
    assert isinstance(sqs_models.Message.all_receipt_handles, property)
    from localcloud.sources import mappings

    assert parameters(mappings._orig["delete_batch"]) == ["self", "queue_name", "receipts"]
    assert {"deleted_messages", "_pending_messages", "_messages"} <= set(vars(sqs_models.Queue("q", "us-east-1",
                                                                                               "123456789012")))
