"""Out-of-distribution scores from the logits: is this image like what the model knows?

Four per-image scores at temperature T, for logits z and s = z / T:
- msp: the max softmax probability, max softmax(s);
- max_logit: max z (the raw logit: it does not depend on T);
- energy: T · logsumexp(z / T), the negative of Liu et al.'s energy E = -T · logsumexp(z / T) (pytorch-ood's
  `EnergyBased.score` returns E); as T → 0 it tends to max_logit;
- entropy: -sum p log p of softmax(s), in nats.

Orientation: msp, max_logit and energy are HIGHER for images that look more in-distribution; entropy is higher
for images the model is less sure about, so wherever scores are compared (AUROC, FPR at 95% TPR, percentiles,
thresholds, the most fooling images) entropy enters negated (`oriented`). Separation metrics take the
in-distribution images as the POSITIVE class (scikit-learn's `roc_auc_score` / `roc_curve`), as in the energy paper.

Softmax throws the logits' scale away: an image far from the training data can still get msp ≈ 1, while its
logits (max_logit, energy) are small. These scores show that difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.errors import InputError
from core.labels import label_of
from core.numerics import check_temperature
from core.uncertainty.rows import check_logits, row_blocks

ScoreName = Literal["msp", "max_logit", "energy", "entropy"]
SCORE_NAMES: Final[tuple[ScoreName, ...]] = ("msp", "max_logit", "energy", "entropy")
HIGHER_IS_INSIDE: Final[dict[str, bool]] = {"msp": True, "max_logit": True, "energy": True, "entropy": False}
TPR_LEVEL: Final = 0.95  # FPR is read where 95% of the inside images are kept


def _check_name(name: str) -> str:
    if name not in HIGHER_IS_INSIDE:
        raise InputError(f"out-of-distribution scores are {', '.join(SCORE_NAMES)}, not {name!r}")
    return name


def ood_scores(logits: Tensor, *, temperature: float = 1.0) -> dict[str, np.ndarray]:
    """The four scores of every image (float64 arrays of length n), computed block by block."""
    z = check_logits(logits)
    t = check_temperature(temperature)
    out: dict[str, np.ndarray] = {name: np.empty(z.shape[0], dtype=np.float64) for name in SCORE_NAMES}
    for rows, block in row_blocks(z):
        top = block.amax(dim=1)
        shifted = block.sub_(top[:, None]).div_(t)  # (z - max z) / T in place: every entry <= 0, the top one 0
        mass = shifted.exp()  # in (0, 1]: no overflow
        total = mass.sum(dim=1)  # >= 1, the top class's exp is exactly 1
        log_norm = total.log()
        out["msp"][rows] = total.reciprocal().numpy()
        out["max_logit"][rows] = top.numpy()
        out["energy"][rows] = (t * log_norm + top).numpy()  # T·logsumexp(z/T) = T·log sum exp((z - max)/T) + max z
        # H = -sum p log p with p = mass / total and log p = shifted - log_norm: no log of a zero probability
        out["entropy"][rows] = (log_norm - mass.mul_(shifted).sum(dim=1) / total).numpy()
    return out


def ood_scores_record(logits_row: Tensor, temperature: float = 1.0) -> dict[str, float]:
    """One image's scores as `predict --json` writes them: exactly msp, max_logit, energy, entropy."""
    z = check_logits(torch.as_tensor(logits_row).reshape(1, -1))
    scores = ood_scores(z, temperature=temperature)
    return {name: float(scores[name][0]) for name in SCORE_NAMES}


def oriented(name: str, values: np.ndarray) -> np.ndarray:
    """`values` of score `name` turned so that higher means more in-distribution (entropy negated)."""
    array = np.asarray(values, dtype=np.float64)
    return array if HIGHER_IS_INSIDE[_check_name(name)] else -array


def percentile_among(name: str, value: float, reference: np.ndarray) -> float:
    """Where one image's score falls among in-distribution images, 0..100: the share of `reference` that looks
    less in-distribution, ties counting half (scipy's `percentileofscore(kind="mean")` on oriented scores).

    A low percentile (energy below 98% of the images the model was evaluated on) says "unlike what it knows".
    """
    ref = oriented(name, reference)
    if ref.size == 0:
        raise InputError("no reference images to compare with")
    x = float(oriented(name, np.asarray([value]))[0])
    below = np.count_nonzero(ref < x)
    equal = np.count_nonzero(ref == x)
    return 100.0 * (below + 0.5 * equal) / ref.size


def score_percentiles(record: Mapping[str, float], reference: Mapping[str, np.ndarray]) -> dict[str, float]:
    """`percentile_among` for every score present in both `record` and `reference`."""
    return {name: percentile_among(name, record[name], reference[name]) for name in SCORE_NAMES if name in reference}


