"""What every figure shares: one set of colours, the font, the layout, the T axis, safe label text.

Figures are built by pure functions (numbers in, `go.Figure` out, tested through `fig.data`). Label text is
HTML-escaped before it reaches Plotly, which renders a subset of HTML in text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio

from core.i18n import t
from core.labels import label_of

# one palette for the whole app; each figure picks its colours by meaning from these
BLUE = "#636EFA"
RED = "#EF553B"
GREY = "#B6B6B6"
GREEN = "#00CC96"
TEAL = "#00A88F"
ORANGE = "#E4572E"
LEAF = "#4C9F70"
INK = "#444"

LOGIT_COLOUR = BLUE
PROB_COLOUR = RED
REFERENCE_COLOUR = GREY
SIGMOID_COLOUR = GREEN
FILTER_K_COLOUR = BLUE
FILTER_P_COLOUR = TEAL
RIGHT_COLOUR = LEAF
WRONG_COLOUR = ORANGE
CURVE_COLOURS = (BLUE, ORANGE, TEAL)
T_TICKS = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20)  # round ticks on every log-T axis
FONT = dict(family="Inter, 'Noto Sans CJK SC', sans-serif", size=13)
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0.0)
# plotly_white cut to the trace types our figures draw: it renders the same, but Plotly copies a template into
# every figure, and the whole one (24 trace types) made a slider's rerun spend most of its time copying it
TRACE_TYPES = ("bar", "scatter", "scattergl", "heatmap")
_WHITE = pio.templates["plotly_white"]
TEMPLATE = go.layout.Template(layout=_WHITE.layout, data={kind: _WHITE.data[kind] for kind in TRACE_TYPES})


def safe_text(text: str) -> str:
    """Escape a label for Plotly, so `<img onerror=...>` shows literally and never as markup."""
    return html.escape(str(text), quote=False)


def layout(fig: go.Figure, title: str, *, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=dict(text=safe_text(title), x=0.0, xanchor="left"),
        template=TEMPLATE,
        font=FONT,
        height=height,
        margin=dict(l=60, r=60, t=60, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1.0),
        hoverlabel=dict(font=FONT),
    )
    return fig


def level_line(
    fig: go.Figure, y: float, text: str, *, colour: str, dash: str, text_colour: str | None = None, **line: object
) -> go.Figure:
    """A horizontal line at `y` across the plot, named by `text` at its right end, just above it."""
    fig.add_hline(y=y, line_dash=dash, line_color=colour, **line)
    font = dict(color=text_colour) if text_colour else None
    fig.add_annotation(
        x=1.0, xref="paper", y=y, text=text, showarrow=False, xanchor="right", yanchor="bottom", font=font
    )
    return fig


def marked_line(
    fig: go.Figure, x: float, text: str, *, colour: str, dash: str, ground: str, log_x: bool = False
) -> go.Figure:
    """A vertical line at `x`, named by `text` at its top, beside it (not across it) on a `ground` colour.

    On a log x axis Plotly places annotations by the exponent: `log_x` passes log10(x)."""
    fig.add_vline(x=x, line_dash=dash, line_color=colour)
    fig.add_annotation(
        x=math.log10(x) if log_x else x,
        y=1.0,
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="left",
        xshift=4,
        bgcolor=ground,
    )
    return fig


def diagonal(fig: go.Figure, name: str, **cell: int) -> go.Figure:
    """The dashed y = x line from (0, 0) to (1, 1): perfect calibration, or chance on a ROC (`cell`: row, col)."""
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=name,
        line=dict(color=REFERENCE_COLOUR, dash="dash"),
        hoverinfo="skip",
        **cell,
    )
    return fig


def label_names(labels: Sequence[str], indices: Sequence[int]) -> list[str]:
    return [safe_text(label_of(labels, i)) for i in indices]


def temperature_axis(lang: str) -> dict[str, object]:
    return dict(
        title=t("chart.temperature", lang),
        type="log",
        tickmode="array",
        tickvals=list(T_TICKS),
        ticktext=[f"{v:g}" for v in T_TICKS],
    )


def legend_right(fig: go.Figure) -> go.Figure:
    """The legend beside the plot, so a long list of classes never hides the title."""
    fig.update_layout(legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top"))
    return fig


def legend_below_long(fig: go.Figure) -> go.Figure:
    """A long legend under the plot, where it never covers the lines or the title."""
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0.0),
        margin=dict(b=110),
        height=fig.layout.height + 50 if fig.layout.height else 430,
    )
    return fig


def legend_below(fig: go.Figure) -> go.Figure:
    """The legend on one line under the plot, with room for it (the Evaluation page's figures)."""
    fig.update_layout(legend=LEGEND_BELOW, margin=dict(b=110))
    return fig
