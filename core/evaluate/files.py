"""Results files: an evaluation's per-image results with every logit (and, when kept, its features) as CSV or
Parquet, and reading them back without the model (never unpickling anything)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.errors import InputError
from core.evaluate.metrics import TOP_K
from core.evaluate.run import EvalResult
from core.evaluate.scores import per_image_scores
from core.labels import label_of
from core.numerics import softmax, top_k

LOGIT_PREFIX = "logit_"
FEATURE_PREFIX = "feature_"


def results_frame(result: EvalResult, labels: Sequence[str] | None = None, *, features: bool = False) -> pd.DataFrame:
    """Per-image results for export: file, target, prediction, confidence, correct, top5 indices and
    probabilities (";"-joined), target/prediction labels when `labels` is given, hardness, margin and
    mistakenness at T = 1 (`core.evaluate.scores`), model, and every logit as columns logit_0 .. logit_{C-1}
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
