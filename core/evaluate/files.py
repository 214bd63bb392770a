"""Results files: an evaluation's per-image results with every logit (and, when kept, its features) as CSV or
Parquet, and reading them back without the model (never unpickling anything).

Parquet is written compact: the logits as one fixed-size list column `logits` (float32) and the features as one
`features` column (float16), both byte-stream-split (the bytes of each float stored apart, so the exponents compress)
and zstd-compressed, without dictionary encoding for floats (a dictionary of 50,000 distinct floats is larger than
the floats). 50,000 x 1,000 logits take less than their raw float32 bytes. CSV (and the Parquet files written before,
with one column per logit, logit_0 .. logit_{C-1}, and per feature) are read too.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from core.errors import InputError
from core.evaluate.metrics import TOP_K
from core.evaluate.rescore import Rescorer
from core.evaluate.result import EvalResult
from core.labels import label_of
from core.numerics import top_k

LOGIT_PREFIX = "logit_"
FEATURE_PREFIX = "feature_"
LOGITS_COLUMN = "logits"
FEATURES_COLUMN = "features"
FORMAT_KEY = b"logitscope.results"
FORMAT_VERSION = b"2"  # 1: one column per logit (up to 0.3); 2: one list column of logits
ROW_GROUP_ROWS = 8192  # rows per Parquet row group: read one at a time into the result's arrays
BLOCK_ROWS = 4096
RESULT_COLUMNS = ("file", "target", "model")

Source = bytes | str | os.PathLike[str]


def per_image_frame(result: EvalResult, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The per-image columns of a results file, at T = 1: file, target (target_label), prediction
    (prediction_label), confidence, correct, top5_indices and top5_probabilities (";"-joined), hardness, margin,
    mistakenness (`core.evaluate.scores`) and model; labels only when `labels` is given."""
    at_one = Rescorer(result).at(1.0)
    per_image = at_one.per_image
    indices = np.empty((result.n, min(TOP_K, result.num_classes)), dtype=np.int64)
    values = np.empty(indices.shape, dtype=np.float32)
    for start in range(0, result.n, BLOCK_ROWS):  # the one stable ranking, in blocks
        found = top_k(result.logits[start : start + BLOCK_ROWS], TOP_K)
        indices[start : start + BLOCK_ROWS] = found.indices.numpy()
        values[start : start + BLOCK_ROWS] = found.values.numpy()
    # p = exp(z - max z) / S, and 1 / S is the confidence
    probabilities = np.exp((values - values[:, :1]).astype(np.float64)) * per_image.confidence[:, None]
    predicted = indices[:, 0]
    frame = pd.DataFrame(
        {
            "file": list(result.files),
            "target": result.targets.numpy(),
            "prediction": predicted,
            "confidence": per_image.confidence,
            "correct": predicted == result.targets.numpy(),
            "top5_indices": [";".join(map(str, row)) for row in indices.tolist()],
            "top5_probabilities": [";".join(f"{p:.6g}" for p in row) for row in probabilities.tolist()],
            "hardness": per_image.hardness,
            "margin": per_image.margin,
            "mistakenness": per_image.mistakenness,
            "model": result.model,
        }
    )
    if labels is not None:
        names = np.array([label_of(labels, i) for i in range(result.num_classes)], dtype=object)
        frame.insert(2, "target_label", names[result.targets.numpy()])
        frame.insert(4, "prediction_label", names[predicted])
    return frame


def results_frame(result: EvalResult, labels: Sequence[str] | None = None, *, features: bool = False) -> pd.DataFrame:
    """Per-image results with one column per logit (logit_0 .. logit_{C-1}, enough to recompute everything at any T)
    and, with `features` and a run that kept them, per feature (feature_0 .. feature_{D-1}): the CSV's layout."""
    z = result.logits.numpy()
    parts = [
        per_image_frame(result, labels),
        pd.DataFrame(z, columns=[f"{LOGIT_PREFIX}{i}" for i in range(z.shape[1])]),
    ]
    if features and result.features is not None:
        f = result.features.numpy()
        parts.append(pd.DataFrame(f, columns=[f"{FEATURE_PREFIX}{i}" for i in range(f.shape[1])]))
    return pd.concat(parts, axis=1)


