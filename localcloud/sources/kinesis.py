"""Kinesis → Lambda: Kinesis's records and event shape for the shared shard poller (`streams.py`)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from moto.kinesis import models as kinesis_models

from .. import motoadapter
from .mappings import kinesis_view
from .streams import ShardPoller, StreamRecord


def arrival(item: Any) -> float:
    """When a record arrived, as epoch seconds (moto ≤ 5.2.5 keeps a float, 5.2.6 a naive UTC datetime)."""
    created = item.created_at
    if isinstance(created, datetime):
        return created.replace(tzinfo=UTC).timestamp() if created.tzinfo is None else created.timestamp()
    return float(created)


def data_base64(item: Any) -> str:
    """The record's data as Lambda sends it, base64 (moto ≤ 5.2.5 stores base64 text, 5.2.6 raw bytes)."""
    if isinstance(item.data, bytes | bytearray):
        return base64.b64encode(item.data).decode()
    return item.data


class KinesisSource:
    """A Kinesis data stream as moto holds it: shards whose sequence numbers count up from 1."""

    batch_info_key = "KinesisBatchInfo"

    def __init__(self, esm: Any) -> None:
        self.esm = esm
        self.arn = esm.event_source_arn
        self.name = self.arn.split("/", 1)[1]
        self.node = f"stream:{self.name}"
        self.key = ("kinesis", self.name)
        stream = self._stream()
        self.retention_s = float(getattr(stream, "retention_period_hours", 24) or 24) * 3600

    def _stream(self) -> Any | None:
        return kinesis_models.kinesis_backends[self.esm.account_id][self.esm.region].streams.get(self.name)

    def _shard(self, shard_id: str) -> Any | None:
        stream = self._stream()
        return stream.shards.get(shard_id) if stream is not None else None

    def shard_ids(self) -> list[str]:
        stream = self._stream()
        return list(stream.shards) if stream is not None else []

    def first_seq(self, shard_id: str) -> int:
        shard = self._shard(shard_id)
        return next(iter(shard.records)) if shard is not None and shard.records else 1

    def last_seq(self, shard_id: str) -> int:
        shard = self._shard(shard_id)
        if shard is None or not shard.records:
            return self.first_seq(shard_id) - 1
        return next(reversed(shard.records))

    def read(self, shard_id: str, after: int, limit: int) -> list[StreamRecord]:
        shard = self._shard(shard_id)
        if shard is None:
            return []
        found = []
        seq = after + 1
        while len(found) < limit:
            item = shard.records.get(seq)
            if item is None:
                break
            found.append(StreamRecord(seq, arrival(item), self.event_record(shard_id, item)))
            seq += 1
        return found

    def filter_view(self, record: dict[str, Any]) -> dict[str, Any]:
        return kinesis_view(record)

    def event_record(self, shard_id: str, item: Any) -> dict[str, Any]:
        """One record as Lambda's Kinesis event record (`data` stays base64, as on AWS)."""
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": item.partition_key,
                "sequenceNumber": str(item.sequence_number),
                "data": data_base64(item),
                "approximateArrivalTimestamp": round(arrival(item), 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{item.sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": motoadapter.ROLE_ARN,
            "awsRegion": self.esm.region,
            "eventSourceARN": self.arn,
        }


def poller(cloud: Any, esm: Any) -> ShardPoller:
    return ShardPoller(cloud, esm, KinesisSource(esm))
