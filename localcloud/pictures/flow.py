"""The flow graph: which service handed events to which, how many, and where they failed.

Nodes are the trace's ``"kind:name"`` nodes, drawn one shape and colour per kind. Edges count what
crossed them (deliveries, API calls, invocations) and what went wrong (failed invocations, retries,
throttles, dead-letters, drops). Failure edges are drawn dashed in vermillion and dead-letter paths
thick in purple, so a retry storm or a DLQ filling up stands out from across the room.

The layout is a small layered one (no graphviz, no networkx): a node's column is its longest
distance from a node nothing points at, and nodes in a column are ordered by where their
predecessors sit, which keeps fan-out drawings free of crossings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from localcloud.pictures import style
from localcloud.trace import CALL, DEAD_LETTER, DELIVER, DROP, ERROR, INVOKE, RETRY, THROTTLE, TIMEOUT, Trace

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@dataclass
class FlowNode:
    name: str  # "queue:orders-dlq"
    kind: str  # "queue"
    label: str  # "orders-dlq"
    depth: int  # column, 0 = where events enter
    x: float
    y: float
    dlq: bool = False  # something was dead-lettered into it
    dropped: int = 0  # events given up on at this node with nowhere to go


@dataclass
class FlowEdge:
    source: str
    target: str
    deliveries: int = 0  # DELIVER records, API calls and invocations (every attempt)
    calls: int = 0  # of which API calls
    invocations: int = 0  # of which invocations
    failures: int = 0  # invocations that ended in error or timeout
    retries: int = 0
    throttles: int = 0
    dead_letters: int = 0
    drops: int = 0
    operations: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.throttles or self.drops)

    @property
    def dlq_path(self) -> bool:
        return self.dead_letters > 0

    def label(self) -> str:
        """The text drawn on the edge, e.g. ``"4 ok · 2 failed · 2 retries"``."""
        parts: list[str] = []
        if self.dead_letters:
            parts.append(f"{self.dead_letters} dead-lettered")
        ok = self.deliveries - self.failures
        if ok:
            parts.append(f"{ok}" if not self.failures else f"{ok} ok")
        if self.failures:
            parts.append(f"{self.failures} failed")
        if self.retries:
            parts.append(f"{self.retries} retr{'y' if self.retries == 1 else 'ies'}")
        if self.throttles:
            parts.append(f"{self.throttles} throttled")
        if self.drops:
            parts.append(f"{self.drops} dropped")
        if len(parts) > 2:  # long labels on two lines so they stay clear of neighbouring nodes
            return " · ".join(parts[:2]) + "\n" + " · ".join(parts[2:])
        return " · ".join(parts)


@dataclass
class FlowData:
    nodes: list[FlowNode]
    edges: list[FlowEdge]

    def node(self, name: str) -> FlowNode:
        for n in self.nodes:
            if n.name == name or n.label == name:
                return n
        raise KeyError(name)

    def edge(self, source: str, target: str) -> FlowEdge:
        for e in self.edges:
            if (e.source, e.target) == (source, target) or (
                style.node_name(e.source),
                style.node_name(e.target),
            ) == (source, target):
                return e
        raise KeyError((source, target))

    @property
    def failure_edges(self) -> list[FlowEdge]:
        return [e for e in self.edges if e.failed]

    @property
    def dlq_edges(self) -> list[FlowEdge]:
        return [e for e in self.edges if e.dlq_path]


@dataclass
class FlowGraph:
    """What `flow_graph` returns: the figure and the data it drew."""

    figure: Figure
    data: FlowData

    def _repr_png_(self) -> bytes:
        return style.png_bytes(self.figure)

    def __repr__(self) -> str:
        # counts only (no timings): a notebook's stored text output stays the same run to run
        d = self.data
        return (f"<FlowGraph: {len(d.nodes)} nodes, {len(d.edges)} edges, {len(d.failure_edges)} failing, "
                f"{len(d.dlq_edges)} to a DLQ>")

    def save(self, path) -> None:
        style.save(self.figure, path)


def flow_data(trace: Trace) -> FlowData:
    """Nodes, edges and counts from a trace, laid out in columns; no drawing."""
    edges: dict[tuple[str, str], FlowEdge] = {}
    order: dict[str, int] = {}  # node -> first appearance, for stable layouts
    dropped: dict[str, int] = {}
    dlq_nodes: set[str] = set()

    def see(node: str) -> None:
        if node and node not in order:
            order[node] = len(order)

    def edge(source: str, target: str) -> FlowEdge:
        see(source)
        see(target)
        return edges.setdefault((source, target), FlowEdge(source, target))

    for r in sorted(trace.records, key=lambda r: (r.start, r.seq)):
        if r.kind == DROP:
            if r.target and r.target != r.source:
                edge(r.source, r.target).drops += 1
            else:
                see(r.source)
                dropped[r.source] = dropped.get(r.source, 0) + 1
            continue
        if r.kind == DEAD_LETTER:
            target = r.destination or r.target
            e = edge(r.source, target)
            e.dead_letters += 1
            dlq_nodes.add(target)
            continue
        if not r.source or not r.target:
            continue
        e = edge(r.source, r.target)
        if r.kind == INVOKE:
            e.deliveries += 1
            e.invocations += 1
            if r.outcome in (ERROR, TIMEOUT):
                e.failures += 1
        elif r.kind == CALL and r.outcome == ERROR:
            e.failures += 1  # a call that failed (no such topic, throttled, …) delivered nothing
            e.calls += 1
        elif r.kind in (CALL, DELIVER):
            # an Invoke call is the same hop its invoke record already counts: count it once
            if not (r.kind == CALL and r.target.startswith("function:")):
                e.deliveries += 1
            if r.kind == CALL:
                e.calls += 1
            if r.operation and r.operation not in e.operations:
                e.operations.append(r.operation)
        elif r.kind == RETRY:
            e.retries += 1
        elif r.kind == THROTTLE:
            e.throttles += 1

    # A runtime that marks retried invocations only by `attempt` still shows its retries.
    for e in edges.values():
        again = sum(
            1
            for r in trace.records
            if r.kind == INVOKE and r.attempt > 1 and (r.source, r.target) == (e.source, e.target)
        )
        e.retries = max(e.retries, again)

    names = sorted(order, key=lambda n: (n in dlq_nodes, order[n]))  # DLQs last in their column
    depth = _depths(names, list(edges))
    positions = _positions(names, depth, list(edges))
    nodes = [
        FlowNode(
            name=n,
            kind=style.node_kind(n),
            label=style.node_name(n),
            depth=depth[n],
            x=positions[n][0],
            y=positions[n][1],
            dlq=n in dlq_nodes,
            dropped=dropped.get(n, 0),
        )
        for n in names
    ]
    return FlowData(nodes=nodes, edges=list(edges.values()))


def _back_edges(names: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges that close a cycle (a thumbnail written back into its bucket), found by depth-first search
    from the roots in first-seen order; leaving them out of the layering keeps the flow left to right."""
    out: dict[str, list[str]] = {n: [] for n in names}
    for s, t in edges:
        out[s].append(t)
    incoming = {t for s, t in edges if s != t}
    starts = [n for n in names if n not in incoming] + names
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    back: set[tuple[str, str]] = set()
    for start in starts:
        if start in state:
            continue
        stack = [(start, iter(out[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return back


def _depths(names: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest distance from a root over the flow without its cycle-closing edges."""
    back = _back_edges(names, edges)
    forward = [(s, t) for s, t in edges if s != t and (s, t) not in back]
    depth = {n: 0 for n in names}
    for _ in range(len(names)):
        changed = False
        for s, t in forward:
            if depth[s] + 1 > depth[t]:
                depth[t] = depth[s] + 1
                changed = True
        if not changed:
            break
    return depth


def _positions(
    names: list[str], depth: dict[str, int], edges: list[tuple[str, str]]
) -> dict[str, tuple[float, float]]:
    """x = column; y spread evenly in each column, ordered by the mean y of each node's predecessors."""
    columns: dict[int, list[str]] = {}
    for n in names:
        columns.setdefault(depth[n], []).append(n)
    preds: dict[str, list[str]] = {n: [] for n in names}
    for s, t in edges:
        if s != t:
            preds[t].append(s)
    pos: dict[str, tuple[float, float]] = {}
    for d in sorted(columns):
        column = columns[d]
        if d > 0:
            def key(n: str, column=column) -> tuple[float, int]:
                ys = [pos[p][1] for p in preds[n] if p in pos]
                # predecessors higher up (larger y) come first, then first seen; DLQs sort last
                return (-(sum(ys) / len(ys)) if ys else 0.0, names.index(n))

            column.sort(key=key)
        k = len(column)
        for i, n in enumerate(column):
            # top to bottom, centred on the tallest column
            pos[n] = (float(d), (k - 1) / 2.0 - i)
    return pos


def flow_graph(trace: Trace, *, title: str | None = None) -> FlowGraph:
    """Draw the trace's event flow left to right; returns the figure and the `FlowData` drawn."""
    data = flow_data(trace)
    columns = max((n.depth for n in data.nodes), default=0) + 1
    rows = max([sum(1 for n in data.nodes if n.depth == d) for d in range(columns)] or [1])
    # at most 10 × 6.5 in (1000 px): a notebook shows it near full size, so fonts stay projector-size
    fig = style.new_figure(min(10.0, max(6.0, 2.2 * columns + 2.2)), min(6.5, max(3.0, 0.95 * rows + 1.6)))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title or "Event flow", fontsize=style.FONT_TITLE, loc="left")
    if not data.nodes:
        ax.text(0.5, 0.5, "no events in this trace", ha="center", va="center", fontsize=style.FONT,
                transform=ax.transAxes)
        return FlowGraph(fig, data)

    where = {n.name: (n.x, n.y) for n in data.nodes}
    _draw_edges(ax, data, where)
    _draw_nodes(ax, data)
    xs = [n.x for n in data.nodes]
    ys = [n.y for n in data.nodes]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.6)
    _legend(ax, data)
    return FlowGraph(fig, data)


def _draw_edges(ax, data: FlowData, where: dict[str, tuple[float, float]]) -> None:
    from matplotlib.patches import FancyArrowPatch

    for e in data.edges:
        (x0, y0), (x1, y1) = where[e.source], where[e.target]
        if e.dlq_path:
            colour, width, line = style.DLQ_COLOUR, 3.0, "-"
        elif e.failed:
            colour, width, line = style.FAILURE_COLOUR, 2.5, "--"
        else:
            colour, width, line = style.EDGE_COLOUR, 1.6, "-"
        if e.source == e.target:
            rad = 0.0
        else:
            rad = 0.15 if x1 <= x0 else 0.0  # backward edges curve so they do not hide forward ones
        arrow = FancyArrowPatch(
            (x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=18, color=colour, lw=width,
            linestyle=line, shrinkA=16, shrinkB=16, connectionstyle=f"arc3,rad={rad}", zorder=1,
        )
        ax.add_patch(arrow)
        text = e.label()
        if text:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, text, ha="center", va="bottom",
                    fontsize=style.FONT_MIN, color=colour if colour != style.EDGE_COLOUR else "black",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                    zorder=3)


def _short_labels(data: FlowData) -> dict[str, str]:
    """Function names without the prefix they all share (`image-processor-dev-`): readable, still unique."""
    import os

    functions = [n.label for n in data.nodes if n.kind == "function"]
    prefix = os.path.commonprefix(functions) if len(functions) > 1 else ""
    prefix = prefix[: prefix.rfind("-") + 1] if "-" in prefix else ""
    return {n.name: n.label[len(prefix):] if n.kind == "function" and prefix else n.label for n in data.nodes}


def _wrap(label: str, width: int = 16) -> str:
    """Break a long name at its hyphens so neighbouring labels do not run into each other."""
    if len(label) <= width or "-" not in label:
        return label
    lines, line = [], ""
    for part in label.split("-"):
        piece = part if not line else f"{line}-{part}"
        if line and len(piece) > width:
            lines.append(line + "-")
            line = part
        else:
            line = piece
    return "\n".join([*lines, line])


def _draw_nodes(ax, data: FlowData) -> None:
    labels = _short_labels(data)
    for n in data.nodes:
        marker, colour, _ = style.node_style(n.kind)
        if n.dlq:
            ax.scatter([n.x], [n.y], s=900, marker=style.DLQ_MARKER, facecolor="white",
                       edgecolor=style.DLQ_COLOUR, linewidth=3, zorder=2)
        ax.scatter([n.x], [n.y], s=420, marker=marker, color=colour, edgecolor="black", linewidth=1,
                   zorder=4)
        label = _wrap(labels[n.name]) + (" (DLQ)" if n.dlq else "")
        if n.dropped:
            label += f"\n{n.dropped} dropped"
        ax.text(n.x, n.y - 0.3, label, ha="center", va="top", fontsize=style.FONT,
                color=style.DLQ_COLOUR if n.dlq else "black", zorder=5)


def _legend(ax, data: FlowData) -> None:
    from matplotlib.lines import Line2D

    kinds = list(dict.fromkeys(n.kind for n in data.nodes))
    handles = []
    for kind in kinds:
        marker, colour, label = style.node_style(kind)
        handles.append(Line2D([], [], marker=marker, color="none", markerfacecolor=colour,
                              markeredgecolor="black", markersize=12, label=label))
    if data.failure_edges:
        handles.append(Line2D([], [], color=style.FAILURE_COLOUR, lw=2.5, ls="--", label="failures"))
    if data.dlq_edges:
        handles.append(Line2D([], [], color=style.DLQ_COLOUR, lw=3, label="dead-letter path"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=style.FONT_MIN,
              frameon=False)
