"""The Logits Lab's table of classes (`LabTable`), how it is validated and edited, and its errors.

The lab works on a `LabTable`: the classes a person edits (labels + logits) and, when the logits
came from the Image Inspector, the image's other classes kept as a fixed tail. Every number is
computed over all classes; tables show the tail as one "all other classes" row (`collapse_tail`).

Errors a person can cause raise `LabInputError` (an `InputError`) whose `message(lang)` is the
sentence in the UI language.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd
import torch
from torch import Tensor

from core.config import SETTINGS
from core.i18n import escape_markdown, t
from core.lab.values import is_missing, show_value, to_float
from core.labels import index_labels
from core.numerics import SCORE_KINDS, ScoreKind
from core.safe_io import SafeInputError

# softmax or sigmoid: the one switch of core.numerics, under the Lab's old names
Mode = ScoreKind
MODES: Final[tuple[Mode, ...]] = SCORE_KINDS


MIN_CLASSES: Final = 2


MAX_LABEL_CHARS: Final = 200


class LabInputError(SafeInputError):
    """An `InputError` whose text is an i18n key (`key`, `params`), so the page can show it in the UI
    language with `message(lang)`; the same kind of error as `core.safe_io`'s."""


def error_text(error: Exception, lang: str, *, markdown: bool = False) -> str:
    """The message of any error a person caused, in `lang` where it has a translation.

    With `markdown`, what the person named or typed (a file name, a pasted token: the text parameters) is
    escaped, so a Markdown widget shows `![t](x.png)` literally instead of fetching it.
    """
    if not isinstance(error, LabInputError):
        return escape_markdown(str(error)) if markdown else str(error)
    if not markdown:
        return error.message(lang)
    return t(error.key, lang, **{k: escape_markdown(v) if isinstance(v, str) else v for k, v in error.params.items()})


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
            raise LabInputError("lab.err.not_finite", item=i + 1, value=show_value(value))
    if labels is not None and len(labels) != len(values):
        raise LabInputError("lab.err.label_count", labels=len(labels), logits=len(values))
    names = []
    placeholders = index_labels(len(values) + len(rest_logits))  # "class i" for a class without a name
    for i in range(len(values)):
        name = labels[i] if labels is not None else None
        name = "" if name is None or is_missing(name) else str(name).strip()
        if len(name) > MAX_LABEL_CHARS:
            raise LabInputError("lab.err.label_long", row=i + 1, chars=len(name), limit=MAX_LABEL_CHARS)
        names.append(name or placeholders[i])
    rest = [float(x) for x in rest_logits]
    if not all(math.isfinite(x) for x in rest):
        raise LabInputError("lab.err.rest_not_finite")
    rest_names = list(rest_labels) or placeholders[len(values) :]
    if len(rest_names) != len(rest):
        raise LabInputError("lab.err.label_count", labels=len(rest_names), logits=len(rest))
    return LabTable(tuple(names), tuple(values), tuple(map(str, rest_names)), tuple(rest), source)


def with_rows(table: LabTable, logits: Sequence[float], labels: Sequence[str | None] | None) -> LabTable:
    """The same table with its editable rows replaced (the tail is kept), validated."""
    return make_table(logits, labels, rest_logits=table.rest_logits, rest_labels=table.rest_labels, source=table.source)


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
    placeholders = index_labels(len(frame))
    for row, (label, cell) in enumerate(zip(labels, frame["logit"].tolist(), strict=True), start=1):
        name = placeholders[row - 1] if is_missing(label) or not str(label).strip() else str(label)
        if is_missing(cell) or (isinstance(cell, str) and not cell.strip()):
            raise LabInputError("lab.err.cell_empty", row=row, label=name)
        value = to_float(cell)
        if value is None:
            raise LabInputError("lab.err.cell_text", row=row, label=name, text=str(cell)[:40])
        if not math.isfinite(value):
            raise LabInputError("lab.err.cell_not_finite", row=row, label=name, value=show_value(value))
        logits.append(value)
    return with_rows(base, logits, labels)


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


def collapse_tail(frame: pd.DataFrame, shown: int, rest_label: str, sums: Sequence[str]) -> pd.DataFrame:
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


def class_frame(table: LabTable, **columns: Tensor) -> pd.DataFrame:
    """Every class of `table` (tail included): label, logit, then one column per keyword (a value per class)."""
    z = table.all_logits()
    return pd.DataFrame(
        {"label": table.all_labels(), "logit": z.tolist(), **{k: v.tolist() for k, v in columns.items()}}
    )
