"""Demo scenarios, one module per pattern, each a `Scenario` the panel and `python -m localcloud.demo` run.

A scenario sets up its services and real handlers on the cloud it is given, sends some traffic,
waits for everything to settle and returns the trace. Knobs are its keyword arguments; their
ranges are what the panel's sliders allow. Add a pattern by adding a module with a ``SCENARIO``
and its name to `_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcloud.trace import Trace

_MODULES = ("fan_out", "async_queue", "api_backend", "event_driven", "saga", "microservices", "cqrs",
            "stream_processing", "best_practices", "image_service")


@dataclass(frozen=True)
class Knob:
    """One thing a presenter can turn. Its type is its default's type (int, float or bool)."""

    name: str
    label: str
    default: int | float | bool
    min: int | float | None = None
    max: int | float | None = None
    step: int | float | None = None
    help: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str  # as typed on the command line: "fan-out"
    title: str
    description: str
    knobs: tuple[Knob, ...]
    run: Callable[..., Trace] = field(repr=False)  # run(cloud, **knobs) -> Trace
    lesson: str = ""  # the notebook it belongs to, e.g. "notebooks/07-fan-out.ipynb"

    def defaults(self) -> dict[str, Any]:
        return {k.name: k.default for k in self.knobs}

    def values(self, **overrides: Any) -> dict[str, Any]:
        """Defaults with `overrides` applied, each typed and clamped like the panel's sliders."""
        from localcloud.pictures.panel import coerce

        unknown = set(overrides) - {k.name for k in self.knobs}
        if unknown:
            known = ", ".join(k.name for k in self.knobs)
            raise KeyError(f"{self.name} has no knob {', '.join(sorted(unknown))} (knobs: {known})")
        values = self.defaults()
        for k in self.knobs:
            if k.name in overrides:
                values[k.name] = coerce(k, overrides[k.name])
        return values


def _load() -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for module in _MODULES:
        scenario = importlib.import_module(f"{__name__}.{module}").SCENARIO
        found[scenario.name] = scenario
    return found


SCENARIOS: dict[str, Scenario] = _load()


def names() -> list[str]:
    return sorted(SCENARIOS)


def get(name: str) -> Scenario:
    """The scenario called `name` ("fan-out"; "fan_out" works too). KeyError lists the known ones."""
    key = name.strip().lower().replace("_", "-")
    if key not in SCENARIOS:
        raise KeyError(f"unknown pattern {name!r}; known patterns: {', '.join(names())}")
    return SCENARIOS[key]
