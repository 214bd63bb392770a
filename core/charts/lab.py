"""Figures of the Logits Lab: top-k/top-p filters, sampling, softmax over dim=0/1, its headline and sweep."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import Tensor

from core.charts.common import (
    FILTER_K_COLOUR,
    FILTER_P_COLOUR,
    PROB_COLOUR,
    REFERENCE_COLOUR,
    label_names,
    layout,
    legend_right,
    level_line,
    safe_text,
)
from core.charts.prediction import logits_vs_probs_figure, temperature_sweep_figure
from core.i18n import t
from core.numerics import (
    as_logits,
    order,
    renormalise,
    softmax,
    top_k_mask,
    top_p_mask,
)


def lab_text(key: str, lang: str, **params: object) -> str:
    return t(f"lab.chart.{key}", lang, **params)


def top_with_rest(
    values: Sequence[Tensor], scores: Tensor, labels: Sequence[str], *, top_n: int, lang: str
) -> tuple[list[str], list[list[float]]]:
    """Bar names and heights of the `top_n` classes by `scores` (the one stable ranking), each vector of
    `values` summed over the rest into one more "other" bar."""
    ranked = order(scores).tolist()
    shown, rest = ranked[:top_n], ranked[top_n:]
    columns = []
    for v in values:
        column = [float(v[i]) for i in shown]
        if rest:
            column.append(float(v[rest].sum()))
        columns.append(column)
    names = label_names(labels, shown)
    if rest:
        names.append(safe_text(lab_text("other_n", lang, n=len(rest))))
    return names, columns


def filters_figure(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    k: int = 5,
    top_p: float = 0.9,
    top_n: int = 15,
    lang: str = "en",
    title: str = "Top-k and top-p",
) -> go.Figure:
    """Each class's probability, and what top-k and top-p leave of it after renormalising.

    Classes are sorted by probability; a dotted line is the running total, with top-p marked on it.
    Classes past `top_n` are one "other" bar.
    """
    z = as_logits(logits).reshape(-1).to(torch.float64)
    probs = softmax(z, temperature=temperature)
    keep_k = top_k_mask(z, k)
    keep_p = top_p_mask(probs, top_p)
    kept = [probs, renormalise(probs, keep_k), renormalise(probs, keep_p)]
    names, (p, pk, pp) = top_with_rest(kept, z, labels, top_n=top_n, lang=lang)
    fig = go.Figure()
    bars = (
        (p, lab_text("p_all", lang), REFERENCE_COLOUR, "p"),
        (pk, lab_text("after_top_k", lang, k=int(keep_k.sum())), FILTER_K_COLOUR, "top-k"),
        (pp, lab_text("after_top_p", lang, p=f"{top_p:g}"), FILTER_P_COLOUR, "top-p"),
    )
    for heights, name, colour, what in bars:
        fig.add_bar(
            x=names,
            y=heights,
            name=name,
            marker_color=colour,
            hovertemplate=f"%{{x}}<br>{what} %{{y:.2%}}<extra></extra>",
        )
    fig.add_scatter(
        x=names,
        y=list(torch.tensor(p, dtype=torch.float64).cumsum(0).tolist()),
        mode="lines+markers",
        name=lab_text("cumulative", lang),
        line=dict(color="#444", dash="dot"),
        marker=dict(size=5),
        hovertemplate="%{x}<br>Σ %{y:.2%}<extra></extra>",
    )
    top_p_text = f"top-p = {top_p:g}"
    level_line(fig, top_p, top_p_text, colour=FILTER_P_COLOUR, dash="dash", text_colour=FILTER_P_COLOUR, opacity=0.7)
    fig.update_layout(
        barmode="group", yaxis=dict(title=lab_text("probability", lang), range=[0, 1.05], tickformat=".0%")
    )
    return layout(fig, title)


def sampling_figure(
    probs: Tensor,
    counts: Tensor,
    labels: Sequence[str],
    *,
    top_n: int = 15,
    lang: str = "en",
    title: str = "Sampling",
) -> go.Figure:
    """Observed frequency of each class in N draws next to its probability (the expected frequency)."""
    p = as_logits(probs, name="probabilities").reshape(-1).to(torch.float64)
    c = counts.reshape(-1).to(torch.float64)
    n = float(c.sum())
    names, (expected, observed) = top_with_rest([p, c / n], p, labels, top_n=top_n, lang=lang)
    counts_shown = [round(v * n) for v in observed]
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=expected,
        name=lab_text("expected", lang),
        marker_color=REFERENCE_COLOUR,
        hovertemplate="%{x}<br>p %{y:.2%}<extra></extra>",
    )
    fig.add_bar(
        x=names,
        y=observed,
        name=lab_text("observed", lang, n=f"{int(n):,}"),
        marker_color=PROB_COLOUR,
        customdata=counts_shown,
        hovertemplate="%{x}<br>%{y:.2%} (%{customdata} draws)<extra></extra>",
    )
    fig.update_layout(
        barmode="group", yaxis=dict(title=lab_text("frequency", lang), tickformat=".0%", rangemode="tozero")
    )
    return layout(fig, title)


def dim_softmax_figure(matrix: Tensor, *, lang: str = "en", title: str = "softmax over dim=0 and dim=1") -> go.Figure:
    """Two heatmaps of softmax(x, dim=0) and softmax(x, dim=1), cells annotated, with the sums that are 1.

    Column sums of the dim=0 map are written under its columns, row sums of the dim=1 map beside its rows.
    """

    x = as_logits(matrix).to(torch.float64)
    if x.ndim != 2:
        raise ValueError("dim_softmax_figure takes a 2-D matrix")
    rows, cols = x.shape
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.16, subplot_titles=(lab_text("dim0", lang), lab_text("dim1", lang))
    )
    for col, p in enumerate((softmax(x, dim=0), softmax(x, dim=1)), start=1):
        fig.add_trace(
            go.Heatmap(
                z=p.tolist(),
                x=list(range(cols)),
                y=list(range(rows)),
                zmin=0,
                zmax=1,
                colorscale=[[0, "#FFFFFF"], [1, PROB_COLOUR]],
                text=[[f"{v:.3f}" for v in row] for row in p.tolist()],
                texttemplate="%{text}",
                customdata=x.tolist(),
                showscale=False,
                xgap=2,
                ygap=2,
                hovertemplate="x[%{y}, %{x}] = %{customdata:.4g}<br>p = %{z:.4f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        if col == 1:  # dim=0: the column sums, under the columns
            ticks = [f"{j}<br><b>Σ={s:.2f}</b>" for j, s in enumerate(p.sum(dim=0).tolist())]
        else:
            ticks = [str(j) for j in range(cols)]
            for i, s in enumerate(p.sum(dim=1).tolist()):  # dim=1: the row sums, beside the rows
                fig.add_annotation(
                    x=1.02,
                    xref="x2 domain",
                    y=i,
                    yref="y2",
                    text=f"<b>Σ = {s:.2f}</b>",
                    showarrow=False,
                    xanchor="left",
                )
        fig.update_xaxes(
            title_text=lab_text("column", lang), tickvals=list(range(cols)), ticktext=ticks, row=1, col=col
        )
        fig.update_yaxes(
            title_text=lab_text("row", lang) if col == 1 else None,
            tickvals=list(range(rows)),
            autorange="reversed",
            row=1,
            col=col,
        )
    fig = layout(fig, title, height=max(260, 120 + 46 * rows))
    fig.update_layout(margin=dict(r=90))
    return fig


def lab_headline_figure(
    logits: Tensor,
    labels: Sequence[str],
    *,
    mode: str = "softmax",
    temperature: float = 1.0,
    top_n: int = 12,
    lang: str = "en",
    title: str = "Logits and their probabilities",
) -> go.Figure:
    """The Logits Lab's main chart: logits next to softmax (or sigmoid) scores at T, T = 1 for reference."""
    return logits_vs_probs_figure(
        logits, labels, scores=mode, temperature=temperature, top_n=top_n, lang=lang, title=title
    )


def lab_sweep_figure(
    logits: Tensor,
    labels: Sequence[str],
    *,
    current_temperature: float = 1.0,
    lang: str = "en",
    title: str = "Each class's probability as T changes",
) -> go.Figure:
    """`temperature_sweep_figure` for the Logits Lab: top-5 classes, the legend on the right."""
    fig = temperature_sweep_figure(logits, labels, current_temperature=current_temperature, lang=lang, title=title)
    return legend_right(fig)
