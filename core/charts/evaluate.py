"""Figures of a dataset evaluation: reliability diagram, confidence histogram, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import Tensor

from core.charts.common import (
    CURVE_COLOURS,
    RIGHT_COLOUR,
    WRONG_COLOUR,
    diagonal,
    layout,
    legend_below,
    safe_text,
)
from core.i18n import t
from core.labels import label_of

# a heatmap of more classes than this is unreadable: the page and the report list the confused pairs instead
MAX_HEATMAP_CLASSES = 30


def eval_text(key: str, lang: str, **params: object) -> str:
    return t(f"eval.chart.{key}", lang, **params)


def count_axis(counts: Sequence[int]) -> dict[str, object]:
    """A log axis (decades only) when non-zero counts span more than 20x, else a linear one."""
    filled = [c for c in counts if c > 0]
    if filled and max(filled) >= 20 * min(filled):
        return dict(type="log", dtick=1)
    return dict(type="linear", rangemode="tozero")


def reliability_figure(
    curves: Sequence[tuple[str, pd.DataFrame]], *, lang: str = "en", title: str | None = None
) -> go.Figure:
    """Reliability diagram: accuracy vs mean confidence per bin for each (name, calibration_table), the
    diagonal of perfect calibration, and below it the bin counts (log scale) of each curve."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06)
    diagonal(fig, eval_text("perfect", lang), row=1, col=1)
    for number, (name, table) in enumerate(curves):
        colour = CURVE_COLOURS[number % len(CURVE_COLOURS)]
        filled = table[table["count"] > 0]
        hover = eval_text("bin_hover", lang)
        custom = filled[["lower", "upper", "count", "gap"]].to_numpy()
        # marker area follows the bin's share of images: a 1-image bin far off the diagonal looks small
        share = (filled["count"] / max(int(filled["count"].max()), 1)) ** 0.5 if len(filled) else filled["count"]
        fig.add_scatter(
            x=filled["confidence"].tolist(),
            y=filled["accuracy"].tolist(),
            mode="lines+markers",
            name=safe_text(name),
            legendgroup=name,
            line=dict(color=colour, width=1.5),
            marker=dict(size=(5 + 13 * share).tolist(), line=dict(width=1, color="white")),
            customdata=custom,
            hovertemplate=hover,
            row=1,
            col=1,
        )
        centres = ((table["lower"] + table["upper"]) / 2).tolist()
        fig.add_bar(
            x=centres,
            y=table["count"].tolist(),
            name=safe_text(name),
            legendgroup=name,
            showlegend=False,
            marker_color=colour,
            width=float(table["upper"].iloc[0] - table["lower"].iloc[0]) / max(len(curves), 1),
            offsetgroup=str(number),
            hovertemplate=eval_text("count_hover", lang),
            row=2,
            col=1,
        )
    fig.update_layout(barmode="group", bargap=0.05)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=eval_text("confidence", lang), row=2, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text=eval_text("accuracy", lang), row=1, col=1)
    counts = [int(c) for _, table in curves for c in table["count"]]
    fig.update_yaxes(title_text=eval_text("images", lang), **count_axis(counts), row=2, col=1)
    layout(fig, title or eval_text("reliability", lang), height=560)
    return legend_below(fig)


def confidence_histogram_figure(
    confidence: Tensor, correct: Tensor, *, n_bins: int = 20, lang: str = "en", title: str | None = None
) -> go.Figure:
    """How many images got each top-1 confidence, stacked: right predictions and wrong ones."""
    conf = confidence.to(torch.float64).reshape(-1)
    hit = correct.reshape(-1).to(torch.bool)
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    which = torch.bucketize(conf, edges[1:-1], right=False)
    right = torch.bincount(which[hit], minlength=n_bins).tolist()
    wrong = torch.bincount(which[~hit], minlength=n_bins).tolist()
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    fig = go.Figure()
    hover = eval_text("histogram_hover", lang)
    fig.add_bar(x=centres, y=right, name=eval_text("right", lang), marker_color=RIGHT_COLOUR, hovertemplate=hover)
    fig.add_bar(x=centres, y=wrong, name=eval_text("wrong", lang), marker_color=WRONG_COLOUR, hovertemplate=hover)
    # side by side, on a log scale when counts differ a lot: the few wrong images of a good model stay visible
    fig.update_layout(
        barmode="group",
        bargap=0.1,
        xaxis=dict(range=[0, 1], tickformat=".0%", title=eval_text("confidence", lang)),
        yaxis=dict(title=eval_text("images", lang), **count_axis(right + wrong)),
    )
    layout(fig, title or eval_text("histogram", lang), height=560)
    return legend_below(fig)


def unique_names(labels: Sequence[str], classes: Sequence[int]) -> list[str]:
    names = [label_of(labels, i) for i in classes]
    # a heatmap axis merges equal names (ImageNet has two "cardigan"s): tell them apart by index
    return [safe_text(n if names.count(n) == 1 else f"{n} (#{i})") for n, i in zip(names, classes, strict=True)]


def confusion_matrix_figure(
    matrix: Tensor,
    labels: Sequence[str],
    *,
    classes: Sequence[int] | None = None,
    lang: str = "en",
    title: str | None = None,
) -> go.Figure:
    """Heatmap of a confusion matrix (rows = true class, columns = predicted), coloured by the share of
    the row and annotated with counts; `classes` picks the rows/columns to draw (default: all)."""
    chosen = list(classes) if classes is not None else list(range(matrix.shape[0]))
    index = torch.tensor(chosen, dtype=torch.int64)
    counts = matrix.to(torch.int64)[index][:, index]
    rows = matrix.to(torch.float64)[index].sum(dim=1, keepdim=True).clamp(min=1)
    share = counts.to(torch.float64) / rows
    names = unique_names(labels, chosen)
    text = [[str(v) if v else "" for v in row] for row in counts.tolist()]
    fig = go.Figure(
        go.Heatmap(
            z=share.tolist(),
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            customdata=counts.tolist(),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar=dict(title=dict(text=eval_text("row_share", lang))),
            hovertemplate=eval_text("cell_hover", lang),
            xgap=1,
            ygap=1,
        )
    )
    side = len(chosen)
    fig.update_layout(
        xaxis=dict(title=eval_text("predicted", lang), tickangle=-45 if side > 8 else 0, type="category"),
        yaxis=dict(title=eval_text("true", lang), autorange="reversed", type="category"),
    )
    return layout(fig, title or eval_text("confusion", lang), height=min(900, max(360, 160 + 26 * side)))
