"""The Logits Lab's computations: read what people paste or upload, and lay out the softmax math.

The lab works on a `LabTable`: the classes a person edits (labels + logits) and, when the logits
came from the Image Inspector, the image's other classes kept as a fixed tail. Every number is
computed over all classes; tables show the tail as one "all other classes" row.

Errors a person can cause raise `LabInputError` (an `InputError`) whose `message(lang)` is the
sentence in the UI language. Torch is the oracle in tests/test_lab_core.py.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, cast

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.config import SETTINGS
from core.errors import InputError
from core.i18n import t
from core.numerics import (
    ClaimRow,
    check_temperature,
    inverse_softmax,
    log_softmax,
    naive_softmax,
    renormalise,
    sample,
    sigmoid,
    softmax,
    top_k,
    top_p_mask,
)

Mode = Literal["softmax", "sigmoid"]
MODES: Final[tuple[Mode, ...]] = ("softmax", "sigmoid")
T_MIN: Final = 0.05
T_MAX: Final = 20.0
MIN_CLASSES: Final = 2
MAX_LABEL_CHARS: Final = 200
MAX_UPLOAD_BYTES: Final = 5_000_000  # 10 000 labelled logits are well under 1 MB
MAX_MATRIX_SIDE: Final = 20
MAX_URL_CHARS: Final = 16_000  # longer links are unwieldy to paste; export JSON instead
MAX_DRAWS: Final = 1_000_000
ZERO_PROB_FLOOR: Final = 1e-12  # what a probability of 0 becomes before taking its log

# nice, roughly log-spaced temperatures for the slider (0.05 ... 20)
TEMPERATURES: Final[tuple[float, ...]] = (
    0.05, 0.06, 0.07, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
    1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0,
)  # fmt: skip


class LabInputError(InputError):
    """An `InputError` whose text is an i18n key, so the page can show it in the UI language."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(t(key, "en", **params))

    def message(self, lang: str) -> str:
        """The message in `lang`."""
        return t(self.key, lang, **self.params)


def error_text(error: Exception, lang: str) -> str:
    """The message of any error a person caused, in `lang` where it has a translation."""
    return error.message(lang) if isinstance(error, LabInputError) else str(error)


def default_label(index: int) -> str:
    """The name given to a class that has none: "class 0", "class 1", ..."""
    return f"class {index}"


# ---------------------------------------------------------------------------------------------
# The table of classes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabTable:
    """The classes in the lab.

    Attributes:
        labels: names of the editable classes, one per logit.
        logits: the editable logits.
        rest_labels: names of the classes kept but not edited (the Image Inspector's tail).
        rest_logits: their logits, float32 values (as the model produced them).
        source: where the table came from, shown as a caption ("example", a file name, ...).
    """

    labels: tuple[str, ...]
    logits: tuple[float, ...]
    rest_labels: tuple[str, ...] = ()
    rest_logits: tuple[float, ...] = ()
    source: str = ""

    @property
    def shown(self) -> int:
        """How many classes are editable rows."""
        return len(self.logits)

    @property
    def size(self) -> int:
        """How many classes in all, tail included."""
        return len(self.logits) + len(self.rest_logits)

    def all_labels(self) -> list[str]:
        """Every class name, editable ones first."""
        return [*self.labels, *self.rest_labels]

    def all_logits(self) -> Tensor:
        """Every logit as one float64 vector, editable ones first."""
        return torch.tensor([*self.logits, *self.rest_logits], dtype=torch.float64)

    def frame(self) -> pd.DataFrame:
        """The editable rows as a DataFrame with columns label, logit (what the data editor shows)."""
        return pd.DataFrame(
            {"label": pd.Series(self.labels, dtype="string"), "logit": pd.Series(self.logits, dtype="float64")}
        )


def make_table(
    logits: Sequence[float],
    labels: Sequence[str | None] | None = None,
    *,
    rest_logits: Sequence[float] = (),
    rest_labels: Sequence[str] = (),
    source: str = "",
    max_count: int = SETTINGS.max_logits,
) -> LabTable:
    """Validate logits and labels into a `LabTable` (at least 2 classes, all finite, not too many).

    Missing or blank labels become "class i".
    """
    values = [float(x) for x in logits]
    total = len(values) + len(rest_logits)
    if total > max_count:
        raise LabInputError("lab.err.too_many", count=total, limit=max_count)
    if total < MIN_CLASSES:
        raise LabInputError("lab.err.too_few", count=total)
    for i, value in enumerate(values):
        if not math.isfinite(value):
            raise LabInputError("lab.err.not_finite", item=i + 1, value=_show(value))
    if labels is not None and len(labels) != len(values):
        raise LabInputError("lab.err.label_count", labels=len(labels), logits=len(values))
    names = []
    for i in range(len(values)):
        name = labels[i] if labels is not None else None
        name = "" if name is None or _is_missing(name) else str(name).strip()
        if len(name) > MAX_LABEL_CHARS:
            raise LabInputError("lab.err.label_long", row=i + 1, chars=len(name), limit=MAX_LABEL_CHARS)
        names.append(name or default_label(i))
    rest = [float(x) for x in rest_logits]
    if not all(math.isfinite(x) for x in rest):
        raise LabInputError("lab.err.rest_not_finite")
    rest_names = list(rest_labels) or [default_label(len(values) + i) for i in range(len(rest))]
    if len(rest_names) != len(rest):
        raise LabInputError("lab.err.label_count", labels=len(rest_names), logits=len(rest))
    return LabTable(tuple(names), tuple(values), tuple(map(str, rest_names)), tuple(rest), source)


