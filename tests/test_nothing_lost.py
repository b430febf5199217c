"""Nothing is lost: whatever the handler does, every message ends processed or dead-lettered.

Property tests with hypothesis: random message counts, batch sizes, concurrency and handler
behaviour (succeed, raise once or always, time out, partial batch responses, garbage responses).
After `cloud.wait()` every message is either processed by a successful invocation or in the DLQ /
on-failure destination, never both, never neither, and the trace shows each outcome.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcloud import Cloud
from localcloud import trace as tr

MODES = ["ok", "raise_once", "raise_always", "partial_once", "partial_always", "garbage_once", "timeout_once"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SQS_SETTINGS = settings(SETTINGS, max_examples=20)  # SQS examples may include a real 1 s function timeout


@pytest.fixture(scope="module")
def shared_cloud():
    with Cloud() as cloud:
        yield cloud


def modes_strategy(max_size: int):
    # at most one time-out per example: each costs the function's 1 s timeout in real time
    plain = st.sampled_from([m for m in MODES if m != "timeout_once"])
    return st.lists(plain, min_size=1, max_size=max_size).flatmap(
        lambda modes: st.tuples(st.just(modes), st.integers(0, 5).map(lambda t: t == 0 and len(modes) > 2)))


def handler_for(seen: Counter, rbif: bool, key):
    """A handler whose behaviour per record is written in the record itself."""

    def handler(event, context):
        failures, raise_it, garbage, sleep = [], False, False, False
        for record in event["Records"]:
            ident, mode = key(record)
            seen[ident] += 1
            first = seen[ident] == 1
            if mode == "raise_always" or (mode == "raise_once" and first):
                raise_it = True
            elif mode == "timeout_once" and first:
                sleep = True
            elif mode == "garbage_once" and first:
                garbage = True
            elif mode == "partial_always" or (mode == "partial_once" and first):
                failures.append(ident)
        if sleep:
            time.sleep(1.2)
        if raise_it:
            raise RuntimeError("handler failed")
        if garbage:
            return {"batchItemFailures": "nonsense"}
        return {"batchItemFailures": [{"itemIdentifier": f} for f in failures]} if rbif else None

    return handler


@SQS_SETTINGS
@given(spec=modes_strategy(25), batch_size=st.integers(1, 10), rbif=st.booleans(),
       concurrency=st.sampled_from([2, 3, 5, None]), max_receives=st.integers(2, 4), sent_while_polling=st.booleans())
def test_sqs_every_message_is_processed_or_dead_lettered(shared_cloud, spec, batch_size, rbif, concurrency,
                                                         max_receives, sent_while_polling):
    cloud = shared_cloud
    cloud.reset()
    modes, with_timeout = spec
    if with_timeout:
        modes = [*modes[:-1], "timeout_once"]
    sqs, lam = boto3.client("sqs"), boto3.client("lambda")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    seen: Counter = Counter()
    by_message_id: dict[str, str] = {}

    def key(record):
        body = json.loads(record["body"])
        by_message_id[record["messageId"]] = body["id"]
        return record["messageId"], body["mode"]

    cloud.function("worker", handler_for(seen, rbif, key), timeout=1)
    sent = {}

    def send_all():
        for i, mode in enumerate(modes):
            message_id = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": i, "mode": mode}))["MessageId"]
            sent[message_id] = mode

    def map_queue():
        lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="worker", BatchSize=batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"] if rbif else [],
            **({"ScalingConfig": {"MaximumConcurrency": concurrency}} if concurrency else {}))  # None: AWS's ramp

    for step in ((map_queue, send_all) if sent_while_polling else (send_all, map_queue)):
        step()
    cloud.wait(timeout=30)

    # processed = in a successful invocation and not reported failed by it
    failed_by_request = {r.request_id: set(r.event_ids) for r in cloud.trace.filter(kind=tr.RETRY)}
    processed: Counter = Counter()
    for invoke in cloud.trace.invocations.filter(outcome=tr.SUCCESS):
        for message_id in invoke.event_ids:
            if message_id not in failed_by_request.get(invoke.request_id, set()):
                processed[message_id] += 1
    dead = {d.event_ids[0] for d in cloud.trace.filter(kind=tr.DEAD_LETTER)}
    in_dlq = set()
    while batch := sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            in_dlq.add(message["MessageId"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])

    assert set(processed) | in_dlq == set(sent), "a message was lost"
    assert not set(processed) & in_dlq, "a message was both processed and dead-lettered"
    assert in_dlq == dead, "every dead-lettered message is in the trace"
    assert all(count == 1 for count in processed.values()), "a message was processed twice"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    always = {m for m, mode in sent.items() if mode == "raise_always" or (mode == "partial_always" and rbif)}
    assert always <= in_dlq, "a message that always fails must end in the DLQ"
    once = sum(mode in ("raise_once", "timeout_once") or (rbif and mode in ("partial_once", "garbage_once"))
               for mode in sent.values())
    if not always and once < max_receives:
        assert in_dlq == set(), "with only transient failures and enough receives, everything is processed"


@SETTINGS
@given(modes=st.lists(st.sampled_from(["ok", "raise_once", "raise_always", "partial_once", "partial_always"]),
                      min_size=1, max_size=30),
       batch_size=st.integers(1, 8), rbif=st.booleans(), bisect=st.booleans(), retries=st.integers(0, 2),
       shards=st.integers(1, 3))
def test_kinesis_every_record_is_processed_or_reported_to_the_destination(
        shared_cloud, modes, batch_size, rbif, bisect, retries, shards):
    cloud = shared_cloud
    cloud.reset()
    kinesis, sqs, lam = boto3.client("kinesis"), boto3.client("sqs"), boto3.client("lambda")
    kinesis.create_stream(StreamName="events", ShardCount=shards)
    stream_arn = kinesis.describe_stream(StreamName="events")["StreamDescription"]["StreamARN"]
    failures = sqs.create_queue(QueueName="failures")["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    seen: Counter = Counter()
    processed_order: dict[str, list[int]] = {}

    def key(record):
        body = json.loads(base64.b64decode(record["kinesis"]["data"]))
        return record["kinesis"]["sequenceNumber"] + "@" + record["eventID"].split(":")[0], body["mode"]

    inner = handler_for(seen, rbif, key)

    def handler(event, context):
        result = inner(event, context)
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        for record in event["Records"]:
            shard = record["eventID"].split(":")[0]
            ident = record["kinesis"]["sequenceNumber"] + "@" + shard
            if ident in failed:
                break  # AWS retries from the lowest failed record on
            processed_order.setdefault(shard, []).append(int(record["kinesis"]["sequenceNumber"]))
        return result and {"batchItemFailures": [{"itemIdentifier": f.split("@")[0]} for f in failed]}

    cloud.function("reader", handler)
    records = {}
    for i, mode in enumerate(modes):
        answer = kinesis.put_record(StreamName="events", Data=json.dumps({"id": i, "mode": mode}).encode(),
                                    PartitionKey=f"p{i}")
        records[(answer["ShardId"], int(answer["SequenceNumber"]))] = mode
    lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName="reader", StartingPosition="TRIM_HORIZON", BatchSize=batch_size,
        BisectBatchOnFunctionError=bisect, MaximumRetryAttempts=retries,
        FunctionResponseTypes=["ReportBatchItemFailures"] if rbif else [],
        DestinationConfig={"OnFailure": {"Destination": failures_arn}})
    cloud.wait(timeout=30)

    reported, documents = set(), 0
    while batch := sqs.receive_message(QueueUrl=failures, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            documents += 1
            info = json.loads(message["Body"])["KinesisBatchInfo"]
            for seq in range(int(info["startSequenceNumber"]), int(info["endSequenceNumber"]) + 1):
                reported.add((info["shardId"], seq))
            sqs.delete_message(QueueUrl=failures, ReceiptHandle=message["ReceiptHandle"])
    processed = {(shard, seq) for shard, seqs in processed_order.items() for seq in seqs}
    # The handler may see a record more than once (a retried batch): at-least-once, as on AWS.
    assert processed | reported == set(records), "a record was lost"
    for shard, seqs in processed_order.items():
        firsts = list(dict.fromkeys(seqs))
        assert firsts == sorted(firsts), f"records of {shard} were processed out of order"
    assert len(cloud.trace.filter(kind=tr.DEAD_LETTER)) == documents, "each give-up is traced"
    always = {k for k, mode in records.items() if mode == "raise_always" or (mode == "partial_always" and rbif)}
    assert always <= reported, "a record that always fails is reported to the destination"
