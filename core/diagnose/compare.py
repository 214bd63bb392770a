"""Two models on the same images: how often they agree, who is right where, and where they differ.

The two runs are matched by file name (a file one run could not decode is left out of both), so a
second model's results file can be compared with the first model's run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from core.evaluate.result import EvalResult
from core.evaluate.scores import probabilities


@dataclass(frozen=True)
class Pairing:
    """Rows of run A and run B that hold the same file, in run A's order."""

    files: tuple[str, ...]
    rows_a: np.ndarray
    rows_b: np.ndarray


def pair_runs(files_a: Sequence[str], files_b: Sequence[str]) -> Pairing:
    """Match two runs' images by file name; InputError when they share none."""
    where_b = {name: i for i, name in enumerate(files_b)}
    rows_a = [i for i, name in enumerate(files_a) if name in where_b]
    if not rows_a:
        raise InputError("the two results share no image (file names differ): evaluate both on the same set")
    rows_b = [where_b[files_a[i]] for i in rows_a]
    return Pairing(tuple(files_a[i] for i in rows_a), np.asarray(rows_a, np.int64), np.asarray(rows_b, np.int64))


@dataclass(frozen=True)
class Agreement:
    """Counts over the paired images.

    Attributes:
        n: images both runs evaluated.
        agree: share of images where both predict the same class.
        both_right, only_a, only_b, both_wrong: the 2 x 2 of who got the true class.
    """

    n: int
    agree: float
    both_right: int
    only_a: int
    only_b: int
    both_wrong: int

    @property
    def accuracy_a(self) -> float:
        """Top-1 accuracy of run A on the paired images."""
        return (self.both_right + self.only_a) / self.n

    @property
    def accuracy_b(self) -> float:
        """Top-1 accuracy of run B on the paired images."""
        return (self.both_right + self.only_b) / self.n

    def table(self) -> pd.DataFrame:
        """The 2 x 2: rows "A right"/"A wrong", columns "B right"/"B wrong"."""
        return pd.DataFrame(
            [[self.both_right, self.only_a], [self.only_b, self.both_wrong]],
            index=["A right", "A wrong"],
            columns=["B right", "B wrong"],
        )


def agreement(targets: np.ndarray, predictions_a: np.ndarray, predictions_b: np.ndarray) -> Agreement:
    """Agreement and the 2 x 2 of two models' predictions on the same images (same order)."""
    y = np.asarray(targets).reshape(-1)
    a = np.asarray(predictions_a).reshape(-1)
    b = np.asarray(predictions_b).reshape(-1)
    if not len(y) == len(a) == len(b) or len(y) == 0:
        raise InputError(f"need the same number of targets and predictions, got {len(y)}, {len(a)}, {len(b)}")
    right_a, right_b = a == y, b == y
    return Agreement(
        n=len(y),
        agree=float((a == b).mean()),
        both_right=int((right_a & right_b).sum()),
        only_a=int((right_a & ~right_b).sum()),
        only_b=int((~right_a & right_b).sum()),
        both_wrong=int((~right_a & ~right_b).sum()),
    )


def disagreements(
    targets: np.ndarray,
    predictions_a: np.ndarray,
    predictions_b: np.ndarray,
    confidence_a: np.ndarray,
    confidence_b: np.ndarray,
) -> pd.DataFrame:
    """Images where the two predictions differ, those where one model is right first, then by the larger
    confidence gap. Columns row, target, prediction_a, prediction_b, confidence_a, confidence_b, right."""
    y = np.asarray(targets).reshape(-1)
    a = np.asarray(predictions_a).reshape(-1)
    b = np.asarray(predictions_b).reshape(-1)
    differ = np.flatnonzero(a != b)
    right = np.where(a[differ] == y[differ], "A", np.where(b[differ] == y[differ], "B", "neither"))
    frame = pd.DataFrame(
        {
            "row": differ,
            "target": y[differ],
            "prediction_a": a[differ],
            "prediction_b": b[differ],
            "confidence_a": np.asarray(confidence_a, dtype=np.float64)[differ],
            "confidence_b": np.asarray(confidence_b, dtype=np.float64)[differ],
            "right": right,
        }
    )
    gap = (frame["confidence_a"] - frame["confidence_b"]).abs()
    frame["_neither"] = frame["right"] == "neither"
    frame["_gap"] = -gap
    return frame.sort_values(["_neither", "_gap", "row"]).drop(columns=["_neither", "_gap"]).reset_index(drop=True)


@dataclass(frozen=True)
class RunComparison:
    """Two runs on the same images: their agreement and the images where they differ (`disagreements`' columns,
    plus "file")."""

    agreement: Agreement
    disagreements: pd.DataFrame


def compare_runs(a: EvalResult, b: EvalResult) -> RunComparison:
    """Pair two runs by file name and compare their top-1 predictions (at T = 1)."""
    pairing = pair_runs(a.files, b.files)
    targets = a.targets.numpy()[pairing.rows_a]
    probs_a = probabilities(a.logits[pairing.rows_a])
    probs_b = probabilities(b.logits[pairing.rows_b])
    pred_a, pred_b = probs_a.argmax(axis=1), probs_b.argmax(axis=1)
    differ = disagreements(targets, pred_a, pred_b, probs_a.max(axis=1), probs_b.max(axis=1))
    differ["file"] = [pairing.files[i] for i in differ["row"]]
    return RunComparison(agreement(targets, pred_a, pred_b), differ)
