"""A labelled set in a folder behind a pyarrow filesystem URI (`s3://bucket/val`, `gs://...`, `file:///...`).

Files are listed with pyarrow, planned by `core.datasets.plan` like a local folder, and read by `ArrowReader`,
which pickles, so Ray tasks on other machines read the files themselves.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlparse

from core.archive import Entry, human_size
from core.datasets.classes import ClassResolver
from core.datasets.plan import labelled_set, plan_members
from core.datasets.sets import LIMITS, LabelledSet, Limits
from core.errors import InputError, first_line


class ArrowReader:
    """Files under a folder of a pyarrow filesystem (S3, GCS, HDFS, local), read with a size cap.

    Picklable (pyarrow filesystems are), so Ray tasks on other machines read the files themselves.
    """

    def __init__(self, filesystem: Any, root: str, *, max_bytes: int = LIMITS.max_member_bytes) -> None:
        self.filesystem = filesystem
        self.root = root.rstrip("/")
        self.max_bytes = max_bytes

    def read(self, name: str) -> bytes:
        with self.filesystem.open_input_stream(f"{self.root}/{name}") as stream:
            data = stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise InputError(f"{name}: larger than the {human_size(self.max_bytes)} limit per image")
        return bytes(data)


def is_uri(source: str) -> bool:
    """Whether `source` names a filesystem URI (s3://, gs://, file://, ...) rather than a local path."""
    scheme = urlparse(source).scheme
    return len(scheme) > 1 and "://" in source  # "C:\\data" has a one-letter scheme


def _walk_order(path: str) -> tuple[tuple[int, str], ...]:
    """Sort key for `os.walk(topdown=True)` with sorted names: a folder's files before its sub-folders."""
    parts = path.split("/")
    return (*((1, p) for p in parts[:-1]), (0, parts[-1]))


def open_uri(uri: str, resolver: ClassResolver, *, limits: Limits = LIMITS) -> LabelledSet:
    """A labelled set from a folder URI that pyarrow reads (`s3://bucket/val`, `gs://...`, `file:///...`).

    The listing goes through `core.datasets`' planner, so layouts, limits and skip reasons are those of
    `open_folder`. Credentials come from the environment, as for pyarrow (e.g. AWS_* for S3).
    """
    import pyarrow
    import pyarrow.fs as pafs

    try:
        filesystem, root = pafs.FileSystem.from_uri(uri)
        infos = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        raise InputError(f"{uri}: cannot list the folder ({first_line(exc)})") from None
    base = root.rstrip("/")
    files = sorted((i for i in infos if i.type == pafs.FileType.File), key=lambda i: _walk_order(i.path))
    if len(files) > limits.max_members:
        raise InputError(f"{uri}: more than {limits.max_members:,} files, over the limit")
    entries = [Entry(i.path[len(base) + 1 :], int(i.size or 0), int(i.size or 0)) for i in files]
    if not entries:
        raise InputError(f"{uri}: no files in the folder")

    def read_manifest(member: str) -> bytes:
        return ArrowReader(filesystem, base, max_bytes=limits.max_manifest_bytes).read(member)

    kept, skipped = plan_members(entries, resolver, read=read_manifest, source=uri, limits=limits)
    stamp = hashlib.sha256()
    for entry in entries:
        stamp.update(f"{entry.name}\0{entry.size}\0".encode())
    reader = ArrowReader(filesystem, base, max_bytes=limits.max_member_bytes)
    return labelled_set(kept, skipped, source=uri, reader=reader, digest=stamp.hexdigest())
