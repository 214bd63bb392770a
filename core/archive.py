"""The rules every archive member is read by: no zip slip, no zip bomb, sizes said the same way.

Labelled sets (`core.datasets.plan`) and models in a zip (`core.models.files`) both list an archive's members as
`Entry`s and screen them here, so a member with a ".." step or an absolute path is never followed, and one that
inflates far beyond its compressed size is never inflated, whatever the archive is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """A member as listed: its name in the archive, and the same with "/" separators (some Windows tools
    write "class\\image.png")."""

    name: str
    size: int
    compressed: int
    encrypted: bool = False
    link: bool = False

    @property
    def path(self) -> str:
        return self.name.replace("\\", "/")


def unsafe_path(path: str) -> bool:
    """Absolute paths, drive letters, NUL bytes and any ".." step: never followed, never read."""
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "\x00" in path:
        return True
    return ".." in path.split("/")


def bomb_reason(entry: Entry, *, max_ratio: float, ratio_floor_bytes: int) -> str | None:
    """Why `entry` looks like a zip bomb (it inflates more than `max_ratio` times, and to more than
    `ratio_floor_bytes`: tiny files compress oddly), or None."""
    if entry.size > ratio_floor_bytes and entry.size > max_ratio * max(entry.compressed, 1):
        ratio = entry.size / max(entry.compressed, 1)
        return (
            f"compressed {ratio:,.0f}:1 ({human_size(entry.compressed)} → {human_size(entry.size)}), over the "
            f"{max_ratio:g}:1 limit: looks like a zip bomb"
        )
    return None


def human_size(n: float) -> str:
    """A byte count for a message: "512 bytes", "1.5 MB"."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
