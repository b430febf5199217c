"""Pictures of a trace: flow graph, timeline, summary with cost, sequence diagram, live demo panel.

Every function takes a `Trace` (a whole run or a filtered part) and returns the data it drew next
to the figure, so tests assert on what a student sees::

    from localcloud.pictures import show
    show(cloud.trace)                    # flow + timeline + summary in one cell

    graph = flow_graph(cloud.trace.filter(source="topic:new-user"))
    graph.data.edge("topic:new-user", "function:UpdateCRM").deliveries
"""

from __future__ import annotations

from dataclasses import dataclass, field

from localcloud.pictures.flow import FlowData, FlowGraph, flow_graph
from localcloud.pictures.panel import DemoPanel, Frame, PanelController
from localcloud.pictures.sequence import sequence_diagram, sequence_figure, sequence_markdown
from localcloud.pictures.summary import Summary, summary
from localcloud.pictures.timeline import Timeline, TimelineData, timeline
from localcloud.trace import Trace

__all__ = [
    "DemoPanel",
    "Frame",
    "PanelController",
    "FlowData",
    "FlowGraph",
    "Overview",
    "Summary",
    "Timeline",
    "TimelineData",
    "flow_graph",
    "overview",
    "sequence_diagram",
    "sequence_figure",
    "sequence_markdown",
    "show",
    "summary",
    "timeline",
]


@dataclass
class Overview:
    """Flow, timeline and summary of one trace; what `show` displays and the demo panel redraws."""

    flow: FlowGraph
    timeline: Timeline
    summary: Summary

    _html: str | None = field(default=None, repr=False, compare=False)

    def _repr_html_(self) -> str:
        """Both figures as inline PNGs and the summary table: one output, redrawn as a whole.

        Rendered once and kept: a notebook may ask for it again (re-display, widget sync).
        """
        if self._html is None:
            self._html = self._render()
        return self._html

    def _render(self) -> str:
        import base64

        images = "".join(
            f"<img alt='{alt}' class='localcloud-{alt}' style='max-width:100%' "
            f"src='data:image/png;base64,{base64.b64encode(png).decode()}'/>"
            for alt, png in (("flow", self.flow._repr_png_()), ("timeline", self.timeline._repr_png_()))
        )
        return f"<div class='localcloud-overview'>{images}{self.summary._repr_html_()}</div>"

    def __repr__(self) -> str:
        s = self.summary
        return (f"<Overview: {s.invocations} invocations, {s.errors} errors, {s.retries} retries, "
                f"{s.dead_lettered} dead-lettered, {s.cold_starts} cold starts>")


def overview(trace: Trace, *, title: str | None = None) -> Overview:
    """Draw all three pictures of a trace without displaying them."""
    snapshot = Trace(trace.records)  # one consistent view even while the runtime adds records
    prefix = f"{title} — " if title else ""
    return Overview(
        flow=flow_graph(snapshot, title=f"{prefix}event flow"),
        timeline=timeline(snapshot),
        summary=summary(snapshot),
    )


def show(trace: Trace, *, title: str | None = None) -> None:
    """Draw and display flow + timeline + summary of a trace in a notebook.

    Returns nothing so a cell ending in ``show(...)`` displays once; use `overview` for the data.
    """
    from IPython.display import display

    display(overview(trace, title=title))
