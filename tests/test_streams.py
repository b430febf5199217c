"""Kinesis and DynamoDB Streams → Lambda: AWS's per-shard ordering, retry, bisect and on-failure rules."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, KinesisDataStreamModel
from botocore.exceptions import ClientError

from localcloud import trace as tr


@pytest.fixture
def kinesis(cloud):
    client = boto3.client("kinesis")
    client.create_stream(StreamName="clicks", ShardCount=1)
    return client


@pytest.fixture
def stream_arn(kinesis):
    return kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]


def put(kinesis, *values: str, key: str = "k") -> None:
    for value in values:
        kinesis.put_record(StreamName="clicks", Data=value.encode(), PartitionKey=key)


def data_of(event) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]


def mapping(arn: str, function: str, **kwargs) -> str:
    kwargs.setdefault("StartingPosition", "TRIM_HORIZON")
    return boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=function, **kwargs)["UUID"]


def failure_queue() -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="stream-failures")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def received(url: str) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


# -- Kinesis --------------------------------------------------------------------------------------
def test_kinesis_batches_are_ordered_and_validate_as_powertools_events(cloud, kinesis, stream_arn):
    events = []
    cloud.function("reader", lambda event, context: events.append(event))
    put(kinesis, *[f"r{i}" for i in range(7)])
    mapping(stream_arn, "reader", BatchSize=3)
    cloud.wait()
    assert [data_of(e) for e in events] == [["r0", "r1", "r2"], ["r3", "r4", "r5"], ["r6"]]
    parsed = KinesisDataStreamModel.model_validate(events[0])
    assert parsed.Records[0].kinesis.data == b"r0" and parsed.Records[0].eventSourceARN == stream_arn
    assert parsed.Records[0].eventID == f"shardId-000000000000:{parsed.Records[0].kinesis.sequenceNumber}"


def test_latest_skips_what_was_there_and_trim_horizon_does_not(cloud, kinesis, stream_arn):
    latest, horizon = [], []
    cloud.function("latest", lambda event, context: latest.extend(data_of(event)))
    cloud.function("horizon", lambda event, context: horizon.extend(data_of(event)))
    put(kinesis, "old")
    mapping(stream_arn, "latest", StartingPosition="LATEST")
    mapping(stream_arn, "horizon", StartingPosition="TRIM_HORIZON")
    put(kinesis, "new")
    cloud.wait()
    assert latest == ["new"] and horizon == ["old", "new"]


def test_at_timestamp_starts_with_the_first_record_that_arrived_at_or_after_it(cloud, kinesis, stream_arn):
    import time
    from datetime import datetime

    got = []
    cloud.function("replay", lambda event, context: got.extend(data_of(event)))
    put(kinesis, *[f"before-{i}" for i in range(150)])  # more than one read of the shard
    time.sleep(0.05)
    since = datetime.now().astimezone()
    time.sleep(0.05)
    put(kinesis, "after-1", "after-2")
    mapping(stream_arn, "replay", StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=since)
    put(kinesis, "after-3")
    cloud.wait()
    assert got == ["after-1", "after-2", "after-3"]


def test_a_failing_batch_blocks_its_shard_until_it_succeeds(cloud, kinesis, stream_arn):
    seen, failures = [], [2]

    def handler(event, context):
        seen.append(data_of(event))
        if "bad" in data_of(event) and failures[0]:
            failures[0] -= 1
            raise RuntimeError("downstream unavailable")

    cloud.function("reader", handler)
    put(kinesis, "a", "bad", "c")
    mapping(stream_arn, "reader", BatchSize=2)
    cloud.wait()
    assert seen == [["a", "bad"], ["a", "bad"], ["a", "bad"], ["c"]]  # "c" waited for the retries
    assert [r.attempt for r in cloud.trace.filter(kind=tr.RETRY)] == [2, 3]


def test_retries_exhausted_send_aws_failure_record_to_the_destination_and_the_shard_moves_on(
        cloud, kinesis, stream_arn):
    seen = []

    def handler(event, context):
        seen.append(data_of(event))
        if "bad" in data_of(event):
            raise RuntimeError("poison")

    cloud.function("reader", handler)
    url, queue_arn = failure_queue()
    put(kinesis, "bad", "next")
    mapping(stream_arn, "reader", BatchSize=1, MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    cloud.wait()
    assert seen == [["bad"]] * 3 + [["next"]]
    (document,) = received(url)
    info = document["KinesisBatchInfo"]
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 3
    assert document["responseContext"]["functionError"] == "Unhandled" and document["version"] == "1.0"
    assert (info["shardId"], info["batchSize"], info["streamArn"]) == ("shardId-000000000000", 1, stream_arn)
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert "approximateArrivalOfFirstRecord" in info and "Records" not in document  # metadata, not records
    (dead,) = cloud.trace.filter(kind=tr.DEAD_LETTER).records
    assert dead.destination == "queue:stream-failures" and dead.outcome == "RetryAttemptsExhausted"


def test_without_a_destination_the_records_given_up_are_dropped_visibly(cloud, kinesis, stream_arn):
    cloud.function("reader", lambda event, context: 1 / 0)
    put(kinesis, "x")
    mapping(stream_arn, "reader", MaximumRetryAttempts=0)
    cloud.wait()
    (drop,) = cloud.trace.filter(kind=tr.DROP).records
    assert drop.outcome == "RetryAttemptsExhausted" and len(drop.event_ids) == 1


def test_bisect_on_function_error_isolates_the_bad_record(cloud, kinesis, stream_arn):
    processed = []

    def handler(event, context):
        if "bad" in data_of(event):
            raise RuntimeError("poison")
        processed.extend(data_of(event))

    cloud.function("reader", handler)
    url, queue_arn = failure_queue()
    put(kinesis, "a", "b", "bad", "d")
    mapping(stream_arn, "reader", BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    cloud.wait()
    assert processed == ["a", "b", "d"]
    sizes = [r.batch_size for r in cloud.trace.invocations]
    assert sizes == [4, 2, 2, 1, 1]
    (document,) = received(url)
    assert document["KinesisBatchInfo"]["batchSize"] == 1


def test_partial_batch_response_checkpoints_at_the_lowest_failed_sequence_number(cloud, kinesis, stream_arn):
    seen = []

    def handler(event, context):
        seen.append(data_of(event))
        if len(seen) == 1:
            return {"batchItemFailures": [
                {"itemIdentifier": event["Records"][3]["kinesis"]["sequenceNumber"]},
                {"itemIdentifier": event["Records"][2]["kinesis"]["sequenceNumber"]}]}
        return {"batchItemFailures": []}

    cloud.function("reader", handler)
    put(kinesis, "a", "b", "c", "d", "e")
    mapping(stream_arn, "reader", BatchSize=5, FunctionResponseTypes=["ReportBatchItemFailures"])
    cloud.wait()
    assert seen == [["a", "b", "c", "d", "e"], ["c", "d", "e"]]


def test_maximum_record_age_gives_up_on_old_records(cloud, kinesis, stream_arn):
    cloud.function("reader", lambda event, context: 1 / 0)
    url, queue_arn = failure_queue()
    put(kinesis, "x")
    put_at = cloud.clock.now()
    mapping(stream_arn, "reader", MaximumRecordAgeInSeconds=300, MaximumRetryAttempts=-1,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    cloud.wait()
    (document,) = received(url)
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    (dead,) = cloud.trace.filter(kind=tr.DEAD_LETTER).records
    assert dead.start - put_at >= cloud.clock.real(300)  # retried (without limit) until the record was too old


def test_shards_are_processed_independently(cloud, kinesis, stream_arn):
    kinesis.create_stream(StreamName="wide", ShardCount=2)
    arn = kinesis.describe_stream(StreamName="wide")["StreamDescription"]["StreamARN"]
    by_shard: dict[str, list[str]] = {}

    def handler(event, context):
        for record in event["Records"]:
            shard = record["eventID"].split(":")[0]
            by_shard.setdefault(shard, []).append(base64.b64decode(record["kinesis"]["data"]).decode())

    cloud.function("reader", handler)
    for i in range(20):
        kinesis.put_record(StreamName="wide", Data=f"{i:02d}".encode(), PartitionKey=f"user-{i % 5}")
    mapping(arn, "reader", BatchSize=3)
    cloud.wait()
    assert len(by_shard) == 2
    assert sorted(v for values in by_shard.values() for v in values) == [f"{i:02d}" for i in range(20)]
    for values in by_shard.values():
        assert values == sorted(values)  # in order within each shard


def test_powertools_batch_processor_works_for_kinesis(cloud, kinesis, stream_arn):
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    done = []

    def record_handler(record):
        value = record.kinesis.data_as_text()
        if value == "bad" and "bad" not in done:
            done.append("bad")
            raise ValueError("first time")
        done.append(value)

    def handler(event, context):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)

    cloud.function("reader", handler)
    put(kinesis, "a", "bad", "c")
    mapping(stream_arn, "reader", FunctionResponseTypes=["ReportBatchItemFailures"])
    cloud.wait()
    assert done == ["a", "bad", "c", "bad", "c"]  # retried from the failed record on


@pytest.mark.parametrize("kwargs, code", [
    ({"BatchSize": 10_001}, "InvalidParameterValueException"),
    ({"StartingPosition": None}, "InvalidParameterValueException"),
    ({"StartingPosition": "AT_TIMESTAMP"}, "InvalidParameterValueException"),  # without its timestamp
])
def test_bad_stream_mappings_get_aws_errors(cloud, stream_arn, kwargs, code):
    cloud.function("reader", lambda event, context: None)
    args = {"EventSourceArn": stream_arn, "FunctionName": "reader", "StartingPosition": "LATEST", **kwargs}
    args = {k: v for k, v in args.items() if v is not None}
    with pytest.raises(ClientError) as error:
        boto3.client("lambda").create_event_source_mapping(**args)
    assert error.value.response["Error"]["Code"] == code


def test_a_mapping_to_a_missing_stream_is_not_found(cloud):
    cloud.function("reader", lambda event, context: None)
    with pytest.raises(ClientError) as error:
        mapping(f"arn:aws:kinesis:{cloud.region}:{cloud.account_id}:stream/nope", "reader")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


# -- DynamoDB Streams -----------------------------------------------------------------------------
def table_with_stream(view: str) -> str:
    description = boto3.client("dynamodb").create_table(
        TableName="orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view})["TableDescription"]
    return description["LatestStreamArn"]


def change_an_item() -> None:
    ddb = boto3.client("dynamodb")
    ddb.put_item(TableName="orders", Item={"id": {"S": "o1"}, "status": {"S": "new"}})
    ddb.update_item(TableName="orders", Key={"id": {"S": "o1"}}, UpdateExpression="SET #s = :s",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "paid"}})
    ddb.delete_item(TableName="orders", Key={"id": {"S": "o1"}})


@pytest.mark.parametrize("view, images", [
    ("NEW_AND_OLD_IMAGES", [(None, "new"), ("new", "paid"), ("paid", None)]),
    ("NEW_IMAGE", [(None, "new"), (None, "paid"), (None, None)]),
    ("OLD_IMAGE", [(None, None), ("new", None), ("paid", None)]),
    ("KEYS_ONLY", [(None, None)] * 3),
])
def test_dynamodb_stream_records_have_the_configured_images(cloud, view, images):
    events = []
    cloud.function("projector", lambda event, context: events.append(event))
    arn = table_with_stream(view)
    mapping(arn, "projector", StartingPosition="LATEST")
    change_an_item()
    cloud.wait()
    records = [r for e in events for r in DynamoDBStreamModel.model_validate(e).Records]
    assert [r.eventName for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    got = [((r.dynamodb.OldImage or {}).get("status"), (r.dynamodb.NewImage or {}).get("status")) for r in records]
    assert got == images
    assert all(r.dynamodb.Keys == {"id": "o1"} and r.eventSourceARN == arn for r in records)
    assert all(r.dynamodb.StreamViewType == view for r in records)


def test_dynamodb_streams_refuse_at_timestamp_as_aws_does(cloud):
    cloud.function("projector", lambda event, context: None)
    with pytest.raises(ClientError) as error:
        mapping(table_with_stream("NEW_IMAGE"), "projector", StartingPosition="AT_TIMESTAMP",
                StartingPositionTimestamp=0)
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Unsupported starting position" in error.value.response["Error"]["Message"]


def test_dynamodb_stream_failures_go_to_the_destination_with_ddb_batch_info(cloud):
    cloud.function("projector", lambda event, context: 1 / 0)
    url, queue_arn = failure_queue()
    arn = table_with_stream("NEW_IMAGE")
    mapping(arn, "projector", StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    change_an_item()
    cloud.wait()
    documents = received(url)
    assert sum(d["DDBStreamBatchInfo"]["batchSize"] for d in documents) == 3
    assert all(d["DDBStreamBatchInfo"]["streamArn"] == arn for d in documents)


def test_powertools_batch_processor_works_for_dynamodb_streams(cloud):
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    names = []

    def record_handler(record):
        names.append(record.event_name.name)

    def handler(event, context):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)

    cloud.function("projector", handler)
    arn = table_with_stream("NEW_AND_OLD_IMAGES")
    mapping(arn, "projector", StartingPosition="TRIM_HORIZON", FunctionResponseTypes=["ReportBatchItemFailures"])
    change_an_item()
    cloud.wait()
    assert names == ["INSERT", "MODIFY", "REMOVE"]


def test_filter_criteria_skip_kinesis_records_that_do_not_match(cloud, kinesis, stream_arn):
    got = []
    cloud.function("reader", lambda event, context: got.extend(data_of(event)))
    put(kinesis, json.dumps({"type": "click"}), json.dumps({"type": "view"}), json.dumps({"type": "click", "n": 2}))
    mapping(stream_arn, "reader", FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"type": ["click"]}})}]})
    cloud.wait()
    assert [json.loads(v)["type"] for v in got] == ["click", "click"]
    (dropped,) = cloud.trace.filter(kind=tr.DROP).records
    assert dropped.outcome == "filtered" and len(dropped.event_ids) == 1
