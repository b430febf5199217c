"""Lambda environment variables per execution environment, in one process.

On AWS each sandbox has its own `os.environ`. Here many functions share a process, so `os.environ`
is replaced by a mapping that shows an environment thread its function's variables (set once when
the environment starts) and shows everyone else the process's real ones.
"""

from __future__ import annotations

import os
import threading

_local = threading.local()


class OverlayEnviron(os._Environ):  # type: ignore[name-defined]
    """`os.environ` whose lookups see a per-thread overlay first (handlers' own variables)."""

    def __init__(self, base: os._Environ) -> None:  # type: ignore[name-defined]
        super().__init__(base._data, base.encodekey, base.decodekey, base.encodevalue, base.decodevalue)

    @staticmethod
    def _overlay() -> dict[str, str] | None:
        return getattr(_local, "overlay", None)

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            return overlay[key]
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if overlay is not None:
            overlay[key] = value
        else:
            super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            del overlay[key]
        else:
            super().__delitem__(key)

    def __iter__(self):
        overlay = self._overlay()
        keys = list(super().__iter__())
        if overlay:
            keys += [k for k in overlay if k not in keys]
        return iter(keys)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, key: object) -> bool:
        overlay = self._overlay()
        return (overlay is not None and key in overlay) or super().__contains__(key)

    def copy(self) -> dict[str, str]:
        return dict(self)


def install() -> None:
    if not isinstance(os.environ, OverlayEnviron):
        os.environ = OverlayEnviron(os.environ)  # noqa: B003 - replacing the mapping is the point


def set_thread_variables(variables: dict[str, str]) -> None:
    """Called on an environment thread when it starts: its function's variables."""
    _local.overlay = dict(variables)
