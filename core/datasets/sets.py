"""What a labelled set is: its members, their classes, what was skipped and why, and the limits it keeps to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from core.errors import InputError


@dataclass(frozen=True)
class Limits:
    """What an archive or folder may hold.

    Attributes:
        max_members: most entries an archive may list (refused as a whole above this).
        max_member_bytes: largest uncompressed size of one image.
        max_total_bytes: most uncompressed bytes read over the whole set; members past it are skipped.
        max_ratio: highest uncompressed/compressed ratio of one member (images barely compress).
        ratio_floor_bytes: the ratio is only checked on members larger than this (tiny files compress oddly).
        max_manifest_bytes: largest labels.csv.
    """

    max_members: int = 100_000
    max_member_bytes: int = 50 * 2**20
    max_total_bytes: int = 2 * 2**30
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 2**20
    max_manifest_bytes: int = 16 * 2**20


LIMITS = Limits()


@dataclass(frozen=True)
class Skipped:
    """A member that was not evaluated, and why (a sentence for the user)."""

    name: str
    reason: str


class Reader(Protocol):
    """Reads one member of a set by its name."""

    def read(self, name: str) -> bytes: ...


@dataclass(frozen=True)
class LabelledSet:
    """Images with their true class, ready to evaluate.

    Attributes:
        source: what the set is, for messages ("upload.zip", a folder path, "digits (test)").
        files: member names, sorted; `reader.read(name)` gives the bytes.
        targets: the true class index of each file.
        skipped: members that will not be evaluated, with the reason.
        reader: reads a member's bytes.
        digest: identifies the content (same bytes, same digest): a cache key.
        notes: sentences about the whole set: how a zip's file names were decoded, how many OS metadata
            files were left out.
    """

    source: str
    files: tuple[str, ...]
    targets: tuple[int, ...]
    skipped: tuple[Skipped, ...]
    reader: Reader = field(repr=False, compare=False)
    digest: str = ""
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.files)


class EmptyDatasetError(InputError):
    """No member of an archive or folder can be evaluated; `skipped` says why for each one."""

    def __init__(self, message: str, skipped: Sequence[Skipped] = ()) -> None:
        super().__init__(message)
        self.skipped = tuple(skipped)
