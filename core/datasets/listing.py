"""Listing the members of a folder or a zip as `Entry`s: names and sizes only, nothing read or extracted.

A zip's member names are shown as their author wrote them when the zip does not mark them UTF-8
(`core.datasets.zipnames`); `ZipListing.stored` maps a shown name back to the name zipfile lists.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.archive import Entry, human_size
from core.datasets.sets import EmptyDatasetError, Limits
from core.datasets.zipnames import member_names
from core.errors import InputError


def folder_entries(base: Path, limits: Limits) -> list[Entry]:
    """Every file under `base` (sorted, symbolic links marked and never followed), up to `limits.max_members`."""
    if not base.is_dir():
        raise InputError(f"{base}: no such folder")
    entries: list[Entry] = []
    for folder, dirs, names in os.walk(base, followlinks=False):
        dirs.sort()
        for file_name in sorted(names):
            path = Path(folder) / file_name
            relative = path.relative_to(base).as_posix()
            if len(entries) >= limits.max_members:
                raise InputError(f"{base}: more than {limits.max_members:,} files, over the limit")
            size = path.lstat().st_size
            entries.append(Entry(relative, size, size, link=path.is_symlink()))
    if not entries:
        raise EmptyDatasetError(f"{base}: the folder is empty")
    return entries


def folder_stamp(entries: list[Entry]) -> str:
    """A folder's digest from its files' names and sizes: they stand for the content (re-hashing gigabytes per run
    is not worth it)."""
    stamp = hashlib.sha256()
    for entry in entries:
        stamp.update(f"{entry.name}\0{entry.size}\0".encode())
    return stamp.hexdigest()


def zip_file_bytes(path: Path, limits: Limits) -> bytes:
    """The bytes of a zip file on disk (a PATH that is not a folder), refused when missing or over the size limit."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    size = path.stat().st_size
    if size > limits.max_total_bytes:
        raise InputError(f"{path}: {human_size(size)}, over the {human_size(limits.max_total_bytes)} limit")
    return path.read_bytes()


@dataclass(frozen=True)
class ZipListing:
    """The file members of a zip under their shown names; `stored`: shown name -> zipfile's name (where they
    differ); `note`: which encoding the names were read in, when the zip did not say."""

    entries: list[Entry]
    stored: dict[str, str]
    note: str | None = None


def open_zip_bytes(data: bytes, name: str) -> zipfile.ZipFile:
    """The zip in `data`, open for listing, or InputError naming `name` when the bytes are not one."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{name}: not a zip archive ({exc})") from None


def zip_entries(archive: zipfile.ZipFile, name: str, limits: Limits) -> ZipListing:
    """Every file member of an open zip, as listed by its central directory, under the names people wrote."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise InputError(f"{name}: {len(infos):,} members, over the limit of {limits.max_members:,}")
    names = member_names(infos)  # names as their author wrote them, when the zip does not say UTF-8
    entries = [
        Entry(names.shown.get(i.filename, i.filename), i.file_size, i.compress_size, encrypted=bool(i.flag_bits & 1))
        for i in infos
        if not i.is_dir()
    ]
    if not entries:
        raise EmptyDatasetError(f"{name}: the zip archive is empty")
    return ZipListing(entries, {shown: member for member, shown in names.shown.items()}, names.note)
