"""Unlabelled image sets: the "outside" images of an out-of-distribution check (`evaluate --ood OTHER`).

A folder, a zip or files uploaded one by one are read like a labelled set (the same screening: unsafe paths,
system files, non-images, zip bombs, size limits), but every image file counts, at any folder depth, with no class
folders or labels.csv. The set is a `LabelledSet` so that `core.evaluate.run.evaluate` runs it unchanged; its
targets are all 0 and mean nothing: only the logits are used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from core.archive import Entry
from core.datasets.listing import folder_entries, folder_stamp, open_zip_bytes, zip_entries, zip_file_bytes
from core.datasets.plan import SYSTEM_FILE, plan_unlabelled, system_note
from core.datasets.readers import FolderReader, MemoryReader, ZipReader
from core.datasets.sets import LIMITS, EmptyDatasetError, LabelledSet, Limits, Reader, Skipped
from core.errors import InputError


def _unlabelled_set(
    names: list[str], skipped: list[Skipped], *, source: str, reader: Reader, digest: str, notes: tuple[str, ...] = ()
) -> LabelledSet:
    system = sum(s.reason == SYSTEM_FILE for s in skipped)  # OS metadata files: one note, as for a labelled set
    skipped = [s for s in skipped if s.reason != SYSTEM_FILE]
    notes = (*notes, system_note(system)) if system else notes
    if not names:
        examples = "; ".join(f"{s.name}: {s.reason}" for s in skipped[:3])
        detail = f" {len(skipped)} skipped, e.g. {examples}" if skipped else ""
        raise EmptyDatasetError(f"{source}: no images in it.{detail}", skipped)
    return LabelledSet(
        source=source,
        files=tuple(names),
        targets=(0,) * len(names),
        skipped=tuple(skipped),
        reader=reader,
        digest=digest,
        notes=notes,
    )


def open_unlabelled_zip(data: bytes, *, name: str = "outside.zip", limits: Limits = LIMITS) -> LabelledSet:
    """Every image member of zip bytes (never extracted)."""
    with open_zip_bytes(data, name) as archive:
        listing = zip_entries(archive, name, limits)
    names, skipped = plan_unlabelled(listing.entries, limits=limits)
    reader = ZipReader(data, max_bytes=limits.max_member_bytes, names=listing.stored)
    notes = (listing.note,) if listing.note else ()
    digest = hashlib.sha256(data).hexdigest()
    return _unlabelled_set(names, skipped, source=name, reader=reader, digest=digest, notes=notes)


def open_unlabelled_folder(root: str | os.PathLike[str], *, limits: Limits = LIMITS) -> LabelledSet:
    """Every image file under a folder, at any depth."""
    base = Path(root)
    entries = folder_entries(base, limits)
    names, skipped = plan_unlabelled(entries, limits=limits)
    reader = FolderReader(base, max_bytes=limits.max_member_bytes)
    return _unlabelled_set(names, skipped, source=str(base), reader=reader, digest=folder_stamp(entries))


def open_unlabelled_files(
    files: Mapping[str, bytes], *, name: str = "outside images", limits: Limits = LIMITS
) -> LabelledSet:
    """Files handed over one by one (a browser's multi-file or folder upload), by their relative names: screened
    as a folder's files are (their names and sizes), held in memory."""
    if len(files) > limits.max_members:
        raise InputError(f"{name}: {len(files):,} files, over the limit of {limits.max_members:,}")
    entries = [Entry(member, len(data), len(data)) for member, data in sorted(files.items())]
    names, skipped = plan_unlabelled(entries, limits=limits)
    stamp = hashlib.sha256()
    for member in names:  # the content of what is kept: the same files under the same names are the same set
        stamp.update(member.encode() + b"\0" + hashlib.sha256(files[member]).digest())
    reader = MemoryReader({member: files[member] for member in names})
    return _unlabelled_set(names, skipped, source=name, reader=reader, digest=stamp.hexdigest())


def open_unlabelled_path(path: str | os.PathLike[str], *, limits: Limits = LIMITS) -> LabelledSet:
    """A folder or a `.zip` file on disk, unlabelled."""
    p = Path(path)
    if p.is_dir():
        return open_unlabelled_folder(p, limits=limits)
    return open_unlabelled_zip(zip_file_bytes(p, limits), name=str(p), limits=limits)
