"""Readers of a set's members by name: bytes in memory, files under a folder, members of a zip (never extracted)."""

from __future__ import annotations

import io
import os
import threading
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

from core.archive import human_size
from core.datasets.sets import LIMITS
from core.errors import InputError


class MemoryReader:
    """Members held as bytes in a dict (the built-in digits set, tests)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self._files = files

    def read(self, name: str) -> bytes:
        return self._files[name]


class FolderReader:
    """Files under a folder, read with a size cap."""

    def __init__(self, root: Path, *, max_bytes: int = LIMITS.max_member_bytes) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def read(self, name: str) -> bytes:
        with open(self.root / name, "rb") as handle:
            data = handle.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise InputError(f"{name}: larger than the {human_size(self.max_bytes)} limit per image")
        return data


class ZipReader:
    """Members of a zip held in memory, read without extracting anything to disk.

    Each process opens its own `ZipFile` on first use, so DataLoader workers never share a file handle.
    A lock guards the lazy open and each member read: one reader is shared by every session of the app
    (a cached resource), and two threads must neither open two archives nor read one stream at once.
    `names` maps a member's shown name (decoded as its author wrote it, `core.datasets.zipnames`) to the name
    zipfile lists; a member is found by either.
    """

    def __init__(
        self, data: bytes, *, max_bytes: int = LIMITS.max_member_bytes, names: Mapping[str, str] | None = None
    ) -> None:
        self.data = data
        self.max_bytes = max_bytes
        self.names = dict(names or {})
        self._zip: zipfile.ZipFile | None = None
        self._pid = -1
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:  # for spawned workers: never pickle an open ZipFile or a lock
        return {"data": self.data, "max_bytes": self.max_bytes, "names": self.names, "_zip": None, "_pid": -1}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _archive(self) -> zipfile.ZipFile:
        if self._zip is None or self._pid != os.getpid():
            self._zip = zipfile.ZipFile(io.BytesIO(self.data))
            self._pid = os.getpid()
        return self._zip

    def read(self, name: str) -> bytes:
        with self._lock:
            return self._read(name)

    def _read(self, name: str) -> bytes:
        info = self._archive().getinfo(self.names.get(name, name))
        if info.file_size > self.max_bytes:
            size, limit = human_size(info.file_size), human_size(self.max_bytes)
            raise InputError(f"{name}: {size} uncompressed, over the {limit} limit")
        try:
            with self._archive().open(info) as member:
                # zipfile stops at the declared size and checks the CRC, so a lying header cannot inflate this
                data = member.read(self.max_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise InputError(damaged_reason(exc)) from None
        if len(data) > self.max_bytes:
            raise InputError(f"{name}: larger than the {human_size(self.max_bytes)} limit per image")
        return data


def damaged_reason(exc: Exception) -> str:
    """The skip reason for a zip member that cannot be read: a bad CRC, a cut stream, an unknown method."""
    if isinstance(exc, NotImplementedError):
        return f"damaged: compressed with a method this reader does not support ({exc})"
    return f"damaged: the archive data of this member is corrupt ({exc or type(exc).__name__})"
