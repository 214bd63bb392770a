"""Tables of an evaluation (per image, per class, confusion), results files (CSV/Parquet) and the CLI summary."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.diagnose.scores import per_image_scores
from core.errors import InputError
from core.evaluate.metrics import TOP_K, TemperatureFit, check_scored
from core.evaluate.run import EvalResult
from core.labels import label_of
from core.numerics import softmax, top_k

ArrayLike = Tensor | np.ndarray | pd.Series
LOGIT_PREFIX = "logit_"
FEATURE_PREFIX = "feature_"


def records_table(result: EvalResult, labels: Sequence[str], *, temperature: float = 1.0) -> pd.DataFrame:
    """One row per image at T: file, target, target_label, prediction, prediction_label, confidence,
    margin (top-1 minus top-2 probability), hardness (entropy), mistakenness (`core.diagnose.scores`),
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
    grouped = records.groupby("target")
    table = pd.DataFrame(
        {
            "count": grouped.size(),
            "correct": grouped["correct"].sum().astype(np.int64),
            "mean_confidence": grouped["confidence"].mean(),
        }
    )
    table["accuracy"] = table["correct"] / table["count"]
    table["predicted"] = records["prediction"].value_counts().reindex(table.index, fill_value=0).astype(np.int64)
    wrong = records[~records["correct"]]
    top_wrong = wrong.groupby("target")["prediction_label"].agg(lambda s: s.value_counts().index[0])
    table["most_confused_with"] = top_wrong.reindex(table.index).fillna("")
    table.insert(0, "label", [label_of(labels, int(i)) for i in table.index])
    table.index.name = "index"
    table = table.reset_index()
    ordered = ["index", "label", "count", "correct", "accuracy", "mean_confidence", "predicted", "most_confused_with"]
    return table[ordered].sort_values(["accuracy", "index"]).reset_index(drop=True)


# ---------------------------------------------------------------- results files
def results_frame(result: EvalResult, labels: Sequence[str] | None = None, *, features: bool = False) -> pd.DataFrame:
    """Per-image results for export: file, target, prediction, confidence, correct, top5 indices and
    probabilities (";"-joined), target/prediction labels when `labels` is given, hardness, margin and
    mistakenness at T = 1 (`core.diagnose.scores`), model, and every logit as columns logit_0 .. logit_{C-1}
    (enough to recompute everything at any T); with `features` and a run that kept them, the features as
    columns feature_0 .. feature_{D-1}."""
    z = result.logits
    probs = softmax(z.to(torch.float64))
    values, indices = top_k(probs, TOP_K)
    predicted = indices[:, 0]
    frame = pd.DataFrame(
        {
            "file": list(result.files),
            "target": result.targets.numpy(),
            "prediction": predicted.numpy(),
            "confidence": values[:, 0].numpy(),
            "correct": (predicted == result.targets).numpy(),
            "top5_indices": [";".join(str(i) for i in row) for row in indices.tolist()],
            "top5_probabilities": [";".join(f"{p:.6g}" for p in row) for row in values.tolist()],
        }
    )
    if labels is not None:
        frame.insert(2, "target_label", [label_of(labels, i) for i in result.targets.tolist()])
        frame.insert(4, "prediction_label", [label_of(labels, i) for i in predicted.tolist()])
    frame = pd.concat([frame, per_image_scores(z, result.targets)], axis=1)
    frame["model"] = result.model
    logit_columns = pd.DataFrame(z.numpy(), columns=[f"{LOGIT_PREFIX}{i}" for i in range(z.shape[1])])
    parts = [frame, logit_columns]
    if features and result.features is not None:
        f = result.features.numpy()
        parts.append(pd.DataFrame(f, columns=[f"{FEATURE_PREFIX}{i}" for i in range(f.shape[1])]))
    return pd.concat(parts, axis=1)


def results_bytes(
    result: EvalResult, *, fmt: str, labels: Sequence[str] | None = None, features: bool = False
) -> bytes:
    """The results file as bytes: fmt "csv" (UTF-8) or "parquet"; `features` adds the feature columns."""
    frame = results_frame(result, labels, features=features)
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise InputError(f"results format must be csv or parquet, not {fmt!r}")


