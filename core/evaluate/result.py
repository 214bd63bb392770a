"""What an evaluation produced, as data: `EvalResult` (files, targets, logits, what was skipped, notes, features) and
`Progress`. A leaf of `core.evaluate`: a results file is read and re-scored through it without loading anything that
runs a model (torchvision, the backends), so `python -m core evaluate RESULTS.parquet` starts fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from torch import Tensor

from core.datasets.sets import Skipped


def same_model(recorded_model: str, recorded_classes: int, model_name: str, num_classes: int) -> bool:
    """Whether logits recorded of `recorded_model` (with `recorded_classes` columns) can stand beside `model_name`'s:
    the same number of classes, and the same model unless the record does not name one (a results file may not)."""
    return recorded_classes == num_classes and (not recorded_model or recorded_model == model_name)


@dataclass(frozen=True)
class Progress:
    """How far a run is: images done of total, and the rate so far."""

    done: int
    total: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class EvalResult:
    """Everything a run produced; metrics at any T are computed from it without the model.

    Attributes:
        files: the evaluated images' names, in order.
        targets: their true class indices, int64 (n,).
        logits: their full logits, float32 (n, num_classes).
        errors: members skipped before the run and images that failed to decode, with reasons.
        notes: sentences about the whole set (how a zip's names were decoded, OS metadata left out).
        file_notes: per evaluated file with notes, what was done to it (EXIF turn, CMYK, enlarged 8×, only
            its centre seen: the Inspector's notes, `core.preprocess.input_notes`).
        model: the model's registry name.
        source: what was evaluated.
        seconds: wall time of the run (0 for results loaded from a file).
        attempted: images the run tried to decode (evaluated + failed).
        features: penultimate-layer features, float16 (n, dim), when the run kept them (`core.features`).
        backend: what ran the model ("torch", "onnxruntime"; "" for results loaded from a file).
    """

    files: tuple[str, ...]
    targets: Tensor
    logits: Tensor
    errors: tuple[Skipped, ...] = ()
    model: str = ""
    source: str = ""
    seconds: float = 0.0
    attempted: int = 0
    features: Tensor | None = None
    backend: str = ""
    notes: tuple[str, ...] = ()
    file_notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.files)

    @property
    def num_classes(self) -> int:
        return int(self.logits.shape[1])

    @property
    def images_per_second(self) -> float:
        return self.attempted / self.seconds if self.seconds > 0 else 0.0
