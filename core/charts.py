"""Plotly figures, built by pure functions: numbers in, `go.Figure` out (tested through `fig.data`).

Label text is HTML-escaped before it reaches Plotly, which renders a subset of HTML in text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from torch import Tensor

from core.i18n import t
from core.labels import label_of
from core.numerics import (
    as_logits,
    entropy,
    renormalise,
    sigmoid,
    softmax,
    softmax_sweep,
    temperature_grid,
    top_k,
    top_p_mask,
)

LOGIT_COLOUR = "#636EFA"
PROB_COLOUR = "#EF553B"
REFERENCE_COLOUR = "#B6B6B6"
SIGMOID_COLOUR = "#00CC96"
T_TICKS = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20)  # round ticks on every log-T axis
FONT = dict(family="Inter, 'Noto Sans CJK SC', sans-serif", size=13)


def safe_text(text: str) -> str:
    """Escape a label for Plotly, so `<img onerror=...>` shows literally and never as markup."""
    return html.escape(str(text), quote=False)


def _layout(fig: go.Figure, title: str, *, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=dict(text=safe_text(title), x=0.0, xanchor="left"),
        template="plotly_white",
        font=FONT,
        height=height,
        margin=dict(l=60, r=60, t=60, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1.0),
        hoverlabel=dict(font=FONT),
    )
    return fig


def _names(labels: Sequence[str], indices: Sequence[int]) -> list[str]:
    return [safe_text(label_of(labels, i)) for i in indices]


def logits_vs_probs_figure(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    top_n: int = 10,
    show_reference: bool = True,
    scores: str = "softmax",
    lang: str = "en",
    title: str = "Logits vs probabilities",
) -> go.Figure:
    """Paired bars for the top-N classes: logits on the left axis, scores at T on the right.

    `scores` is "softmax" (probabilities) or "sigmoid" (independent per-class scores). With
    `show_reference` and T != 1, the scores at T = 1 appear as a third, grey bar.
    """
    if scores not in ("softmax", "sigmoid"):
        raise ValueError(f"scores must be 'softmax' or 'sigmoid', got {scores!r}")
    score_fn = softmax if scores == "softmax" else sigmoid
    colour = PROB_COLOUR if scores == "softmax" else SIGMOID_COLOUR
    z = as_logits(logits).reshape(-1).to(torch.float64)
    idx = top_k(z, top_n).indices.tolist()
    names = _names(labels, idx)
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=[float(z[i]) for i in idx],
        name=t("chart.logit", lang),
        marker_color=LOGIT_COLOUR,
        offsetgroup="logit",
        yaxis="y",
        hovertemplate="%{x}<br>logit %{y:.4f}<extra></extra>",
    )
    temps = [temperature] + ([1.0] if show_reference and not math.isclose(temperature, 1.0) else [])
    for temp, bar_colour in zip(temps, (colour, REFERENCE_COLOUR), strict=False):
        values = score_fn(z, temperature=temp)
        fig.add_bar(
            x=names,
            y=[float(values[i]) for i in idx],
            name=t(f"chart.{scores}_at", lang, t=f"{temp:g}"),
            marker_color=bar_colour,
            offsetgroup=f"T={temp:g}",
            yaxis="y2",
            hovertemplate=f"%{{x}}<br>{scores} at T={temp:g}: %{{y:.2%}}<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        yaxis=dict(title=dict(text=t("chart.logit", lang), font=dict(color=LOGIT_COLOUR)), zeroline=True),
        yaxis2=dict(
            title=dict(text=t(f"chart.{scores}", lang), font=dict(color=colour)),
            overlaying="y",
            side="right",
            range=[0, 1],
            tickmode="array",  # round ticks of its own, not positions synced to the logit axis
            tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
            tickformat=".0%",
            showgrid=False,
        ),
    )
    return _layout(fig, title)


def distribution_figure(
    probs: Tensor,
    labels: Sequence[str],
    *,
    log_scale: bool = True,
    scores: str = "softmax",
    lang: str = "en",
    title: str = "Whole distribution, sorted",
) -> go.Figure:
    """Every class's probability (or sigmoid score), sorted from most to least likely, log scale by default."""
    p = as_logits(probs, name="probabilities").reshape(-1).to(torch.float64)
    order = torch.argsort(p, descending=True).tolist()
    fig = go.Figure(
        go.Scatter(
            x=list(range(1, len(order) + 1)),
            y=[float(p[i]) for i in order],
            mode="lines+markers" if len(order) <= 50 else "lines",
            text=_names(labels, order),
            line=dict(color=PROB_COLOUR),
            marker=dict(size=5),
            hovertemplate="rank %{x}: %{text}<br>p %{y:.3g}<extra></extra>",
            name="probability",
        )
    )
    fig.update_layout(
        xaxis=dict(title=t("chart.rank", lang)),
        yaxis=dict(title=t(f"chart.{scores}", lang), type="log" if log_scale else "linear", exponentformat="power"),
        showlegend=False,
    )
    return _layout(fig, title)


