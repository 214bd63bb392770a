"""Listing the members of a folder or a zip as `Entry`s: names and sizes only, nothing read or extracted."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from core.datasets.plan import Entry
from core.datasets.sets import EmptyDatasetError, Limits
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


def zip_entries(archive: zipfile.ZipFile, name: str, limits: Limits) -> list[Entry]:
    """Every file member of an open zip, as listed by its central directory."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise InputError(f"{name}: {len(infos):,} members, over the limit of {limits.max_members:,}")
    entries = [
        Entry(i.filename, i.file_size, i.compress_size, encrypted=bool(i.flag_bits & 0x1))
        for i in infos
        if not i.is_dir()
    ]
    if not entries:
        raise EmptyDatasetError(f"{name}: the zip archive is empty")
    return entries
