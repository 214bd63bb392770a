"""Reading what people paste or upload into the Logits Lab: text, CSV, JSON, .npy (`core.lab.write` writes them)."""

from __future__ import annotations

import io
import json
import math
import re
from typing import Final

import numpy as np

from core.config import SETTINGS
from core.lab.logit_table import LabInputError, LabTable, make_table
from core.lab.values import number, show_value
from core.safe_io import SafeInputError, load_json, read_csv_rows

MAX_UPLOAD_BYTES: Final = 5_000_000  # 10 000 labelled logits are well under 1 MB


_SEPARATORS = re.compile(r"[\s,;，；、]+")


_WRAPPER = re.compile(r"^\s*(?:tensor|array|np\.array|torch\.tensor)?\s*\(?", re.IGNORECASE)


def _tokens(text: str) -> list[str]:
    # tolerate what people copy from Python: [2.0, 1.0], tensor([[2.0, 1.0]]), array([...], dtype=...)
    # starts at the literal "dtype", so a long run of spaces is scanned once (",?\s*dtype" was quadratic)
    text = re.sub(r"dtype\s*=\s*[\w.]+", " ", text)
    text = _WRAPPER.sub("", text)
    text = re.sub(r"[\[\](){}]", " ", text)
    return [tok for tok in _SEPARATORS.split(text) if tok]


def parse_numbers(
    text: str,
    *,
    max_count: int = SETTINGS.max_logits,
    allow_percent: bool = False,
    finite: bool = True,
) -> list[float]:
    """Numbers separated by commas, spaces, semicolons or new lines ("95.7%" too with `allow_percent`).

    Raises:
        LabInputError: nothing to read, a token that is not a number, NaN/inf, or more than `max_count`.
    """
    tokens = _tokens(text)
    if not tokens:
        raise LabInputError("lab.err.nothing_pasted")
    if len(tokens) > max_count:
        raise LabInputError("lab.err.too_many", count=len(tokens), limit=max_count)
    values = []
    for i, token in enumerate(tokens, start=1):
        percent = allow_percent and token.endswith("%")
        value = number(token[:-1] if percent else token)
        if value is None:
            raise LabInputError("lab.err.not_a_number", item=i, text=token[:40])
        if finite and not math.isfinite(value):
            raise LabInputError("lab.err.not_finite", item=i, value=show_value(value))
        values.append(value / 100 if percent else value)
    return values


_PAIR_SEPARATORS: Final = ",;:=|"  # one of these (or only whitespace) separates a label from its value


def _split_labelled(line: str) -> tuple[str, str] | None:
    """(label, value) of "label<gap>value", where value is the last run without whitespace or any of
    ",;:=|" and the gap is whitespace with at most one of those marks; None when the line has no gap.

    One pass from the end, linear in the line: the regex this replaces,
    `^\\s*(.*?\\S)\\s*(?:[,;:=|]\\s*|\\s+)([^\\s,;:=|]+)\\s*$`, backtracked cubically on a line of many
    spaces and one letter (tests/test_bad_inputs.py keeps it as the oracle on short lines).
    """
    text = line.strip()
    start = len(text)
    while start > 0 and not (text[start - 1].isspace() or text[start - 1] in _PAIR_SEPARATORS):
        start -= 1
    if start == 0 or start == len(text):
        return None
    head = text[:start]
    label = head.rstrip()
    if label and label[-1] in _PAIR_SEPARATORS and label[:-1].rstrip():
        label = label[:-1].rstrip()  # the longest gap: spaces, one mark, spaces
    elif label == head:
        return None  # the gap would be empty (a mark that is itself the whole label, with no space)
    return (label, text[start:]) if label else None


def _labelled_line(line: str) -> tuple[str, str] | None:
    pair = _split_labelled(line)
    if pair is None:
        return None
    label = pair[0].strip().strip("\"'")
    # a "label" made only of numbers is a row of numbers, not a name
    if not label or all(number(tok) is not None for tok in _SEPARATORS.split(label) if tok):
        return None
    return label, pair[1]


