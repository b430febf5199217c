"""Per-invocation logs: what a handler prints goes to its log, as CloudWatch Logs would hold it.

On AWS a handler's output never appears in your terminal. Here, lines written by a handler thread
are kept with the invocation (`cloud.logs(name)`), while everything else (a cell's own prints)
reaches the notebook as usual.
"""

from __future__ import annotations

import io
import sys

from . import runtime_context


class RoutingStream(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr and routes a handler thread's writes to its log."""

    def __init__(self, original) -> None:
        self.original = original

    def write(self, text: str) -> int:
        current = runtime_context.current()
        if current is None:
            return self.original.write(text)
        current.log.append(text)
        return len(text)

    def flush(self) -> None:
        if runtime_context.current() is None:
            self.original.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self):  # noqa: D401 - mirror the wrapped stream
        return getattr(self.original, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.original.fileno()

    def __getattr__(self, name):
        return getattr(self.original, name)


def install() -> None:
    """Idempotent; safe when ipykernel later swaps its own streams in (we wrap what is there)."""
    if not isinstance(sys.stdout, RoutingStream):
        sys.stdout = RoutingStream(sys.stdout)
    if not isinstance(sys.stderr, RoutingStream):
        sys.stderr = RoutingStream(sys.stderr)


def lines(chunks: list[str]) -> list[str]:
    return "".join(chunks).splitlines()