def temperature_sweep_figure(
    logits: Tensor,
    labels: Sequence[str],
    *,
    classes: Sequence[int] | None = None,
    current_temperature: float = 1.0,
    temperatures: Tensor | None = None,
    lang: str = "en",
    title: str = "Temperature sweep",
) -> go.Figure:
    """Each chosen class's probability as T goes from 0.05 to 20 (log x), the current T marked.

    `classes` defaults to the top 5 by logit. The ranking of the lines never changes with T.
    """
    z = as_logits(logits).reshape(-1)
    temps = temperatures if temperatures is not None else temperature_grid()
    sweep = softmax_sweep(z, temps)
    chosen = list(classes) if classes is not None else top_k(z, 5).indices.tolist()
    fig = go.Figure()
    for name, i in zip(_names(labels, chosen), chosen, strict=True):
        fig.add_scatter(
            x=temps.tolist(),
            y=sweep[:, i].tolist(),
            mode="lines",
            name=name,
            hovertemplate=f"{name}<br>T %{{x:.3g}}<br>p %{{y:.2%}}<extra></extra>",
        )
    fig.add_vline(x=current_temperature, line_dash="dash", line_color="#444")
    fig.add_annotation(
        x=math.log10(current_temperature),
        y=1.0,
        yref="paper",
        text=f"T = {current_temperature:g}",
        showarrow=False,
        yanchor="bottom",
    )
    fig.update_layout(
        xaxis=_temperature_axis(lang),
        yaxis=dict(title=t("chart.softmax", lang), range=[0, 1], tickformat=".0%"),
    )
    return _layout(fig, title)


def _temperature_axis(lang: str) -> dict[str, object]:
    return dict(
        title=t("chart.temperature", lang),
        type="log",
        tickmode="array",
        tickvals=list(T_TICKS),
        ticktext=[f"{v:g}" for v in T_TICKS],
    )


def entropy_figure(
    logits: Tensor,
    *,
    current_temperature: float = 1.0,
    temperatures: Tensor | None = None,
    lang: str = "en",
    title: str = "Entropy vs temperature",
) -> go.Figure:
    """Entropy of softmax(z / T) in bits vs T (log x), with the uniform maximum log2(C) for scale."""
    z = as_logits(logits).reshape(-1)
    temps = temperatures if temperatures is not None else temperature_grid()
    h = entropy(softmax_sweep(z, temps), base=2)
    h_now = float(entropy(softmax(z.to(torch.float64), temperature=current_temperature), base=2))
    fig = go.Figure()
    fig.add_scatter(
        x=temps.tolist(),
        y=h.tolist(),
        mode="lines",
        name="entropy",
        line=dict(color=LOGIT_COLOUR),
        hovertemplate="T %{x:.3g}<br>H %{y:.3f} bits<extra></extra>",
    )
    fig.add_scatter(
        x=[current_temperature],
        y=[h_now],
        mode="markers",
        name=f"T = {current_temperature:g}",
        marker=dict(size=11, color=PROB_COLOUR),
        hovertemplate="current T %{x:.3g}<br>H %{y:.3f} bits<extra></extra>",
    )
    h_max = math.log2(z.numel())
    fig.add_hline(y=h_max, line_dash="dot", line_color=REFERENCE_COLOUR)
    fig.add_annotation(
        x=1.0,
        xref="paper",
        y=h_max,
        text=f"uniform: log2({z.numel()}) = {h_max:.2f} bits",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
    )
    fig.update_layout(
        xaxis=_temperature_axis(lang),
        yaxis=dict(title=t("chart.entropy_bits", lang), range=[0, h_max * 1.08 if h_max > 0 else 1]),
        showlegend=False,
    )
    return _layout(fig, title)


