"""Label sets: the shipped ImageNet names (English, Chinese) and the user's own label files.

A label list maps a class index to a name. A list whose length differs from the model's class count
maps indices to the wrong names, so it is reported (LabelError), never padded or cut silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import LabelError
from core.safe_io import SafeInputError, check_size, load_json, read_csv_rows

LABELS_DIR = Path(__file__).resolve().parent.parent / "labels"

# label set name -> language -> file in labels/
LABEL_FILES: dict[str, dict[str, str]] = {
    "imagenet": {"en": "imagenet_en.txt", "zh": "imagenet_zh.json"},
    "digits": {"en": "digits_en.txt", "zh": "digits_zh.txt"},
}
LABEL_LANGUAGES = ("en", "zh")


def _decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")  # utf-8-sig strips a BOM when there is one
    except UnicodeDecodeError as exc:
        raise LabelError(f"{name}: not UTF-8 text (byte {exc.start}); save the label file as UTF-8") from None


def _json_name(item: object) -> str:
    # null is a missing name (reported as empty), not the class name "None"
    return "" if item is None else str(item)


def _from_json(text: str, name: str) -> list[str]:
    try:
        data = load_json(text, name=name)
    except SafeInputError as exc:
        raise LabelError(str(exc)) from None
    if isinstance(data, list):
        return [_json_name(item) for item in data]
    if isinstance(data, dict):
        return labels_from_mapping(data, name)
    raise LabelError(f"{name}: JSON labels must be a list of names or an object {{index: name}}")


def labels_from_mapping(mapping: Mapping[Any, object], name: str) -> list[str]:
    """{index: name} (keys may be strings, as JSON writes them: a label file, a model's id2label) as a list,
    refusing keys that are not integers, gaps and repeats (they would shift names)."""
    try:
        pairs = sorted((int(key), _json_name(value)) for key, value in mapping.items())
    except (TypeError, ValueError):
        raise LabelError(f'{name}: a JSON object of labels needs integer keys, like {{"0": "tench"}}') from None
    return _dense(pairs, name)


def _from_csv(text: str, name: str) -> list[str]:
    try:
        rows = [row for row in read_csv_rows(text, name=name) if row and any(cell.strip() for cell in row)]
    except SafeInputError as exc:
        raise LabelError(str(exc)) from None
    if rows and len(rows[0]) >= 2 and not rows[0][0].strip().lstrip("-").isdecimal():
        rows = rows[1:]  # a header line such as "index,name"
    pairs: list[tuple[int, str]] = []
    for line_no, row in enumerate(rows, start=1):
        if len(row) < 2:
            raise LabelError(f"{name}: row {line_no} has no name; CSV labels are 'index,name' per line")
        try:
            pairs.append((int(row[0].strip()), row[1].strip()))
        except ValueError:
            raise LabelError(f"{name}: row {line_no} starts with {row[0][:40]!r}, not a class index") from None
    return _dense(sorted(pairs), name)


def _dense(pairs: list[tuple[int, str]], name: str) -> list[str]:
    """Turn sorted (index, name) pairs into a list, refusing gaps and repeats (they shift names)."""
    indices = [index for index, _ in pairs]
    if any(index != i for i, index in enumerate(indices)):
        missing = _first_missing(indices, limit=5)
        repeated = sorted(i for i, n in Counter(indices).items() if n > 1)[:5]
        detail = f"missing {missing}" if missing else f"repeated {repeated}" if repeated else "not starting at 0"
        raise LabelError(f"{name}: class indices must run 0..{len(pairs) - 1} with no gaps ({detail})")
    return [label for _, label in pairs]


def _first_missing(indices: Sequence[int], *, limit: int) -> list[int]:
    """The first `limit` non-negative integers absent from sorted `indices`, in O(len(indices)) steps:
    a row "10000000,far" must not build range(10**7)."""
    missing: list[int] = []
    expected = 0
    for index in indices:
        while expected < index and len(missing) < limit:
            missing.append(expected)
            expected += 1
        if len(missing) >= limit:
            break
        expected = max(expected, index + 1)
    return missing


def parse_label_file(data: bytes, name: str) -> list[str]:
    """Read a label file: `.txt` one name per line, `.json` list or {"0": name}, `.csv` index,name.

    UTF-8 with or without BOM. Blank trailing lines are ignored; a blank line inside is an error.
    """
    try:
        check_size(data, name=name)
    except SafeInputError as exc:
        raise LabelError(str(exc)) from None
    text = _decode_text(data, name)
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        labels = _from_json(text, name)
    elif suffix == ".csv":
        labels = _from_csv(text, name)
    else:
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        labels = [line.strip() for line in lines]
    if not labels:
        raise LabelError(f"{name}: the label file has no names")
    blank = [i for i, label in enumerate(labels) if not label.strip()]
    if blank:
        raise LabelError(f"{name}: class {blank[0]} has an empty name ({len(blank)} empty in all)")
    return labels


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
