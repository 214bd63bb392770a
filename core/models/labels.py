"""The names a model's classes are shown with: its shipped label set, its source's categories, or the user's file."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import LabelError
from core.labels import builtin_labels, index_labels, parse_label_file, validate_labels
from core.models.spec import ModelSpec


def spec_labels(spec: ModelSpec, lang: str = "en") -> list[str]:
    """The class names of `spec` in `lang`: a shipped label set, the source's categories, or "class i"."""
    if spec.label_set is not None:
        return builtin_labels(spec.label_set, lang)
    if spec.categories is not None:
        return list(spec.categories)  # torchvision ships English names only
    return index_labels(spec.num_classes)


@dataclass(frozen=True)
class LabelChoice:
    """The names to show for a model's classes.

    Attributes:
        labels: the main names, one per class.
        other: the other language's names ("both" mode), or None.
        warning: a sentence when the request could not be met as asked (wrong-length file, no Chinese names).
    """

    labels: list[str]
    other: list[str] | None = None
    warning: str | None = None


def choose_labels(
    spec: ModelSpec, mode: str, *, file_data: bytes | None = None, file_name: str = "labels.txt"
) -> LabelChoice:
    """Labels for `mode` ("en", "zh", "both" or "file"); a bad or wrong-length file falls back with a warning."""
    english = spec_labels(spec, "en")
    if mode == "file":
        if file_data is None:
            return LabelChoice(english, warning="No label file uploaded yet: showing the model's own labels.")
        try:
            labels = parse_label_file(file_data, file_name)
            validate_labels(labels, spec.num_classes, source=file_name)
        except LabelError as exc:
            return LabelChoice(english, warning=f"{exc} Showing the model's own labels instead.")
        return LabelChoice(labels)
    chinese = spec_labels(spec, "zh")
    note = None if spec.label_set is not None else f"{spec.name} has no Chinese label set: showing English names."
    if mode == "zh":
        return LabelChoice(chinese, warning=note)
    if mode == "both":
        return LabelChoice(english, other=chinese, warning=note)
    return LabelChoice(english)