def scores_comparison_figure(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    top_n: int = 10,
    title: str = "Softmax vs sigmoid on the same logits",
) -> go.Figure:
    """Softmax probabilities next to independent sigmoid scores, with each one's sum in the legend."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    soft = softmax(z, temperature=temperature)
    sig = sigmoid(z, temperature=temperature)
    idx = top_k(z, top_n).indices.tolist()
    names = _names(labels, idx)
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=[float(soft[i]) for i in idx],
        name=f"softmax (sum {float(soft.sum()):.0%})",
        marker_color=PROB_COLOUR,
    )
    fig.add_bar(
        x=names,
        y=[float(sig[i]) for i in idx],
        name=f"sigmoid (sum {float(sig.sum()):.0%})",
        marker_color=SIGMOID_COLOUR,
    )
    fig.update_layout(barmode="group", yaxis=dict(title="score", range=[0, 1], tickformat=".0%"))
    return _layout(fig, title)


def pipeline_dot(*, example: bool = True) -> str:
    """The prediction pipeline as a Graphviz DOT graph (rendered by the home page)."""
    steps = [
        ("image", "image"),
        ("pre", "preprocess\\nresize · crop · normalise"),
        ("model", "model(x)"),
        ("logits", "logits z\\n(unnormalised scores)"),
        ("softmax", "softmax(z / T)\\nprobabilities, sum = 1"),
        ("topk", "top-k\\nvalues + indices"),
        ("labels", "index → label\\nEnglish · 中文 · yours"),
    ]
    if example:
        steps.append(("out", "1. espresso (95.7%)"))
    fill = {"softmax": "#FDE8E2"}  # the step this tool is about stands out
    nodes = "\n".join(
        f'  {key} [label="{text}", shape=box, style="rounded,filled", fillcolor="{fill.get(key, "#EEF0FB")}"];'
        for key, text in steps
    )
    edges = " -> ".join(key for key, _ in steps)
    return (
        "digraph pipeline {\n  rankdir=LR; bgcolor=transparent;\n"
        '  node [fontname="Helvetica", fontsize=11, color="#8891A8"]; edge [color="#8891A8"];\n'
        f"{nodes}\n  {edges};\n}}"
    )


# --- Logits Lab figures (added with pages/2_Logits_Lab.py) ------------------------------------

FILTER_K_COLOUR = "#636EFA"
FILTER_P_COLOUR = "#00A88F"


def _lab_text(key: str, lang: str, **params: object) -> str:
    return t(f"lab.chart.{key}", lang, **params)


def _top_with_rest(values: Sequence[Tensor], order: list[int], top_n: int) -> tuple[list[int], list[list[float]]]:
    """The first `top_n` indices of `order`, and each vector's values there plus the sum of the rest."""
    shown = order[:top_n]
    rest = order[top_n:]
    columns = []
    for v in values:
        column = [float(v[i]) for i in shown]
        if rest:
            column.append(float(v[rest].sum()))
        columns.append(column)
    return shown, columns


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
    keep_k = torch.zeros_like(probs, dtype=torch.bool)
    keep_k[top_k(z, k).indices] = True
    keep_p = top_p_mask(probs, top_p)
    order = torch.argsort(z, descending=True, stable=True).tolist()
    shown, (p, pk, pp) = _top_with_rest([probs, renormalise(probs, keep_k), renormalise(probs, keep_p)], order, top_n)
    names = _names(labels, shown)
    if len(order) > top_n:
        names.append(safe_text(_lab_text("other_n", lang, n=len(order) - top_n)))
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=p,
        name=_lab_text("p_all", lang),
        marker_color=REFERENCE_COLOUR,
        hovertemplate="%{x}<br>p %{y:.2%}<extra></extra>",
    )
    fig.add_bar(
        x=names,
        y=pk,
        name=_lab_text("after_top_k", lang, k=int(keep_k.sum())),
        marker_color=FILTER_K_COLOUR,
        hovertemplate="%{x}<br>top-k %{y:.2%}<extra></extra>",
    )
    fig.add_bar(
        x=names,
        y=pp,
        name=_lab_text("after_top_p", lang, p=f"{top_p:g}"),
        marker_color=FILTER_P_COLOUR,
        hovertemplate="%{x}<br>top-p %{y:.2%}<extra></extra>",
    )
    fig.add_scatter(
        x=names,
        y=list(torch.tensor(p, dtype=torch.float64).cumsum(0).tolist()),
        mode="lines+markers",
        name=_lab_text("cumulative", lang),
        line=dict(color="#444", dash="dot"),
        marker=dict(size=5),
        hovertemplate="%{x}<br>Σ %{y:.2%}<extra></extra>",
    )
    fig.add_hline(y=top_p, line_dash="dash", line_color=FILTER_P_COLOUR, opacity=0.7)
    fig.add_annotation(
        x=1.0,
        xref="paper",
        y=top_p,
        text=f"top-p = {top_p:g}",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font=dict(color=FILTER_P_COLOUR),
    )
    fig.update_layout(
        barmode="group", yaxis=dict(title=_lab_text("probability", lang), range=[0, 1.05], tickformat=".0%")
    )
    return _layout(fig, title)


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
    order = torch.argsort(p, descending=True, stable=True).tolist()
    shown, (expected, observed) = _top_with_rest([p, c / n], order, top_n)
    names = _names(labels, shown)
    if len(order) > top_n:
        names.append(safe_text(_lab_text("other_n", lang, n=len(order) - top_n)))
    counts_shown = [round(v * n) for v in observed]
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=expected,
        name=_lab_text("expected", lang),
        marker_color=REFERENCE_COLOUR,
        hovertemplate="%{x}<br>p %{y:.2%}<extra></extra>",
    )
    fig.add_bar(
        x=names,
        y=observed,
        name=_lab_text("observed", lang, n=f"{int(n):,}"),
        marker_color=PROB_COLOUR,
        customdata=counts_shown,
        hovertemplate="%{x}<br>%{y:.2%} (%{customdata} draws)<extra></extra>",
    )
    fig.update_layout(
        barmode="group", yaxis=dict(title=_lab_text("frequency", lang), tickformat=".0%", rangemode="tozero")
    )
    return _layout(fig, title)


