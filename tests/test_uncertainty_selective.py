"""Selective prediction against torch-uncertainty's AURC, ties against every order of the tied images, the
readouts and the abstain threshold by hand, the CLI summary on the held-out digits."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from torch_uncertainty.metrics.classification import AURC

from core.datasets.sources import digits_set
from core.errors import InputError
from core.evaluate.metrics import calibrate
from core.evaluate.result import EvalResult
from core.evaluate.run import evaluate
from core.models.registry import load_model
from core.numerics import softmax
from core.uncertainty import selective as sel
from core.uncertainty.ood import ood_scores


@pytest.fixture(scope="module")
def digits() -> EvalResult:
    return evaluate(load_model("digits_cnn", device=torch.device("cpu")), digits_set("test"), num_workers=0)


def reference_aurc(scores: np.ndarray, errors: np.ndarray) -> float:
    """torch-uncertainty's AURC of any confidence score, fed through its own state and compute()."""
    metric = AURC()
    metric.scores.append(torch.tensor(scores, dtype=torch.float64))
    metric.errors.append(torch.tensor(errors, dtype=torch.float64))
    with warnings.catch_warnings():  # "compute before update": the state was filled by hand, on purpose
        warnings.simplefilter("ignore", UserWarning)
        return float(metric.compute())


def random_case(seed: int, n: int = 3000, classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, classes, generator=g, dtype=torch.float64) * 2
    return z, torch.multinomial(torch.softmax(0.7 * z, 1), 1, generator=g).flatten()


def test_aurc_of_msp_equals_torch_uncertainty() -> None:
    for seed in range(3):
        z, y = random_case(seed)
        probs = softmax(z)
        metric = AURC()
        metric.update(probs, y)
        curve = sel.risk_coverage(probs.max(dim=1).values, sel.correct_predictions(z, y))
        # their coverage axis is float32 (torch.arange / n): agreement to ~1e-10, not to the last bit
        assert sel.aurc(curve) == pytest.approx(float(metric.compute()), abs=1e-8)


@pytest.mark.parametrize("name", ["max_logit", "energy"])
def test_aurc_of_logit_scores_equals_torch_uncertainty(name: str) -> None:
    z, y = random_case(4)
    hit = sel.correct_predictions(z, y)
    score = ood_scores(z)[name]
    assert sel.aurc(sel.risk_coverage(score, hit)) == pytest.approx(reference_aurc(score, ~hit), abs=1e-8)


def test_ties_are_the_mean_over_every_order_of_the_tied_images() -> None:
    confidence = np.array([0.9, 0.7, 0.7, 0.7, 0.5, 0.5, 0.2])
    correct = np.array([True, False, True, True, False, True, False])
    ours = sel.risk_coverage(confidence, correct)
    tied = [[1, 2, 3], [4, 5]]
    risks, areas = [], []
    for first in itertools.permutations(tied[0]):
        for second in itertools.permutations(tied[1]):
            order = [0, *first, *second, 6]
            errors = ~correct[order]
            risks.append(np.cumsum(errors) / np.arange(1, 8))
            areas.append(reference_aurc(np.arange(7, 0, -1.0), errors.astype(float)))  # that exact order
    np.testing.assert_allclose(ours.risk, np.mean(risks, axis=0), rtol=0, atol=1e-15)
    assert sel.aurc(ours) == pytest.approx(float(np.mean(areas)), abs=1e-8)


