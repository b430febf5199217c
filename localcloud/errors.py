"""Errors a student sees: one line that names what was wrong and how to fix it."""

from __future__ import annotations


class LocalCloudError(Exception):
    """Base class. Rendered in notebooks as its one-line message, without a traceback wall."""

    def _render_traceback_(self) -> list[str]:  # IPython hook: show the message, not the stack
        return [f"{type(self).__name__}: {self}"]


class ConfigurationError(LocalCloudError, ValueError):
    """Bad input to the local cloud's API: a handler, a route, a setting."""


class HandlerError(LocalCloudError):
    """A handler raised, timed out or returned something Lambda cannot send back."""

    def __init__(self, function: str, error_type: str, message: str, request_id: str) -> None:
        self.function, self.error_type, self.error_message, self.request_id = (
            function,
            error_type,
            message,
            request_id,
        )
        super().__init__(
            f"function '{function}' failed with {error_type}: {message} "
            f"(request {request_id}; its log: cloud.logs('{function}'))"
        )


class Throttled(LocalCloudError):
    """No execution environment free under the function's or the account's concurrency limit."""


class NetworkBlocked(LocalCloudError, ConnectionRefusedError):
    """Something tried to leave the machine. The course never reaches real AWS or the internet."""


class WaitTimeout(LocalCloudError, TimeoutError):
    """`cloud.wait()` gave up; the message lists what was still pending."""
