"""The outside images of an out-of-distribution check (`evaluate --ood OTHER`, the Evaluation page's outside set):
a results file's logits of the same model, or an unlabelled folder or zip still to run through it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from torch import Tensor

from core.datasets.sets import LabelledSet
from core.datasets.unlabelled import open_unlabelled_path
from core.errors import InputError
from core.evaluate.files import read_results
from core.evaluate.result import EvalResult, same_model
from core.evaluate.run import evaluate
from core.models.spec import LoadedModel


def open_outside(path: str | os.PathLike[str], *, model: str, num_classes: int) -> LabelledSet | EvalResult:
    """The outside images of an OOD check: a results file's logits (.csv/.parquet, of the same model), or an
    unlabelled folder/zip still to run through the model. Checked at once, before any image is run."""
    other = Path(path)
    if other.suffix.lower() not in (".csv", ".parquet"):
        return open_unlabelled_path(other)
    if not other.is_file():
        raise InputError(f"{other}: no such results file")
    outside = read_results(other.read_bytes(), other.name)
    if not same_model(outside.model, outside.num_classes, model, num_classes):
        made_by = f"model {outside.model}, " if outside.model else ""
        raise InputError(
            f"{other.name}: logits of {made_by}{outside.num_classes} classes; the outside set needs {model}'s "
            f"({num_classes} classes)"
        )
    return outside


def outside_logits(
    outside: LabelledSet | EvalResult, load: Callable[[], LoadedModel], *, batch_size: int | None = None
) -> Tensor:
    """The outside images' logits: those of a results file, or the model's (`load()`, called only then) over an
    unlabelled set."""
    if isinstance(outside, EvalResult):
        return outside.logits
    found = evaluate(load(), outside, batch_size=batch_size)
    if found.n == 0:
        raise InputError(f"{outside.source}: no outside image could be decoded ({len(found.errors)} errors)")
    return found.logits