def parse_pasted(text: str, *, source: str = "", max_count: int = SETTINGS.max_logits) -> LabTable:
    """A table from pasted text: plain numbers, or one "label value" pair per line (tab, comma, colon).

    A first line like "label,logit" is taken as a header and skipped.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    pairs = [_labelled_line(line) for line in lines]
    if len(lines) > max_count + 1:
        raise LabInputError("lab.err.too_many", count=len(lines), limit=max_count)
    if pairs and pairs[0] is not None and number(pairs[0][1]) is None and len(pairs) > 1:
        pairs, lines = pairs[1:], lines[1:]  # header line
    labelled = bool(pairs) and all(pair is not None and number(pair[1]) is not None for pair in pairs)
    if not labelled:
        return make_table(parse_numbers(text, max_count=max_count), source=source, max_count=max_count)
    labels = [pair[0] for pair in pairs if pair is not None]
    values = [number(pair[1]) for pair in pairs if pair is not None]
    for i, value in enumerate(values, start=1):
        if value is None or not math.isfinite(value):
            raise LabInputError("lab.err.not_finite", item=i, value=show_value(float(value or "nan")))
    return make_table([float(v) for v in values if v is not None], labels, source=source, max_count=max_count)


def _decode_text(data: bytes, file_name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabInputError("lab.err.not_utf8", name=file_name, position=exc.start) from None


_LABEL_NAMES: Final = {"label", "labels", "name", "class", "class_name", "category", "标签", "类别", "名称"}


_LOGIT_NAMES: Final = {"logit", "logits", "score", "scores", "value", "z", "分数"}


def parse_csv(data: bytes, *, file_name: str = "table.csv", max_count: int = SETTINGS.max_logits) -> LabTable:
    """A table from CSV: one column of logits, two columns (label, logit), or one row of logits.

    With a header, the columns named label/name/class and logit/score/value are used, so the lab's own
    CSV export (label, logit, probability, ...) reads back.
    """
    text = _decode_text(data, file_name)
    # The delimiter comes from the first line only (labels further down may hold ";" or quotes that would
    # out-vote it), counted in linear time: csv.Sniffer backtracked for seconds on a crafted line.
    # Quoting stays standard CSV (doubled quotes), which is what our own export writes.
    try:
        rows = [[cell.strip() for cell in row] for row in read_csv_rows(text, name=file_name, delimiter=None)]
    except SafeInputError as exc:
        raise LabInputError(exc.key, **exc.params) from None
    rows = [row for row in rows if any(row)]
    if not rows:
        raise LabInputError("lab.err.file_empty", name=file_name)
    if len(rows) > max_count + 1:
        raise LabInputError("lab.err.too_many", count=len(rows) - 1, limit=max_count)
    header: list[str] | None = None
    if all(number(cell) is None for cell in rows[0] if cell):  # a row of names only: the header
        header, rows = [cell.lower() for cell in rows[0]], rows[1:]
        if not rows:
            raise LabInputError("lab.err.file_empty", name=file_name)
    if len(rows) == 1 and header is None:
        values = [_csv_number(cell, 1, j + 1, file_name) for j, cell in enumerate(rows[0]) if cell]
        return make_table(values, source=file_name, max_count=max_count)
    width = len(header) if header is not None else len(rows[0])
    logit_col, label_col = _csv_columns(header, width, file_name)
    labels: list[str | None] = []
    values = []
    for r, row in enumerate(rows, start=2 if header else 1):
        if len(row) != width:
            raise LabInputError("lab.err.csv_ragged", name=file_name, row=r, cells=len(row), width=width)
        values.append(_csv_number(row[logit_col], r, logit_col + 1, file_name))
        labels.append(row[label_col] if label_col is not None else None)
    return make_table(values, labels, source=file_name, max_count=max_count)


def _csv_columns(header: list[str] | None, width: int, file_name: str) -> tuple[int, int | None]:
    """(logit column, label column or None) from the header names or the number of columns."""
    if header is not None:
        logit = next((i for i, name in enumerate(header) if name in _LOGIT_NAMES), None)
        label = next((i for i, name in enumerate(header) if name in _LABEL_NAMES), None)
        if logit is not None:
            return logit, label
    if width == 1:
        return 0, None
    if width == 2:
        return 1, 0
    raise LabInputError("lab.err.csv_columns", name=file_name, width=width)


def _csv_number(cell: str, row: int, column: int, file_name: str) -> float:
    value = number(cell)
    if value is None:
        raise LabInputError("lab.err.csv_cell", name=file_name, row=row, column=column, text=cell[:40])
    if not math.isfinite(value):
        raise LabInputError("lab.err.csv_not_finite", name=file_name, row=row, column=column, value=show_value(value))
    return value


def parse_json(data: bytes, *, file_name: str = "logits.json", max_count: int = SETTINGS.max_logits) -> LabTable:
    """A table from JSON: [2.0, 1.0], {"labels": [...], "logits": [...]}, {"cat": 2.0, ...}, or
    [{"label": "cat", "logit": 2.0}, ...] (the lab's JSON export reads back)."""
    text = _decode_text(data, file_name)
    try:
        doc = load_json(text, name=file_name)  # depth and number length bounded: no RecursionError/OverflowError
    except SafeInputError as exc:
        raise LabInputError("lab.err.json" if exc.key == "io.json_invalid" else exc.key, **exc.params) from None
    labels: list[str | None] | None = None
    if isinstance(doc, dict) and "logits" in doc:
        raw, raw_labels = doc["logits"], doc.get("labels")
        if raw_labels is not None:
            if not isinstance(raw_labels, list) or not all(isinstance(x, str) for x in raw_labels):
                raise LabInputError("lab.err.json_labels", name=file_name)
            labels = list(raw_labels)
    elif isinstance(doc, dict) and doc:
        labels, raw = list(doc.keys()), list(doc.values())
    elif isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        labels = [x.get("label") if isinstance(x.get("label"), str) else None for x in doc]
        raw = [x.get("logit", x.get("score")) for x in doc]
    else:
        raw = doc
    if not isinstance(raw, list):
        raise LabInputError("lab.err.json_layout", name=file_name)
    if len(raw) > max_count:
        raise LabInputError("lab.err.too_many", count=len(raw), limit=max_count)
    values = []
    for i, item in enumerate(raw, start=1):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise LabInputError("lab.err.json_item", name=file_name, item=i, text=json.dumps(item)[:40])
        if not math.isfinite(item):
            raise LabInputError("lab.err.not_finite", item=i, value=show_value(float(item)))
        values.append(float(item))
    return make_table(values, labels, source=file_name, max_count=max_count)


def parse_npy(data: bytes, *, file_name: str = "logits.npy", max_count: int = SETTINGS.max_logits) -> LabTable:
    """A table from a NumPy .npy file holding one numeric vector (shape (C,), (1, C) or (C, 1)).

    The header is read first, so a huge or object array is refused before its data is loaded; pickles
    are never loaded (allow_pickle=False).
    """
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        # version 3.0 differs from 2.0 only in allowing UTF-8 in the header
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(stream)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise LabInputError("lab.err.npy", name=file_name, detail=str(exc)[:120]) from None
    if dtype.hasobject:
        raise LabInputError("lab.err.npy_object", name=file_name)
    if dtype.kind not in "fiu":
        raise LabInputError("lab.err.npy_dtype", name=file_name, dtype=str(dtype))
    size = math.prod(shape)
    if len(shape) > 2 or (len(shape) == 2 and min(shape) != 1):
        raise LabInputError("lab.err.npy_shape", name=file_name, shape=str(tuple(shape)))
    if size > max_count:
        raise LabInputError("lab.err.too_many", count=size, limit=max_count)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise LabInputError("lab.err.npy", name=file_name, detail=str(exc)[:120]) from None
    values = np.asarray(array, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise LabInputError("lab.err.not_finite", item=int(bad[0]) + 1, value=show_value(float(values[bad[0]])))
    return make_table(values.tolist(), source=file_name, max_count=max_count)


def parse_upload(
    file_name: str, data: bytes, *, max_count: int = SETTINGS.max_logits, max_bytes: int = MAX_UPLOAD_BYTES
) -> LabTable:
    """Dispatch an uploaded file on its extension: .csv/.tsv, .json, .npy, or .txt (read as pasted text)."""
    if len(data) > max_bytes:
        raise LabInputError("lab.err.file_large", name=file_name, size=len(data), limit=max_bytes)
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix in {"csv", "tsv"}:
        return parse_csv(data, file_name=file_name, max_count=max_count)
    if suffix == "json":
        return parse_json(data, file_name=file_name, max_count=max_count)
    if suffix == "npy":
        return parse_npy(data, file_name=file_name, max_count=max_count)
    if suffix == "txt":
        return parse_pasted(_decode_text(data, file_name), source=file_name, max_count=max_count)
    raise LabInputError("lab.err.file_type", name=file_name)
