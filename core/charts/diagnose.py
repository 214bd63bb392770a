"""Figures of the set-debugging tools: the embedding map and the many-classes confusion view.

Pure functions, numbers in and `go.Figure` out. The map is a WebGL scatter (`go.Scattergl`), so 50,000
points stay smooth; every point carries its row in the results as `customdata`, so a lasso, box or click
selection maps back to images whatever trace it hit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.common import WRONG_COLOUR, layout, safe_text
from core.diagnose.classes import ConfusionView
from core.i18n import t
from core.labels import label_of

MAX_CLASS_TRACES = 20  # above this many classes, one trace coloured by class index (no legend)
MISTAKE_COLOUR = WRONG_COLOUR
ISSUE_COLOUR = "#222222"
_PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
    "#1F77B4", "#8C564B", "#2CA02C", "#D62728", "#9467BD", "#7F7F7F", "#BCBD22", "#17BECF", "#E377C2", "#393B79",
)  # fmt: skip


def _text(key: str, lang: str, **params: object) -> str:
    return t(f"diag.chart.{key}", lang, **params)


def embedding_figure(
    coords: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    *,
    predictions: np.ndarray | None = None,
    issues: np.ndarray | None = None,
    highlight: np.ndarray | None = None,
    lang: str = "en",
    title: str | None = None,
) -> go.Figure:
    """The 2-D map: one point per image coloured by true class; wrong predictions ringed in red and
    likely label errors marked with a black cross (`issues`: row indices); `highlight` rows enlarged.

    `customdata` of every point is [row, true class, predicted class]."""
    xy = np.asarray(coords, dtype=np.float64)
    y = np.asarray(targets, dtype=np.int64)
    pred = y if predictions is None else np.asarray(predictions, dtype=np.int64)
    rows = np.arange(len(y))
    custom = np.stack([rows, y, pred], axis=1)
    names = np.array([safe_text(label_of(labels, int(c))) for c in range(int(max(y.max(), pred.max())) + 1)])
    hover = _text("point_hover", lang)
    text = [f"{names[a]} → {names[b]}" for a, b in zip(y, pred, strict=True)]
    fig = go.Figure()
    present = np.unique(y)
    if len(present) <= MAX_CLASS_TRACES:
        for number, c in enumerate(present):
            members = y == c
            fig.add_trace(
                go.Scattergl(
                    x=xy[members, 0],
                    y=xy[members, 1],
                    mode="markers",
                    name=str(names[c]),
                    marker=dict(size=6, color=_PALETTE[number % len(_PALETTE)], opacity=0.8),
                    customdata=custom[members],
                    text=[text[i] for i in np.flatnonzero(members)],
                    hovertemplate=hover,
                )
            )
    else:
        fig.add_trace(
            go.Scattergl(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="markers",
                name=_text("images", lang),
                marker=dict(size=5, color=y, colorscale="Turbo", opacity=0.8, showscale=False),
                customdata=custom,
                text=text,
                hovertemplate=hover,
            )
        )
    ring = dict(size=10, color="rgba(0,0,0,0)", line=dict(width=1.5, color=MISTAKE_COLOUR))
    cross = dict(size=9, symbol="x-thin", line=dict(width=2, color=ISSUE_COLOUR))
    halo = dict(size=12, color="rgba(0,0,0,0)", line=dict(width=2, color="#FFD400"))
    overlays = (
        ("mistakes", np.flatnonzero(pred != y), ring),
        ("issues", np.asarray(issues if issues is not None else [], dtype=np.int64), cross),
        ("selected", np.asarray(highlight if highlight is not None else [], dtype=np.int64), halo),
    )
    for key, which, marker in overlays:
        if len(which):
            fig.add_trace(
                go.Scattergl(
                    x=xy[which, 0],
                    y=xy[which, 1],
                    mode="markers",
                    name=_text(key, lang),
                    marker=marker,
                    customdata=custom[which],
                    text=[text[i] for i in which],
                    hovertemplate=hover,
                )
            )
    fig.update_layout(dragmode="lasso", xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False))
    layout(fig, title or _text("map", lang), height=560)
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02))
    return fig


def selected_rows(selection: object) -> list[int]:
    """Rows picked on the map, from Streamlit's `on_select` event (or its "selection" dict), in order."""
    points: list[object] = []
    if isinstance(selection, dict):
        inner = selection.get("selection", selection)
        points = list(inner.get("points", [])) if isinstance(inner, dict) else []
    rows: dict[int, None] = {}
    for point in points:
        data = point.get("customdata") if isinstance(point, dict) else None
        # a list, or (numpy customdata sent as a typed array) a dict {"0": row, "1": ..., ...}
        first = data.get("0", data.get(0)) if isinstance(data, dict) else data[0] if data else None
        if isinstance(first, int | float):
            rows[int(first)] = None
    return list(rows)


def confusion_view_figure(
    view: ConfusionView, labels: Sequence[str], *, log_colour: bool = False, lang: str = "en", title: str | None = None
) -> go.Figure:
    """Heatmap of a `ConfusionView` (rows true, columns predicted), annotated with counts; coloured by
    the share of the row, or by log10(1 + count) with `log_colour` (small confusions stay visible)."""
    counts = np.asarray(view.counts, dtype=np.int64)
    names = [label_of(labels, c) for c in view.classes]
    # a heatmap axis merges equal names: tell repeated ones apart by index
    names = [n if names.count(n) == 1 else f"{n} (#{c})" for n, c in zip(names, view.classes, strict=True)]
    if view.has_other:
        names.append(_text("other", lang))
    names = [safe_text(n) for n in names]
    if log_colour:
        z = np.log10(1 + counts)
        bar = _text("log_count", lang)
        zmax = float(z.max()) if z.size else 1.0
    else:
        z = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        bar = _text("row_share", lang)
        zmax = 1.0
    side = len(names)
    fig = go.Figure(
        go.Heatmap(
            z=z.tolist(),
            x=names,
            y=names,
            text=[[str(v) if v else "" for v in row] for row in counts.tolist()],
            texttemplate="%{text}" if side <= 30 else None,
            customdata=counts.tolist(),
            colorscale="Blues",
            zmin=0,
            zmax=max(zmax, 1e-9),
            colorbar=dict(title=dict(text=bar)),
            hovertemplate=_text("cell_hover", lang),
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(
        xaxis=dict(title=_text("predicted", lang), tickangle=-45 if side > 8 else 0, type="category"),
        yaxis=dict(title=_text("true", lang), autorange="reversed", type="category"),
    )
    return layout(
        fig, title or _text("confusion", lang, n=len(view.classes)), height=min(900, max(360, 160 + 26 * side))
    )
