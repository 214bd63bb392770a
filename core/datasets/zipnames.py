"""Zip member names as their author wrote them, for zips that do not mark their names as UTF-8.

Python's zipfile decodes a name as UTF-8 when the member's flag bit 0x800 says so, else as cp437 (the DOS code
page the zip format once assumed). Many tools write neither: Windows' built-in zip uses the system's code page
(GBK on a Chinese system, Shift-JIS on a Japanese one, Big5 on a Taiwanese one, cp850 in Western Europe) and
macOS' Archive Utility writes UTF-8 without the flag. Read as cp437 such names are mojibake ("数字0" from a
GBK zip reads "╩²╫╓0"), and class folders stop matching.

For each member, in order:
1. the flag says UTF-8: zipfile's name is kept;
2. an Info-ZIP Unicode Path extra field (0x7075, written by Info-ZIP and 7-Zip) whose CRC matches the stored
   name: its UTF-8 name is used;
3. otherwise the stored bytes (zipfile's name encoded back to cp437, which round-trips every byte) are decoded
   with ONE encoding for the whole archive: the first of these under which every such name decodes and reads
   plausibly:
   - UTF-8 (macOS, Linux): any valid UTF-8, except that a lone 2-byte character standing alone between
     non-letters ("è/" is how the GBK bytes of "猫/" read) is not taken as evidence;
   - cp437 as zipfile read it, when it reads as Latin words: at most two accented letters in a row, each touching
     an ASCII letter, no lower-to-upper case jump ("Größe", "café", "España" stay as they are);
   - cp850 (Western European Windows) under the same rule ("São Paulo", "Øresund");
   - GBK, Shift-JIS (cp932), Big5 (cp950), in that order, when every non-ASCII character is a CJK ideograph or
     CJK punctuation (kana only for Shift-JIS; for GBK only its common GB2312 area), and no such character sits
     between two ASCII letters (which is how a Latin name misread as CJK looks).
   When none fits, zipfile's cp437 reading is kept and the note says so.
Names are then put in Unicode NFC form (macOS stores "é" as "e" + a combining accent).

Known limits: a Big5 name that also reads as common GB2312 characters is read as GBK (GBK is tried first; about
one two-character name in seven); a single kana folder ("ア/") may stay cp437; Korean (EUC-KR) is not tried.
"""

from __future__ import annotations

import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

_UTF8_FLAG: Final = 0x800
_UNICODE_PATH: Final = 0x7075
_SJIS_TRAILS: Final = frozenset("@[\\]^`{|}~")  # ASCII bytes that end a double-byte character, never a Latin word
# encoding -> what the note calls it
ENCODINGS: Final = {
    "utf-8": "UTF-8 (as macOS and Linux write it)",
    "cp437": "cp437 (DOS)",
    "cp850": "cp850 (Western European Windows)",
    "gbk": "GBK (Chinese Windows)",
    "cp932": "Shift-JIS (Japanese Windows)",
    "cp950": "Big5 (Traditional Chinese Windows)",
}


@dataclass(frozen=True)
class MemberNames:
    """Names to show and plan with, by zipfile's name (only those that differ), and a note on how they were read."""

    shown: dict[str, str]
    note: str | None = None