def dim_softmax_figure(matrix: Tensor, *, lang: str = "en", title: str = "softmax over dim=0 and dim=1") -> go.Figure:
    """Two heatmaps of softmax(x, dim=0) and softmax(x, dim=1), cells annotated, with the sums that are 1.

    Column sums of the dim=0 map are written under its columns, row sums of the dim=1 map beside its rows.
    """
    from plotly.subplots import make_subplots

    x = as_logits(matrix).to(torch.float64)
    if x.ndim != 2:
        raise ValueError("dim_softmax_figure takes a 2-D matrix")
    rows, cols = x.shape
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.16, subplot_titles=(_lab_text("dim0", lang), _lab_text("dim1", lang))
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
            title_text=_lab_text("column", lang), tickvals=list(range(cols)), ticktext=ticks, row=1, col=col
        )
        fig.update_yaxes(
            title_text=_lab_text("row", lang) if col == 1 else None,
            tickvals=list(range(rows)),
            autorange="reversed",
            row=1,
            col=col,
        )
    fig = _layout(fig, title, height=max(260, 120 + 46 * rows))
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


def _legend_right(fig: go.Figure) -> go.Figure:
    """The legend beside the plot, so a long list of classes never hides the title."""
    fig.update_layout(legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top"))
    return fig


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
    return _legend_right(fig)
