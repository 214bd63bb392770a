"""Files already on the server, opened by path: only under the folders the operator lists.

`LOGITSCOPE_DATA_ROOTS` holds those folders, separated by the system's path separator (":" on Linux), e.g.
`LOGITSCOPE_DATA_ROOTS=/data/imagenet:/data/results`. Unset or empty (the default), nothing on the server can be
opened by path. A path is resolved first (symbolic links followed, ".." folded), then it must lie inside one of the
resolved roots: a link or a ".." that leads outside is refused like any other path outside.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from core.errors import InputError

ROOTS_VARIABLE = "LOGITSCOPE_DATA_ROOTS"


def data_roots(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The folders the operator allows, resolved; () when opening by path is off."""
    value = (os.environ if environ is None else environ).get(ROOTS_VARIABLE, "")
    roots = []
    for part in value.split(os.pathsep):
        if part.strip():
            folder = Path(part.strip()).expanduser().resolve()
            if folder.is_dir():
                roots.append(folder)
    return tuple(roots)


def resolve_under_roots(path: str, roots: tuple[Path, ...]) -> Path:
    """`path` resolved, when it exists inside one of `roots`; a relative path is taken from the first root.

    Raises InputError (one line, safe to show) when opening by path is off, the path is outside every root (also
    through a symbolic link or ".."), or nothing is there.
    """
    if not roots:
        raise InputError(f"opening files on the server is off: the operator can list folders in {ROOTS_VARIABLE}")
    text = path.strip()
    if not text or "\0" in text:
        raise InputError("give the path of a file or folder on the server")
    given = Path(text).expanduser()
    candidate = given if given.is_absolute() else roots[0] / given
    resolved = candidate.resolve()  # follows every link, folds "..": where the path really leads
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise InputError(f"{text}: outside the folders this server allows ({allowed})")
    if not resolved.exists():
        raise InputError(f"{text}: no such file or folder")
    return resolved