def with_rows(table: LabTable, logits: Sequence[float], labels: Sequence[str | None] | None) -> LabTable:
    """The same table with its editable rows replaced (the tail is kept), validated."""
    return make_table(logits, labels, rest_logits=table.rest_logits, rest_labels=table.rest_labels, source=table.source)


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _show(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else f"{value:g}"


def table_from_frame(frame: pd.DataFrame, base: LabTable, *, max_count: int = SETTINGS.max_logits) -> LabTable:
    """Read the data editor's rows (columns label, logit) back into a table, keeping `base`'s tail.

    Raises:
        LabInputError: an empty table, one class, an empty or non-number logit, or too many rows.
    """
    if "logit" not in frame.columns:
        raise LabInputError("lab.err.no_logit_column")
    if len(frame) == 0:
        raise LabInputError("lab.err.empty")
    if len(frame) + len(base.rest_logits) > max_count:
        raise LabInputError("lab.err.too_many", count=len(frame) + len(base.rest_logits), limit=max_count)
    labels = frame["label"].tolist() if "label" in frame.columns else [None] * len(frame)
    logits = []
    for row, (label, cell) in enumerate(zip(labels, frame["logit"].tolist(), strict=True), start=1):
        name = default_label(row - 1) if _is_missing(label) or not str(label).strip() else str(label)
        if _is_missing(cell) or (isinstance(cell, str) and not cell.strip()):
            raise LabInputError("lab.err.cell_empty", row=row, label=name)
        value = _to_float(cell)
        if value is None:
            raise LabInputError("lab.err.cell_text", row=row, label=name, text=str(cell)[:40])
        if not math.isfinite(value):
            raise LabInputError("lab.err.cell_not_finite", row=row, label=name, value=_show(value))
        logits.append(value)
    return with_rows(base, logits, labels)


def _to_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        return _number(value)
    return None


# ---------------------------------------------------------------------------------------------
# Parsing: pasted text, CSV, JSON, .npy
# ---------------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;，；、]+")
_WRAPPER = re.compile(r"^\s*(?:tensor|array|np\.array|torch\.tensor)?\s*\(?", re.IGNORECASE)


def _number(token: str) -> float | None:
    """A float from one token, accepting the Unicode minus that web pages use; None if not a number."""
    text = token.strip().replace("\u2212", "-").replace("\u2013", "-")
    if not text or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _tokens(text: str) -> list[str]:
    # tolerate what people copy from Python: [2.0, 1.0], tensor([[2.0, 1.0]]), array([...], dtype=...)
    text = re.sub(r",?\s*dtype\s*=\s*[\w.]+", " ", text)
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
        value = _number(token[:-1] if percent else token)
        if value is None:
            raise LabInputError("lab.err.not_a_number", item=i, text=token[:40])
        if finite and not math.isfinite(value):
            raise LabInputError("lab.err.not_finite", item=i, value=_show(value))
        values.append(value / 100 if percent else value)
    return values


_LABELLED_LINE = re.compile(r"^\s*(?P<label>.*?\S)\s*(?:[\t,;:=|]\s*|\s+)(?P<value>[^\s,;:=|\t]+)\s*$")


def _labelled_line(line: str) -> tuple[str, str] | None:
    match = _LABELLED_LINE.match(line)
    if not match:
        return None
    label = match.group("label").strip().strip("\"'")
    # a "label" made only of numbers is a row of numbers, not a name
    if not label or all(_number(tok) is not None for tok in _SEPARATORS.split(label) if tok):
        return None
    return label, match.group("value")


def parse_pasted(text: str, *, source: str = "", max_count: int = SETTINGS.max_logits) -> LabTable:
    """A table from pasted text: plain numbers, or one "label value" pair per line (tab, comma, colon).

    A first line like "label,logit" is taken as a header and skipped.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    pairs = [_labelled_line(line) for line in lines]
    if len(lines) > max_count + 1:
        raise LabInputError("lab.err.too_many", count=len(lines), limit=max_count)
    if pairs and pairs[0] is not None and _number(pairs[0][1]) is None and len(pairs) > 1:
        pairs, lines = pairs[1:], lines[1:]  # header line
    labelled = bool(pairs) and all(pair is not None and _number(pair[1]) is not None for pair in pairs)
    if not labelled:
        return make_table(parse_numbers(text, max_count=max_count), source=source, max_count=max_count)
    labels = [pair[0] for pair in pairs if pair is not None]
    values = [_number(pair[1]) for pair in pairs if pair is not None]
    for i, value in enumerate(values, start=1):
        if value is None or not math.isfinite(value):
            raise LabInputError("lab.err.not_finite", item=i, value=_show(float(value or "nan")))
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
    # Take only the delimiter from the sniffer, from the first line: labels further down may hold ";" or
    # quotes that out-vote the real delimiter, and its quoting guesses from one line are unreliable.
    # Quoting stays standard CSV (doubled quotes), which is what our own export writes.
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise LabInputError("lab.err.csv", name=file_name, detail=str(exc)) from None
    rows = [row for row in rows if any(row)]
    if not rows:
        raise LabInputError("lab.err.file_empty", name=file_name)
    if len(rows) > max_count + 1:
        raise LabInputError("lab.err.too_many", count=len(rows) - 1, limit=max_count)
    header: list[str] | None = None
    if all(_number(cell) is None for cell in rows[0] if cell):  # a row of names only: the header
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
    value = _number(cell)
    if value is None:
        raise LabInputError("lab.err.csv_cell", name=file_name, row=row, column=column, text=cell[:40])
    if not math.isfinite(value):
        raise LabInputError("lab.err.csv_not_finite", name=file_name, row=row, column=column, value=_show(value))
    return value


def parse_json(data: bytes, *, file_name: str = "logits.json", max_count: int = SETTINGS.max_logits) -> LabTable:
    """A table from JSON: [2.0, 1.0], {"labels": [...], "logits": [...]}, {"cat": 2.0, ...}, or
    [{"label": "cat", "logit": 2.0}, ...] (the lab's JSON export reads back)."""
    text = _decode_text(data, file_name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabInputError("lab.err.json", name=file_name, detail=exc.msg, line=exc.lineno, column=exc.colno) from None
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
            raise LabInputError("lab.err.not_finite", item=i, value=_show(float(item)))
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
        raise LabInputError("lab.err.not_finite", item=int(bad[0]) + 1, value=_show(float(values[bad[0]])))
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


def export_csv(table: LabTable, *, temperature: float = 1.0) -> bytes:
    """Every class (tail included) as CSV: label, logit, probability (at T), log_probability."""
    z = table.all_logits()
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "logit": z.tolist(),
            "probability": softmax(z, temperature=temperature).tolist(),
            "log_probability": log_softmax(z, temperature=temperature).tolist(),
        }
    )
    return frame.to_csv(index=False).encode("utf-8")


def export_json(table: LabTable, *, temperature: float = 1.0) -> bytes:
    """Every class as JSON {"labels", "logits", "temperature", "probabilities"}; `parse_json` reads it."""
    z = table.all_logits()
    doc = {
        "labels": table.all_labels(),
        "logits": z.tolist(),
        "temperature": temperature,
        "probabilities": softmax(z, temperature=temperature).tolist(),
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Presets and the Image Inspector handoff
# ---------------------------------------------------------------------------------------------

PRESETS: Final[tuple[str, ...]] = (
    "news", "pets", "four", "ten", "near_tie", "overflow", "uniform", "random", "inspector",
)  # fmt: skip
_PRESET_LOGITS: Final[dict[str, tuple[float, ...]]] = {
    "news": (2.0, 1.0, 0.1),
    "pets": (2.0, 1.0, 0.5),
    "four": (2.0, 1.0, 0.1, 0.5),
    "ten": (2.1, -1.3, 5.8, 0.9, -3.2, 4.7, 1.0, -0.5, 6.2, -2.1),
    "near_tie": (12.1, 11.9, 11.8),
    "overflow": (1000.0, 1001.0, 1002.0),
    "uniform": (0.0, 0.0, 0.0, 0.0, 0.0),
}
TEN_LABELS: Final = ("猫", "狗", "笔记本电脑", "椅子", "天空", "办公室工作场景", "咖啡杯", "窗台", "白领女性", "楼梯")
RANDOM_CLASSES: Final = 8


def preset_table(name: str, *, lang: str = "en", seed: int = 0) -> LabTable:
    """The example called `name` (see `PRESETS`; "inspector" comes from `table_from_inspector`).

    Labels are in `lang`, except the ten-class example whose labels are Chinese by design.
    "random" draws 8 logits from N(0, 2.5²) with `seed`, rounded to 2 decimals so links stay short.
    """
    source = t(f"lab.preset.{name}", lang)
    if name == "random":
        generator = torch.Generator().manual_seed(int(seed))
        logits = (torch.randn(RANDOM_CLASSES, generator=generator, dtype=torch.float64) * 2.5).round(decimals=2)
        labels = [t("lab.class_n", lang, i=i) for i in range(RANDOM_CLASSES)]
        return make_table(logits.tolist(), labels, source=f"{source} · seed {seed}")
    if name not in _PRESET_LOGITS:
        raise LabInputError("lab.err.preset", name=name)
    logits_list = _PRESET_LOGITS[name]
    if name == "ten":
        labels = list(TEN_LABELS)
    elif name in {"overflow", "uniform"}:
        labels = [t("lab.class_n", lang, i=i) for i in range(len(logits_list))]
    else:
        labels = [part.strip() for part in t(f"lab.preset.{name}.labels", lang).split(",")]
    return make_table(logits_list, labels, source=source)


def table_from_inspector(payload: object, *, editable: int = 10, max_count: int = SETTINGS.max_logits) -> LabTable:
    """The Image Inspector's logits: the `editable` highest become rows, the rest stay as a fixed tail.

    `payload` is {"labels": list[str], "logits": list[float], "source": str}; the tail keeps float32
    values (what the model produced), so a shared link restores them exactly.

    Raises:
        LabInputError: nothing handed over, or a payload of the wrong shape.
    """
    if payload is None:
        raise LabInputError("lab.err.no_handoff")
    if not isinstance(payload, Mapping) or "logits" not in payload:
        raise LabInputError("lab.err.bad_handoff", detail="expected a dict with 'labels' and 'logits'")
    try:
        z = np.asarray(payload["logits"], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise LabInputError("lab.err.bad_handoff", detail=str(exc)[:120]) from None
    raw_labels = payload.get("labels")
    labels = [str(x) for x in raw_labels] if isinstance(raw_labels, (list, tuple)) else []
    if len(labels) != z.size:
        labels = [default_label(i) for i in range(z.size)]
    if z.size > max_count:
        raise LabInputError("lab.err.too_many", count=int(z.size), limit=max_count)
    if not np.isfinite(z).all():
        raise LabInputError("lab.err.bad_handoff", detail="the logits contain NaN or inf")
    order = np.argsort(-z, kind="stable")
    head, tail = order[: max(1, editable)], order[max(1, editable) :]
    source = str(payload.get("source", "")) or "Image Inspector"
    return make_table(
        z[head].tolist(),
        [labels[i] for i in head],
        rest_logits=z[tail].astype(np.float32).astype(np.float64).tolist(),
        rest_labels=[labels[i] for i in tail],
        source=source,
        max_count=max_count,
    )


def handoff_fingerprint(payload: object) -> str:
    """A short digest of a handoff payload, to notice when the Inspector hands over a new image."""
    try:
        text = json.dumps(payload, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(payload)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def rest_logit(table: LabTable, *, temperature: float = 1.0) -> float:
    """The one logit that carries the tail's whole probability at T: T · logsumexp(z_rest / T)."""
    z = torch.tensor(table.rest_logits, dtype=torch.float64)
    return float(temperature * torch.logsumexp(z / temperature, dim=0))


def display_logits(table: LabTable, *, temperature: float = 1.0) -> Tensor:
    """Editable logits plus, if there is a tail, one logit standing for all of it at this T.

    softmax(display_logits / T) gives exactly the probabilities the tables show (tail as one row).
    """
    head = list(table.logits)
    if table.rest_logits:
        head.append(rest_logit(table, temperature=temperature))
    return torch.tensor(head, dtype=torch.float64)


def display_labels(table: LabTable, *, rest_label: str) -> list[str]:
    """Editable labels, plus `rest_label` for the tail if there is one."""
    return [*table.labels, rest_label] if table.rest_logits else list(table.labels)


def _collapse(frame: pd.DataFrame, shown: int, rest_label: str, sums: Sequence[str]) -> pd.DataFrame:
    """Rows past `shown` become one row named `rest_label` with the `sums` columns added up."""
    if len(frame) <= shown:
        return frame
    head, tail = frame.iloc[:shown], frame.iloc[shown:]
    row: dict[str, object] = dict.fromkeys(frame.columns)
    row["label"] = rest_label
    for column in sums:
        row[column] = float(tail[column].sum())
    summary = pd.DataFrame([row], columns=frame.columns)
    return pd.concat([head, summary.astype({c: frame[c].dtype for c in sums})], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Tables of the math
# ---------------------------------------------------------------------------------------------


def scores(logits: Tensor, *, mode: Mode = "softmax", temperature: float = 1.0) -> Tensor:
    """softmax(z / T) or the independent sigmoid(z / T), in float64."""
    z = logits.to(torch.float64)
    if mode == "sigmoid":
        return sigmoid(z, temperature=temperature)
    if mode != "softmax":
        raise LabInputError("lab.err.mode", mode=mode)
    return softmax(z, temperature=temperature)


def class_table(
    table: LabTable,
    *,
    temperature: float = 1.0,
    k: int = 5,
    top_p: float = 0.9,
    mode: Mode = "softmax",
    rest_label: str = "all other classes",
) -> pd.DataFrame:
    """One row per editable class in editor order (tail as one row): what each logit turns into.

    Columns: label, logit, score (softmax or sigmoid at T), score_t1 (at T = 1), rank (by logit),
    top_k and top_p (bool: does the class survive that filter; filters act on softmax).
    """
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    ranks = torch.empty(z.numel(), dtype=torch.long)
    ranks[torch.argsort(z, descending=True, stable=True)] = torch.arange(1, z.numel() + 1)
    keep_k = torch.zeros(z.numel(), dtype=torch.bool)
    keep_k[top_k(z, k).indices] = True
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "logit": z.tolist(),
            "score": scores(z, mode=mode, temperature=temperature).tolist(),
            "score_t1": scores(z, mode=mode).tolist(),
            "rank": pd.array(ranks.tolist(), dtype="Int64"),
            "top_k": pd.array(keep_k.tolist(), dtype="boolean"),
            "top_p": pd.array(top_p_mask(probs, top_p).tolist(), dtype="boolean"),
        }
    )
    return _collapse(frame, table.shown, rest_label, ("score", "score_t1"))


@dataclass(frozen=True)
class Steps:
    """Softmax worked out step by step.

    Attributes:
        table: columns label, z, shifted (z − max), scaled ((z − max) / T), exp, p, log_p.
        max_logit: max(z), subtracted first so that no exp can overflow.
        total: Σ exp((z − max) / T), the denominator.
    """

    table: pd.DataFrame
    max_logit: float
    total: float


def step_table(table: LabTable, *, temperature: float = 1.0, rest_label: str = "all other classes") -> Steps:
    """The stable softmax in columns: z, z − max, (z − max)/T, exp(·), p = exp/Σ, log p."""
    t_value = check_temperature(temperature)
    z = table.all_logits()
    shifted = z - z.max()
    scaled = shifted / t_value
    exp = scaled.exp()
    total = float(exp.sum())
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "z": z.tolist(),
            "shifted": shifted.tolist(),
            "scaled": scaled.tolist(),
            "exp": exp.tolist(),
            "p": (exp / total).tolist(),
            "log_p": log_softmax(z, temperature=t_value).tolist(),
        }
    )
    frame = _collapse(frame, table.shown, rest_label, ("exp", "p"))
    if table.rest_logits:
        # log of the tail's total probability, from log-probabilities so it stays finite
        tail_log_p = torch.logsumexp(log_softmax(z, temperature=t_value)[table.shown :], dim=0)
        frame.loc[len(frame) - 1, "log_p"] = float(tail_log_p)
    return Steps(frame, float(z.max()), total)


def format_value(value: float) -> str:
    """A number as text that keeps NaN and inf visible: "NaN", "inf", "0.665241", "1.2e-30"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def overflow_table(table: LabTable, *, temperature: float = 1.0, rest_label: str = "all other classes") -> pd.DataFrame:
    """Naive exp(z/T)/Σ next to the stable softmax, in float32 and float16, as text so NaN/inf show.

    Columns: label, exp32, naive32, stable32, exp16, naive16, stable16. For [1000, 1001, 1002] the
    naive columns hold inf and NaN while the stable ones hold 0.09, 0.24, 0.67.
    """
    z = table.all_logits()
    columns: dict[str, list[Any]] = {"label": table.all_labels()}
    for bits, dtype in (("32", torch.float32), ("16", torch.float16)):
        x = z.to(dtype)
        columns[f"exp{bits}"] = (x / check_temperature(temperature)).exp().to(torch.float64).tolist()
        columns[f"naive{bits}"] = naive_softmax(x, temperature=temperature).to(torch.float64).tolist()
        columns[f"stable{bits}"] = softmax(x, temperature=temperature).to(torch.float64).tolist()
    frame = _collapse(pd.DataFrame(columns), table.shown, rest_label, [c for c in columns if c != "label"])
    for column in frame.columns[1:]:
        frame[column] = [format_value(float(v)) for v in frame[column]]
    return frame


def overflows(table: LabTable, *, temperature: float = 1.0, dtype: torch.dtype = torch.float32) -> bool:
    """Whether the naive formula gives NaN or inf anywhere in `dtype` (while the stable one never does)."""
    naive = naive_softmax(table.all_logits().to(dtype), temperature=temperature)
    return not bool(torch.isfinite(naive).all())


@dataclass(frozen=True)
class Ratio:
    """p_i / p_j for the two most likely classes, at T and at T = 1."""

    first: str
    second: str
    gap: float
    at_t: float
    at_1: float


def top_two_ratio(table: LabTable, *, temperature: float = 1.0) -> Ratio:
    """The ratio of the two largest probabilities: exp((z_1 − z_2) / T), shown next to the formula."""
    z = table.all_logits()
    values, indices = top_k(z, 2)
    labels = table.all_labels()
    gap = float(values[0] - values[1])
    at_t = math.exp(min(gap / check_temperature(temperature), 709.0))  # beyond e^709 float64 overflows
    return Ratio(labels[int(indices[0])], labels[int(indices[1])], gap, at_t, math.exp(min(gap, 709.0)))


def filter_table(
    table: LabTable,
    *,
    temperature: float = 1.0,
    k: int = 5,
    top_p: float = 0.9,
    rest_label: str = "all other classes",
) -> pd.DataFrame:
    """Which classes survive top-k and top-p, and the distributions renormalised over the survivors.

    Rows sorted by probability (tail last, as one row). Columns: label, p, cumulative, top_k,
    p_top_k, top_p, p_top_p.
    """
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    keep_k = torch.zeros_like(probs, dtype=torch.bool)
    keep_k[top_k(z, k).indices] = True
    keep_p = top_p_mask(probs, top_p)
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "p": probs.tolist(),
            "top_k": keep_k.tolist(),
            "p_top_k": renormalise(probs, keep_k).tolist(),
            "top_p": keep_p.tolist(),
            "p_top_p": renormalise(probs, keep_p).tolist(),
        }
    )
    head = frame.iloc[: table.shown].sort_values("p", ascending=False, kind="stable")
    tail = frame.iloc[table.shown :]
    frame = _collapse(pd.concat([head, tail]), table.shown, rest_label, ("p", "p_top_k", "p_top_p"))
    frame.insert(2, "cumulative", frame["p"].cumsum())
    for column in ("top_k", "top_p"):
        frame[column] = pd.array(frame[column].tolist(), dtype="boolean")
    return frame.reset_index(drop=True)


def filtered_probs(
    table: LabTable, *, temperature: float = 1.0, k: int = 5, top_p: float = 0.9, which: str = "full"
) -> Tensor:
    """The distribution to sample from: "full" softmax, or renormalised after "top_k" or "top_p"."""
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    if which == "top_k":
        mask = torch.zeros_like(probs, dtype=torch.bool)
        mask[top_k(z, k).indices] = True
        return renormalise(probs, mask)
    if which == "top_p":
        return renormalise(probs, top_p_mask(probs, top_p))
    if which != "full":
        raise LabInputError("lab.err.filter", which=which)
    return probs


def sampling_counts(probs: Tensor, *, n: int = 1000, seed: int = 0) -> Tensor:
    """How often each class is drawn in `n` seeded draws from `probs` (core.numerics.sample)."""
    if not 1 <= n <= MAX_DRAWS:
        raise LabInputError("lab.err.draws", n=n, limit=MAX_DRAWS)
    draws = sample(probs, n, seed=seed)
    return torch.bincount(draws, minlength=probs.numel())


def sampling_error(probs: Tensor, counts: Tensor) -> float:
    """The largest gap between observed frequency and probability (shrinks like 1/√N)."""
    freq = counts.to(torch.float64) / float(counts.sum())
    return float((freq - probs.to(torch.float64)).abs().max())


def dim_softmax(matrix: Tensor) -> tuple[Tensor, Tensor]:
    """softmax over dim=0 (each column sums to 1) and over dim=1 (each row sums to 1)."""
    return softmax(matrix, dim=0), softmax(matrix, dim=1)


DEFAULT_MATRIX: Final = ((1.0, 2.0, 3.0, 4.0), (5.0, 6.0, 7.0, 8.0))


def matrix_frame(matrix: Sequence[Sequence[float]] = DEFAULT_MATRIX) -> pd.DataFrame:
    """A matrix as a DataFrame with columns "0", "1", ... for the matrix editor."""
    rows = [list(map(float, row)) for row in matrix]
    return pd.DataFrame(rows, columns=[str(j) for j in range(len(rows[0]))], dtype="float64")


def resize_matrix(frame: pd.DataFrame, columns: int) -> pd.DataFrame:
    """The matrix editor's table with `columns` columns: new ones filled with 0, surplus ones dropped."""
    columns = max(1, min(int(columns), MAX_MATRIX_SIDE))
    values = frame.to_numpy(dtype=np.float64, na_value=0.0)[:, :columns]
    padded = np.zeros((max(1, values.shape[0]), columns))
    padded[: values.shape[0], : values.shape[1]] = values
    return matrix_frame(padded.tolist())


def matrix_from_frame(frame: pd.DataFrame, *, max_side: int = MAX_MATRIX_SIDE) -> Tensor:
    """The matrix editor's cells as a float64 tensor (rows × columns), every cell a finite number."""
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise LabInputError("lab.err.matrix_empty")
    if max(frame.shape) > max_side:
        raise LabInputError("lab.err.matrix_large", rows=frame.shape[0], columns=frame.shape[1], limit=max_side)
    values = []
    for r, row in enumerate(frame.itertuples(index=False), start=1):
        out = []
        for c, cell in enumerate(row, start=1):
            value = None if _is_missing(cell) else _to_float(cell)
            if value is None or not math.isfinite(value):
                raise LabInputError("lab.err.matrix_cell", row=r, column=c)
            out.append(value)
        values.append(out)
    return torch.tensor(values, dtype=torch.float64)


def sigmoid_softmax_table(
    table: LabTable, *, temperature: float = 1.0, rest_label: str = "all other classes"
) -> pd.DataFrame:
    """Softmax next to sigmoid for each class (tail as one row): columns label, logit, softmax, sigmoid."""
    z = table.all_logits()
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "logit": z.tolist(),
            "softmax": softmax(z, temperature=temperature).tolist(),
            "sigmoid": sigmoid(z, temperature=temperature).tolist(),
        }
    )
    return _collapse(frame, table.shown, rest_label, ("softmax", "sigmoid"))


