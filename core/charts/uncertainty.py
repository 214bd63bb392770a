"""Figures of doubt: OOD score histograms and ROC curves, the risk–coverage curve, prediction set sizes and
coverage per class, set sizes across temperature, adaptive and classwise reliability.

Numbers in (from `core.uncertainty`), `go.Figure` out. Long curves (a 50,000-image risk–coverage curve) are thinned
to at most `MAX_POINTS` points taken from the curve itself, so the figure stays light and every drawn point is a
true one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.common import (
    BLUE,
    CURVE_COLOURS,
    GREY,
    INK,
    ORANGE,
    TEAL,
    WRONG_COLOUR,
    diagonal,
    layout,
    legend_below,
    legend_below_long,
    marked_line,
    safe_text,
    temperature_axis,
)
from core.charts.evaluate import count_axis, reliability_figure
from core.i18n import t
from core.labels import label_of
from core.uncertainty.calibration import class_table, classwise_errors
from core.uncertainty.ood import Separation
from core.uncertainty.selective import Abstention, RiskCoverage, aurc

MAX_POINTS = 2000
INSIDE_COLOUR = BLUE
OUTSIDE_COLOUR = ORANGE
# up to four curves on one plot (msp at T = 1 and at the fitted T, max logit, energy): three colours, then a dotted ink
CURVE_STYLES = (*((colour, "solid") for colour in CURVE_COLOURS), (INK, "dot"))
LABEL_GROUND = "rgba(255, 255, 255, 0.85)"  # behind a label drawn over bars or lines


def unc_text(key: str, lang: str, **params: object) -> str:
    return t(f"unc.chart.{key}", lang, **params)


def score_label(name: str, lang: str) -> str:
    """How a score is named on an axis or in a legend."""
    return t(f"unc.score.{name}", lang)


def thin(n: int, *, limit: int = MAX_POINTS) -> np.ndarray:
    """At most `limit` indices of 0..n-1, evenly spread, always with the first and the last."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


