"""Checks for lab 05 — async queue (``solutions/05-async-queue.ipynb``)."""

from __future__ import annotations

import json
from collections import Counter

from localcloud import trace as tr
from localcloud.grading import Exercises, handler_errors

EXERCISES = Exercises("05-async-queue")




def rejected_responses(cloud, function: str) -> list[str]:
    """Partial batch responses Lambda could not read (each failed its whole batch)."""
    return [r.error for r in cloud.trace.filter(kind=tr.RETRY, function=function)
            if r.error and "invalid partial batch response" in r.error]


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(sqs, url: str) -> list[str]:
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def mapping_of(cloud, function: str) -> dict | None:
    mappings = cloud.client("lambda").list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    return mappings[0] if mappings else None


def paused(cloud, uuid: str, send) -> None:
    """Queue messages while the mapping is disabled, so the worker gets them in one batch."""
    lam = cloud.client("lambda")
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    send()
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    cloud.wait()


# -- exercise 1 ----------------------------------------------------------------------------------
POISON = "<order id=13/>"


@EXERCISES.check(
    1,
    "report the right batchItemFailures",
    hint="In the except block append record['messageId'] to failures; return "
    "{'batchItemFailures': [{'itemIdentifier': message_id} for message_id in failures]}.",
    solution="catch each record's failure, collect its messageId, return "
    "{'batchItemFailures': [{'itemIdentifier': id} ...]} (an empty list when all succeeded).",
)
def check_ship_orders(ns, cloud):
    ns.warehouse.reset()
    sqs = cloud.client("sqs")
    dlq = sqs.create_queue(QueueName="lab05-orders-dlq")["QueueUrl"]
    url = sqs.create_queue(QueueName="lab05-orders", Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": 2})})["QueueUrl"]
    fn = cloud.function("ShipOrders", ns.ship_orders, timeout=5)
    uuid = cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn(sqs, url), FunctionName="ShipOrders", BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"])["UUID"]
    good = [f"o-{i}" for i in range(1, 5)]

    def send():
        for i, order_id in enumerate(good):
            if i == 2:
                sqs.send_message(QueueUrl=url, MessageBody=POISON)
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"order_id": order_id}))

    paused(cloud, uuid, send)
    errors = handler_errors(cloud, "ShipOrders")
    assert not errors, (f"ship_orders raised {errors[0]} — the whole batch went back to the queue; catch each "
                        "record's error and report it in batchItemFailures instead of raising")
    rejected = rejected_responses(cloud, "ShipOrders")
    assert not rejected, f"Lambda could not use your response, so the whole batch failed: {rejected[0].split(': ', 1)[-1]}"
    shipped = Counter(ns.warehouse.shipped)
    twice = sorted(o for o, n in shipped.items() if n > 1)
    assert not twice, f"orders shipped more than once: {twice} — report only the records that failed"
    missing = sorted(set(good) - set(shipped))
    assert not missing, f"orders never shipped: {missing}"
    dead = drain(sqs, dlq)
    assert dead == [POISON], (
        f"the poison message should end in the DLQ after 2 receives; the DLQ holds {len(dead)} message(s)"
        + (" — a failed record that is not reported is deleted as if it had succeeded" if not dead else ""))
    empty = fn.invoke({"Records": []})
    assert empty in (None, {}, {"batchItemFailures": []}), (
        f"for a batch with no failures return {{'batchItemFailures': []}}, got {empty!r}")


SHIP_HEAD = "# Exercise 1\nimport json\ndef ship_orders(event, context):\n"
EXERCISES.known_wrong(
    1,
    SHIP_HEAD + "    for record in event['Records']:\n        warehouse.ship(json.loads(record['body']))\n",
    reason="instead of raising",
)
EXERCISES.known_wrong(
    1,
    SHIP_HEAD + "    failures = []\n    for record in event['Records']:\n        try:\n"
    "            warehouse.ship(json.loads(record['body']))\n        except Exception:\n"
    "            failures.append(record['body'])\n"
    "    return {'batchItemFailures': [{'itemIdentifier': f} for f in failures]}\n",
    reason="is not a message of this batch",
)
EXERCISES.known_wrong(
    1,
    SHIP_HEAD + "    failures = []\n    for record in event['Records']:\n        try:\n"
    "            warehouse.ship(json.loads(record['body']))\n        except Exception:\n"
    "            failures.append(record['messageId'])\n"
    "    return {'batchItemFailures': failures}\n",
    reason="has no itemIdentifier",
)
EXERCISES.known_wrong(
    1,
    SHIP_HEAD + "    for record in event['Records']:\n        try:\n"
    "            warehouse.ship(json.loads(record['body']))\n        except Exception:\n            pass\n"
    "    return {'batchItemFailures': []}\n",
    reason="is not reported is deleted",
)


