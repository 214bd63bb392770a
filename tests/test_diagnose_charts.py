"""Figures of the set-debugging tools, tested through `fig.data`: the WebGL map and the confusion view."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.diagnose import MAX_CLASS_TRACES, confusion_view_figure, embedding_figure, selected_rows
from core.diagnose.classes import most_confused


def test_map_is_webgl_coloured_by_class_with_mistakes_and_issues_marked() -> None:
    coords = np.arange(12, dtype=float).reshape(6, 2)
    targets = np.array([0, 0, 1, 1, 2, 2])
    predictions = np.array([0, 1, 1, 1, 2, 0])
    fig = embedding_figure(coords, targets, ["zero", "one", "<b>two</b>"], predictions=predictions, issues=[5])
    assert all(isinstance(trace, go.Scattergl) for trace in fig.data)
    names = [trace.name for trace in fig.data]
    assert names == [
        "true: zero",
        "true: one",
        "true: &lt;b&gt;two&lt;/b&gt;",  # a label is text, never markup
        "wrong prediction",
        "likely label error (ring)",
    ]
    by_class = {trace.name: [int(c[0]) for c in trace.customdata] for trace in fig.data}
    assert by_class["true: zero"] == [0, 1] and by_class["wrong prediction"] == [1, 5]
    assert by_class["likely label error (ring)"] == [5]
    assert list(fig.data[3].x) == [coords[1, 0], coords[5, 0]]
    assert fig.layout.dragmode == "lasso"


def test_many_classes_become_runs_of_consecutive_classes_with_a_legend() -> None:
    n = 3 * MAX_CLASS_TRACES
    fig = embedding_figure(np.zeros((n, 2)), np.arange(n), [str(i) for i in range(n)])
    assert len(fig.data) == MAX_CLASS_TRACES  # one legend entry per run of 3 consecutive classes
    assert [t.name for t in fig.data[:2]] == ["true: 0 … 2 (3)", "true: 3 … 5 (3)"]
    rows = sorted(int(c[0]) for trace in fig.data for c in trace.customdata)
    assert rows == list(range(n))  # every point drawn once, each mapping back to its row
    assert all({int(c[1]) // 3 for c in t.customdata} == {i} for i, t in enumerate(fig.data))


def test_selected_rows_from_a_streamlit_event() -> None:
    event = {"selection": {"points": [{"customdata": [4, 1, 1]}, {"customdata": [2, 0, 0]}, {"customdata": [4, 1, 1]}]}}
    assert selected_rows(event) == [4, 2]
    assert selected_rows({"selection": {"points": []}}) == [] and selected_rows(None) == []
    # what the browser sends for numpy customdata (a typed array becomes an index-keyed object)
    typed = {"selection": {"points": [{"customdata": {"0": 7, "1": 3, "2": 3}}, {"x": 1.0}]}}
    assert selected_rows(typed) == [7]


def test_confusion_view_with_other_and_log_colour() -> None:
    matrix = np.diag([50, 40, 30]).astype(np.int64)
    matrix[0, 1] = 9
    view = most_confused(matrix, top=2)
    fig = confusion_view_figure(view, ["a", "b", "c"], log_colour=True)
    heat = fig.data[0]
    assert list(heat.x) == ["a", "b", "other"] and list(heat.y) == ["a", "b", "other"]
    assert heat.customdata[0][1] == 9 and heat.z[0][1] == np.log10(10)
    share = confusion_view_figure(view, ["a", "b", "c"]).data[0]
    assert share.z[0][1] == 9 / 59 and share.zmax == 1.0
