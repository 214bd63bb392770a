"""Metrics of evaluated logits: accuracy, NLL, Brier, calibration (ECE/MCE) and temperature scaling.

Metrics follow the usual definitions:
- NLL: mean of -log softmax(z / T)[y] (equal to `torch.nn.functional.cross_entropy`);
- Brier: mean over images of sum over classes (p_c - 1[c = y])^2 (0 is perfect, 2 the worst);
- ECE: equal-width confidence bins (lo, hi]; sum over bins of (count / n) * |accuracy - mean confidence|;
  MCE: the largest such gap over the non-empty bins (Guo et al., 2017).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

from core.errors import InputError
from core.numerics import check_temperature, log_softmax, softmax, top_k

DEFAULT_BINS = 15
TOP_K = 5


def check_scored(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Logits (n, classes) and targets (n,) as float64 / int64, or InputError when they do not fit together."""
    if logits.ndim != 2 or targets.ndim != 1 or logits.shape[0] != targets.shape[0]:
        raise InputError(
            f"need logits (n, classes) and targets (n,), got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    if logits.shape[0] == 0:
        raise InputError("no evaluated images")
    if int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1]:
        raise InputError(f"targets must be class indices 0..{logits.shape[1] - 1}")
    return logits.to(torch.float64), targets.to(torch.int64)


def top_k_accuracy(logits: Tensor, targets: Tensor, *, k: int = 1) -> float:
    """Fraction of images whose true class is among the k largest logits (k clipped to the class count)."""
    z, y = check_scored(logits, targets)
    indices = top_k(z, k).indices
    return float((indices == y[:, None]).any(dim=1).double().mean())


