"""Stream processing: a Kinesis clickstream → IndexClicks → search index and S3 archive.

Users' clicks go into the ``clicks`` stream with the user as partition key, so each user's clicks
stay in one shard, in order. IndexClicks reads every shard through an event source mapping in
batches of `batch_size` (one batch per shard at a time, shards in parallel), indexes each click
into the embedded search engine and archives each batch to S3. A bad record (not JSON) fails its
batch and blocks its shard: with `bisect` the batch is split until the bad record is alone; with
`partial_batch` the handler reports the failed sequence number and Lambda checkpoints before it.
Whatever is given up after `max_retries` goes to the ``clicks-failed`` queue as a failure record.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import since, work
from localcloud.trace import Trace

USERS = ("grace", "alan", "ada", "linus", "ken", "tim")
PAGES = ("/", "/search?q=green+tea", "/product/green-tea", "/product/black-tea", "/cart", "/checkout")


def make_indexer(latency_ms: float, partial_batch: bool):
    """The stream processor: decode, index each click (id = eventID: idempotent), archive the batch."""
    state: dict[str, Any] = {}

    def handler(event, context):
        if "s3" not in state:
            import boto3

            from localcloud import search

            state["s3"], state["es"] = boto3.client("s3"), search.client()
        work(latency_ms)  # one round trip to the search cluster per batch
        done = []
        for record in event["Records"]:
            try:
                click = json.loads(base64.b64decode(record["kinesis"]["data"]))
            except ValueError:
                if partial_batch:  # checkpoint before this record; it and the rest come again
                    return {"batchItemFailures": [{"itemIdentifier": record["kinesis"]["sequenceNumber"]}]}
                raise
            state["es"].index(index="clicks", id=record["eventID"], body=click)
            done.append(click)
        first, last = event["Records"][0], event["Records"][-1]
        key = (f"clicks/{first['eventID'].split(':')[0]}/"
               f"{first['kinesis']['sequenceNumber']}-{last['kinesis']['sequenceNumber']}.jsonl")
        state["s3"].put_object(Bucket="clicks-archive", Key=key, Body="\n".join(map(json.dumps, done)).encode())
        return {"batchItemFailures": []}

    return handler


def run(cloud, *, clicks: int = 60, shards: int = 3, batch_size: int = 10, latency_ms: int = 5,
        bad_record: bool = True, bisect: bool = True, partial_batch: bool = False, max_retries: int = 2) -> Trace:
    first = len(cloud.trace)  # this run's records only, should the cloud hold earlier ones
    kinesis, sqs, lam = cloud.client("kinesis"), cloud.client("sqs"), cloud.client("lambda")
    if "clicks" in kinesis.list_streams()["StreamNames"]:  # a second run starts from an empty stream
        for old in lam.list_event_source_mappings(FunctionName="IndexClicks")["EventSourceMappings"]:
            lam.delete_event_source_mapping(UUID=old["UUID"])
        kinesis.delete_stream(StreamName="clicks")
    kinesis.create_stream(StreamName="clicks", ShardCount=shards)
    arn = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]
    cloud.client("s3").create_bucket(Bucket="clicks-archive")
    queue_url = sqs.create_queue(QueueName="clicks-failed")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.function("IndexClicks", make_indexer(latency_ms, partial_batch), timeout=30, memory=256)

    entries = []
    for i in range(clicks):
        user = USERS[i % len(USERS)]
        entries.append({"Data": json.dumps({"user": user, "n": i // len(USERS) + 1,
                                            "page": PAGES[(i // len(USERS)) % len(PAGES)]}).encode(),
                        "PartitionKey": user})
        if bad_record and i == min(clicks - 1, 2 * len(USERS) + 2):  # after ada's third click
            entries.append({"Data": b'{"user": "ada", "page": "/prod', "PartitionKey": "ada"})
    for i in range(0, len(entries), 500):
        kinesis.put_records(StreamName="clicks", Records=entries[i:i + 500])

    settings: dict[str, Any] = {"BatchSize": batch_size, "MaximumRetryAttempts": max_retries,
                                "BisectBatchOnFunctionError": bisect,
                                "DestinationConfig": {"OnFailure": {"Destination": queue_arn}}}
    if partial_batch:
        settings["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="IndexClicks",
                                    StartingPosition="TRIM_HORIZON", **settings)
    cloud.wait(timeout=30)
    return since(cloud.trace, first)


SCENARIO = Scenario(
    name="stream-processing",
    title="Stream processing: Kinesis shards → batched processor → search index + S3",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("clicks", "clicks", 60, 6, 300, 6),
        Knob("shards", "shards", 3, 1, 4, 1),
        Knob("batch_size", "batch size", 10, 1, 100, 1),
        Knob("latency_ms", "latency per batch (ms)", 5, 0, 100, 5),
        Knob("bad_record", "bad record", True),
        Knob("bisect", "bisect batch on error", True),
        Knob("partial_batch", "partial batch response", False),
        Knob("max_retries", "maximum retry attempts", 2, 0, 10, 1),
    ),
    run=run,
    lesson="notebooks/03-stream-processing.ipynb",
)
