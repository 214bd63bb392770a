"""Opening a labelled set: a zip (never extracted), a folder, a path that is either, or the built-in digits."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from pathlib import Path

from core.archive import human_size
from core.datasets.classes import ClassResolver
from core.datasets.listing import folder_entries, folder_stamp, open_zip_bytes, zip_entries, zip_file_bytes
from core.datasets.plan import labelled_set, plan_members
from core.datasets.readers import FolderReader, MemoryReader, ZipReader, damaged_reason
from core.datasets.sets import LIMITS, LabelledSet, Limits
from core.digits import digits_images
from core.errors import InputError


def open_zip(data: bytes, resolver: ClassResolver, *, name: str = "upload.zip", limits: Limits = LIMITS) -> LabelledSet:
    """A labelled set from zip bytes: ImageFolder layout (`class/image.png`) or a `labels.csv` manifest.

    Raises InputError when the bytes are not a zip, it is empty or too large, or nothing in it can be
    evaluated (EmptyDatasetError, with the reasons).
    """
    with open_zip_bytes(data, name) as archive:
        listing = zip_entries(archive, name, limits)
        stored = listing.stored

        def read_manifest(member: str) -> bytes:
            info = archive.getinfo(stored.get(member, member))
            if info.file_size > limits.max_manifest_bytes:
                size, limit = human_size(info.file_size), human_size(limits.max_manifest_bytes)
                raise InputError(f"{name}: {member} is {size}, over the {limit} limit")
            try:
                return archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise InputError(f"{name}: {member} is {damaged_reason(exc)}") from None

        kept, skipped = plan_members(listing.entries, resolver, read=read_manifest, source=name, limits=limits)
    digest = hashlib.sha256(data).hexdigest()
    reader = ZipReader(data, max_bytes=limits.max_member_bytes, names=stored)
    notes = (listing.note,) if listing.note else ()
    return labelled_set(kept, skipped, source=name, reader=reader, digest=digest, notes=notes)


def open_folder(root: str | os.PathLike[str], resolver: ClassResolver, *, limits: Limits = LIMITS) -> LabelledSet:
    """A labelled set from a folder in ImageFolder layout (`root/class/image.png`) or with a `labels.csv`."""
    base = Path(root)
    entries = folder_entries(base, limits)

    def read_manifest(member: str) -> bytes:
        return FolderReader(base, max_bytes=limits.max_manifest_bytes).read(member)

    kept, skipped = plan_members(entries, resolver, read=read_manifest, source=str(base), limits=limits)
    return labelled_set(
        kept,
        skipped,
        source=str(base),
        reader=FolderReader(base, max_bytes=limits.max_member_bytes),
        digest=folder_stamp(entries),
    )


def open_path(path: str | os.PathLike[str], resolver: ClassResolver, *, limits: Limits = LIMITS) -> LabelledSet:
    """A folder or a `.zip` file on disk (the CLI's PATH)."""
    p = Path(path)
    if p.is_dir():
        return open_folder(p, resolver, limits=limits)
    return open_zip(zip_file_bytes(p, limits), resolver, name=str(p), limits=limits)


def digits_set(split: str = "test") -> LabelledSet:
    """scikit-learn's digits (the held-out split by default) as PNGs in memory: `digit/0000.png`."""
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