def nll(logits: Tensor, targets: Tensor, *, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the true class under softmax(z / T), in nats."""
    z, y = check_scored(logits, targets)
    log_p = log_softmax(z, temperature=temperature)
    return float(-log_p.gather(1, y[:, None]).mean())


def brier_score(probs: Tensor, targets: Tensor) -> float:
    """Mean over images of the squared distance between the probabilities and the one-hot truth."""
    p, y = check_scored(probs, targets)
    one_hot = F.one_hot(y, p.shape[1]).to(p.dtype)
    return float(((p - one_hot) ** 2).sum(dim=1).mean())


def calibration_table(confidence: Tensor, correct: Tensor, *, n_bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """Equal-width confidence bins (lo, hi] (the first also holds 0).

    Columns: bin, lower, upper, count, accuracy, confidence (mean in the bin), gap (accuracy - confidence);
    accuracy, confidence and gap are NaN for an empty bin.
    """
    if n_bins < 1:
        raise InputError(f"the number of bins must be at least 1, got {n_bins}")
    conf = confidence.to(torch.float64).reshape(-1)
    hit = correct.to(torch.float64).reshape(-1)
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    # bucketize(right=False) puts x in bin i when edges[i] < x <= edges[i + 1]
    which = torch.bucketize(conf, edges[1:-1], right=False)
    count = torch.bincount(which, minlength=n_bins).to(torch.float64)
    sum_conf = torch.bincount(which, weights=conf, minlength=n_bins)
    sum_hit = torch.bincount(which, weights=hit, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = (sum_hit / count).numpy()
        mean_conf = (sum_conf / count).numpy()
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": edges[:-1].numpy(),
            "upper": edges[1:].numpy(),
            "count": count.numpy().astype(np.int64),
            "accuracy": accuracy,
            "confidence": mean_conf,
            "gap": accuracy - mean_conf,
        }
    )


def expected_calibration_error(table: pd.DataFrame) -> float:
    """ECE of a `calibration_table`: the count-weighted mean |accuracy - confidence|."""
    filled = table[table["count"] > 0]
    total = filled["count"].sum()
    return float((filled["count"] * filled["gap"].abs()).sum() / total) if total else 0.0


def max_calibration_error(table: pd.DataFrame) -> float:
    """MCE of a `calibration_table`: the largest |accuracy - confidence| of a non-empty bin."""
    filled = table[table["count"] > 0]
    return float(filled["gap"].abs().max()) if len(filled) else 0.0


def confidence_and_correct(logits: Tensor, targets: Tensor, *, temperature: float = 1.0) -> tuple[Tensor, Tensor]:
    """Each image's top probability at T and whether its top class is the true one."""
    z, y = check_scored(logits, targets)
    probs = softmax(z, temperature=temperature)
    confidence, predicted = probs.max(dim=1)
    return confidence, predicted == y


@dataclass(frozen=True)
class Metrics:
    """Headline metrics of a set at one temperature (accuracies do not depend on T)."""

    n: int
    temperature: float
    top1: float
    top5: float
    nll: float
    brier: float
    ece: float
    mce: float


def compute_metrics(
    logits: Tensor, targets: Tensor, *, temperature: float = 1.0, n_bins: int = DEFAULT_BINS
) -> Metrics:
    """Top-1/top-5 accuracy, NLL, Brier, ECE and MCE of softmax(logits / T)."""
    t = check_temperature(temperature)
    z, y = check_scored(logits, targets)
    probs = softmax(z, temperature=t)
    confidence, predicted = probs.max(dim=1)
    table = calibration_table(confidence, predicted == y, n_bins=n_bins)
    return Metrics(
        n=int(y.numel()),
        temperature=t,
        top1=float((predicted == y).double().mean()),
        top5=top_k_accuracy(z, y, k=TOP_K),
        nll=nll(z, y, temperature=t),
        brier=brier_score(probs, y),
        ece=expected_calibration_error(table),
        mce=max_calibration_error(table),
    )


# ---------------------------------------------------------------- temperature scaling
def looks_like_probabilities(logits: Tensor) -> bool:
    """True when most rows are in [0, 1] and sum to 1: softmax outputs passed where logits belong.

    Temperature scaling of probabilities (a double softmax) cannot calibrate and often makes ECE worse.
    """
    z = logits.to(torch.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        return False
    return bool(probability_rows(z).double().mean() > PROBABILITY_ROWS)


PROBABILITY_ROWS = 0.9  # the share of rows that look like probabilities above which the warning is given


def probability_rows(logits: Tensor) -> Tensor:
    """Which rows (n, classes) are all in [0, 1] and sum to 1 within 0.01 (bool, n)."""
    z = logits.to(torch.float64)
    return ((z >= 0) & (z <= 1)).all(dim=1) & ((z.sum(dim=1) - 1).abs() <= 0.01)


def fit_temperature(logits: Tensor, targets: Tensor, *, max_iter: int = 100) -> float:
    """The T > 0 minimising the NLL of softmax(logits / T), found by LBFGS on log T (so T stays positive)."""
    z, y = check_scored(logits, targets)
    z = z.detach()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimiser.zero_grad()
        loss = F.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    with torch.enable_grad():  # also when called under inference_mode
        optimiser.step(closure)
    value = float(log_t.detach().exp())
    if not math.isfinite(value) or value <= 0:
        raise InputError("temperature fitting did not converge (are the logits finite?)")
    return value


@dataclass(frozen=True)
class TemperatureFit:
    """A fitted temperature and the metrics before (T = 1) and after it.

    Attributes:
        temperature: the fitted T.
        before: metrics at T = 1.
        after: metrics at the fitted T.
        probabilities_warning: the inputs look like probabilities, not logits.
    """

    temperature: float
    before: Metrics
    after: Metrics
    probabilities_warning: bool


def calibrate(logits: Tensor, targets: Tensor, *, n_bins: int = DEFAULT_BINS) -> TemperatureFit:
    """Fit T on these logits and report the metrics at T = 1 and at T."""
    temperature = fit_temperature(logits, targets)
    return TemperatureFit(
        temperature=temperature,
        before=compute_metrics(logits, targets, n_bins=n_bins),
        after=compute_metrics(logits, targets, temperature=temperature, n_bins=n_bins),
        probabilities_warning=looks_like_probabilities(logits),
    )