def _runs(text: str) -> list[tuple[int, int]]:
    """(start, stop) of each maximal run of non-ASCII characters."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if ord(text[i]) < 128:
            i += 1
            continue
        j = i
        while j < len(text) and ord(text[j]) >= 128:
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _around(text: str, start: int, stop: int) -> tuple[str, str]:
    return (text[start - 1] if start else ""), (text[stop] if stop < len(text) else "")


def _reads_as_utf8(text: str) -> bool:
    for start, stop in _runs(text):
        before, after = _around(text, start, stop)
        two_byte = all(ord(c) < 0x800 for c in text[start:stop])
        if two_byte and stop - start < 2 and not (_letter(before) or _letter(after)):
            return False
    return True


def _reads_as_latin(text: str) -> bool:
    for start, stop in _runs(text):
        run = text[start:stop]
        before, after = _around(text, start, stop)
        if not all(unicodedata.category(c) in ("Lu", "Ll") and ord(c) < 0x250 for c in run):
            return False  # box drawing, Greek, symbols: what CJK bytes look like in cp437
        if len(run) > 2 or after in _SJIS_TRAILS:
            return False
        if len(run) > 1 and not (_letter(before) or _letter(after)):
            return False
        word = before + run + after
        if any(a.islower() and b.isupper() for a, b in pairwise(word)):
            return False
    return True


def _cjk_character(ch: str, encoding: str) -> bool:
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF:  # hiragana, katakana
        return encoding == "cp932"
    if encoding == "gbk":  # only GB2312's area (lead and trail bytes 0xA1..): the common simplified characters
        raw = ch.encode("gbk")
        if not (len(raw) == 2 and 0xA1 <= raw[0] <= 0xF7 and raw[1] >= 0xA1):
            return False
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x3000 <= code <= 0x303F  # CJK symbols and punctuation
        or 0xFF01 <= code <= 0xFF60  # full-width forms (not the half-width katakana after them)
        or 0x2010 <= code <= 0x2027  # dashes, quotes, ellipsis
        or code == 0xB7  # middle dot
    )


def _reads_as_cjk(text: str, encoding: str) -> bool:
    for start, stop in _runs(text):
        before, after = _around(text, start, stop)
        if _letter(before) and _letter(after):
            return False
        if not all(_cjk_character(ch, encoding) for ch in text[start:stop]):
            return False
    return True


def _plausible(text: str, encoding: str) -> bool:
    if encoding == "utf-8":
        return _reads_as_utf8(text)
    if encoding in ("cp437", "cp850"):
        return _reads_as_latin(text)
    return _reads_as_cjk(text, encoding)


def legacy_encoding(raw_names: Sequence[bytes]) -> tuple[str, bool] | None:
    """(encoding, plausible): the first encoding under which every name reads plausibly (see the module
    docstring), or ("cp437", False) when none does; None when every name is ASCII."""
    names = [raw for raw in raw_names if not raw.isascii()]
    if not names:
        return None
    for encoding in ENCODINGS:
        try:
            texts = [raw.decode(encoding) for raw in names]
        except UnicodeDecodeError:
            continue
        if all(_plausible(text, encoding) for text in texts):
            return encoding, True
    return "cp437", False


def unicode_path(extra: bytes, raw_name: bytes) -> str | None:
    """The UTF-8 name of an Info-ZIP Unicode Path extra field, when there is one whose CRC matches `raw_name`."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + size]
        at += 4 + size
        if kind != _UNICODE_PATH or len(body) < 5 or body[0] != 1:
            continue
        (crc,) = struct.unpack_from("<I", body, 1)
        if crc != zlib.crc32(raw_name):
            return None  # the name was changed after the field was written: the field is stale
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def member_names(infos: Sequence[zipfile.ZipInfo]) -> MemberNames:
    """How to show each member of an archive (see the module docstring)."""
    decoded: dict[str, str] = {}
    legacy: dict[str, bytes] = {}
    from_extra = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & _UTF8_FLAG or name != info.orig_filename:  # marked UTF-8 (or cut at a NUL: unsafe)
            decoded[name] = name
            continue
        raw = name.encode("cp437")  # zipfile decoded the stored bytes as cp437: this gives them back
        unicode = unicode_path(info.extra, raw) if info.extra else None
        if unicode is not None:
            decoded[name] = unicode
            from_extra += unicode != name
        else:
            legacy[name] = raw
    chosen = legacy_encoding(list(legacy.values()))
    for name, raw in legacy.items():
        decoded[name] = raw.decode(chosen[0]) if chosen is not None else name
    shown: dict[str, str] = {}
    taken = set(decoded.values())
    for name, text in decoded.items():
        nfc = unicodedata.normalize("NFC", text)
        if nfc != text and nfc in taken:  # two members that differ only in normal form: keep them apart
            nfc = text
        if nfc != name:
            shown[name] = nfc
    return MemberNames(shown, _note(chosen, from_extra))


def _note(chosen: tuple[str, bool] | None, from_extra: int) -> str | None:
    parts = []
    if from_extra:
        parts.append(f"{from_extra} file names were read from the zip's Unicode path fields")
    if chosen is not None:
        encoding, plausible = chosen
        if plausible:
            parts.append(f"file names are not marked as UTF-8 in the zip; they were read as {ENCODINGS[encoding]}")
        else:
            parts.append(
                "file names are not marked as UTF-8 and read as none of UTF-8, GBK, Shift-JIS or Big5: they were "
                "read as cp437 (DOS), as zip tools do; if they look wrong, re-make the zip with UTF-8 names"
            )
    return "; ".join(parts) or None
