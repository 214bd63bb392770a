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

from core.numerics import as_logits, entropy, sigmoid, softmax, softmax_sweep, temperature_grid, top_k

LOGIT_COLOUR = "#636EFA"
PROB_COLOUR = "#EF553B"
REFERENCE_COLOUR = "#B6B6B6"
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
    return [safe_text(labels[i]) if i < len(labels) else f"#{i}" for i in indices]


def logits_vs_probs_figure(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    top_n: int = 10,
    show_reference: bool = True,
    title: str = "Logits vs probabilities",
) -> go.Figure:
    """Paired bars for the top-N classes: logits on the left axis, softmax(z / T) on the right.

    With `show_reference` and T != 1, the probabilities at T = 1 appear as a third, grey bar.
    """
    z = as_logits(logits).reshape(-1).to(torch.float64)
    probs = softmax(z, temperature=temperature)
    idx = top_k(z, top_n).indices.tolist()
    names = _names(labels, idx)
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=[float(z[i]) for i in idx],
        name="logit",
        marker_color=LOGIT_COLOUR,
        offsetgroup="logit",
        yaxis="y",
        hovertemplate="%{x}<br>logit %{y:.4f}<extra></extra>",
    )
    fig.add_bar(
        x=names,
        y=[float(probs[i]) for i in idx],
        name=f"probability (T = {temperature:g})",
        marker_color=PROB_COLOUR,
        offsetgroup="prob",
        yaxis="y2",
        hovertemplate="%{x}<br>p %{y:.2%}<extra></extra>",
    )
    if show_reference and not math.isclose(temperature, 1.0):
        ref = softmax(z)
        fig.add_bar(
            x=names,
            y=[float(ref[i]) for i in idx],
            name="probability (T = 1)",
            marker_color=REFERENCE_COLOUR,
            offsetgroup="ref",
            yaxis="y2",
            hovertemplate="%{x}<br>p at T=1 %{y:.2%}<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        yaxis=dict(title=dict(text="logit", font=dict(color=LOGIT_COLOUR)), zeroline=True),
        yaxis2=dict(
            title=dict(text="probability", font=dict(color=PROB_COLOUR)),
            overlaying="y",
            side="right",
            range=[0, 1],
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
    title: str = "Whole distribution, sorted",
) -> go.Figure:
    """Every class's probability, sorted from most to least likely, on a log scale by default."""
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
        xaxis=dict(title="rank"),
        yaxis=dict(title="probability", type="log" if log_scale else "linear", exponentformat="power"),
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
        x=math.log10(current_temperature), y=1.0, yref="paper", text=f"T = {current_temperature:g}",
        showarrow=False, yanchor="bottom",
    )
    fig.update_layout(
        xaxis=dict(title="temperature T", type="log"),
        yaxis=dict(title="probability", range=[0, 1], tickformat=".0%"),
    )
    return _layout(fig, title)


def entropy_figure(
    logits: Tensor,
    *,
    current_temperature: float = 1.0,
    temperatures: Tensor | None = None,
    title: str = "Entropy vs temperature",
) -> go.Figure:
    """Entropy of softmax(z / T) in bits vs T (log x), with the uniform maximum log2(C) for scale."""
    z = as_logits(logits).reshape(-1)
    temps = temperatures if temperatures is not None else temperature_grid()
    h = entropy(softmax_sweep(z, temps), base=2)
    h_now = float(entropy(softmax(z.to(torch.float64), temperature=current_temperature), base=2))
    fig = go.Figure()
    fig.add_scatter(
        x=temps.tolist(), y=h.tolist(), mode="lines", name="entropy", line=dict(color=LOGIT_COLOUR),
        hovertemplate="T %{x:.3g}<br>H %{y:.3f} bits<extra></extra>",
    )
    fig.add_scatter(
        x=[current_temperature], y=[h_now], mode="markers", name=f"T = {current_temperature:g}",
        marker=dict(size=11, color=PROB_COLOUR),
        hovertemplate="current T %{x:.3g}<br>H %{y:.3f} bits<extra></extra>",
    )
    h_max = math.log2(z.numel())
    fig.add_hline(y=h_max, line_dash="dot", line_color=REFERENCE_COLOUR)
    fig.add_annotation(
        x=1.0, xref="paper", y=h_max, text=f"uniform: log2({z.numel()}) = {h_max:.2f} bits",
        showarrow=False, xanchor="right", yanchor="bottom",
    )
    fig.update_layout(
        xaxis=dict(title="temperature T", type="log"),
        yaxis=dict(title="entropy (bits)", range=[0, h_max * 1.08 if h_max > 0 else 1]),
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
    fig.add_bar(x=names, y=[float(soft[i]) for i in idx], name=f"softmax (sum {float(soft.sum()):.0%})",
                marker_color=PROB_COLOUR)
    fig.add_bar(x=names, y=[float(sig[i]) for i in idx], name=f"sigmoid (sum {float(sig.sum()):.0%})",
                marker_color="#00CC96")
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
    nodes = "\n".join(
        f'  {key} [label="{text}", shape=box, style="rounded,filled", fillcolor="{"#FDE8E2" if key == "softmax" else "#EEF0FB"}"];'
        for key, text in steps
    )
    edges = " -> ".join(key for key, _ in steps)
    return (
        "digraph pipeline {\n  rankdir=LR; bgcolor=transparent;\n"
        '  node [fontname="Helvetica", fontsize=11, color="#8891A8"]; edge [color="#8891A8"];\n'
        f"{nodes}\n  {edges};\n}}"
    )
