"""core.checks, core.prediction.tables and core.charts: the checklist, the tables and the Plotly figures, torch as
the oracle."""

from __future__ import annotations

import math
import re

import plotly.graph_objects as go
import pytest
import torch

from core.charts.pipeline import pipeline_dot
from core.charts.prediction import (
    distribution_figure,
    entropy_figure,
    logits_vs_probs_figure,
    scores_comparison_figure,
    temperature_sweep_figure,
)
from core.checks import Check, run_checks, worst_status
from core.prediction.tables import full_table, prediction_lines, top_k_table

CJK = re.compile(r"[\u4e00-\u9fff]")
EVIL = "<img src=x onerror=alert(1)>"

LOGITS = torch.tensor([2.5, -1.0, 7.25, 0.0, 3.5, 7.0, -4.0, 1.25, 5.5, 0.5], dtype=torch.float64)
LABELS = [f"class {i}" for i in range(10)]


def real_logits(seed: int = 0, n: int = 1000) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=generator) * 3


def statuses(checks: list[Check]) -> dict[str, str]:
    return {check.name: check.status for check in checks}


def all_strings(value: object) -> list[str]:
    """Every string anywhere in a figure's JSON-like dict."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in all_strings(v)]
    return []


# ---------------------------------------------------------------- checks
def test_normal_logits_pass_every_check() -> None:
    z = real_logits()
    labels = [f"c{i}" for i in range(1000)]
    checks = run_checks(z, labels=labels, num_classes=1000)
    assert list(statuses(checks)) == [
        "logits_finite",
        "logits_varied",
        "not_probabilities",
        "softmax_sums_to_one",
        "top_k_in_labels",
        "label_count",
    ]
    assert set(statuses(checks).values()) == {"pass"}
    assert worst_status(checks) == "pass"
    varied = checks[1].values
    assert varied["max"] == pytest.approx(float(z.max())) and varied["min"] == pytest.approx(float(z.min()))
    assert checks[3].values["sum"] == pytest.approx(float(torch.softmax(z.double(), dim=-1).sum()), abs=1e-12)
    assert "1.000000" in checks[3].message
    assert checks[5].message == "1000 labels for 1000 classes."


def test_without_labels_the_label_checks_are_skipped() -> None:
    assert list(statuses(run_checks(LOGITS))) == [
        "logits_finite",
        "logits_varied",
        "not_probabilities",
        "softmax_sums_to_one",
    ]


@pytest.mark.parametrize(("bad", "nan", "inf"), [(float("nan"), 1, 0), (float("inf"), 0, 1), (float("-inf"), 0, 1)])
def test_non_finite_logits_fail_and_stop(bad: float, nan: int, inf: int) -> None:
    z = LOGITS.clone()
    z[3] = bad
    checks = run_checks(z, labels=LABELS)
    assert len(checks) == 1
    assert checks[0].name == "logits_finite" and checks[0].status == "fail"
    assert checks[0].values == {"nan": nan, "inf": inf, "n": 10}
    assert f"{nan} NaN" in checks[0].message
    assert worst_status(checks) == "fail"


@pytest.mark.parametrize("value", [0.0, 3.0, -2.5])
def test_constant_logits_fail(value: float) -> None:
    checks = run_checks(torch.full((1000,), value))
    assert statuses(checks)["logits_varied"] == "fail"
    assert f"{value:g}" in checks[1].message
    assert worst_status(checks) == "fail"


def test_probabilities_passed_as_logits_warn_double_softmax() -> None:
    probs = torch.softmax(real_logits(1, 100), dim=-1)
    checks = run_checks(probs, labels=[str(i) for i in range(100)])
    assert statuses(checks)["not_probabilities"] == "warn"
    warning = next(c for c in checks if c.name == "not_probabilities")
    assert "double softmax" in warning.message
    assert warning.values["sum"] == pytest.approx(1.0, abs=1e-5)
    assert worst_status(checks) == "warn"
    # softmax of probabilities is nearly flat: the symptom the warning explains
    assert float(torch.softmax(probs, dim=-1).max()) < 2 / 100


def test_wrong_label_count_fails() -> None:
    checks = run_checks(real_logits(), labels=["x"] * 999, num_classes=1000)
    assert statuses(checks)["label_count"] == "fail"
    count = next(c for c in checks if c.name == "label_count")
    assert count.values == {"labels": 999, "classes": 1000}
    assert "999 labels for 1000 classes" in count.message


def test_top_k_indices_outside_the_label_list_fail() -> None:
    # the two largest logits are classes 2 and 5; only 3 labels given
    checks = run_checks(LOGITS, labels=["a", "b", "c"], k=3)
    top = next(c for c in checks if c.name == "top_k_in_labels")
    assert top.status == "fail"
    expected_outside = [i for i in torch.topk(LOGITS, 3).indices.tolist() if i >= 3]
    assert top.values["outside"] == expected_outside == [5, 8]
    assert "[5, 8]" in top.message
    assert statuses(checks)["label_count"] == "fail"


def test_check_messages_in_chinese() -> None:
    cases = [
        run_checks(LOGITS, labels=LABELS, lang="zh"),
        run_checks(torch.tensor([1.0, float("nan")]), lang="zh"),
        run_checks(torch.full((5,), 2.0), labels=["a"], lang="zh"),
        run_checks(torch.tensor([0.25, 0.75]), lang="zh"),
    ]
    english = [
        run_checks(LOGITS, labels=LABELS),
        run_checks(torch.tensor([1.0, float("nan")])),
        run_checks(torch.full((5,), 2.0), labels=["a"]),
        run_checks(torch.tensor([0.25, 0.75])),
    ]
    for zh_checks, en_checks in zip(cases, english, strict=True):
        for zh, en in zip(zh_checks, en_checks, strict=True):
            assert (zh.name, zh.status, zh.values) == (en.name, en.status, en.values)
            assert CJK.search(zh.message), zh.message
            assert zh.message != en.message
    assert "双重 softmax" in next(c.message for c in cases[3] if c.name == "not_probabilities")


def test_worst_status_and_to_dict() -> None:
    ok = Check("a", "pass", "fine")
    warn = Check("b", "warn", "hmm", {"x": 1})
    fail = Check("c", "fail", "bad")
    assert worst_status([]) == "pass"
    assert worst_status([ok, ok]) == "pass"
    assert worst_status([ok, warn]) == "warn"
    assert worst_status([warn, fail, ok]) == "fail"
    assert warn.to_dict() == {"name": "b", "status": "warn", "message": "hmm", "values": {"x": 1}}


# ---------------------------------------------------------------- tables
@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_top_k_table_matches_torch(temperature: float) -> None:
    table = top_k_table(LOGITS, LABELS, k=4, temperature=temperature)
    values, indices = torch.topk(LOGITS, 4)
    p_t = torch.softmax(LOGITS / temperature, dim=-1)
    p_1 = torch.softmax(LOGITS, dim=-1)
    assert list(table.columns) == ["rank", "index", "label", "logit", "probability", "probability_t1", "cumulative"]
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert table["index"].tolist() == indices.tolist() == [2, 5, 8, 4]
    assert table["label"].tolist() == [LABELS[i] for i in indices.tolist()]
    assert table["logit"].tolist() == values.tolist()
    torch.testing.assert_close(torch.tensor(table["probability"].tolist(), dtype=torch.float64), p_t[indices])
    torch.testing.assert_close(torch.tensor(table["probability_t1"].tolist(), dtype=torch.float64), p_1[indices])
    torch.testing.assert_close(
        torch.tensor(table["cumulative"].tolist(), dtype=torch.float64), torch.cumsum(p_t[indices], dim=0)
    )


def test_top_k_table_second_language_and_missing_names() -> None:
    table = top_k_table(LOGITS, ["a", "b", "c"], k=3, other_labels=["甲", "乙", "丙", "丁", "戊", "己"])
    assert table["label"].tolist() == ["c", "#5", "#8"]
    assert table["label_2"].tolist() == ["丙", "己", "#8"]
    assert len(top_k_table(LOGITS, LABELS, k=50)) == 10  # k clipped to the class count


def test_prediction_lines_format() -> None:
    # logits log(p) give exactly p back
    z = torch.log(torch.tensor([0.957, 0.043], dtype=torch.float64))
    assert prediction_lines(top_k_table(z, ["espresso", "cup"], k=2)) == ["1. espresso (95.7%)", "2. cup (4.3%)"]
    lines = prediction_lines(top_k_table(LOGITS, LABELS, k=3))
    p = torch.softmax(LOGITS, dim=-1)
    assert lines == [f"{r}. class {i} ({float(p[i]) * 100:.1f}%)" for r, i in enumerate([2, 5, 8], start=1)]
    assert all(re.fullmatch(r"\d+\. .+ \(\d+\.\d%\)", line) for line in lines)


@pytest.mark.parametrize("temperature", [0.25, 1.0, 4.0])
def test_full_table_matches_torch(temperature: float) -> None:
    table = full_table(LOGITS, LABELS, temperature=temperature)
    assert len(table) == 10
    assert table["index"].tolist() == list(range(10))
    assert table["label"].tolist() == LABELS
    assert table["logit"].tolist() == LOGITS.tolist()
    expected_p = torch.softmax(LOGITS / temperature, dim=-1)
    expected_logp = torch.log_softmax(LOGITS / temperature, dim=-1)
    torch.testing.assert_close(torch.tensor(table["probability"].tolist(), dtype=torch.float64), expected_p)
    torch.testing.assert_close(torch.tensor(table["log_probability"].tolist(), dtype=torch.float64), expected_logp)
    order = torch.argsort(LOGITS, descending=True).tolist()
    ranks = table["rank"].tolist()
    assert [ranks[i] for i in order] == list(range(1, 11))
    assert ranks[2] == 1 and ranks[6] == 10


# ---------------------------------------------------------------- charts
@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_logits_vs_probs_figure_values(temperature: float) -> None:
    fig = logits_vs_probs_figure(LOGITS, LABELS, temperature=temperature, top_n=5)
    assert isinstance(fig, go.Figure)
    values, indices = torch.topk(LOGITS, 5)
    names = [LABELS[i] for i in indices.tolist()]
    logit_bar, prob_bar = fig.data[0], fig.data[1]
    assert list(logit_bar.x) == names and list(prob_bar.x) == names
    assert list(logit_bar.y) == values.tolist()
    torch.testing.assert_close(
        torch.tensor(prob_bar.y, dtype=torch.float64), torch.softmax(LOGITS / temperature, dim=-1)[indices]
    )
    assert prob_bar.yaxis == "y2" and logit_bar.yaxis == "y"
    if temperature == 1.0:
        assert len(fig.data) == 2  # no reference bar when it would repeat the probabilities
    else:
        assert len(fig.data) == 3
        assert fig.data[2].name == "probability (T = 1)"
        torch.testing.assert_close(
            torch.tensor(fig.data[2].y, dtype=torch.float64), torch.softmax(LOGITS, dim=-1)[indices]
        )
    assert len(logits_vs_probs_figure(LOGITS, LABELS, temperature=2.0, show_reference=False).data) == 2


def test_charts_escape_html_in_labels() -> None:
    labels = [EVIL, *LABELS[1:]]
    z = torch.zeros(10, dtype=torch.float64)
    z[0] = 9.0  # the evil label is the top class, so every chart shows it
    figures = [
        logits_vs_probs_figure(z, labels, temperature=2.0),
        distribution_figure(torch.softmax(z, dim=-1), labels),
        temperature_sweep_figure(z, labels),
        scores_comparison_figure(z, labels),
    ]
    for fig in figures:
        strings = all_strings(fig.to_plotly_json())
        assert not [s for s in strings if "<img" in s]
        assert any("&lt;img src=x onerror=alert(1)&gt;" in s for s in strings)
    assert figures[0].data[0].x[0] == "&lt;img src=x onerror=alert(1)&gt;"


def test_distribution_figure_is_sorted_descending() -> None:
    probs = torch.softmax(LOGITS, dim=-1)
    fig = distribution_figure(probs, LABELS)
    trace = fig.data[0]
    expected, order = torch.sort(probs, descending=True)
    assert list(trace.x) == list(range(1, 11))
    torch.testing.assert_close(torch.tensor(trace.y, dtype=torch.float64), expected)
    assert all(a >= b for a, b in zip(trace.y, trace.y[1:], strict=False))
    assert list(trace.text) == [LABELS[i] for i in order.tolist()]
    assert fig.layout.yaxis.type == "log"
    assert distribution_figure(probs, LABELS, log_scale=False).layout.yaxis.type == "linear"


def test_temperature_sweep_lines_equal_torch_softmax() -> None:
    temps = torch.tensor([0.1, 0.5, 1.0, 2.0, 10.0], dtype=torch.float64)
    fig = temperature_sweep_figure(LOGITS, LABELS, temperatures=temps, current_temperature=2.0)
    top5 = torch.topk(LOGITS, 5).indices.tolist()
    assert [trace.name for trace in fig.data] == [LABELS[i] for i in top5]
    for trace, index in zip(fig.data, top5, strict=True):
        assert list(trace.x) == temps.tolist()
        expected = torch.stack([torch.softmax(LOGITS / t, dim=-1)[index] for t in temps.tolist()])
        torch.testing.assert_close(torch.tensor(trace.y, dtype=torch.float64), expected)
    assert fig.layout.xaxis.type == "log"
    assert any(a.text == "T = 2" for a in fig.layout.annotations)
    chosen = temperature_sweep_figure(LOGITS, LABELS, classes=[6, 1], temperatures=temps)
    assert [trace.name for trace in chosen.data] == ["class 6", "class 1"]
    torch.testing.assert_close(
        torch.tensor(chosen.data[0].y, dtype=torch.float64),
        torch.stack([torch.softmax(LOGITS / t, dim=-1)[6] for t in temps.tolist()]),
    )


def test_entropy_figure_matches_categorical_entropy_in_bits() -> None:
    temps = torch.logspace(-1.5, 1.5, 15, dtype=torch.float64)
    fig = entropy_figure(LOGITS, temperatures=temps, current_temperature=0.7)
    curve, marker = fig.data[0], fig.data[1]

    def bits(t: float) -> float:
        dist = torch.distributions.Categorical(probs=torch.softmax(LOGITS / t, dim=-1))
        return float(dist.entropy()) / math.log(2)

    torch.testing.assert_close(
        torch.tensor(curve.y, dtype=torch.float64), torch.tensor([bits(t) for t in temps.tolist()], dtype=torch.float64)
    )
    assert list(marker.x) == [0.7]
    assert marker.y[0] == pytest.approx(bits(0.7), abs=1e-9)
    # entropy grows with T towards the uniform log2(10)
    assert all(a <= b + 1e-12 for a, b in zip(curve.y, curve.y[1:], strict=False))
    assert curve.y[-1] < math.log2(10)
    assert any(math.isclose(shape.y0, math.log2(10)) for shape in fig.layout.shapes)


def test_scores_comparison_sums_in_legend() -> None:
    fig = scores_comparison_figure(LOGITS, LABELS, top_n=10, temperature=1.5)
    soft, sig = fig.data
    expected_sig = torch.sigmoid(LOGITS / 1.5)
    assert soft.name == "softmax (sum 100%)"
    assert sig.name == f"sigmoid (sum {float(expected_sig.sum()):.0%})"
    assert sig.name == "sigmoid (sum 689%)"  # 0.84 + 0.34 + 0.99 + 0.5 + 0.91 + 0.99 + 0.07 + 0.70 + 0.98 + 0.58
    order = torch.topk(LOGITS, 10).indices
    torch.testing.assert_close(torch.tensor(soft.y, dtype=torch.float64), torch.softmax(LOGITS / 1.5, dim=-1)[order])
    torch.testing.assert_close(torch.tensor(sig.y, dtype=torch.float64), expected_sig[order])


@pytest.mark.parametrize("example", [True, False])
def test_pipeline_dot_is_valid_dot_with_every_step(example: bool) -> None:
    dot = pipeline_dot(example=example)
    assert dot.startswith("digraph pipeline {") and dot.rstrip().endswith("}")
    body = dot[dot.index("{") + 1 : dot.rindex("}")]
    assert "{" not in body and "}" not in body  # one flat graph
    assert dot.count('"') % 2 == 0
    # every node statement: id [label="...", attr=value, ...];
    node = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(?:, \w+=(?:"[^"]*"|\w+))*\];$')
    nodes = {m.group(1): m.group(2) for line in body.splitlines() if (m := node.match(line))}
    steps = ["image", "pre", "model", "logits", "softmax", "topk", "labels"] + (["out"] if example else [])
    assert list(nodes) == steps
    assert "softmax(z / T)" in nodes["softmax"] and "resize" in nodes["pre"] and "中文" in nodes["labels"]
    edges = [line.strip() for line in body.splitlines() if "->" in line]
    assert edges == [" -> ".join(steps) + ";"]
    if example:
        assert nodes["out"] == "1. espresso (95.7%)"