def parse_claims(text: str, *, count: int) -> list[float]:
    """Claimed probabilities for `count` classes ("0.66, 0.24" or "66% 24%"); the count must match."""
    claimed = parse_numbers(text, allow_percent=True, max_count=max(count, 1) * 4)
    if len(claimed) != count:
        raise LabInputError("lab.err.claims_count", claims=len(claimed), n=count)
    return claimed


def claims_frame(labels: Sequence[str], rows: Sequence[ClaimRow]) -> pd.DataFrame:
    """The claims checker's rows (core.numerics.ClaimRow) as a table: label, claimed, actual, difference, ok."""
    return pd.DataFrame(
        {
            "label": [labels[r.index] if r.index < len(labels) else f"#{r.index}" for r in rows],
            "claimed": [r.claimed for r in rows],
            "actual": [r.actual for r in rows],
            "difference": [r.difference for r in rows],
            "ok": [r.ok for r in rows],
        }
    )


@dataclass(frozen=True)
class Inverse:
    """Logits recovered from probabilities.

    Attributes:
        logits: log p centred to mean 0 (logits are only defined up to a shift).
        probs: the probabilities normalised to sum 1.
        total: the sum of the probabilities as given.
        zeros: how many were 0 (clamped to the smallest float: their logit is very negative).
        roundtrip_error: the largest |softmax(logits) − probs|, the check that the inverse worked.
    """

    logits: list[float]
    probs: list[float]
    total: float
    zeros: int
    roundtrip_error: float


