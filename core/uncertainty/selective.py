"""Selective prediction: when to trust a confidence score, and what abstaining on the rest buys.

Keep the k most confident of n images; the risk at coverage k / n is the error rate among those k. The curve of
risk against coverage shows what each share of abstentions buys; its area (AURC, Geifman & El-Yaniv, 2017) sums
it up: lower is better, and a score that ranks every mistake below every right answer has the smallest area the
accuracy allows.

Definitions, as in torch-uncertainty's `AURC` (the reference in the tests):
- coverage takes the values k / n, k = 1..n; the error is "the top-1 class is not the true one";
- AURC is the trapezoidal area under risk(k / n) over [1 / n, 1], divided by (1 - 1 / n) so that its support
  counts as [0, 1] (NaN for fewer than 2 images).
Ties: images with the same confidence cannot be told apart, so inside a tie the risk is its expected value over a
random order of the tied images (cumulative errors grow linearly across the tie). Without ties this is the plain
sorted order, and torch-uncertainty's number exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.errors import InputError
from core.evaluate.metrics import fit_temperature
from core.uncertainty.ood import ood_scores
from core.uncertainty.rows import check_logits

# the risk-coverage curves every view draws (the page, the report, the CLI's AURCs): the max softmax probability at
# T = 1 and at the fitted T, the max logit and the energy (T = 1); each a confidence, higher = keep
CURVES = ("msp", "msp_fitted", "max_logit", "energy")


def _vectors(confidence: object, correct: object) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidence.numpy() if isinstance(confidence, Tensor) else confidence, dtype=np.float64)
    hit = np.asarray(correct.numpy() if isinstance(correct, Tensor) else correct, dtype=bool)
    conf, hit = conf.reshape(-1), hit.reshape(-1)
    if conf.size != hit.size:
        raise InputError(f"{conf.size} confidences for {hit.size} right/wrong flags")
    if conf.size == 0:
        raise InputError("no images to rank")
    if not np.isfinite(conf).all():
        raise InputError("confidences must be finite numbers")
    return conf, hit


@dataclass(frozen=True, eq=False)
class RiskCoverage:
    """The risk–coverage curve of one confidence score, most confident first.

    Attributes:
        coverage: k / n for k = 1..n.
        risk: error rate among the k most confident images (tie-averaged).
        confidence: the k-th image's confidence: keeping every image at or above it gives that coverage.
    """

    coverage: np.ndarray
    risk: np.ndarray
    confidence: np.ndarray

    @property
    def n(self) -> int:
        return int(self.coverage.size)


def risk_coverage(confidence: object, correct: object) -> RiskCoverage:
    """The curve for per-image confidences (higher = keep first) and whether each prediction is right."""
    conf, hit = _vectors(confidence, correct)
    order = np.argsort(-conf, kind="stable")
    sorted_conf = conf[order]
    errors = np.concatenate([[0.0], np.cumsum(~hit[order], dtype=np.float64)])
    n = conf.size
    starts_mask = np.concatenate([[True], sorted_conf[1:] != sorted_conf[:-1]])
    starts = np.flatnonzero(starts_mask)
    ends = np.append(starts[1:], n)
    group = np.cumsum(starts_mask) - 1
    before, inside = errors[starts], errors[ends] - errors[starts]
    position = np.arange(1, n + 1) - starts[group]  # 1-based place inside its tie
    cumulative = before[group] + position * inside[group] / (ends - starts)[group]
    kept = np.arange(1, n + 1, dtype=np.float64)
    return RiskCoverage(coverage=kept / n, risk=cumulative / kept, confidence=sorted_conf)


def aurc(curve: RiskCoverage) -> float:
    """Area under the risk–coverage curve, normalised to a [0, 1] support (NaN for fewer than 2 images)."""
    if curve.n < 2:
        return math.nan
    return float(np.trapezoid(curve.risk, curve.coverage) / (1.0 - 1.0 / curve.n))


def accuracy_at_coverage(curve: RiskCoverage, coverage: float) -> float:
    """Accuracy among the most confident share `coverage` (in (0, 1]) of the images: ceil(coverage · n) kept."""
    if not 0.0 < coverage <= 1.0:
        raise InputError(f"coverage must be in (0, 1], got {coverage:g}")
    k = min(curve.n, max(1, math.ceil(round(coverage * curve.n, 9))))  # 0.9 · 540 is 486, not 486.00000000000006
    return float(1.0 - curve.risk[k - 1])


def coverage_at_accuracy(curve: RiskCoverage, accuracy: float) -> float:
    """The largest coverage whose kept images reach `accuracy` (0 when even the most confident image is wrong)."""
    if not 0.0 <= accuracy <= 1.0:
        raise InputError(f"accuracy must be in [0, 1], got {accuracy:g}")
    reach = np.flatnonzero(1.0 - curve.risk >= accuracy - 1e-12)  # 1e-12: 1 - 0.1 must count as 0.9
    return float(curve.coverage[reach[-1]]) if reach.size else 0.0


@dataclass(frozen=True)
class Abstention:
    """What a confidence threshold does: images at or above it are kept, the rest abstained on.

    Attributes:
        threshold: the confidence threshold.
        kept: images kept.
        abstained: images abstained on.
        coverage: kept / n.
        accuracy: accuracy among the kept images (NaN when none is kept).
        abstained_accuracy: accuracy the model would have had on the abstained ones (NaN when none).
    """

    threshold: float
    kept: int
    abstained: int
    coverage: float
    accuracy: float
    abstained_accuracy: float


def abstain(confidence: object, correct: object, threshold: float) -> Abstention:
    """Keep the images whose confidence is >= `threshold`, abstain on the others."""
    conf, hit = _vectors(confidence, correct)
    keep = conf >= threshold
    kept, dropped = hit[keep], hit[~keep]
    return Abstention(
        threshold=float(threshold),
        kept=int(kept.size),
        abstained=int(dropped.size),
        coverage=kept.size / hit.size,
        accuracy=float(kept.mean()) if kept.size else math.nan,
        abstained_accuracy=float(dropped.mean()) if dropped.size else math.nan,
    )


def abstained_images(confidence: object, threshold: float) -> np.ndarray:
    """Indices of the images a threshold abstains on, least confident first."""
    conf = np.asarray(confidence.numpy() if isinstance(confidence, Tensor) else confidence, dtype=np.float64)
    below = np.flatnonzero(conf < threshold)
    return below[np.argsort(conf[below], kind="stable")]


def threshold_stops(values: object, *, steps: int = 100) -> np.ndarray:
    """The thresholds a slider offers over `values`: the value found at each share 0, 1/steps, ..., 1 of them sorted
    (real values, each once, ascending), so one stop moves about 1/steps of the images however the values spread
    (an over-confident model's probabilities all sit within 1e-6 of 1)."""
    ordered = np.sort(np.asarray(values, dtype=np.float64).reshape(-1))
    if ordered.size == 0 or not np.isfinite(ordered).all() or steps < 1:
        raise InputError("thresholds need at least one finite value and one step")
    at = np.floor(np.linspace(0.0, 1.0, steps + 1) * (ordered.size - 1)).astype(np.int64)
    return np.unique(ordered[at])


def correct_predictions(logits: Tensor, targets: Tensor) -> np.ndarray:
    """Whether each image's top class (the first maximum on a tie) is its true class; T never changes it."""
    z = check_logits(logits)
    y = torch.as_tensor(targets).reshape(-1).to(torch.int64)
    if y.numel() != z.shape[0]:
        raise InputError(f"{y.numel()} targets for {z.shape[0]} rows of logits")
    return (torch.argmax(z, dim=1) == y).numpy()


def curve_confidences(at_one: Mapping[str, np.ndarray], at_fitted: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The confidence behind each of `CURVES`, from `ood_scores` at T = 1 and at the fitted T."""
    return {
        "msp": at_one["msp"],
        "msp_fitted": at_fitted["msp"],
        "max_logit": at_one["max_logit"],
        "energy": at_one["energy"],
    }


def risk_curves(confidences: Mapping[str, np.ndarray], correct: object) -> dict[str, RiskCoverage]:
    """`risk_coverage` of each confidence (e.g. `curve_confidences`) against the same right/wrong flags."""
    return {name: risk_coverage(values, correct) for name, values in confidences.items()}


def selective_summary(
    logits: Tensor, targets: Tensor, *, fitted_temperature: float | None = None
) -> dict[str, float | None]:
    """The CLI's "selective" JSON: aurc (msp at T = 1), aurc_fitted_t (msp at the fitted T), fitted_temperature,
    aurc_max_logit, aurc_energy (T = 1). The fitted T is fitted here (NLL, `fit_temperature`) unless given."""
    z = check_logits(logits)
    fitted = fit_temperature(z, targets) if fitted_temperature is None else float(fitted_temperature)
    confidences = curve_confidences(ood_scores(z), ood_scores(z, temperature=fitted))
    curves = risk_curves(confidences, correct_predictions(z, targets))

    def finite(value: float) -> float | None:
        return value if math.isfinite(value) else None  # JSON has no NaN: fewer than 2 images

    return {
        "aurc": finite(aurc(curves["msp"])),
        "aurc_fitted_t": finite(aurc(curves["msp_fitted"])),
        "fitted_temperature": fitted,
        "aurc_max_logit": finite(aurc(curves["max_logit"])),
        "aurc_energy": finite(aurc(curves["energy"])),
    }
