"""SQS → Lambda event source mappings: AWS's batching, visibility, partial-failure and DLQ rules."""

from __future__ import annotations

import hashlib
import json
import threading
import time

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsModel
from botocore.exceptions import ClientError

from localcloud import trace as tr


class Queues:
    """Small helpers so each test reads as the rule it checks."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.sqs = boto3.client("sqs")
        self.lam = boto3.client("lambda")

    def create(self, name: str, *, dlq: str | None = None, max_receives: int = 2, vt: int = 30,
               **attributes: str) -> tuple[str, str]:
        attrs = {"VisibilityTimeout": str(vt), **attributes}
        if dlq is not None:
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": self.arn(dlq), "maxReceiveCount": max_receives})
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        return url, self.arn(url)

    def arn(self, url_or_arn: str) -> str:
        if url_or_arn.startswith("arn:"):
            return url_or_arn
        return self.sqs.get_queue_attributes(QueueUrl=url_or_arn, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def map(self, queue_arn: str, function: str, **kwargs) -> str:
        return self.lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=function, **kwargs)["UUID"]

    def send(self, url: str, *bodies: str, **kwargs) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=url, MessageBody=body, **kwargs)

    def drain(self, url: str) -> list[str]:
        bodies = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            bodies += [m["Body"] for m in messages]
            for m in messages:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def q(cloud):
    return Queues(cloud)


def bodies_of(event):
    return [r["body"] for r in event["Records"]]


def test_records_carry_the_messages_real_attributes_and_validate_as_powertools_sqs_events(cloud, q):
    events = []
    cloud.function("worker", lambda event, context: events.append(event))
    url, arn = q.create("orders")
    q.sqs.send_message(QueueUrl=url, MessageBody='{"order": 1}', MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "new"}, "n": {"DataType": "Number", "StringValue": "7"}})
    before = int(time.time() * 1000)
    q.map(arn, "worker")
    cloud.wait()
    (event,) = events
    parsed = SqsModel.model_validate(event)  # Powertools' model: an outside reference for the shape
    record, raw = parsed.Records[0], event["Records"][0]
    assert record.body == '{"order": 1}' and record.eventSourceARN == arn and record.awsRegion == cloud.region
    assert raw["md5OfBody"] == hashlib.md5(b'{"order": 1}').hexdigest()
    assert raw["attributes"]["ApproximateReceiveCount"] == "1"
    assert abs(int(raw["attributes"]["SentTimestamp"]) - before) < 5000
    assert int(raw["attributes"]["ApproximateFirstReceiveTimestamp"]) >= int(raw["attributes"]["SentTimestamp"])
    assert raw["messageAttributes"]["kind"] == {"stringValue": "new", "stringListValues": [], "binaryListValues": [],
                                                "dataType": "String"}
    assert raw["messageAttributes"]["n"]["dataType"] == "Number" and raw["md5OfMessageAttributes"]


def test_messages_already_queued_are_delivered_in_batches_up_to_batch_size_exactly_once(cloud, q):
    batches = []
    cloud.function("worker", lambda event, context: batches.append(bodies_of(event)))
    url, arn = q.create("orders")
    q.send(url, *[f"m{i}" for i in range(25)])
    q.map(arn, "worker", BatchSize=4)
    cloud.wait()
    delivered = [body for batch in batches for body in batch]
    assert sorted(delivered) == sorted(f"m{i}" for i in range(25))  # each once: moto's own trigger is off
    assert max(len(batch) for batch in batches) == 4
    assert q.drain(url) == []  # processed messages are deleted


def test_a_batching_window_gathers_messages_into_one_batch(cloud, q):
    batches = []
    cloud.function("worker", lambda event, context: batches.append(bodies_of(event)))
    url, arn = q.create("orders")
    q.map(arn, "worker", BatchSize=100, MaximumBatchingWindowInSeconds=300)  # 0.3 s in class
    for chunk in range(3):
        q.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"m{chunk}-{i}"} for i in range(10)])
    cloud.wait()
    assert [len(b) for b in batches] == [30]


def test_a_failed_batch_returns_after_the_visibility_timeout_then_goes_to_the_dlq(cloud, q):
    seen = []

    def handler(event, context):
        seen.append([(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in event["Records"]])
        raise RuntimeError("database down")

    cloud.function("worker", handler)
    dlq_url, dlq_arn = q.create("orders-dlq")
    url, arn = q.create("orders", dlq=dlq_arn, max_receives=3, vt=100)
    q.map(arn, "worker")
    q.send(url, "a")
    cloud.wait()
    assert seen == [[("a", "1")], [("a", "2")], [("a", "3")]]
    invokes = cloud.trace.invocations.records
    gap = invokes[1].start - invokes[0].end
    assert gap >= cloud.clock.real(100) * 0.95  # held for the (classroom-scaled) visibility timeout
    retries = cloud.trace.filter(kind=tr.RETRY)
    assert len(retries) == 3 and "database down" in retries[0].error
    (dead,) = cloud.trace.filter(kind=tr.DEAD_LETTER).records
    assert (dead.source, dead.destination, dead.attempt) == ("queue:orders", "queue:orders-dlq", 3)
    assert q.drain(dlq_url) == ["a"] and q.drain(url) == []


def test_with_report_batch_item_failures_only_the_reported_messages_return(cloud, q):
    seen = []

    def handler(event, context):
        seen.append(sorted(bodies_of(event)))
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"].startswith("bad") and r["attributes"]["ApproximateReceiveCount"] == "1"]}

    cloud.function("worker", handler)
    url, arn = q.create("orders")
    q.send(url, "ok1", "bad1", "ok2")
    q.map(arn, "worker", FunctionResponseTypes=["ReportBatchItemFailures"])
    cloud.wait()
    assert seen == [["bad1", "ok1", "ok2"], ["bad1"]]
    (retry,) = cloud.trace.filter(kind=tr.RETRY).records
    assert len(retry.event_ids) == 1


@pytest.mark.parametrize("response, reason", [
    ({"batchItemFailures": "all of them"}, "not a list"),
    ({"batchItemFailures": [{"id": "x"}]}, "no itemIdentifier"),
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, "no itemIdentifier"),
    ({"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}, "not a message of this batch"),
    ("done", "not a JSON object"),
])
def test_a_malformed_partial_batch_response_fails_the_whole_batch(cloud, q, response, reason):
    calls = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        return response if len(calls) == 1 else None  # the second attempt succeeds

    cloud.function("worker", handler)
    url, arn = q.create("orders")
    q.send(url, "a", "b")
    q.map(arn, "worker", FunctionResponseTypes=["ReportBatchItemFailures"])
    cloud.wait()
    assert calls == [2, 2]
    (retry,) = cloud.trace.filter(kind=tr.RETRY).records
    assert reason in retry.error and "whole batch" in retry.error


def test_without_report_batch_item_failures_a_response_is_just_a_return_value(cloud, q):
    cloud.function("worker", lambda event, context: {"batchItemFailures": "ignored"})
    url, arn = q.create("orders")
    q.send(url, "a")
    q.map(arn, "worker")
    cloud.wait()
    assert cloud.trace.outcomes() == {"success": 1} and not cloud.trace.filter(kind=tr.RETRY)


def test_fifo_keeps_order_per_group_and_a_failed_message_holds_back_its_group(cloud, q):
    order: list[str] = []
    failed_once: set[str] = set()

    def handler(event, context):
        for record in event["Records"]:
            body = record["body"]
            if body == "A2" and body not in failed_once:
                failed_once.add(body)
                raise RuntimeError("A2 fails once")
        order.extend(bodies_of(event))

    cloud.function("worker", handler)
    url, arn = q.create("orders.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    for i in range(1, 4):
        q.send(url, f"A{i}", MessageGroupId="A")
        q.send(url, f"B{i}", MessageGroupId="B")
    events = []
    q.map(arn, "worker", BatchSize=1)
    cloud.wait()
    assert [b for b in order if b.startswith("A")] == ["A1", "A2", "A3"]
    assert [b for b in order if b.startswith("B")] == ["B1", "B2", "B3"]
    assert order.index("B3") < order.index("A2")  # group B was not held back by A's failure
    del events


def test_fifo_records_carry_group_dedup_and_increasing_sequence_numbers(cloud, q):
    events = []
    cloud.function("worker", lambda event, context: events.append(event))
    url, arn = q.create("orders.fifo", FifoQueue="true")
    q.send(url, "one", MessageGroupId="g", MessageDeduplicationId="d1")
    q.send(url, "two", MessageGroupId="g", MessageDeduplicationId="d2")
    q.map(arn, "worker", BatchSize=10)
    cloud.wait()
    records = [r for e in events for r in SqsModel.model_validate(e).Records]
    assert [r.body for r in records] == ["one", "two"]
    assert [r.attributes.MessageGroupId for r in records] == ["g", "g"]
    assert [r.attributes.MessageDeduplicationId for r in records] == ["d1", "d2"]
    assert int(records[0].attributes.SequenceNumber) < int(records[1].attributes.SequenceNumber)


def test_maximum_concurrency_caps_concurrent_batches(cloud, q):
    running, peak, lock = [0], [0], threading.Lock()

    def handler(event, context):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.03)
        with lock:
            running[0] -= 1

    cloud.function("worker", handler)
    url, arn = q.create("orders")
    q.send(url, *[str(i) for i in range(12)])
    q.map(arn, "worker", BatchSize=1, ScalingConfig={"MaximumConcurrency": 2})
    cloud.wait()
    assert peak[0] == 2 and len(cloud.trace.invocations) == 12


def concurrency_probe():
    """A handler that sleeps `seconds` real time and records start times and the peak concurrency."""
    state = {"running": 0, "peak": 0, "starts": []}
    lock = threading.Lock()

    def handler(event, context):
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
            state["starts"].append(time.monotonic())
        time.sleep(float(json.loads(event["Records"][0]["body"])["sleep"]))
        with lock:
            state["running"] -= 1

    return state, handler


def test_a_mapping_starts_with_five_concurrent_batches():
    from localcloud import Cloud

    with Cloud(timing="aws") as cloud:  # AWS's minute is a real minute here: no scale-up during the test
        state, handler = concurrency_probe()
        cloud.function("worker", handler)
        queues = Queues(cloud)
        url, arn = queues.create("orders")
        queues.send(url, *[json.dumps({"sleep": 0.02})] * 20)
        queues.map(arn, "worker", BatchSize=1)
        cloud.wait(timeout=30)
        assert state["peak"] == 5 and len(cloud.trace.invocations) == 20


def test_a_backlog_scales_up_after_a_minute_and_the_next_burst_starts_from_five_again(cloud, q):
    state, handler = concurrency_probe()
    cloud.function("worker", handler)
    url, arn = q.create("orders")
    minute = cloud.clock.real(60)
    for burst in range(2):
        state.update(peak=0, starts=[])
        q.send(url, *[json.dumps({"sleep": 3 * minute})] * 40)  # each batch outlasts the first minute
        if burst == 0:
            q.map(arn, "worker", BatchSize=1)
        cloud.wait()
        starts = sorted(state["starts"])
        # Five batches first; a sixth only once the ramp allows (a minute) — well before any slot frees.
        assert starts[5] - starts[0] >= 0.9 * minute
        assert state["peak"] == 40  # after the minute, up to 300 more: the whole backlog at once


def test_a_disabled_mapping_delivers_nothing_until_enabled_and_a_deleted_one_stops(cloud, q):
    got = []
    cloud.function("worker", lambda event, context: got.extend(bodies_of(event)))
    url, arn = q.create("orders")
    uuid = q.map(arn, "worker", Enabled=False)
    q.send(url, "while-disabled")
    cloud.wait()
    assert got == []
    q.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    cloud.wait()
    assert got == ["while-disabled"]
    q.lam.update_event_source_mapping(UUID=uuid, BatchSize=5)
    assert q.lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 5  # moto keeps the record
    q.lam.delete_event_source_mapping(UUID=uuid)
    q.send(url, "after-delete")
    cloud.wait()
    assert got == ["while-disabled"] and q.drain(url) == ["after-delete"]


def test_send_wakes_the_poller_at_once(cloud, q):
    started = []
    cloud.function("worker", lambda event, context: started.append(time.perf_counter()))
    url, arn = q.create("orders")
    q.map(arn, "worker")
    q.send(url, "warm-up")
    cloud.wait()
    sent = time.perf_counter()
    q.send(url, "now")
    cloud.wait()
    assert started[-1] - sent < 0.1


@pytest.mark.parametrize("queue, kwargs, code, words", [
    ("orders.fifo", {"BatchSize": 11}, "InvalidParameterValueException", "10"),
    ("orders.fifo", {"MaximumBatchingWindowInSeconds": 5}, "InvalidParameterValueException", "FIFO"),
    ("orders", {"BatchSize": 10_001, "MaximumBatchingWindowInSeconds": 1}, "InvalidParameterValueException", "10000"),
    ("orders", {"BatchSize": 50}, "InvalidParameterValueException", "batch window"),
    ("missing", {}, "ResourceNotFoundException", "does not exist"),
])
def test_bad_mappings_get_aws_errors_from_the_boto3_call(cloud, q, queue, kwargs, code, words):
    cloud.function("worker", lambda event, context: None)
    if queue != "missing":
        q.create(queue, **({"FifoQueue": "true"} if queue.endswith(".fifo") else {}))
    arn = f"arn:aws:sqs:{cloud.region}:{cloud.account_id}:{queue}"
    with pytest.raises(ClientError) as error:
        q.map(arn, "worker", **kwargs)
    assert error.value.response["Error"]["Code"] == code
    assert words in error.value.response["Error"]["Message"]


def test_visibility_timeout_shorter_than_the_function_timeout_is_refused(cloud, q):
    cloud.function("worker", lambda event, context: None, timeout=60)
    _, arn = q.create("orders", vt=30)
    with pytest.raises(ClientError, match="less than Function timeout"):
        q.map(arn, "worker")


def test_powertools_batch_processor_works_unchanged(cloud, q):
    processor = BatchProcessor(event_type=EventType.SQS)
    done = []

    def record_handler(record):
        if record.body == "poison":
            raise ValueError("poison")
        done.append(record.body)

    def handler(event, context):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)

    cloud.function("worker", handler)
    dlq_url, dlq_arn = q.create("orders-dlq")
    url, arn = q.create("orders", dlq=dlq_arn, max_receives=2)
    q.send(url, "a", "poison", "b")
    q.map(arn, "worker", FunctionResponseTypes=["ReportBatchItemFailures"])
    cloud.wait()
    assert sorted(done) == ["a", "b"] and q.drain(dlq_url) == ["poison"]


def test_filter_criteria_deliver_matching_messages_and_delete_the_rest(cloud, q):
    got = []
    cloud.function("worker", lambda event, context: got.extend(bodies_of(event)))
    url, arn = q.create("orders")
    q.map(arn, "worker", FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["paid"]}})}]})
    q.send(url, json.dumps({"kind": "paid", "n": 1}), json.dumps({"kind": "draft"}), "plain text")
    cloud.wait()
    assert got == [json.dumps({"kind": "paid", "n": 1})]
    dropped = [r for r in cloud.trace.filter(kind=tr.DROP) if r.outcome == "filtered"]
    assert sum(len(r.event_ids) for r in dropped) == 2
    assert q.drain(url) == []  # AWS deletes what the filter rejects


def test_a_backlog_drains_when_the_filter_drops_whole_batches_between_matches(cloud, q):
    got = []
    cloud.function("worker", lambda event, context: got.extend(bodies_of(event)))
    url, arn = q.create("orders")
    bodies = [json.dumps({"kind": "paid" if i % 4 == 0 else "draft", "n": i}) for i in range(40)]
    q.send(url, *bodies)
    q.map(arn, "worker", BatchSize=1, ScalingConfig={"MaximumConcurrency": 2},
          FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["paid"]}})}]})
    cloud.wait(timeout=10)
    assert sorted(got, key=lambda b: json.loads(b)["n"]) == bodies[::4]
    assert q.drain(url) == []


def test_deletes_answer_as_sqs_does_for_fresh_repeated_old_and_invalid_receipt_handles(cloud, q):
    url, _ = q.create("plain")
    q.send(url, "a", "b", "c", "d")
    received = q.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=4)["Messages"]
    handle = {m["Body"]: m["ReceiptHandle"] for m in received}
    q.sqs.delete_message(QueueUrl=url, ReceiptHandle=handle["a"])
    q.sqs.delete_message(QueueUrl=url, ReceiptHandle=handle["a"])  # deleting twice is not an error
    q.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle["d"], VisibilityTimeout=0)
    (again,) = q.sqs.receive_message(QueueUrl=url)["Messages"]  # "d" again, with a new handle
    assert again["Body"] == "d" and again["ReceiptHandle"] != handle["d"]
    answer = q.sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "again", "ReceiptHandle": handle["a"]}, {"Id": "b", "ReceiptHandle": handle["b"]},
        {"Id": "bogus", "ReceiptHandle": "not-a-handle"}, {"Id": "c", "ReceiptHandle": handle["c"]},
        {"Id": "old", "ReceiptHandle": handle["d"]}])
    assert [e["Id"] for e in answer["Successful"]] == ["again", "b", "c", "old"]
    assert [(e["Id"], e["Code"]) for e in answer["Failed"]] == [("bogus", "ReceiptHandleIsInvalid")]
    with pytest.raises(ClientError, match="ReceiptHandleIsInvalid"):
        q.sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    q.send(url, "e")
    assert q.drain(url) == ["e"]  # everything deleted is gone, and only that
