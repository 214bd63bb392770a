"""Figures of the set-debugging tools: the embedding map and the many-classes confusion view.

Pure functions, numbers in and `go.Figure` out. The map is a WebGL scatter (`go.Scattergl`), so 50,000
points stay smooth; every point carries its row in the results as `customdata`, so a lasso, box or click
selection maps back to images whatever trace it hit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.common import RIGHT_COLOUR, WRONG_COLOUR, layout, safe_text
from core.diagnose.classes import ConfusionView
from core.i18n import t
from core.labels import label_of

MAX_CLASS_TRACES = 20  # above this many classes, the map colours runs of consecutive classes (a legend of 20)
MISTAKE_COLOUR = WRONG_COLOUR
ISSUE_COLOUR = "#222222"
_PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
    "#1F77B4", "#8C564B", "#2CA02C", "#D62728", "#9467BD", "#7F7F7F", "#BCBD22", "#17BECF", "#E377C2", "#393B79",
)  # fmt: skip


def _text(key: str, lang: str, **params: object) -> str:
    return t(f"diag.chart.{key}", lang, **params)


COLOUR_BY = ("true", "predicted", "correct", "confidence")


def class_groups(classes: np.ndarray, *, groups: int = MAX_CLASS_TRACES) -> np.ndarray:
    """Each class's colour group: itself when at most `groups` classes are present, else one of `groups` runs of
    consecutive class indices (for ImageNet, neighbouring indices are related classes: dogs, birds, ...)."""
    present = np.unique(classes)
    if len(present) <= groups:
        return np.searchsorted(present, classes)
    edges = present[np.linspace(0, len(present), groups + 1).astype(int)[1:-1]]
    return np.searchsorted(edges, classes, side="right")


def _point_size(n: int) -> int:
    return 6 if n <= 2_000 else 4 if n <= 20_000 else 3


def embedding_figure(
    coords: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    *,
    predictions: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    colour_by: str = "true",
    rows: np.ndarray | None = None,
    show_mistakes: bool = True,
    issues: np.ndarray | None = None,
    highlight: np.ndarray | None = None,
    lang: str = "en",
    title: str | None = None,
) -> go.Figure:
    """The 2-D map: a WebGL point layer coloured by `colour_by` (true class or predicted class, by class up to 20
    classes present and by runs of consecutive classes above; right/wrong; or the confidence, with a colour bar),
    with a legend; overlays drawn small and translucent above it: wrong predictions (`show_mistakes`), likely label
    errors (`issues`: rows) and the `highlight` rows.

    `coords` has one row per shown image; `rows` says which images they are (all, in order, by default), and
    `customdata` of every point is [row, true class, predicted class], so a lasso, box or click maps back to them.
    """
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {COLOUR_BY}, not {colour_by!r}")
    xy = np.asarray(coords, dtype=np.float64)
    which = np.arange(len(xy)) if rows is None else np.asarray(rows, dtype=np.int64)
    y_all = np.asarray(targets, dtype=np.int64)
    pred_all = y_all if predictions is None else np.asarray(predictions, dtype=np.int64)
    y, pred = y_all[which], pred_all[which]
    custom = np.stack([which, y, pred], axis=1)
    names = np.array([safe_text(label_of(labels, int(c))) for c in range(int(max(y_all.max(), pred_all.max())) + 1)])
    hover = _text("point_hover", lang)
    text = np.char.add(np.char.add(names[y].astype(str), " → "), names[pred].astype(str))
    size = _point_size(len(xy))
    fig = go.Figure()

    def points(members: np.ndarray, name: str, marker: dict[str, object], *, legend: bool = True) -> None:
        fig.add_trace(
            go.Scattergl(
                x=xy[members, 0],
                y=xy[members, 1],
                mode="markers",
                name=name,
                marker=marker,
                customdata=custom[members],
                text=text[members],
                hovertemplate=hover,
                showlegend=legend,
            )
        )

    if colour_by in ("true", "predicted"):
        classes = y if colour_by == "true" else pred
        group = class_groups(classes)
        for number in np.unique(group):
            members = np.flatnonzero(group == number)
            shown = np.unique(classes[members])
            name = str(names[shown[0]]) if len(shown) == 1 else f"{names[shown[0]]} … {names[shown[-1]]} ({len(shown)})"
            marker = dict(size=size, color=_PALETTE[int(number) % len(_PALETTE)], opacity=0.7)
            points(members, _text(f"by_{colour_by}", lang, name=name), marker)
    elif colour_by == "correct":
        right = pred == y
        points(np.flatnonzero(right), _text("right", lang), dict(size=size, color=RIGHT_COLOUR, opacity=0.6))
        points(np.flatnonzero(~right), _text("mistakes", lang), dict(size=size, color=WRONG_COLOUR, opacity=0.7))
    else:
        value = np.asarray(confidence if confidence is not None else np.ones(len(y_all)), dtype=np.float64)[which]
        bar = dict(title=dict(text=_text("confidence", lang)), tickformat=".0%", len=0.6, y=0.3)
        marker = dict(size=size, color=value, colorscale="Viridis", cmin=0, cmax=1, opacity=0.7, colorbar=bar)
        points(np.arange(len(xy)), _text("images", lang), marker)
    position = {int(r): i for i, r in enumerate(which)} if rows is not None else None

    def placed(selected: np.ndarray | None) -> np.ndarray:
        chosen = np.asarray(selected if selected is not None else [], dtype=np.int64)
        if position is None:
            return chosen
        return np.array([position[int(r)] for r in chosen if int(r) in position], dtype=np.int64)

    overlays = []
    if show_mistakes and colour_by != "correct":
        cross = dict(size=size + 3, symbol="x-thin", opacity=0.55, line=dict(width=1, color=MISTAKE_COLOUR))
        overlays.append(("mistakes", np.flatnonzero(pred != y), cross))
    ring = dict(size=size + 5, color="rgba(0,0,0,0)", opacity=0.7, line=dict(width=1, color=ISSUE_COLOUR))
    halo = dict(size=size + 9, color="rgba(0,0,0,0)", line=dict(width=2, color="#FFD400"))
    overlays += [("issues", placed(issues), ring), ("selected", placed(highlight), halo)]
    for key, members, marker in overlays:
        if len(members):
            points(members, _text(key, lang), marker)
    fig.update_layout(dragmode="lasso", xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False))
    layout(fig, title or _text("map", lang), height=600)
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02, itemsizing="constant"))
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