# -- exercise 2 ----------------------------------------------------------------------------------
WORKER_TIMEOUT = 10


def always_fails(event, context):
    raise RuntimeError("the report generator is broken")


@EXERCISES.check(
    2,
    "a queue with a dead-letter queue",
    hint="Create reports-dlq first and read its QueueArn with get_queue_attributes; then create reports with "
    "Attributes={'VisibilityTimeout': str(6 * worker_timeout), 'RedrivePolicy': json.dumps("
    "{'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': 3})}.",
    solution="two create_queue calls; the redrive policy names the DLQ by ARN (not URL), maxReceiveCount 3, "
    "VisibilityTimeout = 6 × the function timeout.",
)
def check_create_work_queue(ns, cloud):
    sqs = cloud.client("sqs")
    url = ns.create_work_queue(sqs, WORKER_TIMEOUT)
    assert isinstance(url, str) and url.startswith("https://"), f"create_work_queue should return the queue URL, got {url!r}"
    assert url.rstrip("/").endswith("/reports"), f"the work queue should be named 'reports', got {url!r}"
    names = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues().get("QueueUrls", []))
    assert "reports-dlq" in names, f"create a queue named 'reports-dlq' for the dead letters (queues: {names})"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    vt = int(attributes.get("VisibilityTimeout", "30"))
    want = 6 * WORKER_TIMEOUT
    assert vt >= want, (f"for a worker with a {WORKER_TIMEOUT} s timeout the VisibilityTimeout should be at least "
                        f"6 × {WORKER_TIMEOUT} = {want} s, got {vt} s")
    assert "RedrivePolicy" in attributes, "the queue 'reports' has no RedrivePolicy"
    policy = json.loads(attributes["RedrivePolicy"])
    dlq_url = sqs.get_queue_url(QueueName="reports-dlq")["QueueUrl"]
    assert policy.get("deadLetterTargetArn") == queue_arn(sqs, dlq_url), (
        f"deadLetterTargetArn should be the ARN of reports-dlq, got {policy.get('deadLetterTargetArn')!r}")
    cloud.function("GenerateReport", always_fails, timeout=WORKER_TIMEOUT)
    cloud.client("lambda").create_event_source_mapping(EventSourceArn=queue_arn(sqs, url),
                                                       FunctionName="GenerateReport", BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody="monthly report")
    cloud.wait()
    receives = len(cloud.trace.filter(kind="invoke", function="GenerateReport"))
    assert receives == 3, f"a failing message should be received 3 times before it moves to the DLQ, it was received {receives} time(s)"
    dead = drain(sqs, dlq_url)
    assert dead == ["monthly report"], f"after 3 failed receives the message should be in reports-dlq, which holds {dead}"


QUEUE_HEAD = ("# Exercise 2\nimport json\ndef create_work_queue(sqs, worker_timeout):\n"
              "    dlq_url = sqs.create_queue(QueueName='reports-dlq')['QueueUrl']\n"
              "    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n")
EXERCISES.known_wrong(
    2,
    QUEUE_HEAD + "    return sqs.create_queue(QueueName='reports', Attributes={'VisibilityTimeout': str(6 * worker_timeout), "
    "'RedrivePolicy': json.dumps({'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': 1})})['QueueUrl']\n",
    reason="it was received 1 time(s)",
)
EXERCISES.known_wrong(
    2,
    QUEUE_HEAD + "    return sqs.create_queue(QueueName='reports', Attributes={"
    "'RedrivePolicy': json.dumps({'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': 3})})['QueueUrl']\n",
    reason="at least 6 × 10 = 60 s, got 30 s",
)
EXERCISES.known_wrong(
    2,
    QUEUE_HEAD + "    return sqs.create_queue(QueueName='reports', Attributes={'VisibilityTimeout': str(6 * worker_timeout), "
    "'RedrivePolicy': json.dumps({'deadLetterTargetArn': dlq_url, 'maxReceiveCount': 3})})['QueueUrl']\n",
    reason="Could not find DLQ",
)


# -- exercise 3 ----------------------------------------------------------------------------------
CUSTOMERS = ("ann", "ben", "cy")
STEPS = ("created", "paid", "shipped")


