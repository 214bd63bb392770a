"""The reports' doubt sections: the evaluation report's abstaining, prediction sets, outside images and calibration
depth, and the inspector report's per-image scores (with percentiles and the prediction set when given), every
number core's on the same logits; still one self-contained, escaped file."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
import torch

from core.analysis import analyse
from core.evaluate.metrics import calibrate
from core.evaluate.rescore import Rescorer
from core.evaluate.result import EvalResult
from core.models.labels import spec_labels
from core.report.doubt import DoubtSettings, ImageDoubt, score_text
from core.report.evaluation import evaluation_report
from core.report.inspector import inspector_report
from core.uncertainty.calibration import (
    adaptive_calibration_table,
    adaptive_ece,
    classwise_calibration_table,
    classwise_ece,
)
from core.uncertainty.conformal import calibrate_sets, set_for_image, split_conformal
from core.uncertainty.ood import ood_scores, ood_scores_record, score_percentiles, separations
from core.uncertainty.selective import abstain, aurc, correct_predictions, risk_coverage
from tests.test_report import _external_references

WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LABELS = [f"class {i}" for i in range(6)]


@pytest.fixture(scope="module")
def evaluation() -> EvalResult:
    generator = torch.Generator().manual_seed(1)
    targets = torch.randint(0, 6, (200,), generator=generator)
    logits = torch.randn(200, 6, generator=generator) * 2
    logits[torch.arange(200), targets] += 2.5
    return EvalResult(tuple(f"img_{i:03d}.png" for i in range(200)), targets, logits, model="toy", source="set.zip")


def section(page: str, title: str) -> str:
    start = page.index(f"<h2>{title}</h2>")
    end = page.find("<section", start)
    return page[start : end if end > 0 else None]


def test_evaluation_report_carries_the_four_doubt_sections(evaluation: EvalResult) -> None:
    z, y = evaluation.logits, evaluation.targets
    outside = torch.randn(50, 6, generator=torch.Generator().manual_seed(9))
    fitted = calibrate(z, y).temperature
    settings = DoubtSettings(
        method="aps", alpha=0.2, seed=3, abstain_score="msp", abstain_threshold=0.8, outside=outside,
        outside_source="<b>outside</b>.zip",
    )  # fmt: skip
    page = evaluation_report(evaluation, LABELS, temperature=1.5, doubt=settings, generated=WHEN)
    assert _external_references(page) == [] and "<b>outside</b>" not in page and "&lt;b&gt;outside" in page

    abstaining = section(page, "Abstaining")
    hit = correct_predictions(z, y)
    msp = ood_scores(z)["msp"]
    assert f'<td class="num">{aurc(risk_coverage(msp, hit)):.5f}</td>' in abstaining
    fitted_msp = ood_scores(z, temperature=fitted)["msp"]
    assert f"{aurc(risk_coverage(fitted_msp, hit)):.5f}" in abstaining
    kept = abstain(msp, hit, 0.8)
    assert f"{kept.kept} kept at {kept.accuracy:.2%} accuracy, {kept.abstained} abstained on" in abstaining
    assert abstaining.count('class="chart"') == 1

    sets = section(page, "Prediction sets")
    split = split_conformal(z, y, method="aps", alpha=0.2, temperature=1.5, seed=3)
    assert f"{split.calibration.threshold:.6g}" in sets and f"{split.coverage:.2%}" in sets
    assert f"{split.mean_set_size:.2f}" in sets and "APS" in sets and sets.count('class="chart"') == 2

    apart = section(page, "Outside images")
    found = separations(ood_scores(z, temperature=1.5), ood_scores(outside, temperature=1.5))
    assert all(f"{found[name].auroc:.4f}" in apart for name in found)
    assert "200 inside images against 50 outside" in apart

    depth = section(page, "Calibration depth")
    now = Rescorer(evaluation).at(1.5)
    adaptive = adaptive_ece(adaptive_calibration_table(now.confidence, now.correct, n_bins=15))
    classwise = classwise_ece(classwise_calibration_table(z, y, temperature=1.5, n_bins=15))
    assert f"{adaptive:.2%}" in depth and f"{classwise:.3%}" in depth and depth.count('class="chart"') == 2

    # without an outside set there is no such section; the defaults are LAC at 90%
    plain = evaluation_report(evaluation, LABELS, generated=WHEN)
    assert "<h2>Outside images</h2>" not in plain
    lac = split_conformal(z, y, method="lac", alpha=0.1, seed=0)
    assert f"{lac.calibration.threshold:.6g}" in section(plain, "Prediction sets")


def test_a_one_image_report_says_which_sections_are_unavailable() -> None:
    one = EvalResult(("a.png",), torch.tensor([2]), torch.randn(1, 6), model="toy")
    page = evaluation_report(one, LABELS, generated=WHEN)
    assert "Unavailable: needs at least 2 images (a calibration and a test half)" in section(page, "Prediction sets")
    assert "Unavailable: needs at least 2 images" in section(page, "Abstaining")
    assert "Adaptive ECE" in section(page, "Calibration depth")


def test_inspector_report_scores_percentiles_and_set(lite0, sample, evaluation: EvalResult) -> None:
    result = analyse(lite0, "coffee.png", sample("coffee").read_bytes())
    labels = spec_labels(lite0.spec)
    page = inspector_report([result], labels, model="m", temperature=2.0, generated=WHEN)
    record = ood_scores_record(result.logits, 2.0)
    part = page[page.index("Is this like what the model knows?") :]
    assert all(f"{score_text(name, value)}</td>" in part for name, value in record.items())
    assert "No reference" in part and " set: {" not in part
    # with a reference (in-distribution images' scores at the same T) and calibrated sets
    generator = torch.Generator().manual_seed(4)
    reference_logits = torch.randn(300, 1000, generator=generator) * 3
    targets = reference_logits.argmax(1)
    reference = ood_scores(reference_logits, temperature=2.0)
    calibration = calibrate_sets(reference_logits, targets, method="lac", alpha=0.1, temperature=2.0)
    doubt = ImageDoubt(reference, "ref<set>", calibration, "cal<set>")
    page = inspector_report([result], labels, model="m", temperature=2.0, generated=WHEN, doubt=doubt)
    part = page[page.index("Is this like what the model knows?") :]
    found = score_percentiles(record, reference)
    cells = re.findall(r'<td class="num">([^<]*)</td>', part)
    for name in record:
        assert f"{found[name]:.1f}" in cells
    members = set_for_image(calibration, result.logits, labels)
    assert f"90% set: {{{', '.join(label for _, label, _ in members)}}} · size {len(members)}" in part
    assert "ref&lt;set&gt;" in part and "cal&lt;set&gt;" in part and "<set>" not in part
    assert np.isclose(record["msp"], torch.softmax(result.logits.double() / 2.0, 0).max().item(), rtol=1e-12)
