"""The live demo panel: turn a scenario's knobs, press Run or Step, watch flow and timeline redraw.

The logic is `PanelController`, plain Python that a test drives without a browser or widgets: it
keeps the knob values, runs the scenario on a fresh cloud, and returns a `Frame` (the trace and its
pictures). `DemoPanel` only wires ipywidgets to it. A scenario is anything with `name`, `title`,
`knobs` (each with `name`, `label`, `default`, `min`, `max`, `step`) and `run(cloud, **knobs) ->
Trace` — `localcloud.demo.scenarios` holds the course's.

Run draws the whole run. Step replays the last run one handler at a time (each step adds the next
invocation, throttle or dead-letter and the calls that led to it), so a presenter can talk through a
fan-out or a retry storm. Reset wipes the cloud and the pictures and puts the knobs back.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from localcloud.trace import DEAD_LETTER, DROP, INVOKE, THROTTLE, Record, Trace

STEP_KINDS = (INVOKE, THROTTLE, DEAD_LETTER, DROP)  # what one Step reveals, with what led to it


class KnobSpec(Protocol):
    name: str
    label: str
    default: Any
    min: Any
    max: Any
    step: Any


class ScenarioSpec(Protocol):
    name: str
    title: str
    knobs: Sequence[KnobSpec]

    def run(self, cloud: Any, **knobs: Any) -> Trace: ...


@dataclass
class Frame:
    """One redraw: the (part of the) trace shown, its pictures, and what to say about it."""

    trace: Trace
    overview: Any  # localcloud.pictures.Overview
    caption: str
    run_s: float  # scenario run time
    draw_s: float  # drawing time
    step: int = 0  # records revealed so far when stepping, 0 for a full run
    steps: int = 0

    @property
    def total_s(self) -> float:
        return self.run_s + self.draw_s


def coerce(knob: KnobSpec, value: Any) -> Any:
    """A knob value of the knob's own type, clamped to its range (a typo in a cell cannot go wild)."""
    if isinstance(knob.default, bool):
        return bool(value)
    cast = int if isinstance(knob.default, int) else float
    value = cast(value)
    if knob.min is not None:
        value = max(value, cast(knob.min))
    if knob.max is not None:
        value = min(value, cast(knob.max))
    return value


def step_points(records: Sequence[Record]) -> list[int]:
    """Prefix lengths at which Step stops: just after each invocation / throttle / DLQ / drop."""
    return [i + 1 for i, r in enumerate(records) if r.kind in STEP_KINDS] or ([len(records)] if records else [])