@EXERCISES.check(
    3,
    "keep each customer's events in order",
    hint="Keep a set of failed groups (record['attributes']['MessageGroupId']). For each record: if its group "
    "already failed, report it without applying; else try journal.apply(...) and on an error report it and "
    "add its group. In wire_fifo: FifoQueue='true', ContentBasedDeduplication='true', and "
    "FunctionResponseTypes=['ReportBatchItemFailures'] on the mapping.",
    solution="once a record of a message group fails, report it and every later record of that group in the "
    "batch; other groups go on.",
)
def check_fifo(ns, cloud):
    ns.journal.reset()
    sqs = cloud.client("sqs")
    url = ns.wire_fifo(cloud)
    assert isinstance(url, str) and url.startswith("https://"), f"wire_fifo should return the queue URL, got {url!r}"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes.get("FifoQueue") == "true", "the queue must be a FIFO queue (FifoQueue='true', a name ending in .fifo)"
    mapping = mapping_of(cloud, "ApplyInOrder")
    assert mapping is not None, "wire_fifo should map the queue to the function 'ApplyInOrder' (create_event_source_mapping)"
    assert mapping["EventSourceArn"] == attributes["QueueArn"], "the mapping should read the FIFO queue wire_fifo returned"
    assert "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []), (
        "the mapping needs FunctionResponseTypes=['ReportBatchItemFailures'], or Lambda ignores batchItemFailures")

    def send():
        for step in STEPS:
            for customer in CUSTOMERS:
                event = {"customer": customer, "step": step}
                if (customer, step) == ("ben", "paid"):
                    event["flaky"] = True
                sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageGroupId=customer)

    paused(cloud, mapping["UUID"], send)
    errors = handler_errors(cloud, "ApplyInOrder")
    rejected = rejected_responses(cloud, "ApplyInOrder")
    assert not rejected, f"Lambda could not use your response, so the whole batch failed: {rejected[0].split(': ', 1)[-1]}"
    for customer in CUSTOMERS:
        applied = [e.split(":")[1] for e in ns.journal.applied if e.startswith(customer + ":")]
        if len(applied) != len(set(applied)):
            raise AssertionError(
                f"{customer}'s events were applied more than once ({', '.join(applied)})"
                + (f" — raising ({errors[0]}) sends the whole batch back; report the failed records instead"
                   if errors else ""))
        assert applied == list(STEPS), (
            f"{customer}'s events were applied in the order {', '.join(applied) or 'nothing'}; expected "
            f"created, paid, shipped — after a record fails, fail the later records of its message group too")
    left = drain(sqs, url)
    assert not left, f"messages left in the queue: {left}"


FIFO_WIRE = '''
def wire_fifo(cloud):
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="shipments.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.function("ApplyInOrder", apply_in_order, timeout=5)
    cloud.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="ApplyInOrder",
                                                       BatchSize=10, RESPONSE_TYPES)
    return url
'''
WITH_FLAG = 'FunctionResponseTypes=["ReportBatchItemFailures"]'
NAIVE = '''
def apply_in_order(event, context):
    failures = []
    for record in event["Records"]:
        try:
            journal.apply(json.loads(record["body"]))
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
'''
RAISES = '''
def apply_in_order(event, context):
    for record in event["Records"]:
        journal.apply(json.loads(record["body"]))
'''
EXERCISES.known_wrong(
    3,
    "# Exercise 3\nimport json\n" + NAIVE + FIFO_WIRE.replace("RESPONSE_TYPES", WITH_FLAG),
    reason="ben's events were applied in the order created, shipped, paid",
)
EXERCISES.known_wrong(
    3,
    "# Exercise 3\nimport json\n" + RAISES + FIFO_WIRE.replace("RESPONSE_TYPES", WITH_FLAG),
    reason="applied more than once",
)
EXERCISES.known_wrong(
    3,
    "# Exercise 3\nimport json\n" + NAIVE + FIFO_WIRE.replace(", RESPONSE_TYPES", ""),
    reason="needs FunctionResponseTypes",
)
EXERCISES.known_wrong(
    3,
    "# Exercise 3\nimport json\n" + NAIVE + FIFO_WIRE.replace("RESPONSE_TYPES", WITH_FLAG).replace(
        '"FifoQueue": "true", "ContentBasedDeduplication": "true", ', "").replace("shipments.fifo", "shipments"),
    reason="must be a FIFO queue",
)