def invert(probabilities: Sequence[float], *, zero_floor: float = ZERO_PROB_FLOOR) -> Inverse:
    """Logits whose softmax is `probabilities` (normalised first), via core.numerics.inverse_softmax.

    A probability of 0 has no finite logit; it is raised to `zero_floor` first, which keeps the other
    logits readable (clamping to the smallest float would put one near -745 and shift the centre).
    """
    p = torch.tensor(list(probabilities), dtype=torch.float64)
    if p.numel() < MIN_CLASSES:
        raise LabInputError("lab.err.too_few", count=p.numel())
    if bool((p < 0).any()):
        raise LabInputError("lab.err.negative_prob")
    total = float(p.sum())
    if total <= 0:
        raise LabInputError("lab.err.zero_probs")
    normalised = p / total
    # inverse_softmax centres log p, so normalising first changes nothing but the display
    logits = inverse_softmax(normalised.clamp_min(zero_floor))
    error = float((softmax(logits) - normalised).abs().max())
    return Inverse(logits.tolist(), normalised.tolist(), total, int((p == 0).sum()), error)


def inverse_frame(inverse: Inverse, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The inverse as a table: label (the given ones when the count matches, else "class i"), p, logit."""
    n = len(inverse.logits)
    names = list(labels) if labels is not None and len(labels) == n else [default_label(i) for i in range(n)]
    return pd.DataFrame({"label": names, "p": inverse.probs, "logit": inverse.logits})


# ---------------------------------------------------------------------------------------------
# Share: state <-> URL query parameters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabControls:
    """The lab's knobs: temperature, k, top-p and softmax / sigmoid."""

    temperature: float = 1.0
    k: int = SETTINGS.default_top_k
    top_p: float = 0.9
    mode: Mode = "softmax"

    def clamped(self, size: int) -> LabControls:
        """The same controls with k limited to 1..size."""
        return replace(self, k=max(1, min(self.k, size)))


QUERY_KEYS: Final = ("logits", "labels", "rest", "T", "k", "top_p", "mode")


def _short(value: float) -> str:
    # repr is the shortest text that parses back to the same float64: the link restores it exactly
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def temperature_choices(current: float) -> list[float]:
    """The slider's temperatures, with `current` added where a link asked for one in between."""
    values = set(TEMPERATURES)
    if T_MIN <= current <= T_MAX:
        values.add(float(current))
    return sorted(values)


def encode_query(table: LabTable, controls: LabControls) -> dict[str, str | list[str]]:
    """The state as query parameters: logits comma-separated, one `labels` entry per class, the tail
    (if any) as base64 float32, then T, k, top_p, mode."""
    query: dict[str, str | list[str]] = {
        "logits": ",".join(_short(x) for x in table.logits),
        "labels": list(table.labels),
    }
    if table.rest_logits:
        raw = np.asarray(table.rest_logits, dtype="<f4").tobytes()
        query["rest"] = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    query |= {
        "T": _short(controls.temperature),
        "k": str(controls.k),
        "top_p": _short(controls.top_p),
        "mode": controls.mode,
    }
    return query


def query_string(query: Mapping[str, str | list[str]]) -> str:
    """`encode_query`'s parameters as a URL query string (without the "?")."""
    from urllib.parse import urlencode

    return urlencode(list(_pairs(query)), safe=",")


def _pairs(query: Mapping[str, str | list[str]]) -> list[tuple[str, str]]:
    out = []
    for key, value in query.items():
        for item in [value] if isinstance(value, str) else value:
            out.append((key, item))
    return out


@dataclass(frozen=True)
class LinkState:
    """What a link restored.

    Attributes:
        table: the classes from the link, or None when the link had no usable logits.
        controls: the knobs (defaults where the link had none or a broken value).
        problems: one error per broken parameter; what was broken fell back to the default.
    """

    table: LabTable | None
    controls: LabControls
    problems: list[LabInputError] = field(default_factory=list)


def has_lab_state(params: Mapping[str, Sequence[str]]) -> bool:
    """Whether the URL carries any of the lab's parameters."""
    return any(key in params for key in QUERY_KEYS)


def decode_query(
    params: Mapping[str, Sequence[str]],
    *,
    fallback: LabControls | None = None,
    source: str = "link",
    max_count: int = SETTINGS.max_logits,
) -> LinkState:
    """Read the lab's state back from query parameters (each key -> all its values), validating each.

    A broken parameter never fails the whole link: it is reported in `problems` and its default used.
    """
    defaults = fallback or LabControls()
    problems: list[LabInputError] = []

    def one(key: str) -> str | None:
        values = params.get(key) or []
        return values[-1] if values else None

    table: LabTable | None = None
    raw_logits = one("logits")
    labels: list[str] | None = list(params.get("labels") or []) or None
    rest: list[float] = []
    raw_rest = one("rest")
    if raw_rest:
        try:
            padded = raw_rest + "=" * (-len(raw_rest) % 4)
            data = base64.b64decode(padded, altchars=b"-_", validate=True)
            if len(data) % 4:
                raise ValueError("not a whole number of float32 values")
            rest = np.frombuffer(data, dtype="<f4").astype(np.float64).tolist()
            if not all(math.isfinite(x) for x in rest):
                raise ValueError("NaN or inf")
        except (ValueError, binascii.Error) as exc:
            problems.append(LabInputError("lab.err.link_rest", detail=str(exc)[:80]))
            rest = []
    if raw_logits is not None:
        try:
            values = parse_numbers(raw_logits, max_count=max_count)
            if labels is not None and len(labels) != len(values):
                problems.append(LabInputError("lab.err.link_labels", labels=len(labels), logits=len(values)))
                labels = None
            table = make_table(
                values,
                labels,
                rest_logits=rest,
                rest_labels=[default_label(len(values) + i) for i in range(len(rest))],
                source=source,
                max_count=max_count,
            )
        except LabInputError as exc:
            problems.append(LabInputError("lab.err.link_logits", detail=exc.message("en")))
            table = None
    elif labels is not None or rest:
        problems.append(LabInputError("lab.err.link_no_logits"))

    temperature = defaults.temperature
    if (raw := one("T")) is not None:
        value = _number(raw)
        if value is None or not T_MIN <= value <= T_MAX:
            problems.append(LabInputError("lab.err.link_t", text=raw[:20], low=T_MIN, high=T_MAX))
        else:
            temperature = value
    size = table.size if table is not None else None
    k = defaults.k
    if (raw := one("k")) is not None:
        if not raw.strip().isdigit() or int(raw) < 1:
            problems.append(LabInputError("lab.err.link_k", text=raw[:20]))
        elif size is not None and int(raw) > size:
            problems.append(LabInputError("lab.err.link_k_large", k=int(raw), size=size))
            k = size
        else:
            k = int(raw)
    top_p_value = defaults.top_p
    if (raw := one("top_p")) is not None:
        value = _number(raw)
        if value is None or not 0 < value <= 1:
            problems.append(LabInputError("lab.err.link_top_p", text=raw[:20]))
        else:
            top_p_value = value
    mode = defaults.mode
    if (raw := one("mode")) is not None:
        if raw in MODES:
            mode = cast(Mode, raw)
        else:
            problems.append(LabInputError("lab.err.link_mode", text=raw[:20]))
    return LinkState(table, LabControls(temperature, k, top_p_value, mode), problems)
