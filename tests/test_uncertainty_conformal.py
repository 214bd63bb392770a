"""Conformal prediction sets against MAPIE (thresholds and sets on the same calibration split), the finite-sample
quantile by hand, and the coverage guarantee over many seeded splits of the held-out digits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from mapie.classification import SplitConformalClassifier
from mapie.conformity_scores import APSConformityScore, LACConformityScore
from mapie.utils import _compute_classification_quantile
from sklearn.base import BaseEstimator, ClassifierMixin

from core.datasets.sources import digits_set
from core.errors import InputError
from core.evaluate.result import EvalResult
from core.evaluate.run import evaluate
from core.models.registry import load_model
from core.numerics import softmax
from core.uncertainty import conformal as cf
from core.uncertainty.rows import row_blocks


@pytest.fixture(scope="module")
def digits() -> EvalResult:
    return evaluate(load_model("digits_cnn", device=torch.device("cpu")), digits_set("test"), num_workers=0)


def random_case(seed: int, n: int = 2000, classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, classes, generator=g, dtype=torch.float64) * 3
    return z, torch.multinomial(torch.softmax(z, 1), 1, generator=g).flatten()  # labels drawn from the model


class Lookup(ClassifierMixin, BaseEstimator):
    """A 'prefit' classifier for MAPIE: row i of X is the index of a row of our probabilities."""

    def __init__(self, probs: np.ndarray | None = None) -> None:
        self.probs = probs

    def fit(self, X: np.ndarray, y: np.ndarray) -> Lookup:
        self.classes_ = np.arange(self.probs.shape[1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.probs[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)


class Draws(np.random.RandomState):
    """MAPIE draws APS's uniforms from its random_state: hand it ours, in the order it asks (calibration, test)."""

    def __init__(self, *arrays: np.ndarray) -> None:
        super().__init__(0)
        self.arrays = list(arrays)

    def uniform(self, low=0.0, high=1.0, size=None):  # type: ignore[override]
        return np.asarray(self.arrays.pop(0), dtype=np.float64).reshape(size)


def mapie_sets(
    z: torch.Tensor, y: torch.Tensor, cal: np.ndarray, test: np.ndarray, *, method: str, temperature: float, draws=None
) -> tuple[float, np.ndarray]:
    """MAPIE's threshold and sets at confidence 0.9 on our split, from the same float64 probabilities."""
    probs = softmax(z.to(torch.float64), temperature=temperature).numpy()
    score = LACConformityScore() if method == "lac" else APSConformityScore()
    mapie = SplitConformalClassifier(
        estimator=Lookup(probs).fit(None, None),
        confidence_level=0.9,
        conformity_score=score,
        prefit=True,
        random_state=draws,
    )
    rows = np.arange(len(probs))[:, None]
    mapie.conformalize(rows[cal], y.numpy()[cal])
    params = {"include_last_label": "randomized"} if method == "aps" else None
    _, sets = mapie.predict_set(rows[test], conformity_score_params=params)
    return float(score.quantiles_[0]), sets[:, :, 0]


# ---------------------------------------------------------------- the quantile
def test_quantile_by_hand_and_against_mapie() -> None:
    scores = np.arange(1.0, 11.0)[::-1].copy()
    assert cf.conformal_quantile(scores, 0.1) == 10.0  # ceil(11 · 0.9) = 10th smallest
    assert cf.conformal_quantile(scores, 0.2) == 9.0  # ceil(8.8) = 9
    assert cf.conformal_quantile(scores, 0.5) == 6.0  # ceil(5.5) = 6
    assert cf.conformal_quantile(scores[:5], 0.1) == math.inf  # ceil(5.4) = 6 > 5: no finite threshold
    assert cf.conformal_quantile(np.array([]), 0.5) == math.inf
    rng = np.random.default_rng(0)
    for n in (9, 10, 99, 270, 1000):
        values = rng.random(n)
        for alpha in (0.05, 0.1, 0.2, 0.5):
            if math.ceil((n + 1) * (1 - alpha)) <= n:
                assert (
                    cf.conformal_quantile(values, alpha)
                    == _compute_classification_quantile(values, np.array([alpha]))[0]
                )
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(InputError):
            cf.conformal_quantile(scores, bad)


