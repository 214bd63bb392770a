"""Split conformal prediction sets: instead of a fixed top-k, the labels that are plausible at a chosen coverage.

Calibrate on labelled images the model never trained on, then for a new image keep every class whose
nonconformity score is at most the threshold q̂; over new images from the same distribution the true class is in
the set with probability >= 1 - α (Vovk; Angelopoulos & Bates, "A Gentle Introduction to Conformal Prediction").

Scores, from p = softmax(z / T):
- LAC (Sadinle et al., 2019): s(x, y) = 1 - p_y. Sets {y : p_y >= 1 - q̂}: the smallest sets on average.
- APS (Romano et al., 2020): s(x, y) = the probability mass of the classes ranked above y, plus p_y, minus
  u · p_y. The default is NOT randomized (u = 0: s is the cumulative sorted mass up to and including y, as
  TorchCP's `APS(randomized=False)`); `randomized=True` draws u ~ U(0, 1) per image (MAPIE's APS score, and
  its `include_last_label="randomized"` sets).
  Ties in p are ranked by class index, as everywhere in the tool.

Threshold: q̂ is the ⌈(n + 1)(1 - α)⌉-th smallest of the n calibration scores (the finite-sample correction,
computed as MAPIE and TorchCP do); when that rank exceeds n, q̂ = +inf and every set holds every class, the only
set that keeps the promise with so few calibration images. Sets are {y : s(x, y) <= q̂}, exactly, with no
tolerance. A set may be empty: the model is then surer than the coverage asks for (for LAC, no class reaches
1 - q̂). The promise holds on average over calibration draws, not per image or per class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.errors import InputError
from core.labels import label_of
from core.numerics import check_temperature, softmax
from core.uncertainty.rows import check_logits, row_blocks

Method = Literal["lac", "aps"]
METHODS: Final[tuple[Method, ...]] = ("lac", "aps")
DEFAULT_ALPHA: Final = 0.1


def check_alpha(alpha: float) -> float:
    """α as a float in (0, 1), or InputError."""
    value = float(alpha)
    if not 0.0 < value < 1.0:
        raise InputError(f"alpha (1 - coverage) must be between 0 and 1, got {value:g}")
    return value


def _check_method(method: str) -> Method:
    if method not in METHODS:
        raise InputError(f"conformal method must be {' or '.join(METHODS)}, not {method!r}")
    return method


def _check_targets(logits: Tensor, targets: Tensor) -> Tensor:
    y = torch.as_tensor(targets).reshape(-1).to(torch.int64)
    if y.numel() != logits.shape[0]:
        raise InputError(f"{y.numel()} targets for {logits.shape[0]} rows of logits")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= logits.shape[1]):
        raise InputError(f"targets must be class indices 0..{logits.shape[1] - 1}")
    return y


def split_indices(n: int, *, seed: int = 0, calibration_share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of range(n) into calibration and test indices (each sorted); the calibration part
    has floor(n · calibration_share) images."""
    if n < 0 or not 0.0 < calibration_share < 1.0:
        raise InputError(f"cannot split {n} images with a calibration share of {calibration_share:g}")
    order = np.random.default_rng(seed).permutation(n)
    cut = int(n * calibration_share)
    return np.sort(order[:cut]), np.sort(order[cut:])


def uniforms(n: int, *, seed: int, stream: int) -> np.ndarray:
    """The U(0, 1) draws of randomized APS: one per image, from stream 0 (calibration) or 1 (new images)."""
    return np.random.default_rng([seed, stream]).random(n)


def conformal_quantile(scores: np.ndarray, alpha: float) -> float:
    """The ⌈(n + 1)(1 - α)⌉-th smallest score, or +inf when that rank is above n (or n = 0)."""
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    n = values.size
    rank = math.ceil((n + 1) * (1 - check_alpha(alpha)))  # the same float formula as MAPIE and TorchCP
    if rank > n:
        return math.inf
    return float(np.partition(values, rank - 1)[rank - 1])