def results_table(result: EvalResult, labels: Sequence[str] | None = None, *, features: bool = False) -> pa.Table:
    """The compact Parquet layout: the per-image columns, `logits` (float32 lists) and `features` (float16 lists)."""
    table = pa.Table.from_pandas(per_image_frame(result, labels), preserve_index=False)
    z = np.ascontiguousarray(result.logits.numpy(), dtype=np.float32)
    table = table.append_column(LOGITS_COLUMN, pa.FixedSizeListArray.from_arrays(pa.array(z.reshape(-1)), z.shape[1]))
    if features and result.features is not None:
        f = np.ascontiguousarray(result.features.numpy(), dtype=np.float16)
        table = table.append_column(
            FEATURES_COLUMN, pa.FixedSizeListArray.from_arrays(pa.array(f.reshape(-1)), f.shape[1])
        )
    return table.replace_schema_metadata({FORMAT_KEY: FORMAT_VERSION})


def write_results(
    result: EvalResult,
    where: str | os.PathLike[str] | BinaryIO,
    *,
    fmt: str,
    labels: Sequence[str] | None = None,
    features: bool = False,
) -> None:
    """Write the results file to a path or a binary file: fmt "csv" (UTF-8, one column per logit) or "parquet"
    (compact); `features` adds the features."""
    if fmt == "csv":
        frame = results_frame(result, labels, features=features)
        if isinstance(where, str | os.PathLike):
            frame.to_csv(where, index=False)
        else:
            where.write(frame.to_csv(index=False).encode("utf-8"))
        return
    if fmt != "parquet":
        raise InputError(f"results format must be csv or parquet, not {fmt!r}")
    table = results_table(result, labels, features=features)
    floats = [f"{c}.list.element" for c in (LOGITS_COLUMN, FEATURES_COLUMN) if c in table.column_names]
    pq.write_table(
        table,
        where,
        row_group_size=ROW_GROUP_ROWS,
        compression="zstd",
        use_dictionary=[c for c in table.column_names if c not in (LOGITS_COLUMN, FEATURES_COLUMN)],
        use_byte_stream_split=floats,
        write_statistics=[c for c in table.column_names if c not in (LOGITS_COLUMN, FEATURES_COLUMN)],
    )


def results_bytes(
    result: EvalResult, *, fmt: str, labels: Sequence[str] | None = None, features: bool = False
) -> bytes:
    """The results file as bytes (`write_results`)."""
    buffer = io.BytesIO()
    write_results(result, buffer, fmt=fmt, labels=labels, features=features)
    return buffer.getvalue()


# ---------------------------------------------------------------- reading
def read_results(
    source: Source, name: str | None = None, *, max_rows: int = 1_000_000, features: bool = True
) -> EvalResult:
    """Load a results file (CSV or Parquet, compact or one column per logit; never unpickles anything) from its
    bytes or a path; `features=False` skips a compact file's features (re-scoring needs only the logits).

    Raises InputError when it is not such a file (missing columns, non-finite logits, bad targets).
    """
    path = None if isinstance(source, bytes) else Path(source)
    name = name or (path.name if path is not None else "results.csv")
    if path is not None and not path.is_file():
        raise InputError(f"{name}: no such file")
    head = source[:4] if isinstance(source, bytes) else _head(path)
    is_parquet = head == b"PAR1" or name.lower().endswith(".parquet")
    kind = "Parquet" if is_parquet else "CSV"
    try:
        if is_parquet:
            where = pa.BufferReader(source) if isinstance(source, bytes) else str(path)
            return _read_parquet(where, name, max_rows, features=features)
        frame = pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else str(path), low_memory=False)
    except InputError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
        raise InputError(f"{name}: not a readable {kind} results file ({type(exc).__name__}: {exc})") from None
    return _from_wide(frame, name, max_rows)


def _head(path: Path | None) -> bytes:
    assert path is not None
    with open(path, "rb") as handle:
        return handle.read(4)