class PanelController:
    """Knob values, runs and step-through for one scenario; no widgets (tested without a browser)."""

    def __init__(self, scenario: ScenarioSpec, *, cloud: Any = None,
                 cloud_factory: Callable[[], Any] | None = None) -> None:
        self.scenario = scenario
        self.values: dict[str, Any] = {k.name: k.default for k in scenario.knobs}
        self._cloud = cloud
        self._factory = cloud_factory
        self._subscribed: Trace | None = None
        self._progress: Callable[[int], None] | None = None
        self._count = 0
        self._lock = threading.Lock()
        self.records: list[Record] = []  # the last run, in time order
        self.cursor = 0  # how many of them Step has revealed
        self.last_count = 0  # records in the previous run: the progress bar's scale

    # -- knobs -----------------------------------------------------------------------------------
    def knob(self, name: str) -> KnobSpec:
        for k in self.scenario.knobs:
            if k.name == name:
                return k
        known = ", ".join(k.name for k in self.scenario.knobs)
        raise KeyError(f"{self.scenario.name} has no knob {name!r} (knobs: {known})")

    def set(self, name: str, value: Any) -> Any:
        """Set one knob; returns the value actually used (typed and clamped)."""
        self.values[name] = coerce(self.knob(name), value)
        return self.values[name]

    # -- the cloud -------------------------------------------------------------------------------
    @property
    def cloud(self) -> Any:
        if self._cloud is None:
            if self._factory is not None:
                self._cloud = self._factory()
            else:
                from localcloud import Cloud  # the panel's own cloud, made on first Run

                self._cloud = Cloud()
        return self._cloud

    def _listen(self, record: Record) -> None:
        with self._lock:
            self._count += 1
            count, progress = self._count, self._progress
        if progress is not None:
            progress(count)

    # -- actions ---------------------------------------------------------------------------------
    def _run_scenario(self, progress: Callable[[int], None] | None) -> tuple[list[Record], float]:
        cloud = self.cloud
        cloud.reset()
        if cloud.trace is not self._subscribed:  # Trace has no unsubscribe: subscribe once per trace
            cloud.trace.subscribe(self._listen)
            self._subscribed = cloud.trace
        with self._lock:
            self._count, self._progress = 0, progress
        started = time.perf_counter()
        try:
            trace = self.scenario.run(cloud, **self.values)
        finally:
            with self._lock:
                self._progress = None
        elapsed = time.perf_counter() - started
        self.records = sorted(trace.records, key=lambda r: (r.start, r.seq))
        self.last_count = len(self.records)
        return self.records, elapsed

    def run(self, progress: Callable[[int], None] | None = None) -> Frame:
        """Run the scenario with the current knobs on a reset cloud and draw the whole trace."""
        records, run_s = self._run_scenario(progress)
        self.cursor = len(records)
        return self._frame(records, run_s, caption=self._caption(records, run_s))

    def step(self, progress: Callable[[int], None] | None = None) -> Frame:
        """Reveal the next handler run of the last run (running the scenario first if needed)."""
        run_s = 0.0
        points = step_points(self.records)
        if not self.records or self.cursor >= len(self.records):
            _, run_s = self._run_scenario(progress)
            self.cursor = 0
            points = step_points(self.records)
        nxt = next((p for p in points if p > self.cursor), len(self.records))
        self.cursor = nxt
        shown = self.records[: self.cursor]
        done = sum(1 for p in points if p <= self.cursor)
        last = shown[-1] if shown else None
        what = f"{last.source} → {last.target}: {last.kind}" if last else "nothing happened"
        if last is not None and last.kind == INVOKE:
            what += f" {last.outcome}" + (f" (attempt {last.attempt})" if last.attempt > 1 else "")
        frame = self._frame(shown, run_s, caption=f"step {done}/{len(points)}: {what}")
        frame.step, frame.steps = done, len(points)
        return frame

    def reset(self) -> None:
        """Wipe the cloud's state and the last run; knobs back to the scenario's defaults."""
        if self._cloud is not None:
            self._cloud.reset()
        self.records, self.cursor = [], 0
        self.values = {k.name: k.default for k in self.scenario.knobs}

    def _frame(self, records: list[Record], run_s: float, caption: str) -> Frame:
        from localcloud.pictures import overview

        started = time.perf_counter()
        trace = Trace(records)
        pictures = overview(trace, title=self.scenario.title)
        pictures._repr_html_()  # render the PNGs now, so draw_s is the whole cost of a redraw
        draw_s = time.perf_counter() - started
        return Frame(trace=trace, overview=pictures, caption=caption, run_s=run_s, draw_s=draw_s)

    def _caption(self, records: list[Record], run_s: float) -> str:
        knobs = ", ".join(f"{k}={v}" for k, v in self.values.items())
        n = sum(1 for r in records if r.kind == INVOKE)
        return f"{self.scenario.title}: {n} invocations, {len(records)} records in {run_s:.2f} s ({knobs})"