def _class_scores(probs: Tensor, method: Method, u: Tensor | None) -> Tensor:
    """s(x, y) for every class of a block of probabilities (rows, classes)."""
    if method == "lac":
        return 1.0 - probs
    sorted_p, by_p = torch.sort(probs, dim=1, descending=True, stable=True)  # ties: lower index first
    cumulative = torch.empty_like(probs).scatter_(1, by_p, sorted_p.cumsum(dim=1))  # mass up to and including y
    return cumulative if u is None else cumulative - u[:, None] * probs


def _block_uniforms(draws: np.ndarray | None, rows: slice) -> Tensor | None:
    return None if draws is None else torch.from_numpy(np.asarray(draws[rows], dtype=np.float64))


def conformity_scores(
    logits: Tensor,
    targets: Tensor,
    *,
    method: str = "lac",
    temperature: float = 1.0,
    draws: np.ndarray | None = None,
) -> np.ndarray:
    """Each image's score of its true class (float64, length n); `draws` are APS's u (None: not randomized)."""
    z = check_logits(logits)
    y = _check_targets(z, targets)
    kind = _check_method(method)
    t = check_temperature(temperature)
    out = np.empty(z.shape[0], dtype=np.float64)
    for rows, block in row_blocks(z):
        scores = _class_scores(softmax(block, temperature=t), kind, _block_uniforms(draws, rows))
        out[rows] = scores.gather(1, y[rows, None]).flatten().numpy()
    return out


def prediction_sets(
    logits: Tensor,
    threshold: float,
    *,
    method: str = "lac",
    temperature: float = 1.0,
    draws: np.ndarray | None = None,
) -> Tensor:
    """Boolean masks (n, classes): class y is in image x's set when s(x, y) <= threshold."""
    z = check_logits(logits)
    kind = _check_method(method)
    t = check_temperature(temperature)
    sets = torch.empty(z.shape, dtype=torch.bool)
    for rows, block in row_blocks(z):
        sets[rows] = _class_scores(softmax(block, temperature=t), kind, _block_uniforms(draws, rows)) <= threshold
    return sets


@dataclass(frozen=True)
class Calibration:
    """A calibrated conformal predictor: apply it to new logits with `apply_sets`.

    Attributes:
        method: "lac" or "aps".
        alpha: the promised miscoverage (coverage 1 - α).
        threshold: q̂ (+inf when there were too few calibration images for α).
        temperature: the T the probabilities were taken at.
        randomized: APS with a uniform draw per image.
        seed: seeds the draws of randomized APS (and the split, where one was made).
        n: calibration images.
    """

    method: Method
    alpha: float
    threshold: float
    temperature: float
    randomized: bool
    seed: int
    n: int


def calibrate_sets(
    logits: Tensor,
    targets: Tensor,
    *,
    method: str = "lac",
    alpha: float = DEFAULT_ALPHA,
    temperature: float = 1.0,
    randomized: bool = False,
    seed: int = 0,
) -> Calibration:
    """Calibrate on labelled logits the model never trained on: q̂ from their true-class scores."""
    kind = _check_method(method)
    if randomized and kind != "aps":
        raise InputError("only APS has a randomized variant")
    z = check_logits(logits)
    draws = uniforms(z.shape[0], seed=seed, stream=0) if randomized else None
    scores = conformity_scores(z, targets, method=kind, temperature=temperature, draws=draws)
    return Calibration(
        method=kind,
        alpha=check_alpha(alpha),
        threshold=conformal_quantile(scores, alpha),
        temperature=check_temperature(temperature),
        randomized=randomized,
        seed=seed,
        n=int(scores.size),
    )


def apply_sets(calibration: Calibration, logits: Tensor) -> Tensor:
    """The prediction sets of new images (n, classes) under a calibration (same T, same method)."""
    z = check_logits(logits)
    draws = uniforms(z.shape[0], seed=calibration.seed, stream=1) if calibration.randomized else None
    return prediction_sets(
        z, calibration.threshold, method=calibration.method, temperature=calibration.temperature, draws=draws
    )


