"""One look for every picture: colour-blind-safe colours, projector-size fonts, one shape per node kind.

Pictures are drawn on `matplotlib.figure.Figure` objects created directly, never through `pyplot`.
That keeps them headless (the Agg canvas, whatever backend a kernel chose), and a figure that no
registry holds cannot pile up into matplotlib's "too many open figures" warning: when the result
object goes, the figure goes with it. matplotlib itself is imported only when a picture is drawn,
so `import localcloud` stays fast for cells that never draw.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

# Projector-readable sizes (points). Nothing a student must read is smaller than FONT_MIN.
FONT_MIN = 11
FONT = 12
FONT_TITLE = 14
DPI = 100

# How an outcome looks wherever it appears (timeline bars, legends, flow edges).
OUTCOME_COLOURS = {
    "success": OKABE_ITO["bluish_green"],
    "error": OKABE_ITO["vermillion"],
    "timeout": OKABE_ITO["reddish_purple"],
    "throttled": OKABE_ITO["yellow"],
}
INIT_COLOUR = OKABE_ITO["sky_blue"]
INIT_HATCH = "///"
FAILURE_COLOUR = OKABE_ITO["vermillion"]
DLQ_COLOUR = OKABE_ITO["reddish_purple"]
EDGE_COLOUR = "#555555"
FANOUT_COLOUR = OKABE_ITO["blue"]

# Node kind -> (matplotlib marker, colour, legend label). Shape and colour both differ, so a kind is
# recognisable in greyscale print-outs as well as by colour.
NODE_STYLES: dict[str, tuple[str, str, str]] = {
    "client": ("P", OKABE_ITO["black"], "client (cell)"),
    "api": ("p", OKABE_ITO["blue"], "API"),
    "bucket": ("H", OKABE_ITO["bluish_green"], "bucket"),
    "topic": ("^", OKABE_ITO["reddish_purple"], "topic"),
    "queue": ("s", OKABE_ITO["sky_blue"], "queue"),
    "stream": (">", OKABE_ITO["blue"], "stream"),
    "table": ("D", OKABE_ITO["yellow"], "table"),
    "index": ("d", OKABE_ITO["bluish_green"], "search index"),
    "bus": ("*", OKABE_ITO["vermillion"], "event bus"),
    "function": ("o", OKABE_ITO["orange"], "function"),
    "statemachine": ("8", OKABE_ITO["grey"], "state machine"),
}
UNKNOWN_NODE_STYLE = ("X", OKABE_ITO["grey"], "other")
DLQ_MARKER = "s"


def node_kind(node: str) -> str:
    """The kind part of a ``"kind:name"`` node (``"queue:buffer"`` -> ``"queue"``)."""
    if ":" in node:
        return node.split(":", 1)[0]
    return node if node in NODE_STYLES else "other"  # the runtime writes a bare "client"


def node_name(node: str) -> str:
    """The name part of a ``"kind:name"`` node."""
    return node.split(":", 1)[1] if ":" in node else node


def node_style(kind: str) -> tuple[str, str, str]:
    return NODE_STYLES.get(kind, UNKNOWN_NODE_STYLE)


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot's registry (see the module docstring), sized in inches."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def apply_fonts(ax) -> None:
    """Projector-size tick labels and axis labels on one axes."""
    ax.tick_params(labelsize=FONT)
    ax.xaxis.label.set_size(FONT)
    ax.yaxis.label.set_size(FONT)
    ax.title.set_size(FONT_TITLE)


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas (headless, backend-independent)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save(fig: Figure, path, dpi: int = DPI) -> None:
    fig.savefig(path, format="png", dpi=dpi)
