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
