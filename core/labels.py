"""Label sets: the shipped ImageNet names (English, Chinese) and the user's own label files.

A label list maps a class index to a name. A list whose length differs from the model's class count
maps indices to the wrong names, so it is reported (LabelError), never padded or cut silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from core.errors import LabelError
from core.label_formats import LabelFile, parse_label_text
from core.safe_io import SafeInputError, check_size, decode_text

LABELS_DIR = Path(__file__).resolve().parent.parent / "labels"

# label set name -> language -> file in labels/
LABEL_FILES: dict[str, dict[str, str]] = {
    "imagenet": {"en": "imagenet_en.txt", "zh": "imagenet_zh.json"},
    "digits": {"en": "digits_en.txt", "zh": "digits_zh.txt"},
}
LABEL_LANGUAGES = ("en", "zh")


def read_labels(data: bytes, name: str) -> LabelFile:
    """Read a label file in any shape `core.label_formats` knows, with its WordNet ids when it has them.

    UTF-8 with or without BOM, or UTF-16 with BOM; anything else gets a message naming the encoding problem.
    Blank trailing lines are ignored; a blank line inside, an empty name or no names at all is an error.
    """
    try:
        check_size(data, name=name)
        text = decode_text(data, name=name)
    except SafeInputError as exc:
        raise LabelError(str(exc)) from None
    found = parse_label_text(text, name)
    if not found.names:
        raise LabelError(f"{name}: the label file has no names")
    blank = [i for i, label in enumerate(found.names) if not label.strip()]
    if blank:
        raise LabelError(f"{name}: class {blank[0]} has an empty name ({len(blank)} empty in all)")
    return found


def parse_label_file(data: bytes, name: str) -> list[str]:
    """The class names of a label file (see `read_labels`): `.txt` one per line or Caffe's synset_words,
    `.json` list, {"0": name} or Keras' class index, `.csv`/`.tsv` index,name with "," ";" or tab."""
    return list(read_labels(data, name).names)


def read_label_file(path: str | Path) -> list[str]:
    """Read a label file from disk (see `parse_label_file`)."""
    p = Path(path)
    try:
        return parse_label_file(p.read_bytes(), str(p))
    except FileNotFoundError:
        raise LabelError(f"{p}: no such label file") from None
    except OSError as exc:
        raise LabelError(f"{p}: cannot be read ({exc.strerror})") from None


@cache
def _builtin(label_set: str, lang: str) -> tuple[str, ...]:
    return tuple(read_label_file(LABELS_DIR / LABEL_FILES[label_set][lang]))


def builtin_labels(label_set: str, lang: str = "en") -> list[str]:
    """The shipped names of `label_set` ("imagenet", "digits") in `lang` ("en" or "zh")."""
    if label_set not in LABEL_FILES:
        raise LabelError(f"unknown label set {label_set!r}; known: {', '.join(LABEL_FILES)}")
    if lang not in LABEL_LANGUAGES:
        raise LabelError(f"unknown label language {lang!r}; use en or zh")
    return list(_builtin(label_set, lang))


def validate_labels(labels: Sequence[str], num_classes: int, *, source: str = "the label list") -> None:
    """Raise LabelError when `labels` does not have exactly one name per class."""
    if len(labels) != num_classes:
        raise LabelError(
            f"{source} has {len(labels)} names but the model has {num_classes} classes: "
            "indices would map to the wrong names. Use a label file with exactly one name per class."
        )


def label_of(labels: Sequence[str], index: int) -> str:
    """The name of class `index`, or "#index" where the label list has no name for it."""
    return labels[index] if 0 <= index < len(labels) else f"#{index}"


def index_labels(num_classes: int) -> list[str]:
    """Placeholder names "class 0", "class 1", ... for a model without a label list."""
    return [f"class {i}" for i in range(num_classes)]
