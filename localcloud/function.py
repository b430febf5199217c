"""The handle `cloud.function(...)` returns: the function's ARN, a direct invoke, and its logs."""

from __future__ import annotations

import json
from typing import Any

from .errors import ConfigurationError


def to_payload(function: str, event: Any) -> str:
    """Events travel as JSON, as on AWS: a handler can never see (or change) the caller's objects."""
    try:
        return json.dumps({} if event is None else event)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"the event for '{function}' is not JSON-serializable ({exc}); Lambda events are JSON documents"
        ) from None


class Function:
    def __init__(self, cloud, name: str, arn: str) -> None:
        self._cloud, self.name, self.arn = cloud, name, arn

    def invoke(self, event: Any = None) -> Any:
        """RequestResponse from a cell: the handler's return value, or `HandlerError` in one line."""
        runtime = self._cloud.runtime
        return runtime.invoke(runtime.require(self.name), to_payload(self.name, event), source="client").value()

    def invoke_async(self, event: Any = None) -> str:
        """InvocationType=Event: queued with AWS's retry rules; returns the request id."""
        runtime = self._cloud.runtime
        return self._cloud.async_invoker.submit(runtime.require(self.name), to_payload(self.name, event),
                                                source="client")

    def logs(self) -> list[str]:
        return self._cloud.runtime.log_lines(self.name)

    def __repr__(self) -> str:
        return f"<Function {self.name} {self.arn}>"
