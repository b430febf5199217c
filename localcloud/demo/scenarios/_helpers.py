"""What several scenarios share: deterministic failures and a handler's simulated work."""

from __future__ import annotations

import random
import time

from localcloud.trace import Trace


def fails(rate: float, *key: object) -> bool:
    """True for a `rate` share of keys, the same keys every run: a demo that can be repeated.

    A string seed makes `random.Random` hash with SHA-512, so the choice does not depend on
    PYTHONHASHSEED.
    """
    if rate <= 0:
        return False
    return random.Random(":".join(map(str, key))).random() < rate


def work(latency_ms: float) -> None:
    """The handler's own work (a call to an email provider, a CRM...), stood in for by a sleep."""
    if latency_ms > 0:
        time.sleep(latency_ms / 1000.0)


def since(trace: Trace, count: int) -> Trace:
    """The records after the first `count`: a run without its warm-up."""
    return Trace(trace.records[count:])


def ensure_table(ddb, name: str, key: str) -> None:
    """An on-demand table with a string hash key; running a scenario twice on one cloud is fine."""
    try:
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    except ddb.exceptions.ResourceInUseException:
        pass
