"""Adaptive and classwise ECE against torch-uncertainty on the same logits, and their tables by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_uncertainty.metrics.classification import AdaptiveCalibrationError
from torch_uncertainty.metrics.classification.calibration.classwise_calibration_error import (
    ClasswiseCalibrationError,
)

from core.datasets.sources import digits_set
from core.errors import InputError
from core.evaluate.metrics import calibration_table, confidence_and_correct, expected_calibration_error
from core.evaluate.run import evaluate
from core.models.registry import load_model
from core.numerics import softmax
from core.uncertainty import calibration as cal
from core.uncertainty.rows import row_blocks


def random_case(seed: int, n: int = 3000, classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, classes, generator=g, dtype=torch.float64) * 2.5
    return z, torch.multinomial(torch.softmax(0.6 * z, 1), 1, generator=g).flatten()


@pytest.mark.parametrize(("seed", "n_bins"), [(0, 15), (1, 10), (2, 7)])
def test_adaptive_ece_equals_torch_uncertainty(seed: int, n_bins: int) -> None:
    z, y = random_case(seed, n=3001)  # 3001 images: the first bin holds one more, as tensor_split does
    probs = softmax(z)
    metric = AdaptiveCalibrationError(task="multiclass", num_classes=10, num_bins=n_bins)
    metric.update(probs, y)
    confidence, correct = confidence_and_correct(z, y)
    table = cal.adaptive_calibration_table(confidence, correct, n_bins=n_bins)
    assert table["count"].tolist() == [len(part) for part in np.array_split(np.arange(3001), n_bins)]
    # torch-uncertainty keeps the confidences in float32: agreement to 1e-6
    assert cal.adaptive_ece(table) == pytest.approx(float(metric.compute()), abs=1e-6)


@pytest.mark.parametrize(("seed", "temperature"), [(0, 1.0), (3, 0.4), (4, 3.0)])
def test_classwise_ece_equals_torch_uncertainty(seed: int, temperature: float) -> None:
    z, y = random_case(seed)
    metric = ClasswiseCalibrationError(num_classes=10, num_bins=15)
    metric.update(softmax(z, temperature=temperature), y)
    table = cal.classwise_calibration_table(z, y, temperature=temperature, n_bins=15)
    assert cal.classwise_ece(table) == pytest.approx(float(metric.compute()), abs=1e-12)
    per_class = ClasswiseCalibrationError(num_classes=10, num_bins=15, reduction="none")
    per_class.update(softmax(z, temperature=temperature), y)
    errors = cal.classwise_errors(table)
    theirs = per_class.compute().numpy()
    np.testing.assert_allclose(errors.sort_values("class")["ece"].to_numpy(), theirs, rtol=0, atol=1e-12)
    assert errors["ece"].is_monotonic_decreasing  # worst first


def test_classwise_on_the_digits_equals_torch_uncertainty() -> None:
    result = evaluate(load_model("digits_cnn", device=torch.device("cpu")), digits_set("test"), num_workers=0)
    metric = ClasswiseCalibrationError(num_classes=10, num_bins=15)
    metric.update(softmax(result.logits.double()), result.targets)
    table = cal.classwise_calibration_table(result.logits, result.targets)
    assert cal.classwise_ece(table) == pytest.approx(float(metric.compute()), abs=1e-12)
    adaptive = AdaptiveCalibrationError(task="multiclass", num_classes=10, num_bins=15)
    adaptive.update(softmax(result.logits.double()), result.targets)
    confidence, correct = confidence_and_correct(result.logits, result.targets)
    ece = cal.adaptive_ece(cal.adaptive_calibration_table(confidence, correct))
    assert ece == pytest.approx(float(adaptive.compute()), abs=1e-6)


def test_adaptive_table_by_hand() -> None:
    confidence = torch.tensor([0.9, 0.3, 0.8, 0.5, 0.95, 0.6, 0.7])
    correct = torch.tensor([True, False, True, True, True, False, False])
    table = cal.adaptive_calibration_table(confidence, correct, n_bins=3)
    # sorted: 0.3 0.5 0.6 | 0.7 0.8 | 0.9 0.95 (7 = 3 + 2 + 2)
    assert table["count"].tolist() == [3, 2, 2]
    np.testing.assert_allclose(table["lower"], [0.3, 0.7, 0.9], rtol=1e-6)
    np.testing.assert_allclose(table["upper"], [0.6, 0.8, 0.95], rtol=1e-6)
    np.testing.assert_allclose(table["accuracy"], [1 / 3, 0.5, 1.0])
    np.testing.assert_allclose(table["confidence"], [14 / 30, 0.75, 0.925], rtol=1e-6)
    expected = (3 * abs(1 / 3 - 14 / 30) + 2 * 0.25 + 2 * 0.075) / 7
    assert cal.adaptive_ece(table) == pytest.approx(expected, rel=1e-6)
    assert len(cal.adaptive_calibration_table(confidence[:2], correct[:2], n_bins=15)) == 2  # never an empty bin
    with pytest.raises(InputError):
        cal.adaptive_calibration_table(confidence, correct, n_bins=0)


def test_classwise_table_reads_like_a_calibration_table(monkeypatch: pytest.MonkeyPatch) -> None:
    z, y = random_case(5, n=401)
    table = cal.classwise_calibration_table(z, y, n_bins=15)
    assert len(table) == 10 * 15 and (table.groupby("class")["count"].sum() == 401).all()
    # one class's slice is the equal-width table of p_c against "the true class is c"
    probs = softmax(z)
    expected = calibration_table(probs[:, 4].contiguous(), y == 4, n_bins=15)
    got = cal.class_table(table, 4)
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_array_equal(got["count"], expected["count"])
    np.testing.assert_allclose(got["gap"], expected["gap"], rtol=1e-12)
    assert expected_calibration_error(got) == pytest.approx(
        cal.classwise_errors(table).set_index("class").loc[4, "ece"]
    )
    # blocks of 7 rows give the same table
    monkeypatch.setattr(cal, "row_blocks", lambda logits: row_blocks(logits, elements=70))
    blocked = cal.classwise_calibration_table(z, y, n_bins=15)
    np.testing.assert_array_equal(blocked["count"], table["count"])
    np.testing.assert_allclose(blocked["gap"], table["gap"], rtol=1e-12)
    with pytest.raises(InputError):
        cal.class_table(table, 10)
