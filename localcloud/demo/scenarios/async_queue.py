"""Async queue: the API answers 202 at once, an SQS queue buffers the work, a worker drains it.

PlaceOrder (behind ``POST /orders``) only enqueues and returns 202 Accepted, so the caller never
waits for the slow part. ProcessOrder reads the ``orders`` queue through an event source mapping in
batches of `batch_size`, with at most `concurrency` environments (reserved concurrency: extra
pollers are throttled and their messages come back later). A poison message fails every time; with
partial batch responses only it is retried, and after `maxReceiveCount` receives SQS moves it to
``orders-dlq``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import ensure_table, fails, since, work
from localcloud.trace import Trace

MAX_RECEIVE_COUNT = 2


def make_producer():
    """POST /orders: enqueue the order, answer 202 without waiting for it to be processed."""
    state: dict[str, Any] = {}

    def handler(event, context):
        if "sqs" not in state:
            import boto3

            state["sqs"] = boto3.client("sqs")
        order = json.loads(event.get("body") or "{}")
        state["sqs"].send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(order))
        return {"statusCode": 202, "body": json.dumps({"accepted": order.get("order_id")})}

    return handler


def make_worker(latency_ms: float, failure_rate: float, partial_batch: bool):
    """The SQS worker: saves each order; a poison order (or a flaky one) fails.

    With `partial_batch` it reports only the failed messages (``batchItemFailures``), otherwise it
    raises and the whole batch goes back to the queue — the classic way good orders reach a DLQ.
    """
    state: dict[str, Any] = {}

    def handler(event, context):
        if "ddb" not in state:
            import boto3

            state["ddb"] = boto3.client("dynamodb")
        failed = []
        for record in event["Records"]:
            order = json.loads(record["body"])
            work(latency_ms)
            receive = record["attributes"].get("ApproximateReceiveCount", "1")
            if order.get("poison") or fails(failure_rate, order["order_id"], receive):
                failed.append(record["messageId"])
                continue
            state["ddb"].put_item(TableName="Orders", Item={"order_id": {"S": order["order_id"]}})
        if failed and not partial_batch:
            raise ValueError(f"{len(failed)} order(s) in this batch could not be processed")
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    return handler


def run(cloud, *, orders: int = 20, batch_size: int = 5, concurrency: int = 2, latency_ms: int = 20,
        failure_rate: float = 0.0, poison: bool = True, partial_batch: bool = True,
        max_receive_count: int = MAX_RECEIVE_COUNT) -> Trace:
    first = len(cloud.trace)  # this run's records only, should the cloud hold earlier ones
    sqs = cloud.client("sqs")
    ensure_table(cloud.client("dynamodb"), "Orders", "order_id")
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName="orders", Attributes={
        "VisibilityTimeout": "30",  # ≥ 6 × the worker's 5 s timeout, as AWS advises
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}),
    })["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    producer = cloud.function("PlaceOrder", make_producer(), timeout=3, memory=128,
                              environment={"QUEUE_URL": queue_url})
    worker = cloud.function("ProcessOrder", make_worker(latency_ms, failure_rate, partial_batch), timeout=5,
                            memory=256, reserved_concurrency=concurrency)
    lam = cloud.client("lambda")
    for old in lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]:
        lam.delete_event_source_mapping(UUID=old["UUID"])  # a second run must not add a second poller
    lam.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=worker.name, BatchSize=batch_size,
        FunctionResponseTypes=["ReportBatchItemFailures"] if partial_batch else [],
    )
    api = cloud.http_api({"POST /orders": producer})
    for i in range(1, orders + 1):
        body: dict[str, Any] = {"order_id": f"order-{i}"}
        if poison and i == max(orders // 2, 1):
            body["poison"] = True
        response = api.request("POST", "/orders", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"POST /orders answered {response.status_code}, expected 202")
    cloud.wait(timeout=15)
    return since(cloud.trace, first)


SCENARIO = Scenario(
    name="async-queue",
    title="Async queue: API 202 → SQS → batched worker → DLQ",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("orders", "orders", 20, 1, 500, 1, help="a burst of several hundred takes a few seconds"),
        Knob("batch_size", "batch size", 5, 1, 10, 1),
        Knob("concurrency", "concurrency limit", 2, 1, 10, 1),
        Knob("latency_ms", "latency per order (ms)", 20, 0, 200, 5),
        Knob("failure_rate", "failure rate", 0.0, 0.0, 1.0, 0.05),
        Knob("poison", "poison message", True),
        Knob("partial_batch", "partial batch response", True),
        Knob("max_receive_count", "maxReceiveCount", MAX_RECEIVE_COUNT, 1, 5, 1,
             help="receives before SQS moves a message to the DLQ (the queue's RedrivePolicy)"),
    ),
    run=run,
    lesson="notebooks/05-async-queue.ipynb",
)
