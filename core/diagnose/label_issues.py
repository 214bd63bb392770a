"""Likely label errors: the images whose given label is probably wrong, found by cleanlab.

cleanlab's `find_label_issues` (confident learning, Northcutt et al. 2021) compares each image's given
label with the model's probabilities and flags the images the model confidently puts in another class,
taking each class's typical confidence into account. Its inputs must be *out-of-sample* probabilities:
on images the model was trained on it has memorised the labels, wrong ones included, and finds little.

Flagged images are ranked by self-confidence (the probability of the given label, lowest first): that
probability is the `score`, so 0.01 means "the model gives the given label 1%".
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from cleanlab.filter import find_label_issues

from core.diagnose.availability import label_issues_unavailable
from core.errors import InputError

ISSUE_COLUMNS = ("index", "given", "suggested", "confidence", "score")


def label_issues(probs: np.ndarray, targets: np.ndarray, *, filter_by: str = "prune_by_noise_rate") -> pd.DataFrame:
    """The likely label errors, most likely first.

    Args:
        probs: held-out softmax probabilities (n, classes), rows summing to 1.
        targets: the given labels (n,).
        filter_by: cleanlab's rule for how many to flag (its default, "prune_by_noise_rate").

    Returns:
        Columns index (row of `probs`), given, suggested (the model's top class), confidence (its
        probability) and score (the probability of the given label); empty when none is flagged.
    """
    p = np.asarray(probs, dtype=np.float32)  # 50,000 x 1,000: 200 MB, not 400
    y = np.asarray(targets, dtype=np.int64)
    if p.ndim != 2 or y.ndim != 1 or len(p) != len(y):
        raise InputError(f"need probabilities (n, classes) and labels (n,), got {p.shape} and {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= p.shape[1]):
        raise InputError(f"labels must be class indices 0..{p.shape[1] - 1}")
    unavailable = label_issues_unavailable(y, p.shape[1])
    if unavailable is not None:  # one image or one class: cleanlab would raise a ValueError
        raise InputError(f"label issues: {unavailable}")
    p = p / p.sum(axis=1, keepdims=True)  # float32 rounding: cleanlab wants rows summing to 1
    with warnings.catch_warnings():
        # one warning per class with few images: expected for 1,000 classes and a small set
        warnings.simplefilter("ignore")
        ranked = find_label_issues(y, p, filter_by=filter_by, return_indices_ranked_by="self_confidence", n_jobs=1)
    ranked = np.asarray(ranked, dtype=np.int64)
    suggested = p[ranked].argmax(axis=1) if len(ranked) else np.empty(0, dtype=np.int64)
    return pd.DataFrame(
        {
            "index": ranked,
            "given": y[ranked],
            "suggested": suggested,
            "confidence": p[ranked, suggested] if len(ranked) else np.empty(0),
            "score": p[ranked, y[ranked]] if len(ranked) else np.empty(0),
        }
    )


def issue_records(issues: pd.DataFrame, files: Sequence[str]) -> list[dict[str, object]]:
    """The CLI's `label_issues`: [{"file", "given", "suggested", "score"}] in rank order."""
    columns = (issues[c].tolist() for c in ("index", "given", "suggested", "score"))
    return [
        {"file": files[int(i)], "given": int(given), "suggested": int(suggested), "score": float(score)}
        for i, given, suggested, score in zip(*columns, strict=True)
    ]
