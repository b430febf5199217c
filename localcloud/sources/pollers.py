"""Which poller serves which event source mapping, and the moto hooks the pollers' sources need.

The session hands these to `MappingManager`; nothing else imports the source modules directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import dynamodb_streams, eventbridge, kinesis, sqs

POLLERS: dict[str, Callable[[Any, Any], Any]] = {
    "sqs": sqs.poller,
    "kinesis": kinesis.poller,
    "dynamodb": dynamodb_streams.poller,
}
INSTALLERS: tuple[Callable[[], None], ...] = (eventbridge.install_hooks,)