# ---------------------------------------------------------------- out of distribution
def score_histogram_figure(
    name: str,
    inside: np.ndarray,
    outside: np.ndarray,
    *,
    threshold: float | None = None,
    n_bins: int = 40,
    lang: str = "en",
) -> go.Figure:
    """Histograms of one score for the inside and outside images on shared bins, each as a share of its own set
    (the sets differ in size), with the threshold as a vertical line."""
    inside, outside = np.asarray(inside, dtype=np.float64), np.asarray(outside, dtype=np.float64)
    both = np.concatenate([inside, outside])
    low, high = float(both.min()), float(both.max())
    edges = np.linspace(low, high if high > low else low + 1.0, n_bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    for values, key, colour in ((inside, "inside", INSIDE_COLOUR), (outside, "outside", OUTSIDE_COLOUR)):
        counts, _ = np.histogram(values, bins=edges)
        fig.add_bar(
            x=centres.tolist(),
            y=(counts / max(values.size, 1)).tolist(),
            name=unc_text(key, lang),
            marker_color=colour,
            opacity=0.65,
            width=float(edges[1] - edges[0]),
            customdata=counts.tolist(),
            hovertemplate=unc_text("histogram_hover", lang),
        )
    if threshold is not None:
        # named beside the line, on a white ground, so neither the line nor a bar crosses the text
        marked_line(
            fig, threshold, unc_text("threshold", lang, value=threshold), colour=INK, dash="dash", ground=LABEL_GROUND
        )
    fig.update_layout(
        barmode="overlay",
        bargap=0,
        xaxis=dict(title=score_label(name, lang)),
        yaxis=dict(title=unc_text("share", lang), tickformat=".0%", rangemode="tozero"),
    )
    layout(fig, unc_text("histogram", lang, score=score_label(name, lang)), height=420)
    return legend_below(fig)


def roc_figure(found: Mapping[str, Separation], *, lang: str = "en") -> go.Figure:
    """ROC curves of each score (inside is the positive class), the chance diagonal, and each curve's point at
    95% TPR (its FPR95)."""
    fig = go.Figure()
    diagonal(fig, unc_text("chance", lang))
    colours = (*CURVE_COLOURS, GREY)
    for number, (name, sep) in enumerate(found.items()):
        keep = thin(sep.fpr.size)
        colour = colours[number % len(colours)]
        label = unc_text("roc_name", lang, score=score_label(name, lang), auroc=sep.auroc)
        fig.add_scatter(
            x=sep.fpr[keep].tolist(),
            y=sep.tpr[keep].tolist(),
            mode="lines",
            name=safe_text(label),
            legendgroup=name,
            line=dict(color=colour, width=2),
            hovertemplate=unc_text("roc_hover", lang),
        )
        fig.add_scatter(
            x=[sep.fpr95],
            y=[0.95],
            mode="markers",
            name=unc_text("fpr95_name", lang),
            legendgroup=name,
            showlegend=False,
            marker=dict(color=colour, size=9, symbol="x"),
            hovertemplate=unc_text("roc_hover", lang),
        )
    fig.update_layout(
        xaxis=dict(title=unc_text("fpr", lang), range=[0, 1], tickformat=".0%"),
        yaxis=dict(title=unc_text("tpr", lang), range=[0, 1.02], tickformat=".0%"),
    )
    layout(fig, unc_text("roc", lang), height=460)
    # drawn in half the page's width: its five names wrap onto several lines, so they start below the axis title
    return legend_below_long(fig).update_layout(margin=dict(b=150))


# ---------------------------------------------------------------- selective prediction
def risk_coverage_figure(
    curves: Sequence[tuple[str, RiskCoverage]], *, marked: Abstention | None = None, lang: str = "en"
) -> go.Figure:
    """Risk–coverage curves (error among the kept images vs the share kept), AURC in each name; `marked` puts the
    abstain threshold's point (on the curve of the score it was set on)."""
    fig = go.Figure()
    for number, (name, curve) in enumerate(curves):
        keep = thin(curve.n)
        colour, dash = CURVE_STYLES[number % len(CURVE_STYLES)]
        fig.add_scatter(
            x=curve.coverage[keep].tolist(),
            y=curve.risk[keep].tolist(),
            mode="lines",
            name=safe_text(unc_text("curve_name", lang, name=name, aurc=aurc(curve))),
            line=dict(color=colour, width=2, dash=dash),
            customdata=curve.confidence[keep].tolist(),
            hovertemplate=unc_text("risk_hover", lang),
        )
    if marked is not None and marked.kept:
        # a threshold keeps whole ties, so this point lies on the curve of the score it was set on
        fig.add_scatter(
            x=[marked.coverage],
            y=[1.0 - marked.accuracy],
            mode="markers",
            name=unc_text("abstain_mark", lang, kept=marked.kept, abstained=marked.abstained),
            marker=dict(color=WRONG_COLOUR, size=12, symbol="diamond", line=dict(width=1, color="white")),
            hovertemplate=unc_text("risk_hover", lang),
        )
        fig.add_vline(x=marked.coverage, line_dash="dot", line_color=WRONG_COLOUR)
    fig.update_layout(
        xaxis=dict(title=unc_text("coverage", lang), range=[0, 1.01], tickformat=".0%"),
        yaxis=dict(title=unc_text("risk", lang), tickformat=".1%", rangemode="tozero"),
    )
    layout(fig, unc_text("risk_coverage", lang), height=460)
    return legend_below(fig)


# ---------------------------------------------------------------- prediction sets
def set_size_figure(histogram: pd.DataFrame, *, lang: str = "en") -> go.Figure:
    """Bars of `set_size_histogram`: how many images got a set of each size (0 = an empty set)."""
    counts = histogram["count"].astype(int).tolist()
    fig = go.Figure(
        go.Bar(
            x=histogram["size"].astype(int).tolist(),
            y=counts,
            marker_color=TEAL,
            hovertemplate=unc_text("set_size_hover", lang),
        )
    )
    fig.update_layout(
        xaxis=dict(title=unc_text("set_size", lang), dtick=1 if len(histogram) <= 20 else None),
        yaxis=dict(title=unc_text("images", lang), **count_axis(counts)),
    )
    return layout(fig, unc_text("set_sizes", lang), height=380)


def coverage_by_class_figure(table: pd.DataFrame, *, alpha: float, top: int = 30, lang: str = "en") -> go.Figure:
    """Bars of `coverage_by_class` for the `top` weakest classes, with the promised 1 - α as a line."""
    shown = table.head(top)
    names = [safe_text(str(label) or f"#{index}") for label, index in zip(shown["label"], shown["index"], strict=True)]
    names = [n if names.count(n) == 1 else f"{n} (#{i})" for n, i in zip(names, shown["index"], strict=True)]
    below = shown["coverage"] < 1 - alpha
    fig = go.Figure(
        go.Bar(
            x=names,
            y=shown["coverage"].tolist(),
            marker_color=[WRONG_COLOUR if b else TEAL for b in below],
            customdata=shown[["count", "mean_set_size"]].to_numpy().tolist(),
            hovertemplate=unc_text("class_hover", lang),
        )
    )
    fig.add_hline(y=1 - alpha, line_dash="dash", line_color=INK)
    fig.add_annotation(
        x=1.0,
        xref="paper",
        y=1 - alpha,
        text=unc_text("target", lang, value=1 - alpha),
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        bgcolor=LABEL_GROUND,
    )
    fig.update_layout(
        xaxis=dict(type="category", tickangle=-45 if len(shown) > 8 else 0),
        yaxis=dict(title=unc_text("class_coverage", lang), range=[0, 1.05], tickformat=".0%"),
    )
    return layout(fig, unc_text("coverage_by_class", lang), height=420)


def set_size_by_temperature_figure(
    table: pd.DataFrame, *, alpha: float, current: float | None = None, lang: str = "en"
) -> go.Figure:
    """Mean set size (left axis) and test coverage (right axis) of `set_sizes_by_temperature`, on a log T axis;
    `current` marks the page's T."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    temps = table["temperature"].tolist()
    curves = (  # column, name, mode, line, on the right axis
        ("mean_set_size", "mean_set_size", "lines+markers", dict(color=TEAL, width=2), False),
        ("empty_share", "empty_share", "lines", dict(color=GREY, dash="dot"), True),
        ("coverage", "test_coverage", "lines+markers", dict(color=BLUE, width=1.5), True),
    )
    for column, name, mode, line, right in curves:
        fig.add_scatter(
            x=temps, y=table[column].tolist(), mode=mode, name=unc_text(name, lang), line=line, secondary_y=right
        )
    fig.add_hline(y=1 - alpha, line_dash="dash", line_color=INK, secondary_y=True)
    if current is not None:
        text = unc_text("current_t", lang, t=current)
        marked_line(fig, current, text, colour=WRONG_COLOUR, dash="dot", ground=LABEL_GROUND, log_x=True)
    fig.update_xaxes(**temperature_axis(lang))
    fig.update_yaxes(title_text=unc_text("mean_set_size", lang), rangemode="tozero", secondary_y=False)
    # round percentages on the right, and only the left axis's grid: two grids that do not meet read as noise
    fig.update_yaxes(
        title_text=unc_text("test_coverage", lang),
        range=[0, 1.02],
        tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
        tickformat=".0%",
        showgrid=False,
        secondary_y=True,
    )
    layout(fig, unc_text("by_temperature", lang), height=420)
    return legend_below(fig)


# ---------------------------------------------------------------- calibration depth
def adaptive_reliability_figure(table: pd.DataFrame, *, lang: str = "en") -> go.Figure:
    """Accuracy vs mean confidence of each equal-count bin (`adaptive_calibration_table`); each point's
    horizontal bar spans the bin's confidences, the diagonal is perfect calibration. Below, each bin's gap
    (accuracy - confidence) by bin number: equal-count bins of a confident model all sit near 100% above, so this
    row is where they can be told apart."""
    fig = make_subplots(rows=2, cols=1, row_heights=[0.68, 0.32], vertical_spacing=0.16)
    diagonal(fig, t("eval.chart.perfect", lang), row=1, col=1)
    custom = table[["lower", "upper", "count"]].to_numpy().tolist()
    fig.add_scatter(
        x=table["confidence"].tolist(),
        y=table["accuracy"].tolist(),
        mode="lines+markers",
        name=unc_text("adaptive", lang),
        line=dict(color=BLUE, width=1.5),
        error_x=dict(
            type="data",
            symmetric=False,
            array=(table["upper"] - table["confidence"]).tolist(),
            arrayminus=(table["confidence"] - table["lower"]).tolist(),
            color=GREY,
        ),
        customdata=custom,
        hovertemplate=unc_text("adaptive_hover", lang),
        row=1,
        col=1,
    )
    gaps = table["gap"].to_numpy(dtype=float)
    fig.add_bar(
        x=(table["bin"] + 1).tolist(),
        y=gaps.tolist(),
        name=unc_text("gap", lang),
        showlegend=False,
        marker_color=[WRONG_COLOUR if g < 0 else TEAL for g in gaps],  # below zero: more confident than right
        customdata=custom,
        hovertemplate=unc_text("gap_hover", lang),
        row=2,
        col=1,
    )
    fig.update_xaxes(title_text=t("eval.chart.confidence", lang), range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text=t("eval.chart.accuracy", lang), range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_xaxes(title_text=unc_text("bin_number", lang), dtick=1 if len(table) <= 20 else None, row=2, col=1)
    fig.update_yaxes(title_text=unc_text("gap", lang), tickformat=".1%", zeroline=True, row=2, col=1)
    layout(fig, unc_text("adaptive", lang), height=560)
    return legend_below(fig)


def classwise_reliability_figure(
    table: pd.DataFrame,
    labels: Sequence[str] | None = None,
    *,
    classes: Sequence[int] | None = None,
    top: int = 3,
    lang: str = "en",
) -> go.Figure:
    """One-vs-rest reliability curves of `classes` (default: the `top` worst by classwise ECE) from a
    `classwise_calibration_table`, drawn by the evaluation's `reliability_figure`."""
    errors = classwise_errors(table).set_index("class")["ece"]
    chosen = list(classes) if classes is not None else [int(c) for c in errors.index[:top]]
    curves = [
        (
            unc_text("class_name", lang, label=label_of(labels, c) if labels else f"#{c}", ece=float(errors[c])),
            class_table(table, c),
        )
        for c in chosen
    ]
    fig = reliability_figure(curves, lang=lang, title=unc_text("classwise", lang))
    fig.update_xaxes(title_text=unc_text("class_probability", lang), row=2, col=1)
    fig.update_yaxes(title_text=unc_text("class_frequency", lang), row=1, col=1)
    return fig
