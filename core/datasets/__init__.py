"""Labelled image sets to evaluate: an ImageFolder folder or zip, a zip with a labels.csv manifest, the digits.

A zip is never extracted. Its members are listed from the central directory and read into memory one at
a time, so a hostile archive cannot write anywhere. Every member that cannot be used (an unsafe path, a
zip bomb, not an image, a class the model does not know, ...) is listed with the reason and skipped; the
rest is evaluated.

Class folders (or the manifest's label column) may hold a label name ("espresso", "great_white_shark"),
an ImageNet WordNet id ("n07920052"), or a class index ("967").

The package: `sets` (what a set is, its limits), `readers` (members by name), `classes` (names to
indices), `plan` (what to evaluate and what to skip); this module opens a zip, a folder or the digits.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from pathlib import Path

from core.datasets.classes import WNIDS_FILE, ClassResolver, imagenet_wnids, resolver_for
from core.datasets.listing import folder_entries, zip_entries
from core.datasets.plan import MANIFEST_NAME, Entry, labelled_set, plan_members
from core.datasets.readers import FolderReader, MemoryReader, ZipReader, damaged_reason
from core.datasets.sets import LIMITS, EmptyDatasetError, LabelledSet, Limits, Reader, Skipped, human_size
from core.errors import InputError

__all__ = [
    "LIMITS",
    "MANIFEST_NAME",
    "WNIDS_FILE",
    "ClassResolver",
    "EmptyDatasetError",
    "Entry",
    "FolderReader",
    "LabelledSet",
    "Limits",
    "MemoryReader",
    "Reader",
    "Skipped",
    "ZipReader",
    "damaged_reason",
    "digits_set",
    "human_size",
    "imagenet_wnids",
    "labelled_set",
    "open_folder",
    "open_path",
    "open_zip",
    "plan_members",
    "resolver_for",
]


def open_zip(data: bytes, resolver: ClassResolver, *, name: str = "upload.zip", limits: Limits = LIMITS) -> LabelledSet:
    """A labelled set from zip bytes: ImageFolder layout (`class/image.png`) or a `labels.csv` manifest.

    Raises InputError when the bytes are not a zip, it is empty or too large, or nothing in it can be
    evaluated (EmptyDatasetError, with the reasons).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{name}: not a zip archive ({exc})") from None
    with archive:
        entries = zip_entries(archive, name, limits)

        def read_manifest(member: str) -> bytes:
            info = archive.getinfo(member)
            if info.file_size > limits.max_manifest_bytes:
                size, limit = human_size(info.file_size), human_size(limits.max_manifest_bytes)
                raise InputError(f"{name}: {member} is {size}, over the {limit} limit")
            try:
                return archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise InputError(f"{name}: {member} is {damaged_reason(exc)}") from None

        kept, skipped = plan_members(entries, resolver, read=read_manifest, source=name, limits=limits)
    digest = hashlib.sha256(data).hexdigest()
    reader = ZipReader(data, max_bytes=limits.max_member_bytes)
    return labelled_set(kept, skipped, source=name, reader=reader, digest=digest)


def open_folder(root: str | os.PathLike[str], resolver: ClassResolver, *, limits: Limits = LIMITS) -> LabelledSet:
    """A labelled set from a folder in ImageFolder layout (`root/class/image.png`) or with a `labels.csv`."""
    base = Path(root)
    entries = folder_entries(base, limits)

    def read_manifest(member: str) -> bytes:
        return FolderReader(base, max_bytes=limits.max_manifest_bytes).read(member)

    kept, skipped = plan_members(entries, resolver, read=read_manifest, source=str(base), limits=limits)
    stamp = hashlib.sha256()
    for entry in entries:  # names and sizes stand for the content: re-hashing gigabytes per run is not worth it
        stamp.update(f"{entry.name}\0{entry.size}\0".encode())
    return labelled_set(
        kept,
        skipped,
        source=str(base),
        reader=FolderReader(base, max_bytes=limits.max_member_bytes),
        digest=stamp.hexdigest(),
    )


def open_path(path: str | os.PathLike[str], resolver: ClassResolver, *, limits: Limits = LIMITS) -> LabelledSet:
    """A folder or a `.zip` file on disk (the CLI's PATH)."""
    p = Path(path)
    if p.is_dir():
        return open_folder(p, resolver, limits=limits)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.stat().st_size > limits.max_total_bytes:
        raise InputError(f"{p}: {human_size(p.stat().st_size)}, over the {human_size(limits.max_total_bytes)} limit")
    return open_zip(p.read_bytes(), resolver, name=str(p), limits=limits)


def digits_set(split: str = "test") -> LabelledSet:
    """scikit-learn's digits (the held-out split by default) as PNGs in memory: `digit/0000.png`."""
    from core.digits import digits_images

    images, labels = digits_images(split)
    files: dict[str, bytes] = {}
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        files[f"{label}/{index:04d}.png"] = buffer.getvalue()
    names = sorted(files)
    stamp = hashlib.sha256()
    for name in names:
        stamp.update(name.encode() + b"\0" + files[name])
    return LabelledSet(
        source=f"digits ({split})",
        files=tuple(names),
        targets=tuple(int(name.split("/", 1)[0]) for name in names),
        skipped=(),
        reader=MemoryReader(files),
        digest=stamp.hexdigest(),
    )
