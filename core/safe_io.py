"""Reading JSON and CSV that a user uploaded, with every cost bounded before it is paid.

The standard library's readers have worst cases a few bytes can trigger: `json.loads` recurses once per
nesting level (`[[[[...]]]]` raises RecursionError) and turns a 400-digit literal into an int that
`float()` cannot convert; `csv.Sniffer` backtracks for seconds on crafted lines, and `csv.reader` stops at
a 128 KB field with a bare `_csv.Error`. Every reader of user files (label files, manifests, the Lab's
imports) goes through `load_json` and `read_csv_rows` here, which turn each of these into a
`SafeInputError` whose message says what is wrong, in English or Chinese.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from typing import Final

import numpy as np

from core.errors import InputError
from core.i18n import t

MAX_JSON_DEPTH: Final = 32  # label and logits files need 2 or 3 levels
MAX_NUMBER_CHARS: Final = 300  # a float64 has at most 17 significant digits; 300 stays under float's 1.8e308
MAX_TEXT_BYTES: Final = 16 * 2**20
CSV_FIELD_LIMIT: Final = csv.field_size_limit()  # the stdlib's own limit (128 KB); never raised process-wide
CSV_DELIMITERS: Final = (",", ";", "\t")
_SNIFF_CHARS: Final = 64 * 1024  # the delimiter is read from the first line, and at most this much of it

# A JSON string literal, matched possessively (no backtracking), or one bracket.
_JSON_STRING_OR_BRACKET: Final = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')
_JSON_STRING: Final = re.compile(r'"(?:[^"\\]++|\\.)*+"')


class SafeInputError(InputError):
    """A user file broke a limit or is malformed; `message(lang)` gives the sentence in the UI language."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(t(key, "en", **params))

    def message(self, lang: str) -> str:
        """The message in `lang`."""
        return t(self.key, lang, **self.params)


def check_size(data: bytes | str, *, name: str, limit: int = MAX_TEXT_BYTES) -> None:
    """Refuse `data` longer than `limit` bytes (characters for text) before anything parses it."""
    if len(data) > limit:
        raise SafeInputError("io.too_large", name=name, size=len(data), limit=limit)


# byte-order marks and their codecs; UTF-32's are tried first, as UTF-32-LE's begins with UTF-16-LE's
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def decode_text(data: bytes, *, name: str) -> str:
    """The text of a user file: UTF-8 with or without BOM, or UTF-16/UTF-32 with their BOM (Excel's "Unicode
    text", Notepad's "Unicode"). Anything else is refused with a message naming the problem and the fix.

    Raises:
        SafeInputError: not UTF-8 (a legacy code page such as GBK or Windows-1252), UTF-16 without a BOM,
            or a BOM whose encoding the bytes then break.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise SafeInputError("io.bad_unicode", name=name, encoding=label, position=exc.start) from None
    head = data[:200]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):  # every other byte NUL: UTF-16 text (or not text)
        raise SafeInputError("io.utf16_no_bom", name=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SafeInputError("io.not_utf8", name=name, position=exc.start, byte=data[exc.start]) from None


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, counted without recursion.

    Brackets inside string literals do not count. Linear time: strings are removed by one possessive
    regex, and the depth is the maximum of a cumulative sum over the remaining brackets.
    """
    brackets = _JSON_STRING.sub("", text)
    codes = np.frombuffer(re.sub(r"[^\[\]{}]+", "", brackets).encode("ascii"), dtype=np.uint8)
    if codes.size == 0:
        return 0
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def load_json(
    text: str | bytes,
    *,
    name: str,
    max_depth: int = MAX_JSON_DEPTH,
    max_bytes: int = MAX_TEXT_BYTES,
    max_number_chars: int = MAX_NUMBER_CHARS,
) -> object:
    """Parse user JSON with limits on size, nesting depth and number length.

    Args:
        text: the document (bytes are decoded as UTF-8, with or without BOM).
        name: the file name, for messages.
        max_depth: deepest array/object nesting accepted (checked before parsing, so no RecursionError).
        max_bytes: largest document accepted.
        max_number_chars: longest number literal accepted (so every number converts to a float).

    Raises:
        SafeInputError: too large, too deep, a huge number, not UTF-8 or not valid JSON.
    """
    check_size(text, name=name, limit=max_bytes)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SafeInputError("lab.err.not_utf8", name=name, position=exc.start) from None
    depth = json_depth(text)
    if depth > max_depth:
        raise SafeInputError("io.json_deep", name=name, limit=max_depth)

    def number(literal: str, convert: type[int] | type[float]) -> int | float:
        if len(literal) > max_number_chars:
            raise SafeInputError(
                "io.json_number", name=name, chars=len(literal), text=literal[:20], limit=max_number_chars
            )
        return convert(literal)

    try:
        return json.loads(text, parse_int=lambda s: number(s, int), parse_float=lambda s: number(s, float))
    except json.JSONDecodeError as exc:
        raise SafeInputError("io.json_invalid", name=name, detail=exc.msg, line=exc.lineno, column=exc.colno) from None
    except RecursionError:  # cannot happen under max_depth; kept so a lowered recursion limit still reads clearly
        raise SafeInputError("io.json_deep", name=name, limit=max_depth) from None


def detect_delimiter(text: str, *, candidates: tuple[str, ...] = CSV_DELIMITERS) -> str:
    """The delimiter of a CSV: whichever of `candidates` occurs most often, outside quotes, on the first
    non-blank line (only its first 64 K characters are looked at). Ties go to the earlier candidate; ","
    when none occurs. Linear time, unlike `csv.Sniffer`, whose regexes backtrack on crafted lines."""
    start = 0
    while start < len(text) and text[start] in "\r\n \ufeff":
        start += 1
    end = min((i for i in (text.find("\n", start), text.find("\r", start)) if i >= 0), default=len(text))
    line = text[start : min(end, start + _SNIFF_CHARS)]
    outside = "".join(line.split('"')[0::2])  # the even pieces between quotes are outside quoted fields
    counts = [outside.count(c) for c in candidates]
    best = max(range(len(candidates)), key=lambda i: (counts[i], -i))
    return candidates[best] if counts[best] else ","


def read_csv_rows(
    text: str,
    *,
    name: str,
    delimiter: str | None = ",",
    max_rows: int | None = None,
    max_field_chars: int = CSV_FIELD_LIMIT,
) -> list[list[str]]:
    """Every row of a CSV as lists of strings, with standard quoting (doubled quotes).

    Args:
        text: the decoded file.
        name: the file name, for messages.
        delimiter: the field separator; None detects it from the first line (`detect_delimiter`).
        max_rows: refuse files with more rows (blank lines count); None for no limit.
        max_field_chars: a longer field is refused with its line number (at most the stdlib's limit).

    Raises:
        SafeInputError: a field too long, too many rows, or malformed CSV (e.g. a NUL byte).
    """
    sep = detect_delimiter(text) if delimiter is None else delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if max_rows is not None and len(rows) >= max_rows:
                raise SafeInputError("io.csv_rows", name=name, limit=max_rows)
            if max_field_chars < CSV_FIELD_LIMIT and any(len(cell) > max_field_chars for cell in row):
                raise SafeInputError("io.csv_field", name=name, line=reader.line_num, limit=max_field_chars)
            rows.append(row)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise SafeInputError(
                "io.csv_field", name=name, line=reader.line_num, limit=min(max_field_chars, CSV_FIELD_LIMIT)
            ) from None
        raise SafeInputError("io.csv_invalid", name=name, line=reader.line_num, detail=str(exc)) from None
    return rows