def covered(sets: Tensor, targets: Tensor) -> Tensor:
    """Whether each image's true class is in its set (bool, n)."""
    y = _check_targets(sets, targets)
    return sets.gather(1, y[:, None]).flatten()


def coverage(sets: Tensor, targets: Tensor) -> float:
    """The share of images whose set holds their true class (NaN for no images)."""
    hits = covered(sets, targets)
    return float(hits.double().mean()) if hits.numel() else math.nan


def set_size_histogram(sets: Tensor) -> pd.DataFrame:
    """How many images got each set size: columns size (0 .. the largest seen), count."""
    sizes = sets.sum(dim=1)
    counts = torch.bincount(sizes, minlength=1) if sizes.numel() else torch.zeros(1, dtype=torch.int64)
    return pd.DataFrame({"size": np.arange(counts.numel()), "count": counts.numpy()})


def coverage_by_class(sets: Tensor, targets: Tensor, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Coverage per true class, weakest first: index, label, count, covered, coverage, mean_set_size.

    The promise is on average over images: a class the model confuses often can sit well below 1 - α.
    """
    y = _check_targets(sets, targets)
    hits = covered(sets, y).to(torch.float64)
    sizes = sets.sum(dim=1).to(torch.float64)
    count = torch.bincount(y, minlength=sets.shape[1])
    present = count.nonzero().flatten()
    n_hit = torch.bincount(y, weights=hits, minlength=sets.shape[1])[present]
    size_sum = torch.bincount(y, weights=sizes, minlength=sets.shape[1])[present]
    n = count[present].to(torch.float64)
    table = pd.DataFrame(
        {
            "index": present.numpy(),
            "label": [label_of(labels, int(i)) for i in present.tolist()] if labels is not None else "",
            "count": count[present].numpy(),
            "covered": n_hit.numpy().astype(np.int64),
            "coverage": (n_hit / n).numpy(),
            "mean_set_size": (size_sum / n).numpy(),
        }
    )
    return table.sort_values(["coverage", "index"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class SetSummary:
    """What a page shows of many images' sets, without the (images × classes) masks themselves.

    Attributes:
        n: images.
        coverage: share whose set holds the true class.
        mean_set_size: classes per set, on average.
        empty_share: share of empty sets.
        histogram: `set_size_histogram`.
        by_class: `coverage_by_class`, weakest first.
    """

    n: int
    coverage: float
    mean_set_size: float
    empty_share: float
    histogram: pd.DataFrame
    by_class: pd.DataFrame


def summarise_sets(sets: Tensor, targets: Tensor, labels: Sequence[str] | None = None) -> SetSummary:
    """Coverage, sizes and coverage per class of `sets` (n, classes) for images whose true classes are `targets`."""
    sizes = sets.sum(dim=1).double()
    n = int(sets.shape[0])
    return SetSummary(
        n=n,
        coverage=coverage(sets, targets),
        mean_set_size=float(sizes.mean()) if n else math.nan,
        empty_share=float((sizes == 0).double().mean()) if n else math.nan,
        histogram=set_size_histogram(sets),
        by_class=coverage_by_class(sets, targets, labels),
    )


def set_members(probs: Tensor, mask: Tensor, labels: Sequence[str]) -> list[tuple[int, str, float]]:
    """One image's set as (index, label, probability), most probable first (the stable ranking)."""
    p = torch.as_tensor(probs).reshape(-1).to(torch.float64)
    chosen = torch.as_tensor(mask).reshape(-1).nonzero().flatten()
    ranked = chosen[torch.argsort(p[chosen], descending=True, stable=True)]
    return [(int(i), label_of(labels, int(i)), float(p[i])) for i in ranked.tolist()]


def set_for_image(calibration: Calibration, logits_row: Tensor, labels: Sequence[str]) -> list[tuple[int, str, float]]:
    """One image's set under a calibration (the Inspector's "90% set: {espresso, cup}"): (index, label,
    probability at the calibration's T), most probable first. Randomized APS draws the image's u from stream 1."""
    z = check_logits(torch.as_tensor(logits_row).reshape(1, -1))
    mask = apply_sets(calibration, z)[0]
    return set_members(softmax(z[0].to(torch.float64), temperature=calibration.temperature), mask, labels)


@dataclass(frozen=True, eq=False)
class SplitConformal:
    """Calibration on one seeded half, sets on the other.

    Attributes:
        calibration: the calibrated predictor (its n is the calibration half's size).
        calibration_index: rows used to calibrate.
        test_index: rows the sets were made for.
        sets: the test rows' sets (len(test_index), classes).
        targets: the test rows' true classes.
    """

    calibration: Calibration
    calibration_index: np.ndarray
    test_index: np.ndarray
    sets: Tensor
    targets: Tensor

    @property
    def coverage(self) -> float:
        return coverage(self.sets, self.targets)

    @property
    def mean_set_size(self) -> float:
        return float(self.sets.sum(dim=1).double().mean()) if self.sets.shape[0] else math.nan


def split_conformal(
    logits: Tensor,
    targets: Tensor,
    *,
    method: str = "lac",
    alpha: float = DEFAULT_ALPHA,
    temperature: float = 1.0,
    randomized: bool = False,
    seed: int = 0,
    calibration_share: float = 0.5,
) -> SplitConformal:
    """Split one labelled evaluation (seeded), calibrate on the first part and make sets for the second."""
    z = check_logits(logits)
    y = _check_targets(z, targets)
    cal, test = split_indices(z.shape[0], seed=seed, calibration_share=calibration_share)
    cal_rows, test_rows = torch.from_numpy(cal), torch.from_numpy(test)
    calibration = calibrate_sets(
        z[cal_rows],
        y[cal_rows],
        method=method,
        alpha=alpha,
        temperature=temperature,
        randomized=randomized,
        seed=seed,
    )
    return SplitConformal(calibration, cal, test, apply_sets(calibration, z[test_rows]), y[test_rows])


def set_sizes_by_temperature(
    logits: Tensor,
    targets: Tensor,
    temperatures: Sequence[float],
    *,
    method: str = "lac",
    alpha: float = DEFAULT_ALPHA,
    randomized: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Recalibrate at each T on the same split: temperature, threshold, coverage, mean_set_size, empty_share.

    APS's sets follow the probability mass, which T spreads or sharpens; LAC's threshold lives on the
    probability scale too, so its sets change with T although its ranking of classes does not.
    """
    rows = []
    for t in temperatures:
        split = split_conformal(
            logits, targets, method=method, alpha=alpha, temperature=float(t), randomized=randomized, seed=seed
        )
        sizes = split.sets.sum(dim=1)
        rows.append(
            {
                "temperature": float(t),
                "threshold": split.calibration.threshold,
                "coverage": split.coverage,
                "mean_set_size": split.mean_set_size,
                "empty_share": float((sizes == 0).double().mean()) if sizes.numel() else math.nan,
            }
        )
    return pd.DataFrame(rows)


def _finite(value: float) -> float | None:
    """JSON has no infinity or NaN: null stands for them."""
    return value if math.isfinite(value) else None


def conformal_summary(
    logits: Tensor,
    targets: Tensor,
    *,
    method: str = "lac",
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
    temperature: float = 1.0,
) -> dict[str, object]:
    """The CLI's "conformal" JSON: method, alpha, threshold, coverage, mean_set_size, calibration_n, test_n, seed.

    Calibrated on a seeded half, measured on the other; threshold is null when it is +inf (too few calibration
    images for α), coverage and mean_set_size are null when the test half is empty.
    """
    split = split_conformal(logits, targets, method=method, alpha=alpha, temperature=temperature, seed=seed)
    return {
        "method": split.calibration.method,
        "alpha": split.calibration.alpha,
        "threshold": _finite(split.calibration.threshold),
        "coverage": _finite(split.coverage),
        "mean_set_size": _finite(split.mean_set_size),
        "calibration_n": int(split.calibration_index.size),
        "test_n": int(split.test_index.size),
        "seed": seed,
    }
