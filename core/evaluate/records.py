"""Tables of an evaluation at one temperature: per image (`records_table`), the mistakes, the confusion, per class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.evaluate.metrics import check_scored
from core.evaluate.result import EvalResult
from core.evaluate.scores import per_image_scores
from core.labels import label_of
from core.numerics import softmax, top_k

ArrayLike = Tensor | np.ndarray | pd.Series


def records_table(result: EvalResult, labels: Sequence[str], *, temperature: float = 1.0) -> pd.DataFrame:
    """One row per image at T: file, target, target_label, prediction, prediction_label, confidence,
    margin (top-1 minus top-2 probability), hardness (entropy), mistakenness (`core.evaluate.scores`),
    target_probability, correct."""
    z, y = check_scored(result.logits, result.targets)
    probs = softmax(z, temperature=temperature)
    values, indices = top_k(probs, 2)
    second = values[:, 1] if values.shape[1] > 1 else torch.zeros_like(values[:, 0])
    predicted = indices[:, 0]
    scores = per_image_scores(result.logits, y, temperature=temperature)
    return pd.DataFrame(
        {
            "file": list(result.files),
            "target": y.numpy(),
            "target_label": [label_of(labels, i) for i in y.tolist()],
            "prediction": predicted.numpy(),
            "prediction_label": [label_of(labels, i) for i in predicted.tolist()],
            "confidence": values[:, 0].numpy(),
            "margin": (values[:, 0] - second).numpy(),
            "hardness": scores["hardness"].to_numpy(),
            "mistakenness": scores["mistakenness"].to_numpy(),
            "target_probability": probs.gather(1, y[:, None]).flatten().numpy(),
            "correct": (predicted == y).numpy(),
        }
    )


def most_confident_mistakes(records: pd.DataFrame, *, n: int = 12) -> pd.DataFrame:
    """The n wrong predictions made with the highest confidence."""
    return records[~records["correct"]].sort_values(["confidence", "file"], ascending=[False, True]).head(n)


def least_confident_correct(records: pd.DataFrame, *, n: int = 12) -> pd.DataFrame:
    """The n right predictions made with the lowest confidence."""
    return records[records["correct"]].sort_values(["confidence", "file"], ascending=[True, True]).head(n)


def _as_index(values: ArrayLike) -> Tensor:
    array = values.to_numpy() if isinstance(values, pd.Series) else values
    return torch.tensor(np.asarray(array), dtype=torch.int64).reshape(-1)


def confusion_matrix(targets: ArrayLike, predictions: ArrayLike, *, num_classes: int) -> Tensor:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    flat = _as_index(targets) * num_classes + _as_index(predictions)
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def shown_classes(records: pd.DataFrame) -> list[int]:
    """The classes that occur as a target or a prediction, sorted: the rows/columns worth drawing."""
    return sorted(set(records["target"].tolist()) | set(records["prediction"].tolist()))


def confused_pairs(records: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """Wrong (true -> predicted) pairs with their counts, most frequent first.

    Columns: target, target_label, prediction, prediction_label, count.
    """
    wrong = records[~records["correct"]]
    columns = ["target", "target_label", "prediction", "prediction_label"]
    pairs = wrong.groupby(columns, sort=False).size().reset_index(name="count")
    pairs = pairs.sort_values(["count", "target", "prediction"], ascending=[False, True, True]).reset_index(drop=True)
    return pairs if top is None else pairs.head(top)


def per_class_table(records: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """One row per true class present: index, label, count, correct, accuracy, mean_confidence,
    predicted (how often the class was predicted), most_confused_with (label of the top wrong prediction)."""
    target = records["target"].to_numpy(np.int64)
    prediction = records["prediction"].to_numpy(np.int64)
    correct = records["correct"].to_numpy(bool)
    size = int(max(target.max(initial=-1), prediction.max(initial=-1))) + 1
    present = np.flatnonzero(np.bincount(target, minlength=size))  # one pass each, no Python per class
    count = np.bincount(target, minlength=size)[present]
    hits = np.bincount(target, weights=correct, minlength=size)[present].astype(np.int64)
    confidence = np.bincount(target, weights=records["confidence"].to_numpy(np.float64), minlength=size)[present]
    # the most frequent wrong prediction of each class (ties: the lowest class index)
    pairs, times = np.unique(np.stack([target[~correct], prediction[~correct]], axis=1), axis=0, return_counts=True)
    first = np.lexsort((pairs[:, 1], -times, pairs[:, 0]))
    best = first[np.r_[True, pairs[first[1:], 0] != pairs[first[:-1], 0]]] if first.size else first
    confused = dict(zip(pairs[best, 0].tolist(), pairs[best, 1].tolist(), strict=True))
    table = pd.DataFrame(
        {
            "index": present,
            "label": [label_of(labels, int(i)) for i in present],
            "count": count,
            "correct": hits,
            "accuracy": hits / count,
            "mean_confidence": confidence / count,
            "predicted": np.bincount(prediction, minlength=size)[present].astype(np.int64),
            "most_confused_with": [label_of(labels, confused[i]) if i in confused else "" for i in present.tolist()],
        }
    )
    return table.sort_values(["accuracy", "index"], kind="stable").reset_index(drop=True)
