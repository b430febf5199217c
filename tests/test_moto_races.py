"""Correct results on top of moto's races: concurrent handlers writing one DynamoDB item.

moto's DynamoDB is not thread-safe: concurrent `ADD` updates lose increments and two conditional
writes can both "win". On AWS neither happens, so the local cloud serializes moto's write path; these
tests fail if that serialization goes away.
"""

from __future__ import annotations

import json
import sys
import threading

import boto3
import pytest

HANDLERS, INCREMENTS = 8, 250


@pytest.fixture
def eager_thread_switches():
    """Switch threads far more often than CPython's 5 ms, so a race in moto shows up every run."""
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(saved)


@pytest.fixture
def table(cloud):
    ddb = boto3.client("dynamodb")
    ddb.create_table(TableName="counters", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    return ddb


def test_concurrent_add_updates_lose_no_increment(cloud, table):
    start = threading.Barrier(HANDLERS)

    def handler(event, context):
        ddb = boto3.client("dynamodb")
        start.wait(timeout=10)  # all eight environments update at the same time
        for _ in range(INCREMENTS):
            ddb.update_item(TableName="counters", Key={"id": {"S": "hits"}},
                            UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}})

    counter = cloud.function("counter", handler, timeout=60)
    lam = boto3.client("lambda")
    for _ in range(HANDLERS):
        lam.invoke(FunctionName=counter.name, InvocationType="Event", Payload=b"{}")
    cloud.wait(timeout=60)
    assert cloud.trace.outcomes() == {"success": HANDLERS}
    assert len({r.environment for r in cloud.trace.invocations}) == HANDLERS  # really concurrent
    item = table.get_item(TableName="counters", Key={"id": {"S": "hits"}})["Item"]
    assert item["n"] == {"N": str(HANDLERS * INCREMENTS)}


def test_conditional_writes_keep_exactly_one_winner(cloud, table, eager_thread_switches):
    contenders, keys = 8, 60
    start = threading.Barrier(contenders)

    def handler(event, context):
        ddb = boto3.client("dynamodb")
        start.wait(timeout=10)
        won = []
        for key in range(keys):  # every contender races for every key
            try:
                ddb.put_item(TableName="counters", Item={"id": {"S": f"lock-{key}"}, "owner": {"S": event["who"]}},
                             ConditionExpression="attribute_not_exists(id)")
                won.append(key)
            except ddb.exceptions.ConditionalCheckFailedException:
                pass
        return won

    fn = cloud.function("claim", handler, timeout=60)
    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda i=i: results.append(json.loads(boto3.client("lambda").invoke(
        FunctionName=fn.name, Payload=json.dumps({"who": f"w{i}"}))["Payload"].read()))) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wins = sorted(key for won in results for key in won)
    assert wins == list(range(keys)), "each key must have exactly one winner"