@dataclass(frozen=True, eq=False)
class Separation:
    """How well one score tells inside images (positive) from outside ones.

    Attributes:
        score: the score's name.
        auroc: area under the ROC curve (0.5: no better than chance; 1: every inside image scores higher).
        fpr95: the share of outside images still accepted when the threshold keeps 95% of the inside ones.
        threshold95: that threshold, in the score's own units (accept score >= it; for entropy, <= it).
        fpr: ROC false positive rates (outside accepted), from scikit-learn's `roc_curve`.
        tpr: ROC true positive rates (inside accepted).
    """

    score: str
    auroc: float
    fpr95: float
    threshold95: float
    fpr: np.ndarray
    tpr: np.ndarray


def separation(name: str, inside: np.ndarray, outside: np.ndarray) -> Separation:
    """AUROC, FPR at 95% TPR and the ROC curve of score `name`, with the inside images as the positive class."""
    pos, neg = oriented(name, inside), oriented(name, outside)
    if pos.size == 0 or neg.size == 0:
        raise InputError("separation needs at least one inside and one outside image")
    labels = np.concatenate([np.ones(pos.size, dtype=np.int8), np.zeros(neg.size, dtype=np.int8)])
    values = np.concatenate([pos, neg])
    # drop_intermediate=False: the point where TPR first reaches 95% must not be dropped as collinear
    # scikit-learn (about a second to import) loads only when two sets are separated, not for a set's scores
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, thresholds = roc_curve(labels, values, drop_intermediate=False)
    at = int(np.searchsorted(tpr, TPR_LEVEL, side="left"))
    threshold = float(thresholds[at]) if HIGHER_IS_INSIDE[name] else -float(thresholds[at])
    return Separation(
        score=name,
        auroc=float(roc_auc_score(labels, values)),
        fpr95=float(fpr[at]),
        threshold95=threshold,
        fpr=fpr,
        tpr=tpr,
    )


def separations(inside: Mapping[str, np.ndarray], outside: Mapping[str, np.ndarray]) -> dict[str, Separation]:
    """`separation` of every score of `ood_scores` (inside and outside from the same T)."""
    return {name: separation(name, inside[name], outside[name]) for name in SCORE_NAMES if name in inside}


@dataclass(frozen=True)
class ThresholdSplit:
    """What one threshold does: images scoring below it (above, for entropy) are called outside.

    Attributes:
        threshold: in the score's own units.
        caught: share of the outside images called outside.
        lost: share of the inside images wrongly called outside.
        n_in: inside images.
        n_out: outside images.
    """

    threshold: float
    caught: float
    lost: float
    n_in: int
    n_out: int


def threshold_split(name: str, inside: np.ndarray, outside: np.ndarray, threshold: float) -> ThresholdSplit:
    """The share of outside images caught and of inside images lost when `threshold` separates them."""
    pos, neg = oriented(name, inside), oriented(name, outside)
    cut = float(oriented(name, np.asarray([threshold]))[0])
    caught = float(np.count_nonzero(neg < cut) / neg.size) if neg.size else float("nan")
    lost = float(np.count_nonzero(pos < cut) / pos.size) if pos.size else float("nan")
    return ThresholdSplit(float(threshold), caught, lost, int(pos.size), int(neg.size))


def ood_table(
    logits: Tensor, files: Sequence[str], labels: Sequence[str] | None = None, *, temperature: float = 1.0
) -> pd.DataFrame:
    """One row per image: file, prediction (its top class), prediction_label (with `labels`), and the four
    scores at T."""
    z = check_logits(logits)
    if len(files) != z.shape[0]:
        raise InputError(f"{len(files)} file names for {z.shape[0]} rows of logits")
    prediction = torch.argmax(z, dim=1).numpy()  # first maximum on a tie, as the stable ranking
    table = pd.DataFrame({"file": list(files), "prediction": prediction})
    if labels is not None:
        table["prediction_label"] = [label_of(labels, int(i)) for i in prediction]
    for name, values in ood_scores(z, temperature=temperature).items():
        table[name] = values
    return table


def most_fooling(table: pd.DataFrame, *, score: str = "energy", n: int = 12) -> pd.DataFrame:
    """The n outside images (rows of `ood_table`) that look most in-distribution by `score`: the ones a
    threshold on it would let through first."""
    ranked = table.assign(_key=oriented(score, table[score].to_numpy()))
    ranked = ranked.sort_values(["_key", "file"], ascending=[False, True], kind="stable")
    return ranked.drop(columns="_key").head(n).reset_index(drop=True)


def ood_summary(inside_logits: Tensor, outside_logits: Tensor, *, temperature: float = 1.0) -> dict[str, object]:
    """The CLI's "ood" JSON: n_in, n_out, auroc {msp, max_logit, energy, entropy}, fpr95 {...}, temperature.

    In-distribution is the positive class; entropy's numbers are those of -entropy.
    """
    inside = ood_scores(inside_logits, temperature=temperature)
    outside = ood_scores(outside_logits, temperature=temperature)
    found = separations(inside, outside)
    return {
        "n_in": int(inside["msp"].size),
        "n_out": int(outside["msp"].size),
        "auroc": {name: found[name].auroc for name in SCORE_NAMES},
        "fpr95": {name: found[name].fpr95 for name in SCORE_NAMES},
        "temperature": check_temperature(temperature),
    }
