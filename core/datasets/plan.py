"""Planning: which members of an archive or folder to evaluate, with which class, and why each other one is skipped.

Every member that cannot be used (an unsafe path, a zip bomb, not an image, a class the model does not
know, ...) is listed with the reason; a `labels.csv` manifest, when there is one, names the files and their
classes, otherwise the first folder under the shared prefix names the class (ImageFolder).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from core.archive import Entry, bomb_reason, human_size, unsafe_path
from core.datasets.classes import ClassResolver
from core.datasets.sets import EmptyDatasetError, LabelledSet, Limits, Reader, Skipped
from core.errors import InputError
from core.images import IMAGE_EXTENSIONS
from core.safe_io import read_csv_rows

MANIFEST_NAME = "labels.csv"
_ARCHIVE_EXTENSIONS = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
_SYSTEM_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_SYSTEM_FOLDERS = {"__macosx", ".git", ".svn"}


def _is_system(name: str) -> bool:
    parts = name.split("/")
    return any(p.casefold() in _SYSTEM_FOLDERS for p in parts[:-1]) or (
        parts[-1].casefold() in _SYSTEM_NAMES or parts[-1].startswith(".")
    )


def _screen(entry: Entry, limits: Limits) -> str | None:
    """Why a member cannot be an image to evaluate, or None when it may be one."""
    name = entry.name
    suffix = posixpath.splitext(name)[1].lower()
    if entry.link:
        return "a symbolic link: not followed"
    if entry.encrypted:
        return "encrypted: cannot be read"
    if suffix in _ARCHIVE_EXTENSIONS:
        return "a nested archive: not opened"
    if suffix not in IMAGE_EXTENSIONS:
        return f"not an image file ({suffix or 'no extension'})"
    if entry.size > limits.max_member_bytes:
        return f"{human_size(entry.size)} uncompressed, over the {human_size(limits.max_member_bytes)} limit per image"
    return bomb_reason(entry, max_ratio=limits.max_ratio, ratio_floor_bytes=limits.ratio_floor_bytes)


def _common_prefix(paths: Sequence[str], resolver: ClassResolver) -> str:
    """Leading folders every image shares that are not themselves a class (a zip of "mydata/")."""
    prefix = ""
    rest = list(paths)
    while rest and all(p.count("/") >= 2 for p in rest):
        head = {p.split("/", 1)[0] for p in rest}
        if len(head) != 1:
            break
        top = head.pop()
        if resolver.resolve(top) is not None:
            break
        prefix += top + "/"
        rest = [p.split("/", 1)[1] for p in rest]
    return prefix


def _manifest_rows(data: bytes, name: str) -> list[tuple[int, str, str]]:
    """(line, filename, label) from a labels.csv; a first row like "filename,label" is a header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    rows = []
    for line, row in enumerate(read_csv_rows(text, name=name), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and len(cells) >= 2 and cells[0].casefold() in {"filename", "file", "path", "image"}:
            continue
        rows.append((line, cells[0], cells[1] if len(cells) > 1 else ""))
    return rows


def _plan_manifest(
    manifest: str,
    candidates: dict[str, Entry],
    resolver: ClassResolver,
    *,
    data: bytes,
    source: str,
    already: set[str],
) -> tuple[list[tuple[str, int]], list[Skipped]]:
    """The files a labels.csv names, with their classes; what it names wrongly and what it leaves out."""
    chosen: list[tuple[str, int]] = []
    skipped: list[Skipped] = []
    folder = posixpath.dirname(manifest)
    listed: set[str] = set()
    for line, filename, label in _manifest_rows(data, f"{source}/{manifest}"):
        where = f"{MANIFEST_NAME} line {line}"
        relative = filename.replace("\\", "/")
        path = posixpath.normpath(posixpath.join(folder, relative))
        if not filename or unsafe_path(relative) or unsafe_path(path):
            skipped.append(Skipped(filename or where, f"unsafe or empty file name in {where}: never read"))
        elif path in listed:
            skipped.append(Skipped(path, f"listed twice in {MANIFEST_NAME} (line {line})"))
        elif path not in candidates:
            if path not in already:  # a member skipped before keeps its own reason
                skipped.append(Skipped(path, f"named in {where} but not found"))
        elif (index := resolver.resolve(label)) is None:
            listed.add(path)
            skipped.append(Skipped(candidates[path].name, f"{where}: {resolver.why_not(label)}"))
        else:
            listed.add(path)
            chosen.append((path, index))
    skipped += [Skipped(e.name, f"not listed in {MANIFEST_NAME}") for p, e in candidates.items() if p not in listed]
    return chosen, skipped


def _plan_folders(candidates: dict[str, Entry], resolver: ClassResolver) -> tuple[list[tuple[str, int]], list[Skipped]]:
    """ImageFolder layout: the first folder under the shared prefix names the class."""
    chosen: list[tuple[str, int]] = []
    skipped: list[Skipped] = []
    prefix = _common_prefix(list(candidates), resolver)
    for path, entry in candidates.items():
        relative = path[len(prefix) :]
        if "/" not in relative:
            skipped.append(Skipped(entry.name, "not inside a class folder"))
            continue
        folder = relative.split("/", 1)[0]
        index = resolver.resolve(folder)
        if index is None:
            skipped.append(Skipped(entry.name, f"class folder {resolver.why_not(folder)}"))
        else:
            chosen.append((path, index))
    return chosen, skipped


def plan_members(
    entries: Sequence[Entry],
    resolver: ClassResolver,
    *,
    read: Callable[[str], bytes],
    source: str,
    limits: Limits,
) -> tuple[list[tuple[str, int]], list[Skipped]]:
    """Decide, member by member, what to evaluate (member name, class) and what to skip (name, reason)."""
    skipped: list[Skipped] = []
    candidates: dict[str, Entry] = {}  # by "/"-separated path
    manifests: list[Entry] = []
    for entry in entries:
        if unsafe_path(entry.path):
            skipped.append(Skipped(entry.name, "unsafe path (absolute, or with '..'): never read"))
        elif _is_system(entry.path):
            skipped.append(Skipped(entry.name, "system or hidden file"))
        elif posixpath.basename(entry.path).casefold() == MANIFEST_NAME:
            manifests.append(entry)
        elif (reason := _screen(entry, limits)) is not None:
            skipped.append(Skipped(entry.name, reason))
        else:
            candidates[entry.path] = entry

    if manifests:
        manifest = min(manifests, key=lambda m: (m.path.count("/"), m.path))
        skipped += [
            Skipped(m.name, f"another {MANIFEST_NAME} is used: {manifest.name}") for m in manifests if m is not manifest
        ]
        chosen, more = _plan_manifest(
            manifest.path,
            candidates,
            resolver,
            data=read(manifest.name),
            source=source,
            already={s.name for s in skipped},
        )
    else:
        chosen, more = _plan_folders(candidates, resolver)
    skipped += more

    chosen.sort()
    kept: list[tuple[str, int]] = []
    total = 0
    for path, index in chosen:
        entry = candidates[path]
        total += entry.size
        if total > limits.max_total_bytes:
            limit = human_size(limits.max_total_bytes)
            skipped.append(Skipped(entry.name, f"over the {limit} total uncompressed limit"))
        else:
            kept.append((entry.name, index))
    return kept, skipped


def labelled_set(
    kept: list[tuple[str, int]], skipped: list[Skipped], *, source: str, reader: Reader, digest: str
) -> LabelledSet:
    if not kept:
        examples = "; ".join(f"{s.name}: {s.reason}" for s in skipped[:3])
        detail = f" {len(skipped)} skipped, e.g. {examples}" if skipped else ""
        raise EmptyDatasetError(f"{source}: no labelled images to evaluate.{detail}", skipped)
    return LabelledSet(
        source=source,
        files=tuple(p for p, _ in kept),
        targets=tuple(i for _, i in kept),
        skipped=tuple(skipped),
        reader=reader,
        digest=digest,
    )
