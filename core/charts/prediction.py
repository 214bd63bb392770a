"""Figures of one prediction: logits vs probabilities, the whole distribution, the temperature sweep,
entropy vs T, softmax vs sigmoid, and the Image Inspector's set of four (`prediction_figures`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from torch import Tensor

from core.charts.common import (
    LOGIT_COLOUR,
    PROB_COLOUR,
    REFERENCE_COLOUR,
    SIGMOID_COLOUR,
    label_names,
    layout,
    legend_below_long,
    level_line,
    temperature_axis,
)
from core.i18n import t
from core.numerics import (
    ScoreKind,
    as_logits,
    entropy,
    order,
    sigmoid,
    softmax,
    softmax_sweep,
    temperature_grid,
    top_k,
)
from core.numerics import (
    scores as score_values,
)


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
    names = label_names(labels, idx)
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
    return layout(fig, title)


def drawn_ranks(size: int, *, max_points: int = 1000, head: int = 200) -> Tensor:
    """0-based ranks to draw of a sorted curve of `size` points: all of them up to `max_points`, else the
    first `head` and log-spaced ones after (unique, ascending, the last rank included)."""
    if size <= max_points:
        return torch.arange(size)
    tail = torch.logspace(math.log10(head + 1), math.log10(size), max_points - head, dtype=torch.float64)
    return torch.unique(torch.cat([torch.arange(head), tail.round().long().clamp(max=size) - 1]))


def distribution_figure(
    probs: Tensor,
    labels: Sequence[str],
    *,
    log_scale: bool = True,
    scores: str = "softmax",
    lang: str = "en",
    title: str = "Whole distribution, sorted",
    max_points: int = 1000,
) -> go.Figure:
    """Every class's probability (or sigmoid score), sorted from most to least likely, log scale by default.

    Over `max_points` classes, the first ranks are all drawn and the rest at log-spaced ranks (the last one
    included), so 50,000 classes cost a thousand points, not fifty thousand, and the curve looks the same.
    """
    p = as_logits(probs, name="probabilities").reshape(-1).to(torch.float64)
    ordered = order(p)
    positions = drawn_ranks(len(ordered), max_points=max_points)
    ranked = ordered[positions].tolist()
    fig = go.Figure(
        go.Scatter(
            x=(positions + 1).tolist(),
            y=p[ordered[positions]].tolist(),
            mode="lines+markers" if len(ranked) <= 50 else "lines",
            text=label_names(labels, ranked),
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
    return layout(fig, title)


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
    for name, i in zip(label_names(labels, chosen), chosen, strict=True):
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
        xaxis=temperature_axis(lang),
        yaxis=dict(title=t("chart.softmax", lang), range=[0, 1], tickformat=".0%"),
    )
    return layout(fig, title)


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
    level_line(fig, h_max, f"uniform: log2({z.numel()}) = {h_max:.2f} bits", colour=REFERENCE_COLOUR, dash="dot")
    fig.update_layout(
        xaxis=temperature_axis(lang),
        yaxis=dict(title=t("chart.entropy_bits", lang), range=[0, h_max * 1.08 if h_max > 0 else 1]),
        showlegend=False,
    )
    return layout(fig, title)


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
    names = label_names(labels, idx)
    fig = go.Figure()
    for kind, values, colour in (("softmax", soft, PROB_COLOUR), ("sigmoid", sig, SIGMOID_COLOUR)):
        fig.add_bar(
            x=names,
            y=[float(values[i]) for i in idx],
            name=f"{kind} (sum {float(values.sum()):.0%})",
            marker_color=colour,
        )
    fig.update_layout(barmode="group", yaxis=dict(title="score", range=[0, 1], tickformat=".0%"))
    return layout(fig, title)


def prediction_figures(
    logits: Tensor,
    labels: Sequence[str],
    *,
    k: int = 5,
    temperature: float = 1.0,
    scores: ScoreKind = "softmax",
    lang: str = "en",
) -> dict[str, go.Figure]:
    """The four charts of one prediction, titled in `lang`.

    Keys: "bars" (logits vs probabilities of the top-k, or softmax vs sigmoid in the sigmoid view),
    "distribution" (every class, sorted, log scale), "sweep" (top classes' probability vs T),
    "entropy" (entropy vs T).
    """
    z = as_logits(logits).reshape(-1).to(torch.float64)
    top_n = max(1, min(k, z.numel()))
    if scores == "sigmoid":
        bars = scores_comparison_figure(
            z,
            labels,
            temperature=temperature,
            top_n=top_n,
            title=t("inspector.chart.softmax_vs_sigmoid", lang, k=top_n),
        )
    else:
        bars = logits_vs_probs_figure(
            z,
            labels,
            temperature=temperature,
            top_n=top_n,
            lang=lang,
            title=t("inspector.chart.bars", lang, k=top_n, temperature=temperature),
        )
    distribution = distribution_figure(
        score_values(z, kind=scores, temperature=temperature),
        labels,
        scores=scores,
        lang=lang,
        title=t(f"inspector.chart.distribution.{scores}", lang, n=z.numel(), temperature=temperature),
    )
    sweep = temperature_sweep_figure(
        z,
        labels,
        classes=top_k(z, min(top_n, 5)).indices.tolist(),
        current_temperature=temperature,
        lang=lang,
        title=t("inspector.chart.sweep", lang),
    )
    ent = entropy_figure(z, current_temperature=temperature, lang=lang, title=t("inspector.chart.entropy", lang))
    # the legend on its own line between the title and the plot, so a third entry (T = 1) never hits the title
    bars.update_layout(legend=dict(yanchor="bottom", y=1.02, xanchor="left", x=0.0), margin=dict(t=95))
    distribution.update_layout(margin=dict(t=95))  # same top as the bars beside it, so the two plots line up
    values = [v for v in distribution.data[0].y if v > 0]
    if values and math.log10(max(values) / min(values)) >= 1:
        distribution.update_yaxes(dtick=1)  # one label per power of ten, no stray "2" and "5" in between
    return {
        "bars": bars,
        "distribution": distribution,
        "sweep": legend_below_long(sweep),
        "entropy": ent,
    }


def class_sweep_figure(
    logits: Tensor, labels: Sequence[str], classes: Sequence[int], *, temperature: float, lang: str = "en"
) -> go.Figure:
    """Top-1 and class X's probability vs T: the lines never cross, whatever T."""
    chosen = list(dict.fromkeys(classes))
    return temperature_sweep_figure(
        logits,
        labels,
        classes=chosen,
        current_temperature=temperature,
        lang=lang,
        title=t("inspector.chart.class_sweep", lang),
    )
