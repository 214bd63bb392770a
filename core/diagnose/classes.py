"""Per-class metrics and the confusion view for many classes.

`per_class_report` is scikit-learn's `precision_recall_fscore_support` for every class of the model
(a class never predicted has precision 0, one never present recall 0: `zero_division=0`).
`most_confused` keeps the N classes involved in the most mistakes and folds every other class into one
"other" row and column, so a 1,000-class confusion matrix stays readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from core.errors import InputError
from core.labels import label_of

REPORT_COLUMNS = ("index", "label", "precision", "recall", "f1", "support")


def _check(targets: np.ndarray, predictions: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(targets, dtype=np.int64).reshape(-1)
    p = np.asarray(predictions, dtype=np.int64).reshape(-1)
    if len(y) != len(p) or len(y) == 0:
        raise InputError(f"need as many predictions as targets (at least one), got {len(p)} and {len(y)}")
    for name, values in (("targets", y), ("predictions", p)):
        if values.min() < 0 or values.max() >= num_classes:
            raise InputError(f"{name} must be class indices 0..{num_classes - 1}")
    return y, p


def per_class_report(
    targets: np.ndarray, predictions: np.ndarray, labels: Sequence[str], *, num_classes: int
) -> pd.DataFrame:
    """One row per class, in class order: index, label, precision, recall, f1, support."""
    y, p = _check(targets, predictions, num_classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, p, labels=np.arange(num_classes), zero_division=0
    )
    return pd.DataFrame(
        {
            "index": np.arange(num_classes),
            "label": [label_of(labels, i) for i in range(num_classes)],
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support.astype(np.int64),
        }
    )


def weakest_first(report: pd.DataFrame, *, include_absent: bool = False) -> pd.DataFrame:
    """The report sorted by F1, then recall, lowest first (more images first on ties); classes with no
    image in the set are dropped unless `include_absent`."""
    rows = report if include_absent else report[report["support"] > 0]
    return rows.sort_values(["f1", "recall", "support", "index"], ascending=[True, True, False, True]).reset_index(
        drop=True
    )


def per_class_records(report: pd.DataFrame) -> list[dict[str, object]]:
    """The CLI's `per_class`: a list indexed by class of {index, label, precision, recall, f1, support}."""
    ordered = report.sort_values("index")
    columns = (ordered[c].tolist() for c in ("index", "label", "precision", "recall", "f1", "support"))
    return [
        {
            "index": int(i),
            "label": str(label),
            "precision": float(p),
            "recall": float(r),
            "f1": float(f),
            "support": int(s),
        }
        for i, label, p, r, f, s in zip(*columns, strict=True)
    ]


def confusion_counts(targets: np.ndarray, predictions: np.ndarray, *, num_classes: int) -> np.ndarray:
    """Counts (classes, classes), rows = true class, columns = predicted (one bincount, no Python loop)."""
    y, p = _check(targets, predictions, num_classes)
    flat = np.bincount(y * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


@dataclass(frozen=True)
class ConfusionView:
    """A confusion matrix cut down to `classes` plus, when any class was left out, an "other" row/column.

    Attributes:
        classes: the kept class indices, most confused first.
        counts: (k, k) or (k + 1, k + 1) counts; the last row/column is "other" when `has_other`.
        has_other: whether the last row and column fold in every class not kept.
    """

    classes: tuple[int, ...]
    counts: np.ndarray
    has_other: bool


def most_confused(matrix: np.ndarray, *, top: int = 20) -> ConfusionView:
    """Keep the `top` classes with the most mistakes (as the true class plus as the wrong prediction)."""
    if top < 1:
        raise InputError(f"top must be at least 1, got {top}")
    counts = np.asarray(matrix, dtype=np.int64)
    off = counts - np.diag(np.diag(counts))
    involvement = off.sum(axis=1) + off.sum(axis=0)
    # most mistakes first, then the most images, then the class index (stable)
    order = np.lexsort((np.arange(len(counts)), -counts.sum(axis=1), -involvement))
    kept = order[:top]
    if len(kept) == len(counts):
        return ConfusionView(tuple(int(i) for i in kept), counts[np.ix_(kept, kept)], has_other=False)
    rest = np.setdiff1d(np.arange(len(counts)), kept)
    k = len(kept)
    view = np.zeros((k + 1, k + 1), dtype=np.int64)
    view[:k, :k] = counts[np.ix_(kept, kept)]
    view[:k, k] = counts[np.ix_(kept, rest)].sum(axis=1)
    view[k, :k] = counts[np.ix_(rest, kept)].sum(axis=0)
    view[k, k] = counts[np.ix_(rest, rest)].sum()
    return ConfusionView(tuple(int(i) for i in kept), view, has_other=True)