class DemoPanel:
    """ipywidgets front of `PanelController`: knobs, Run / Step / Reset, progress bar, pictures.

    ``DemoPanel("fan-out")`` or ``DemoPanel(scenario)``; the last expression of a cell shows it.
    Pass ``cloud=`` to use an existing cloud — Run resets it, like a fresh lesson.
    """

    def __init__(self, scenario: ScenarioSpec | str, *, cloud: Any = None,
                 cloud_factory: Callable[[], Any] | None = None) -> None:
        import ipywidgets as w

        if isinstance(scenario, str):
            from localcloud.demo.scenarios import get

            scenario = get(scenario)
        self.controller = PanelController(scenario, cloud=cloud, cloud_factory=cloud_factory)
        self.knobs: dict[str, Any] = {k.name: _knob_widget(w, k) for k in scenario.knobs}
        for name, widget in self.knobs.items():
            widget.observe(lambda change, name=name: self.controller.set(name, change["new"]), names="value")
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.step_button = w.Button(description="Step", icon="step-forward")
        self.reset_button = w.Button(description="Reset", icon="undo")
        self.run_button.on_click(lambda _: self.press("run"))
        self.step_button.on_click(lambda _: self.press("step"))
        self.reset_button.on_click(lambda _: self.press("reset"))
        self.progress = w.IntProgress(value=0, min=0, max=100, description="events",
                                      layout=w.Layout(visibility="hidden"))
        self.status = w.HTML(value=f"<b>{scenario.title}</b>: set the knobs and press Run.")
        self.output = w.Output()
        self.widget = w.VBox([
            w.HTML(f"<h3 style='margin:0'>{scenario.title}</h3>"),
            w.HBox(list(self.knobs.values()), layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.run_button, self.step_button, self.reset_button, self.progress]),
            self.status,
            self.output,
        ])
        self.widget.add_class("localcloud-demo-panel")
        self.last: Frame | None = None

    def _repr_mimebundle_(self, **kwargs):  # pragma: no cover - shown by the notebook
        return self.widget._repr_mimebundle_(**kwargs)

    def _show_progress(self, count: int) -> None:
        self.progress.value = min(count, self.progress.max)

    def press(self, action: str) -> Frame | None:
        """What a button does; callable from a cell or a test (``panel.press("run")``).

        Pictures go into the Output widget with `append_display_data` rather than a ``with output:``
        block: that works from a button callback, from a cell and from a test with no kernel alike.
        """
        buttons = (self.run_button, self.step_button, self.reset_button)
        for b in buttons:
            b.disabled = True
        try:
            if action == "reset":
                self.controller.reset()
                for name, widget in self.knobs.items():
                    widget.value = self.controller.values[name]
                self.output.outputs = ()
                self.status.value = "Reset: cloud wiped, knobs back to their defaults."
                self.last = None
                return None
            if action not in ("run", "step"):
                raise ValueError(f"unknown action {action!r}: run, step or reset")
            self.progress.max = max(self.controller.last_count, 20)
            self.progress.value = 0
            self.progress.layout.visibility = "visible"
            self.status.value = "running…"
            frame = getattr(self.controller, action)(progress=self._show_progress)
            self.output.outputs = ()
            self.output.append_display_data(frame.overview)
            self.status.value = html.escape(f"{frame.caption} — drawn in {frame.draw_s:.2f} s")
            self.last = frame
            return frame
        except Exception as exc:  # a broken handler is a lesson, not a dead panel
            self.output.outputs = ()
            self.output.append_stdout(f"{type(exc).__name__}: {exc}\n")
            self.status.value = f"<span style='color:#D55E00'>failed: {html.escape(type(exc).__name__)}</span>"
            self.last = None
            return None
        finally:
            self.progress.layout.visibility = "hidden"
            for b in buttons:
                b.disabled = False


def _knob_widget(w, knob: KnobSpec):
    style = {"description_width": "initial"}
    layout = w.Layout(width="320px")
    if isinstance(knob.default, bool):
        return w.Checkbox(value=knob.default, description=knob.label, style=style)
    if isinstance(knob.default, int):
        return w.IntSlider(value=knob.default, min=knob.min, max=knob.max, step=knob.step or 1,
                           description=knob.label, style=style, layout=layout, continuous_update=False)
    return w.FloatSlider(value=knob.default, min=knob.min, max=knob.max, step=knob.step or 0.05,
                         description=knob.label, style=style, layout=layout, continuous_update=False)