def test_split_is_seeded_disjoint_and_complete() -> None:
    cal, test = cf.split_indices(541, seed=3)
    assert cal.size == 270 and test.size == 271
    assert np.array_equal(np.sort(np.r_[cal, test]), np.arange(541))
    again, _ = cf.split_indices(541, seed=3)
    other, _ = cf.split_indices(541, seed=4)
    assert np.array_equal(cal, again) and not np.array_equal(cal, other)


# ---------------------------------------------------------------- against MAPIE
@pytest.mark.parametrize("temperature", [1.0, 2.5])
@pytest.mark.parametrize("method", ["lac", "aps"])
def test_thresholds_and_sets_equal_mapie_on_random_logits(method: str, temperature: float) -> None:
    z, y = random_case(7)
    cal, test = cf.split_indices(len(y), seed=0)
    ours = cf.calibrate_sets(z[cal], y[cal], method=method, alpha=0.1, temperature=temperature)
    sets = cf.apply_sets(ours, z[test])
    # APS not randomized is MAPIE's APS with every uniform draw 0 (its score is cumsum - u · p_true)
    draws = Draws(np.zeros(cal.size), np.zeros(test.size)) if method == "aps" else None
    threshold, theirs = mapie_sets(z, y, cal, test, method=method, temperature=temperature, draws=draws)
    assert ours.threshold == threshold  # the same order statistic of the same float64 scores
    assert np.array_equal(sets.numpy(), theirs)
    assert 0.5 < sets.sum(1).double().mean() < 10  # sets that say something


def test_randomized_aps_equals_mapie_with_the_same_draws() -> None:
    z, y = random_case(8)
    cal, test = cf.split_indices(len(y), seed=5)
    ours = cf.calibrate_sets(z[cal], y[cal], method="aps", randomized=True, seed=5)
    sets = cf.apply_sets(ours, z[test])
    draws = Draws(cf.uniforms(cal.size, seed=5, stream=0), cf.uniforms(test.size, seed=5, stream=1))
    threshold, theirs = mapie_sets(z, y, cal, test, method="aps", temperature=1.0, draws=draws)
    assert ours.threshold == threshold
    assert np.array_equal(sets.numpy(), theirs)
    assert bool((sets.sum(1) == 0).any())  # randomization can empty a set: part of its exact coverage


@pytest.mark.parametrize("temperature", [1.0, 3.0])
@pytest.mark.parametrize("method", ["lac", "aps"])
def test_digits_thresholds_and_sets_equal_mapie(digits: EvalResult, method: str, temperature: float) -> None:
    z, y = digits.logits, digits.targets
    split = cf.split_conformal(z, y, method=method, alpha=0.1, temperature=temperature, seed=0)
    cal, test = split.calibration_index, split.test_index
    draws = Draws(np.zeros(cal.size), np.zeros(test.size)) if method == "aps" else None
    threshold, theirs = mapie_sets(z, y, cal, test, method=method, temperature=temperature, draws=draws)
    assert split.calibration.threshold == threshold
    # MAPIE keeps a class up to 1e-8 past the threshold, and for APS every class within 1e-8 of the last one's
    # probability; ours is the exact {y : s(x, y) <= q}. The digits model saturates (p down to 1e-22 at T = 1),
    # so the sets are compared on the rows where those tolerances cannot act: every p and every |s - q| > 1e-7.
    probs = softmax(z.to(torch.float64), temperature=temperature)[torch.from_numpy(test)]
    scores = 1 - probs if method == "lac" else softmax_cumulative(probs)
    clean = ((probs > 1e-7).all(dim=1) & ((scores - threshold).abs() > 1e-7).all(dim=1)).numpy()
    assert np.array_equal(split.sets.numpy()[clean], theirs[clean])
    if temperature == 3.0:
        assert clean.sum() >= 260  # nearly every row is compared