def test_curve_and_readouts_by_hand() -> None:
    curve = sel.risk_coverage(torch.tensor([0.6, 0.9, 0.7, 0.8]), torch.tensor([True, True, True, False]))
    np.testing.assert_allclose(curve.risk, [0.0, 0.5, 1 / 3, 1 / 4])
    np.testing.assert_allclose(curve.coverage, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.confidence, [0.9, 0.8, 0.7, 0.6])
    # trapezoids over [1/4, 1], divided by 3/4
    expected = ((0 + 0.5) / 2 + (0.5 + 1 / 3) / 2 + (1 / 3 + 1 / 4) / 2) * 0.25 / 0.75
    assert sel.aurc(curve) == pytest.approx(expected)
    assert sel.accuracy_at_coverage(curve, 0.25) == 1.0
    assert sel.accuracy_at_coverage(curve, 0.3) == 0.5  # ceil(0.3 · 4) = 2 kept
    assert sel.accuracy_at_coverage(curve, 1.0) == 0.75
    assert sel.coverage_at_accuracy(curve, 0.75) == 1.0
    assert sel.coverage_at_accuracy(curve, 0.7) == 1.0
    assert sel.coverage_at_accuracy(curve, 0.9) == 0.25
    wrong_first = sel.risk_coverage([0.9, 0.1], [False, True])
    assert sel.coverage_at_accuracy(wrong_first, 0.9) == 0.0
    assert math.isnan(sel.aurc(sel.risk_coverage([0.5], [True])))
    for bad in (0.0, 1.2):
        with pytest.raises(InputError):
            sel.accuracy_at_coverage(curve, bad)
    with pytest.raises(InputError):
        sel.risk_coverage([0.5, 0.2], [True])


def test_abstain_by_hand() -> None:
    confidence = np.array([0.95, 0.40, 0.80, 0.55, 0.80])
    correct = np.array([True, False, True, True, False])
    result = sel.abstain(confidence, correct, 0.8)
    assert (result.kept, result.abstained, result.coverage) == (3, 2, 0.6)
    assert result.accuracy == pytest.approx(2 / 3) and result.abstained_accuracy == 0.5
    assert sel.abstained_images(confidence, 0.8).tolist() == [1, 3]  # least confident first
    none_kept = sel.abstain(confidence, correct, 1.0)
    assert none_kept.kept == 0 and math.isnan(none_kept.accuracy)


def test_summary_on_the_digits(digits: EvalResult) -> None:
    z, y = digits.logits, digits.targets
    fit = calibrate(z, y)
    summary = sel.selective_summary(z, y, fitted_temperature=fit.temperature)
    assert list(summary) == ["aurc", "aurc_fitted_t", "fitted_temperature", "aurc_max_logit", "aurc_energy"]
    hit = sel.correct_predictions(z, y)
    scores, fitted = ood_scores(z), ood_scores(z, temperature=fit.temperature)
    assert summary["aurc"] == sel.aurc(sel.risk_coverage(scores["msp"], hit))
    assert summary["aurc_fitted_t"] == sel.aurc(sel.risk_coverage(fitted["msp"], hit))
    assert summary["aurc_energy"] == sel.aurc(sel.risk_coverage(scores["energy"], hit))
    # fitting T here gives the same T as calibrate()
    assert sel.selective_summary(z, y)["fitted_temperature"] == pytest.approx(fit.temperature)
    error = 1 - float(hit.mean())
    # a useful ranking: far below the error rate (what a random order would give), above the perfect one
    best = sel.aurc(sel.risk_coverage(hit.astype(float), hit))
    for key in ("aurc", "aurc_fitted_t", "aurc_max_logit", "aurc_energy"):
        assert best <= summary[key] < error / 2
    # the digits' scores have no ties (float32 logits, float64 scores), so torch-uncertainty's numbers are ours
    errors = (~hit).astype(float)
    for key, values in [("aurc", scores["msp"]), ("aurc_fitted_t", fitted["msp"]), ("aurc_energy", scores["energy"])]:
        assert np.unique(values).size == values.size
        assert summary[key] == pytest.approx(reference_aurc(values, errors), abs=1e-8)


def test_threshold_stops_are_real_values_at_even_shares() -> None:
    values = np.arange(1001, dtype=np.float64)[::-1]  # 1000 .. 0, any order
    stops = sel.threshold_stops(values, steps=10)
    np.testing.assert_array_equal(stops, np.arange(0, 1001, 100))
    # abstaining below the stop at share q drops exactly q of the images when no two values tie
    assert sel.abstain(values, np.ones(1001, bool), float(stops[3])).abstained == 300
    tied = np.array([0.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])  # an over-confident model's 1.0s
    np.testing.assert_array_equal(sel.threshold_stops(tied, steps=100), [0.2, 1.0])
    with pytest.raises(InputError):
        sel.threshold_stops([])
