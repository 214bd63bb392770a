"""The uncertainty figures, read through fig.data: every drawn number is the one core computed; strings in both
languages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from core.charts import uncertainty as charts
from core.i18n import STRINGS
from core.numerics import softmax
from core.uncertainty import calibration as cal
from core.uncertainty import conformal as cf
from core.uncertainty import ood
from core.uncertainty import selective as sel

ROOT = Path(__file__).resolve().parent.parent


def random_case(seed: int = 0, n: int = 600, classes: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, classes, generator=g, dtype=torch.float64) * 2
    return z, torch.multinomial(torch.softmax(z, 1), 1, generator=g).flatten()


def test_score_histogram_shares_sum_to_one_and_show_the_threshold() -> None:
    rng = np.random.default_rng(0)
    inside, outside = rng.normal(5, 1, 300), rng.normal(2, 1, 100)
    fig = charts.score_histogram_figure("energy", inside, outside, threshold=3.5, n_bins=20, lang="zh")
    bars = [trace for trace in fig.data if trace.type == "bar"]
    assert [b.name for b in bars] == ["分布内（已评估的数据集）", "分布外"]
    assert sum(bars[0].y) == pytest.approx(1.0) and sum(bars[1].y) == pytest.approx(1.0)
    assert sum(bars[0].customdata) == 300 and sum(bars[1].customdata) == 100
    assert fig.layout.shapes[0].x0 == 3.5 and "3.5" in fig.layout.annotations[0].text
    assert "能量" in fig.layout.xaxis.title.text


def test_roc_figure_draws_sklearn_curves_and_the_fpr95_points() -> None:
    z, _ = random_case()
    inside, outside = ood.ood_scores(z), ood.ood_scores(z * 0.3)
    found = ood.separations(inside, outside)
    fig = charts.roc_figure(found)
    lines = [trace for trace in fig.data if trace.mode == "lines"][1:]  # after the chance diagonal
    assert len(lines) == 4
    for line, sep in zip(lines, found.values(), strict=True):
        assert f"AUROC {sep.auroc:.3f}" in line.name
        assert sep.fpr.size <= charts.MAX_POINTS  # 1,200 images: drawn whole
        np.testing.assert_array_equal(line.x, sep.fpr)
        np.testing.assert_array_equal(line.y, sep.tpr)
    marks = [trace for trace in fig.data if trace.mode == "markers"]
    assert [m.x[0] for m in marks] == [sep.fpr95 for sep in found.values()] and all(m.y[0] == 0.95 for m in marks)


def test_risk_coverage_is_thinned_from_true_points_and_marks_the_threshold() -> None:
    z, y = random_case(1, n=5000)
    hit = sel.correct_predictions(z, y)
    msp = softmax(z).max(dim=1).values.numpy()
    curve = sel.risk_coverage(msp, hit)
    marked = sel.abstain(msp, hit, 0.6)
    fig = charts.risk_coverage_figure([("msp", curve)], marked=marked)
    line, point = fig.data
    assert len(line.x) <= charts.MAX_POINTS and line.x[0] == curve.coverage[0] and line.x[-1] == 1.0
    index = np.rint(np.asarray(line.x) * curve.n).astype(int) - 1
    np.testing.assert_array_equal(line.y, curve.risk[index])  # every drawn point is on the curve
    assert f"AURC {sel.aurc(curve):.4g}" in line.name
    assert point.x[0] == marked.coverage and point.y[0] == pytest.approx(curve.risk[marked.kept - 1], abs=1e-12)
    assert f"keep {marked.kept}" in point.name


def test_set_figures_show_the_tables() -> None:
    z, y = random_case(2)
    split = cf.split_conformal(z, y, method="aps", alpha=0.1, seed=0)
    histogram = cf.set_size_histogram(split.sets)
    fig = charts.set_size_figure(histogram)
    assert list(fig.data[0].x) == histogram["size"].tolist() and list(fig.data[0].y) == histogram["count"].tolist()
    table = cf.coverage_by_class(split.sets, split.targets, ["a", "b", "c", "d", "e", "f"])
    fig = charts.coverage_by_class_figure(table, alpha=0.1)
    assert list(fig.data[0].x) == table["label"].tolist() and list(fig.data[0].y) == table["coverage"].tolist()
    assert fig.layout.shapes[0].y0 == pytest.approx(0.9)
    colours = fig.data[0].marker.color
    assert all((c == charts.WRONG_COLOUR) == (v < 0.9) for c, v in zip(colours, table["coverage"], strict=True))
    by_t = cf.set_sizes_by_temperature(z, y, [0.5, 1.0, 2.0], method="aps")
    fig = charts.set_size_by_temperature_figure(by_t, alpha=0.1, current=1.5)
    sizes, empty, coverage = fig.data
    assert list(sizes.y) == by_t["mean_set_size"].tolist() and list(coverage.y) == by_t["coverage"].tolist()
    assert list(empty.y) == by_t["empty_share"].tolist() and fig.layout.xaxis.type == "log"
    assert [shape.x0 for shape in fig.layout.shapes if shape.x0 == shape.x1] == [1.5]  # the page's T
    assert list(fig.layout.yaxis2.tickvals) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_reliability_figures_show_the_tables() -> None:
    z, y = random_case(3)
    probs = softmax(z)
    confidence, predicted = probs.max(dim=1)
    table = cal.adaptive_calibration_table(confidence, predicted == y, n_bins=10)
    fig = charts.adaptive_reliability_figure(table)
    curve = fig.data[1]
    assert list(curve.x) == table["confidence"].tolist() and list(curve.y) == table["accuracy"].tolist()
    np.testing.assert_allclose(np.asarray(curve.x) - np.asarray(curve.error_x.arrayminus), table["lower"])
    gaps = fig.data[2]  # each equal-count bin's gap, by bin number, in the row below
    assert list(gaps.x) == list(range(1, len(table) + 1)) and list(gaps.y) == table["gap"].tolist()
    classwise = cal.classwise_calibration_table(z, y, n_bins=10)
    worst = cal.classwise_errors(classwise)
    fig = charts.classwise_reliability_figure(classwise, ["a", "b", "c", "d", "e", "f"], top=2)
    names = [trace.name for trace in fig.data if trace.type == "scatter" and trace.mode == "lines+markers"]
    expected = [f"{'abcdef'[c]} (ECE {e:.3f})" for c, e in zip(worst["class"][:2], worst["ece"][:2], strict=True)]
    assert names == expected


def test_every_uncertainty_string_is_used_defined_and_translated() -> None:
    source = (ROOT / "core" / "charts" / "uncertainty.py").read_text(encoding="utf-8")
    used = {f"unc.chart.{k}" for k in re.findall(r'unc_text\(\s*"([\w.]+)"', source)}
    assert used and used <= STRINGS.keys()
    for key, entry in STRINGS.items():
        if key.startswith("unc."):
            assert entry.get("en") and entry.get("zh"), key
            fields = [set(re.findall(r"{(\w+)", entry[lang])) for lang in ("en", "zh")]
            assert fields[0] == fields[1], key
    for name in ood.SCORE_NAMES:
        assert f"unc.score.{name}" in STRINGS
