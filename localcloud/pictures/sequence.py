"""The sequence diagram: who called whom, in order — as Mermaid text and as a drawn fallback.

JupyterLab 4 and GitHub render a ```` ```mermaid ```` block in a Markdown cell; `sequence_markdown`
wraps the text for that. Viewers that do not render Mermaid (nbviewer, PDF export, a projector on an
old Jupyter) get `sequence_figure`, the same messages drawn with matplotlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localcloud.pictures import _facts, style
from localcloud.trace import CALL, DEAD_LETTER, DELIVER, DROP, ERROR, INVOKE, RETRY, THROTTLE, TIMEOUT, Trace

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Message:
    source: str  # participant node
    target: str
    text: str
    style: str  # "call" | "async" | "reply" | "error" | "note"
    at_ms: float


@dataclass
class SequenceData:
    participants: list[str]  # nodes, in order of first appearance
    messages: list[Message]
    omitted: int  # messages left out beyond the limit


@dataclass
class SequenceFigure:
    figure: Figure
    data: SequenceData

    def _repr_png_(self) -> bytes:
        return style.png_bytes(self.figure)

    def __repr__(self) -> str:
        return f"<SequenceFigure: {len(self.data.participants)} participants, {len(self.data.messages)} messages>"


def sequence_data(trace: Trace, *, limit: int = 60) -> SequenceData:
    """The messages a sequence diagram shows, oldest first, at most `limit` of them."""
    records = sorted(trace.records, key=lambda r: (r.start, r.seq))
    t0 = _facts.origin(records)
    messages: list[Message] = []
    for r in records:
        at = (r.start - t0) * 1000.0
        if r.kind == CALL:
            messages.append(Message(r.source, r.target, r.operation or "call", "call", at))
        elif r.kind == DELIVER:
            messages.append(Message(r.source, r.target, r.operation or "deliver", "async", at))
        elif r.kind == INVOKE:
            words = [f"invoke ({r.invocation})" if r.invocation else "invoke"]
            if r.attempt > 1:
                words.append(f"attempt {r.attempt}")
            if r.cold:
                words.append("cold")
            if r.batch_size > 1:
                words.append(f"batch {r.batch_size}")
            arrow = "async" if r.invocation in ("async", "poll") else "call"
            messages.append(Message(r.source, r.target, ", ".join(words), arrow, at))
            end = (_facts.invoke_phases(r)[2] - t0) * 1000.0
            if r.outcome in (ERROR, TIMEOUT):
                reason = f"{r.outcome}: {r.error}" if r.error else r.outcome
                messages.append(Message(r.target, r.source, _clip(reason), "error", end))
            elif r.invocation == "sync":
                messages.append(Message(r.target, r.source, f"ok, {r.duration_ms:.0f} ms", "reply", end))
        elif r.kind == THROTTLE:
            messages.append(Message(r.source, r.target, "throttled", "error", at))
        elif r.kind == RETRY:
            messages.append(Message(r.target, r.target, f"retry, attempt {r.attempt}", "note", at))
        elif r.kind == DEAD_LETTER:
            messages.append(Message(r.source, r.destination or r.target, "dead-letter", "async", at))
        elif r.kind == DROP:
            messages.append(Message(r.source, r.source, "event dropped", "note", at))
    messages = [m for m in messages if m.source and m.target]
    messages.sort(key=lambda m: m.at_ms)  # stable: replies keep their place after their call
    omitted = max(len(messages) - limit, 0)
    messages = messages[:limit]
    participants: list[str] = []
    for m in messages:
        for node in (m.source, m.target):
            if node not in participants:
                participants.append(node)
    return SequenceData(participants, messages, omitted)


def _clip(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _alias(node: str) -> str:
    return re.sub(r"\W", "_", node)


def _mermaid_text(text: str) -> str:
    # ';' and '#' end or escape a Mermaid statement; keep messages plain
    return text.replace(";", ",").replace("#", "no. ")


_ARROWS = {"call": "->>", "async": "-)", "reply": "-->>", "error": "--x"}


def sequence_diagram(trace: Trace, *, limit: int = 60) -> str:
    """Mermaid ``sequenceDiagram`` text for the trace; paste into a Markdown cell or use
    `sequence_markdown`. Participants keep their ``kind:name`` as their label."""
    data = sequence_data(trace, limit=limit)
    lines = ["sequenceDiagram"]
    for p in data.participants:
        keyword = "actor" if style.node_kind(p) == "client" else "participant"
        lines.append(f"    {keyword} {_alias(p)} as {p}")
    for m in data.messages:
        if m.style == "note":
            lines.append(f"    Note over {_alias(m.source)}: {_mermaid_text(m.text)}")
        else:
            lines.append(f"    {_alias(m.source)}{_ARROWS[m.style]}{_alias(m.target)}: {_mermaid_text(m.text)}")
    if data.omitted and data.participants:
        lines.append(f"    Note over {_alias(data.participants[0])}: … {data.omitted} more messages")
    return "\n".join(lines)


def sequence_markdown(trace: Trace, *, limit: int = 60) -> str:
    """The diagram as a fenced ```` ```mermaid ```` block, ready for `IPython.display.Markdown`."""
    return f"```mermaid\n{sequence_diagram(trace, limit=limit)}\n```"


def sequence_figure(trace: Trace, *, limit: int = 40, title: str | None = None) -> SequenceFigure:
    """The same diagram drawn with matplotlib, for viewers that do not render Mermaid."""
    data = sequence_data(trace, limit=limit)
    n_p = max(len(data.participants), 1)
    n_m = len(data.messages)
    fig = style.new_figure(min(16.0, max(6.0, 2.3 * n_p)), min(20.0, max(3.0, 0.42 * n_m + 1.8)))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title or "Sequence", loc="left", fontsize=style.FONT_TITLE)
    x = {p: float(i) for i, p in enumerate(data.participants)}
    for p, px in x.items():
        _, colour, _ = style.node_style(style.node_kind(p))
        ax.text(px, 0.2, style.node_name(p), ha="center", va="bottom", fontsize=style.FONT,
                bbox={"boxstyle": "round", "fc": colour, "alpha": 0.35, "ec": "black"})
        ax.plot([px, px], [0, -(n_m + 0.5)], color="#999999", lw=1, zorder=0)
    colours = {"error": style.FAILURE_COLOUR, "note": style.OKABE_ITO["orange"]}
    for i, m in enumerate(data.messages):
        y = -(i + 0.8)
        colour = colours.get(m.style, "black")
        if m.style == "note" or m.source == m.target:
            ax.text(x[m.source], y, m.text, ha="center", va="center", fontsize=style.FONT_MIN,
                    bbox={"boxstyle": "square", "fc": "#fff6d5", "ec": colour})
            continue
        ax.annotate("", xy=(x[m.target], y), xytext=(x[m.source], y),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.6,
                                "linestyle": "--" if m.style in ("reply", "error", "async") else "-"})
        ax.text((x[m.source] + x[m.target]) / 2, y + 0.08, m.text, ha="center", va="bottom",
                fontsize=style.FONT_MIN, color=colour)
    if data.omitted:
        ax.text(0, -(n_m + 0.9), f"… {data.omitted} more messages", fontsize=style.FONT_MIN)
    ax.set_xlim(-0.7, n_p - 0.3)
    ax.set_ylim(-(n_m + 1.2), 0.8)
    return SequenceFigure(fig, data)