def softmax_cumulative(probs: torch.Tensor) -> torch.Tensor:
    """APS's non-randomized score by its definition: the mass of the classes ranked at or above each class."""
    ranked = torch.argsort(probs, dim=1, descending=True, stable=True)
    cumulative = probs.gather(1, ranked).cumsum(dim=1)
    return torch.empty_like(probs).scatter_(1, ranked, cumulative)


# ---------------------------------------------------------------- the guarantee
@pytest.mark.parametrize(("method", "randomized"), [("lac", False), ("aps", False), ("aps", True)])
def test_coverage_guarantee_over_many_seeded_splits_of_the_digits(
    digits: EvalResult, method: str, randomized: bool
) -> None:
    alpha = 0.1
    runs = [
        cf.split_conformal(digits.logits, digits.targets, method=method, alpha=alpha, seed=seed, randomized=randomized)
        for seed in range(200)
    ]
    mean_coverage = float(np.mean([r.coverage for r in runs]))
    mean_size = float(np.mean([r.mean_set_size for r in runs]))
    print(
        f"\n{method}{' randomized' if randomized else ''}: mean coverage {mean_coverage:.4f}, "
        f"mean set size {mean_size:.3f}"
    )
    assert mean_coverage >= 1 - alpha - 0.01
    # and not by giving up (every class, size 10): measured 0.90 (LAC), 3.6 (APS), 0.93 (APS randomized)
    assert mean_size < 5
    assert mean_coverage <= 1 - alpha + 1 / (runs[0].calibration.n + 1) + 0.02  # exact, not conservative


def test_a_tiny_calibration_set_keeps_every_class() -> None:
    z, y = random_case(1, n=12)
    calibration = cf.calibrate_sets(z[:5], y[:5], alpha=0.1)
    assert calibration.threshold == math.inf and calibration.n == 5
    assert bool(cf.apply_sets(calibration, z[5:]).all())
    summary = cf.conformal_summary(z[:2], y[:2], alpha=0.1)
    assert summary["threshold"] is None and summary["coverage"] == 1.0 and summary["mean_set_size"] == 10.0


# ---------------------------------------------------------------- tables, blocks, summary
def test_blocks_give_the_same_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    z, y = random_case(2, n=301)
    whole = cf.split_conformal(z, y, method="aps", randomized=True, seed=1)
    monkeypatch.setattr(cf, "row_blocks", lambda logits: row_blocks(logits, elements=10 * 7))
    blocked = cf.split_conformal(z, y, method="aps", randomized=True, seed=1)
    assert blocked.calibration == whole.calibration and torch.equal(blocked.sets, whole.sets)


def test_histogram_coverage_by_class_and_members_by_hand() -> None:
    sets = torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 0], [1, 1, 1], [0, 1, 0]], dtype=torch.bool)
    targets = torch.tensor([0, 1, 1, 2, 0])
    assert cf.coverage(sets, targets) == pytest.approx(3 / 5)
    histogram = cf.set_size_histogram(sets)
    assert histogram["size"].tolist() == [0, 1, 2, 3] and histogram["count"].tolist() == [1, 2, 1, 1]
    table = cf.coverage_by_class(sets, targets, ["cat", "dog", "cup"])
    assert table["label"].tolist() == ["cat", "dog", "cup"]  # weakest first, ties by index
    assert table["coverage"].tolist() == [0.5, 0.5, 1.0] and table["count"].tolist() == [2, 2, 1]
    assert table["mean_set_size"].tolist() == [1.0, 1.0, 3.0]
    members = cf.set_members(
        torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64), torch.tensor([True, True, False]), ["a", "b", "c"]
    )
    assert members == [(1, "b", 0.5), (0, "a", 0.2)]


