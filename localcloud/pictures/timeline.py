"""The timeline: one lane per execution environment, so parallelism, cold starts and retries show.

Each invocation is a bar on the lane of the environment that ran it: a hatched sky-blue piece for
the cold start's init (module import) and a solid piece for the handler, coloured by outcome.
Retried attempts carry their attempt number, throttles are marked with an x, and the moment one
event fanned out to several targets is a vertical line — bars starting together right after it are
the fan-out running in parallel. The x axis is milliseconds from the trace's first record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from localcloud.pictures import _facts, style
from localcloud.trace import CALL, DEAD_LETTER, DELIVER, INVOKE, RETRY, THROTTLE, Trace

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


VISIBLE_INIT_MS = 0.5  # shorter inits (a handler defined in a cell imports nothing) get no hatched bar


@dataclass
class Bar:
    lane: int
    function: str
    environment: str
    start_ms: float  # environment took the event
    init_ms: float  # cold-start init drawn hatched before the handler, 0 when warm
    handler_start_ms: float
    end_ms: float
    outcome: str
    cold: bool
    attempt: int
    batch_size: int
    seq: int

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.handler_start_ms


@dataclass
class Mark:
    kind: str  # "throttle" | "retry" | "dead-letter"
    lane: int  # the lane it is drawn on (-1: the function has no lane)
    function: str
    at_ms: float
    attempt: int = 1


@dataclass
class FanOut:
    source: str  # the node that fanned out, e.g. "topic:new-user"
    at_ms: float
    targets: list[str]


@dataclass
class TimelineData:
    lanes: list[str]  # labels, top to bottom, e.g. "SendWelcomeEmail · env 1"
    lane_keys: list[tuple[str, str]]  # (function, environment) per lane
    bars: list[Bar]
    marks: list[Mark]
    fan_outs: list[FanOut]
    origin: float  # cloud-clock seconds of x = 0
    span_ms: float
    max_concurrency: int  # most handlers (incl. init) running at one moment

    def lanes_of(self, function: str) -> list[str]:
        return [label for label, (fn, _) in zip(self.lanes, self.lane_keys, strict=True) if fn == function]

    def bars_of(self, function: str) -> list[Bar]:
        return [b for b in self.bars if b.function == function]

    @property
    def cold_starts(self) -> int:
        return sum(1 for b in self.bars if b.cold)


@dataclass
class Timeline:
    """What `timeline` returns: the figure and the data it drew."""

    figure: Figure
    data: TimelineData

    def _repr_png_(self) -> bytes:
        return style.png_bytes(self.figure)

    def __repr__(self) -> str:
        d = self.data
        return (f"<Timeline: {len(d.lanes)} lanes, {len(d.bars)} runs, {d.cold_starts} cold starts, "
                f"{len(d.fan_outs)} fan-outs>")

    def save(self, path) -> None:
        style.save(self.figure, path)


def timeline_data(trace: Trace) -> TimelineData:
    """Lanes, bars, marks and fan-out moments from a trace; no drawing."""
    records = sorted(trace.records, key=lambda r: (r.start, r.seq))
    t0 = _facts.origin(records)

    def ms(t: float) -> float:
        return (t - t0) * 1000.0

    invokes = [r for r in records if r.kind == INVOKE]
    lane_keys: list[tuple[str, str]] = []
    for r in invokes:
        key = (_facts.function_of(r), r.environment or "")
        if key not in lane_keys:
            lane_keys.append(key)
    # lanes grouped by function (in order of first appearance), then by environment
    first_fn = {}
    for fn, _ in lane_keys:
        first_fn.setdefault(fn, len(first_fn))
    lane_keys.sort(key=lambda k: (first_fn[k[0]], _env_order(k[1])))

    bars: list[Bar] = []
    for r in invokes:
        lane = lane_keys.index((_facts.function_of(r), r.environment or ""))
        start, handler_start, end = _facts.invoke_phases(r)
        bars.append(Bar(lane=lane, function=_facts.function_of(r), environment=r.environment or "",
                        start_ms=ms(start), init_ms=(handler_start - start) * 1000.0,
                        handler_start_ms=ms(handler_start), end_ms=ms(end), outcome=r.outcome,
                        cold=r.cold, attempt=r.attempt, batch_size=r.batch_size, seq=r.seq))

    marks: list[Mark] = []
    for r in records:
        if r.kind not in (THROTTLE, RETRY, DEAD_LETTER):
            continue
        fn = _facts.function_of(r) if r.kind != DEAD_LETTER else (r.function or _node_function(r.source))
        lanes = [i for i, (f, _) in enumerate(lane_keys) if f == fn]
        if not lanes and fn:  # a function that was only ever throttled still gets a lane
            lane_keys.append((fn, ""))
            lanes = [len(lane_keys) - 1]
        marks.append(Mark(kind=r.kind, lane=lanes[0] if lanes else -1, function=fn or "",
                          at_ms=ms(r.start), attempt=r.attempt))

    labels = [_lane_label(fn, env, lane_keys) for fn, env in lane_keys]
    ends = [b.end_ms for b in bars] + [m.at_ms for m in marks]
    return TimelineData(lanes=labels, lane_keys=lane_keys, bars=bars, marks=marks,
                        fan_outs=_fan_outs(records, ms), origin=t0, span_ms=max(ends, default=0.0),
                        max_concurrency=_max_overlap(bars))


def _node_function(node: str) -> str:
    return node.split(":", 1)[1] if node.startswith("function:") else ""


def _env_order(env: str) -> tuple[int, str]:
    tail = env.rsplit("/", 1)[-1]
    return (int(tail), env) if tail.isdigit() else (10**9, env)


def _lane_label(fn: str, env: str, keys: list[tuple[str, str]]) -> str:
    if not env:
        return fn
    tail = env.rsplit("/", 1)[-1]
    return f"{fn} · env {tail}" if tail.isdigit() else f"{fn} · {env}"


def _fan_outs(records, ms) -> list[FanOut]:
    """Moments where one event entered a node that then handed it to two or more targets.

    A node fans out when its first-attempt invocations and deliveries reach several distinct
    targets. Each event arriving at such a node (a publish call or a delivery into it) is one
    fan-out moment; a node with no recorded arrival gets one moment, at its first hand-off.
    """
    targets: dict[str, list[str]] = {}
    first_out: dict[str, float] = {}
    # an orchestrator (state machine) or an API routing requests calls one target after another:
    # that is sequence, not fan-out
    not_fan_out = ("client", "statemachine:", "api:")
    for r in records:
        if r.kind in (INVOKE, DELIVER) and r.attempt == 1 and r.source and not r.source.startswith(not_fan_out):
            targets.setdefault(r.source, [])
            if r.target not in targets[r.source]:
                targets[r.source].append(r.target)
            first_out.setdefault(r.source, r.start)
    found: list[FanOut] = []
    for node, outs in targets.items():
        if len(outs) < 2:
            continue
        arrivals = [r.start for r in records if r.kind in (CALL, DELIVER) and r.target == node]
        for t in arrivals or [first_out[node]]:
            found.append(FanOut(source=node, at_ms=ms(t), targets=list(outs)))
    return sorted(found, key=lambda f: f.at_ms)


def _max_overlap(bars: list[Bar]) -> int:
    points = sorted([(b.start_ms, 1) for b in bars] + [(b.end_ms, -1) for b in bars])
    best = running = 0
    for _, step in points:  # ends sort before starts at the same instant: touching is not overlap
        running += step
        best = max(best, running)
    return best


def timeline(trace: Trace, *, title: str | None = None, max_fan_out_lines: int = 12) -> Timeline:
    """Draw one lane per execution environment; returns the figure and the `TimelineData` drawn."""
    data = timeline_data(trace)
    n = max(len(data.lanes), 1)
    fig = style.new_figure(10.0, min(9.0, max(2.6, 0.55 * n + 1.8)))
    ax = fig.add_subplot()
    style.apply_fonts(ax)
    ax.set_title(title or f"Timeline — up to {data.max_concurrency} running at once", loc="left",
                 fontsize=style.FONT_TITLE)
    ax.set_xlabel("ms from first event")
    if not data.lanes:
        ax.text(0.5, 0.5, "no invocations in this trace", ha="center", va="center",
                fontsize=style.FONT, transform=ax.transAxes)
        ax.set_yticks([])
        return Timeline(fig, data)

    height = 0.6
    for b in data.bars:
        y = b.lane
        if b.cold:  # a new environment: a thick sky-blue edge, even when its init took no time
            ax.plot([b.start_ms, b.start_ms], [y - height / 2, y + height / 2], color=style.INIT_COLOUR,
                    lw=6, solid_capstyle="butt", zorder=4)
        if b.init_ms >= VISIBLE_INIT_MS:
            ax.barh(y, b.init_ms, left=b.start_ms, height=height, color=style.INIT_COLOUR,
                    hatch=style.INIT_HATCH, edgecolor="black", linewidth=0.8)
        width = max(b.end_ms - b.handler_start_ms, data.span_ms * 0.002)  # a 0 ms run stays visible
        ax.barh(y, width, left=b.handler_start_ms, height=height,
                color=style.OUTCOME_COLOURS.get(b.outcome, style.OKABE_ITO["grey"]),
                edgecolor="black", linewidth=0.8)
        if b.attempt > 1:
            ax.text(b.end_ms, y - height / 2 - 0.02, f" #{b.attempt}", va="top", ha="left",
                    fontsize=style.FONT_MIN)
        if b.batch_size > 1:
            ax.text((b.handler_start_ms + b.end_ms) / 2, y, str(b.batch_size), ha="center",
                    va="center", fontsize=style.FONT_MIN, color="white", fontweight="bold")
    marker = {THROTTLE: ("x", style.OKABE_ITO["black"]), RETRY: ("o", style.OKABE_ITO["orange"]),
              DEAD_LETTER: ("v", style.DLQ_COLOUR)}
    for m in data.marks:
        shape, colour = marker[m.kind]
        y = m.lane + (0.4 if m.kind != THROTTLE else 0.0)
        if shape == "o":  # open circle: the retry is scheduled, not run yet
            ax.scatter([m.at_ms], [y], marker=shape, s=110, facecolors="none", edgecolors=colour,
                       linewidths=2.2, zorder=5)
        else:
            ax.scatter([m.at_ms], [y], marker=shape, s=110, c=colour, linewidths=2.2, zorder=5)
    for i, f in enumerate(data.fan_outs[:max_fan_out_lines]):
        ax.axvline(f.at_ms, color=style.FANOUT_COLOUR, linestyle=":", linewidth=2, zorder=0)
        if i == 0:
            ax.text(f.at_ms, -0.6, f" fan-out: {style.node_name(f.source)} → {len(f.targets)}",
                    color=style.FANOUT_COLOUR, fontsize=style.FONT_MIN, va="bottom", ha="left")
    ax.set_yticks(range(len(data.lanes)), data.lanes, fontsize=style.FONT)
    ax.set_ylim(len(data.lanes) - 0.4, -0.9)  # first lane on top, room for the fan-out label
    ax.set_xlim(-max(data.span_ms, 1.0) * 0.015, max(data.span_ms * 1.08, 1.0))
    ax.grid(axis="x", alpha=0.3)
    _legend(ax, data)
    return Timeline(fig, data)


def _legend(ax, data: TimelineData) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    if any(b.cold for b in data.bars):
        handles.append(Line2D([], [], marker="|", color=style.INIT_COLOUR, ls="none", markersize=16, mew=6,
                              label="cold start"))
    if any(b.init_ms >= VISIBLE_INIT_MS for b in data.bars):
        handles.append(Patch(facecolor=style.INIT_COLOUR, hatch=style.INIT_HATCH, edgecolor="black",
                             label="init (module import)"))
    for outcome in dict.fromkeys(b.outcome for b in data.bars):
        handles.append(Patch(color=style.OUTCOME_COLOURS.get(outcome, style.OKABE_ITO["grey"]),
                             label=f"handler: {outcome}"))
    kinds = {m.kind for m in data.marks}
    if THROTTLE in kinds:
        handles.append(Line2D([], [], marker="x", color="black", ls="none", markersize=10, mew=2,
                              label="throttled"))
    if RETRY in kinds:
        handles.append(Line2D([], [], marker="o", color=style.OKABE_ITO["orange"], mfc="none", ls="none",
                              markersize=10, mew=2, label="retry scheduled"))
    if DEAD_LETTER in kinds:
        handles.append(Line2D([], [], marker="v", color=style.DLQ_COLOUR, ls="none", markersize=10,
                              label="dead-lettered"))
    if data.fan_outs:
        handles.append(Line2D([], [], color=style.FANOUT_COLOUR, ls=":", lw=2, label="fan-out"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=style.FONT_MIN,
              frameon=False)