def read_results(data: bytes, name: str = "results.csv", *, max_rows: int = 1_000_000) -> EvalResult:
    """Load a results file written by `results_bytes` (CSV or Parquet; never unpickles anything).

    Raises InputError when it is not such a file (missing columns, non-finite logits, bad targets).
    """
    is_parquet = data[:4] == b"PAR1" or name.lower().endswith(".parquet")
    try:
        frame = pd.read_parquet(io.BytesIO(data)) if is_parquet else pd.read_csv(io.BytesIO(data), low_memory=False)
    except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
        kind = "Parquet" if is_parquet else "CSV"
        raise InputError(f"{name}: not a readable {kind} results file ({type(exc).__name__}: {exc})") from None
    logit_columns = [c for c in frame.columns if str(c).startswith(LOGIT_PREFIX)]
    try:
        order = sorted(logit_columns, key=lambda c: int(str(c)[len(LOGIT_PREFIX) :]))
    except ValueError:
        raise InputError(f"{name}: logit columns must be named logit_0, logit_1, ...") from None
    if [f"{LOGIT_PREFIX}{i}" for i in range(len(order))] != order or len(order) < 2:
        raise InputError(
            f"{name}: needs logit columns logit_0 .. logit_(C-1) for at least 2 classes (a results file from this tool)"
        )
    missing = [c for c in ("file", "target") if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)}")
    if len(frame) == 0:
        raise InputError(f"{name}: the results file has no rows")
    if len(frame) > max_rows:
        raise InputError(f"{name}: {len(frame):,} rows, over the limit of {max_rows:,}")
    try:
        logits = torch.tensor(frame[order].to_numpy(dtype=np.float32))
        targets = torch.tensor(frame["target"].to_numpy(dtype=np.int64))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: logits and targets must be numbers ({exc})") from None
    if not bool(torch.isfinite(logits).all()):
        raise InputError(f"{name}: some logits are NaN or infinite")
    if int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1]:
        raise InputError(f"{name}: targets must be class indices 0..{logits.shape[1] - 1}")
    model = str(frame["model"].iloc[0]) if "model" in frame.columns else ""
    files = tuple(str(f) for f in frame["file"].tolist())
    features = _read_features(frame, name)
    return EvalResult(files, targets, logits, model=model, source=name, attempted=len(files), features=features)


def _read_features(frame: pd.DataFrame, name: str) -> Tensor | None:
    """The feature_0 .. feature_{D-1} columns as float16 (n, D), or None when the file has none."""
    columns = [c for c in frame.columns if str(c).startswith(FEATURE_PREFIX)]
    if not columns:
        return None
    expected = [f"{FEATURE_PREFIX}{i}" for i in range(len(columns))]
    if sorted(columns, key=lambda c: (len(str(c)), str(c))) != expected:
        raise InputError(f"{name}: feature columns must be named feature_0, feature_1, ... with none missing")
    try:
        values = frame[expected].to_numpy(dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: features must be numbers ({exc})") from None
    if not np.isfinite(values).all():
        raise InputError(f"{name}: some features are NaN or infinite")
    return torch.tensor(values, dtype=torch.float16)


# ---------------------------------------------------------------- the CLI's summary
def summary(result: EvalResult, fit: TemperatureFit) -> dict[str, object]:
    """The JSON the CLI prints: n, top1, top5, ece, nll, fitted_temperature, ece_after, nll_after,
    images_per_second, errors [{file, error}] (plus brier and mce before/after, model, seconds), notes [sentences
    about the set: how a zip's names were decoded, OS metadata left out] and file_notes {file: [sentences]} for
    the images something was done to (EXIF turn, CMYK, upscaled 8×, only the centre seen)."""
    return {
        "n": result.n,
        "top1": fit.before.top1,
        "top5": fit.before.top5,
        "ece": fit.before.ece,
        "nll": fit.before.nll,
        "fitted_temperature": fit.temperature,
        "ece_after": fit.after.ece,
        "nll_after": fit.after.nll,
        "images_per_second": result.images_per_second,
        "errors": [{"file": e.name, "error": e.reason} for e in result.errors],
        "brier": fit.before.brier,
        "brier_after": fit.after.brier,
        "mce": fit.before.mce,
        "mce_after": fit.after.mce,
        "model": result.model,
        "seconds": result.seconds,
        "probabilities_warning": fit.probabilities_warning,
        "notes": list(result.notes),
        "file_notes": {file: list(notes) for file, notes in result.file_notes.items()},
    }