def test_summary_has_exactly_the_contract_keys(digits: EvalResult) -> None:
    summary = cf.conformal_summary(digits.logits, digits.targets, method="aps", alpha=0.2, seed=0)
    assert list(summary) == [
        "method",
        "alpha",
        "threshold",
        "coverage",
        "mean_set_size",
        "calibration_n",
        "test_n",
        "seed",
    ]
    split = cf.split_conformal(digits.logits, digits.targets, method="aps", alpha=0.2, seed=0)
    assert summary == {
        "method": "aps",
        "alpha": 0.2,
        "threshold": split.calibration.threshold,
        "coverage": split.coverage,
        "mean_set_size": split.mean_set_size,
        "calibration_n": 270,
        "test_n": 270,
        "seed": 0,
    }


def test_set_sizes_by_temperature_recalibrate_at_each_t(digits: EvalResult) -> None:
    table = cf.set_sizes_by_temperature(digits.logits, digits.targets, [0.5, 1.0, 4.0], method="lac", seed=0)
    assert table["temperature"].tolist() == [0.5, 1.0, 4.0]
    for row in table.itertuples():
        again = cf.split_conformal(digits.logits, digits.targets, method="lac", temperature=row.temperature, seed=0)
        assert row.threshold == again.calibration.threshold and row.mean_set_size == again.mean_set_size
    assert table["threshold"].is_monotonic_increasing  # hotter T, flatter p, larger 1 - p_true


def test_bad_arguments() -> None:
    z, y = random_case(0, n=20)
    with pytest.raises(InputError, match="lac or aps"):
        cf.calibrate_sets(z, y, method="raps")
    with pytest.raises(InputError, match="randomized"):
        cf.calibrate_sets(z, y, method="lac", randomized=True)
    with pytest.raises(InputError, match="alpha"):
        cf.calibrate_sets(z, y, alpha=1.0)
    with pytest.raises(InputError, match="targets"):
        cf.calibrate_sets(z, torch.full_like(y, 10))


def test_one_image_set_is_its_row_of_the_batch_sets(digits: EvalResult) -> None:
    split = cf.split_conformal(digits.logits, digits.targets, method="lac", alpha=0.02, temperature=2.0, seed=0)
    labels = [f"digit {i}" for i in range(10)]
    rows = torch.from_numpy(split.test_index)
    for position in (0, 7, 100):
        logits = digits.logits[rows[position]]
        members = cf.set_for_image(split.calibration, logits, labels)
        assert [i for i, _, _ in members] == sorted(
            split.sets[position].nonzero().flatten().tolist(), key=lambda i: -float(logits[i])
        )
        probs = softmax(logits.double(), temperature=2.0)
        assert all(label == f"digit {i}" and p == float(probs[i]) for i, label, p in members)
        assert all(p >= 1 - split.calibration.threshold for _, _, p in members)  # LAC: p >= 1 - q


def test_set_summary_equals_the_split_and_the_tables() -> None:
    z, y = random_case(5, n=400)
    split = cf.split_conformal(z, y, method="aps", alpha=0.2, seed=3)
    found = cf.summarise_sets(split.sets, split.targets, list("abcdefghij"))
    assert found.n == split.test_index.size == 200
    assert found.coverage == split.coverage and found.mean_set_size == pytest.approx(split.mean_set_size, abs=1e-15)
    sizes = split.sets.sum(dim=1).numpy()
    assert found.empty_share == np.mean(sizes == 0)
    assert found.histogram.equals(cf.set_size_histogram(split.sets))
    assert found.by_class.equals(cf.coverage_by_class(split.sets, split.targets, list("abcdefghij")))
    # set_sizes_by_temperature takes randomized APS too: each row is that split at that T
    by_t = cf.set_sizes_by_temperature(z, y, [0.5, 2.0], method="aps", alpha=0.2, randomized=True, seed=3)
    again = cf.split_conformal(z, y, method="aps", alpha=0.2, temperature=2.0, randomized=True, seed=3)
    assert by_t["mean_set_size"].iloc[1] == again.mean_set_size and by_t["coverage"].iloc[1] == again.coverage