def _read_parquet(source: pa.BufferReader | str, name: str, max_rows: int, *, features: bool) -> EvalResult:
    parquet = pq.ParquetFile(source)
    schema = parquet.schema_arrow
    n = parquet.metadata.num_rows
    _check_rows(n, name, max_rows)
    if LOGITS_COLUMN not in schema.names:  # one column per logit (files written before the compact layout)
        wanted = [c for c in schema.names if c in RESULT_COLUMNS or c.startswith((LOGIT_PREFIX, FEATURE_PREFIX))]
        return _from_wide(parquet.read(columns=wanted).to_pandas(), name, max_rows)
    missing = [c for c in ("file", "target") if c not in schema.names]
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)}")
    logits = _allocate(schema, LOGITS_COLUMN, n, np.float32, name)
    keep = features and FEATURES_COLUMN in schema.names
    kept = _allocate(schema, FEATURES_COLUMN, n, np.float16, name) if keep else None
    columns = [c for c in ("file", "target", "model", LOGITS_COLUMN) if c in schema.names]
    columns += [FEATURES_COLUMN] if keep else []
    files: list[str] = []
    targets = np.empty(n, dtype=np.int64)
    model = ""
    start = 0
    for group in range(parquet.num_row_groups):  # one row group at a time: the file is never held twice
        part = parquet.read_row_group(group, columns=columns)
        stop = start + part.num_rows
        files += [str(f) for f in part.column("file").to_pylist()]
        try:
            targets[start:stop] = part.column("target").to_numpy()
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise InputError(f"{name}: targets must be whole numbers ({exc})") from None
        _fill(logits, start, part.column(LOGITS_COLUMN), name)
        if kept is not None:
            _fill(kept, start, part.column(FEATURES_COLUMN), name)
        if not model and "model" in part.column_names and part.num_rows:
            model = str(part.column("model")[0].as_py() or "")
        start = stop
    return _result(name, files, targets, logits, kept, model)


def _allocate(schema: pa.Schema, column: str, n: int, dtype: type, name: str) -> np.ndarray:
    kind = schema.field(column).type
    if not pa.types.is_fixed_size_list(kind) or not pa.types.is_floating(kind.value_type):
        raise InputError(f"{name}: the {column} column must hold lists of numbers of one length")
    return np.empty((n, kind.list_size), dtype=dtype)


def _fill(out: np.ndarray, start: int, column: pa.ChunkedArray, name: str) -> None:
    if column.null_count:
        raise InputError(f"{name}: some rows have no {column.type}")
    wanted = pa.from_numpy_dtype(out.dtype)
    offset, width = start, out.shape[1]
    for chunk in column.chunks:
        values = chunk.values  # the floats of every row, one after the other
        if values.type != wanted:  # not written by this tool: float64, say
            values = values.cast(wanted)
        if values.null_count:
            raise InputError(f"{name}: some values in the {column.type} column are missing")
        # the value buffer as it is (pyarrow's to_numpy pays a slow first call in each process)
        flat = np.frombuffer(
            values.buffers()[1], dtype=out.dtype, count=len(values), offset=values.offset * out.itemsize
        )
        out[offset : offset + len(chunk)] = flat[chunk.offset * width : (chunk.offset + len(chunk)) * width].reshape(
            len(chunk), width
        )
        offset += len(chunk)


def _check_rows(n: int, name: str, max_rows: int) -> None:
    if n == 0:
        raise InputError(f"{name}: the results file has no rows")
    if n > max_rows:
        raise InputError(f"{name}: {n:,} rows, over the limit of {max_rows:,}")


def _from_wide(frame: pd.DataFrame, name: str, max_rows: int) -> EvalResult:
    """A result from one column per logit (and per feature): CSV and the Parquet files written before."""
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
    _check_rows(len(frame), name, max_rows)
    try:
        logits = frame[order].to_numpy(dtype=np.float32)
        targets = frame["target"].to_numpy(dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: logits and targets must be numbers ({exc})") from None
    model = str(frame["model"].iloc[0]) if "model" in frame.columns else ""
    files = [str(f) for f in frame["file"].tolist()]
    return _result(name, files, targets, logits, _wide_features(frame, name), model)


def _wide_features(frame: pd.DataFrame, name: str) -> np.ndarray | None:
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
    return values.astype(np.float16)


def _result(
    name: str, files: list[str], targets: np.ndarray, logits: np.ndarray, features: np.ndarray | None, model: str
) -> EvalResult:
    """The checked result: finite logits, targets that are class indices."""
    targets, logits = _writable(targets), _writable(logits)
    features = _writable(features) if features is not None else None
    for start in range(0, len(logits), BLOCK_ROWS * 4):
        if not np.isfinite(logits[start : start + BLOCK_ROWS * 4]).all():
            raise InputError(f"{name}: some logits are NaN or infinite")
    if int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1]:
        raise InputError(f"{name}: targets must be class indices 0..{logits.shape[1] - 1}")
    if features is not None and not np.isfinite(features).all():
        raise InputError(f"{name}: some features are NaN or infinite")
    return EvalResult(
        tuple(files),
        torch.from_numpy(targets),
        torch.from_numpy(logits),
        model=model,
        source=name,
        attempted=len(files),
        features=torch.from_numpy(features) if features is not None else None,
    )


def _writable(array: np.ndarray) -> np.ndarray:
    """The array itself, or a copy where pandas handed out a read-only view (torch wants to own writable memory)."""
    return array if array.flags.writeable else array.copy()
