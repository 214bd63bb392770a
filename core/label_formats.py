"""The shapes a label file comes in, each read into class names (and WordNet ids where the file has them).

- text (`.txt`, any other suffix): one name per line; Caffe's `synset_words.txt` ("n01440764 tench, Tinca
  tinca": an ImageNet WordNet id, then synonyms) gives "tench" and keeps the id; the Python dict printed in the
  widely copied `imagenet1000_clsidx_to_labels.txt` (`{0: 'tench, Tinca tinca', ...}`) gives "tench" too;
- `.json`: a list of names; `{"0": name}`; Keras' `imagenet_class_index.json` (`{"0": ["n01440764", "tench"]}`,
  the name shown, the id kept); a transformers `config.json` (its `id2label`);
- `.csv` / `.tsv`: `index,name` rows, with or without a header line, separated by "," ";" or tab (detected as
  the Logits Lab detects them, `core.safe_io.detect_delimiter`); a header may name the columns (index or id,
  name or label, wnid); a single column is one name per row.

Names are stripped; checking them (none empty, one per class) is `core.labels`' job.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from core.errors import LabelError
from core.safe_io import SafeInputError, load_json, read_csv_rows

_WNID = re.compile(r"n\d{8}")
_SYNSET_LINE = re.compile(r"(n\d{8})\s+(.+)")
# one entry of a printed Python dict: `0: 'tench, Tinca tinca',` (braces on the first and last lines)
_PY_DICT_LINE = re.compile(r"""\s*\{?\s*(\d+)\s*:\s*(['"])(.*)\2\s*,?\s*\}?\s*""")
_INDEX_HEADERS = ("index", "id", "class_index", "class_id", "idx")
_NAME_HEADERS = ("name", "label", "class_name", "label_name", "class", "names", "labels")
_WNID_HEADERS = ("wnid", "synset", "wordnet_id")
# what a label-file uploader offers (suffixes without the dot): the shapes above, and darknet's one-name-per-line
# `coco.names` / `imagenet.shortnames.list` (any suffix other than .json/.csv/.tsv is read as lines)
LABEL_FILE_TYPES: Final = ("txt", "json", "csv", "tsv", "names", "list")


@dataclass(frozen=True)
class LabelFile:
    """What a label file says.

    Attributes:
        names: the class names, index order.
        wnids: the ImageNet WordNet id of each class when the file has them (Caffe, Keras), else None.
        shape: which shape was read ("lines", "synset_words", "python dict", "json list", "json object",
            "keras class index", "transformers id2label", "csv").
    """

    names: tuple[str, ...]
    wnids: tuple[str, ...] | None
    shape: str


def parse_label_text(text: str, name: str) -> LabelFile:
    """Read decoded label-file text by its file name's suffix (see the module docstring)."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if suffix == ".json":
        return _from_json(text, name)
    if suffix in (".csv", ".tsv"):
        return _from_csv(text, name)
    return _from_lines(text, name)


# ---------------------------------------------------------------- text
def _from_lines(text: str, name: str) -> LabelFile:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    filled = [line.strip() for line in lines if line.strip()]
    if filled and all(_SYNSET_LINE.fullmatch(line) for line in filled) and len(filled) == len(lines):
        matches = [_SYNSET_LINE.fullmatch(line) for line in filled]
        return LabelFile(
            tuple(_first_synonym(m.group(2)) for m in matches if m),
            tuple(m.group(1) for m in matches if m),
            "synset_words",
        )
    if filled and filled[0].startswith("{") and all(_PY_DICT_LINE.fullmatch(line) for line in filled):
        pairs = [
            (int(m.group(1)), _first_synonym(m.group(3))) for line in filled if (m := _PY_DICT_LINE.fullmatch(line))
        ]
        return LabelFile(tuple(_dense(sorted(pairs), name)), None, "python dict")
    return LabelFile(tuple(line.strip() for line in lines), None, "lines")


def _first_synonym(text: str) -> str:
    """ "tench, Tinca tinca" -> "tench": WordNet lists synonyms, the first is the usual name."""
    return text.split(",", 1)[0].strip()


# ---------------------------------------------------------------- JSON
def _json_item(item: object, key: object, name: str) -> tuple[str, str | None]:
    """(name, WordNet id or None) of one JSON entry: a name, or Keras' [wnid, name] pair."""
    if item is None:
        return "", None  # null is a missing name (reported as empty), not the class name "None"
    if isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(part, str) for part in item):
        first, second = item
        return second.strip(), first if _WNID.fullmatch(first) else None
    if isinstance(item, (list, tuple, dict)):
        kind = "a list" if isinstance(item, (list, tuple)) else "an object"
        raise LabelError(f"{name}: class {key} is {kind}, not a name (expected a name, or [wnid, name] as in Keras)")
    return str(item).strip(), None


def _from_json(text: str, name: str) -> LabelFile:
    try:
        data = load_json(text, name=name)
    except SafeInputError as exc:
        raise LabelError(str(exc)) from None
    shape = "json list" if isinstance(data, list) else "json object"
    if isinstance(data, dict) and isinstance(data.get("id2label"), dict):
        data, shape = data["id2label"], "transformers id2label"
    if isinstance(data, list):
        items = [_json_item(item, index, name) for index, item in enumerate(data)]
    elif isinstance(data, dict):
        try:
            keyed = sorted(((int(key), value) for key, value in data.items()), key=lambda kv: kv[0])
        except ValueError:
            raise LabelError(f'{name}: a JSON object of labels needs integer keys, like {{"0": "tench"}}') from None
        _dense([(index, "") for index, _ in keyed], name)
        items = [_json_item(value, index, name) for index, value in keyed]
    else:
        raise LabelError(f"{name}: JSON labels must be a list of names or an object {{index: name}}")
    wnids = [wnid for _, wnid in items]
    if items and all(wnids):
        shape = "keras class index"
    return LabelFile(tuple(n for n, _ in items), tuple(w or "" for w in wnids) if all(wnids) else None, shape)


# ---------------------------------------------------------------- CSV
def _column(header: Sequence[str], choices: Sequence[str]) -> int | None:
    for choice in choices:
        if choice in header:
            return header.index(choice)
    return None


def _is_index(cell: str) -> bool:
    return cell.strip().lstrip("-").isdecimal()


def _csv_columns(rows: list[list[str]], name: str) -> tuple[int, int | None, int, int | None]:
    """(first data row, index column or None for "row order", name column, WordNet id column or None)."""
    first = [cell.strip().casefold() for cell in rows[0]]
    if _is_index(rows[0][0]):  # no header: index,name or index,wnid,name
        wnid_first = len(rows[0]) >= 3 and _WNID.fullmatch(rows[0][1].strip()) is not None
        return (0, 0, 2, 1) if wnid_first else (0, 0, 1, None)
    index_col = _column(first, _INDEX_HEADERS)
    wnid_col = _column(first, _WNID_HEADERS)
    if index_col is None and all(_is_index(row[0]) for row in rows[1:] if row):
        index_col = 0  # an unnamed index column, e.g. "class,name"
    name_col = _column([c if i != index_col else "" for i, c in enumerate(first)], _NAME_HEADERS)
    if name_col is None:
        name_col = next((i for i in range(len(first)) if i not in (index_col, wnid_col)), None)
    if name_col is None:
        raise LabelError(f"{name}: no column of names; CSV labels are 'index,name' per line")
    return 1, index_col, name_col, wnid_col


def _from_csv(text: str, name: str) -> LabelFile:
    try:
        rows = [row for row in read_csv_rows(text, name=name, delimiter=None) if any(cell.strip() for cell in row)]
    except SafeInputError as exc:
        raise LabelError(str(exc)) from None
    if not rows:
        return LabelFile((), None, "csv")
    if all(len(row) == 1 for row in rows):  # one column: a name per row, under an optional header
        body = rows[1:] if rows[0][0].strip().casefold() in _NAME_HEADERS else rows
        return LabelFile(tuple(row[0].strip() for row in body), None, "csv")
    start, index_col, name_col, wnid_col = _csv_columns(rows, name)
    pairs: list[tuple[int, str]] = []
    wnids: dict[int, str] = {}
    for line_no, row in enumerate(rows[start:], start=1):
        if len(row) <= max(index_col or 0, name_col):
            raise LabelError(f"{name}: row {line_no} has no name; CSV labels are 'index,name' per line")
        index = line_no - 1
        if index_col is not None:
            try:
                index = int(row[index_col].strip())
            except ValueError:
                cell = row[index_col][:40]
                raise LabelError(f"{name}: row {line_no} starts with {cell!r}, not a class index") from None
        pairs.append((index, row[name_col].strip()))
        if wnid_col is not None and wnid_col < len(row):
            wnids[index] = row[wnid_col].strip()
    names = _dense(sorted(pairs, key=lambda pair: pair[0]), name)
    ids = tuple(wnids.get(i, "") for i in range(len(names)))
    return LabelFile(tuple(names), ids if all(_WNID.fullmatch(w) for w in ids) else None, "csv")


# ---------------------------------------------------------------- indices
def labels_from_mapping(mapping: Mapping[object, object], name: str) -> list[str]:
    """{index: name} (keys may be strings, as JSON writes them: a label file, a model's id2label) as a list,
    refusing keys that are not integers, gaps and repeats (they would shift names)."""
    try:
        pairs = sorted((int(str(key)), "" if value is None else str(value)) for key, value in mapping.items())
    except ValueError:
        raise LabelError(f'{name}: a JSON object of labels needs integer keys, like {{"0": "tench"}}') from None
    return _dense(pairs, name)


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
