"""DynamoDB Streams → Lambda: the table's change records for the shared shard poller (`streams.py`).

moto writes one stream record per change (INSERT / MODIFY / REMOVE) with the images the table's
`StreamViewType` asks for; Lambda's event record adds the stream ARN and gives the creation time as
epoch seconds, as AWS does.
"""

from __future__ import annotations

import copy
from datetime import UTC
from typing import Any

from .mappings import table_for_stream
from .streams import ShardPoller, StreamRecord

RETENTION_S = 24 * 3600.0  # DynamoDB Streams keep records for 24 hours


class DynamoDBStreamSource:
    batch_info_key = "DDBStreamBatchInfo"
    retention_s = RETENTION_S

    def __init__(self, esm: Any) -> None:
        self.esm = esm
        self.arn = esm.event_source_arn
        self.table_name = self.arn.split(":table/", 1)[1].split("/")[0]
        self.node = f"table:{self.table_name}"
        self.key = ("dynamodb", self.table_name)

    def filter_view(self, record: dict[str, Any]) -> dict[str, Any]:
        return record  # patterns match the record as it is ({"dynamodb": {"NewImage": ...}})

    def _shard(self) -> Any | None:
        table = table_for_stream(self.esm.account_id, self.esm.region, self.arn)
        return table.stream_shard if table is not None else None

    def shard_ids(self) -> list[str]:
        shard = self._shard()
        return [shard.id] if shard is not None else []

    def first_seq(self, shard_id: str) -> int:
        shard = self._shard()
        return int(shard.starting_sequence_number) if shard is not None else 1

    def last_seq(self, shard_id: str) -> int:
        shard = self._shard()
        return int(shard.starting_sequence_number) + len(shard.items) - 1 if shard is not None else 0

    def read(self, shard_id: str, after: int, limit: int) -> list[StreamRecord]:
        shard = self._shard()
        if shard is None:
            return []
        start = max(0, after + 1 - int(shard.starting_sequence_number))
        items = shard.items[start:start + limit]
        return [self._record(int(shard.starting_sequence_number) + start + i, item) for i, item in enumerate(items)]

    def _record(self, seq: int, item: Any) -> StreamRecord:
        event = copy.deepcopy(item.record)
        created = event["dynamodb"].get("ApproximateCreationDateTime")
        if hasattr(created, "timestamp"):
            arrival = (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()
        else:
            arrival = float(created or 0)
        event["dynamodb"]["ApproximateCreationDateTime"] = int(arrival)
        event["awsRegion"] = self.esm.region
        event["eventSourceARN"] = self.arn
        return StreamRecord(seq, arrival, event)


def poller(cloud: Any, esm: Any) -> ShardPoller:
    return ShardPoller(cloud, esm, DynamoDBStreamSource(esm))
