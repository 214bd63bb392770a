"""Planning: which members of an archive or folder to evaluate, with which class, and why each other one is skipped.

Every member that cannot be used (an unsafe path, a zip bomb, not an image, a class the model does not
know, ...) is listed with the reason; a `labels.csv` manifest, when there is one, names the files and their
classes, otherwise the first folder under the shared prefix names the class (ImageFolder). The metadata that
macOS and Windows add (`__MACOSX/`, `._*`, `.DS_Store`, `Thumbs.db`, ...) is not listed file by file: the set
counts it in one note. A manifest is read as the Logits Lab reads a CSV: UTF-8 or UTF-16 with BOM, its
separator ("," ";" or tab, as Excel writes it per locale) detected from the first line.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from core.archive import Entry, bomb_reason, human_size, unsafe_path
from core.datasets.sets import EmptyDatasetError, LabelledSet, Limits, Reader, Skipped
from core.errors import InputError
from core.image_formats import IMAGE_EXTENSIONS, unsupported_reason
from core.safe_io import SafeInputError, decode_text, read_csv_rows

if TYPE_CHECKING:  # a resolver is only used here, never built: planning loads no model code
    from core.datasets.classes import ClassResolver

MANIFEST_NAME = "labels.csv"
# the reason of an OS metadata file; `labelled_set` counts these in one note instead of one row each
SYSTEM_FILE = "system file (macOS/Windows metadata)"
_ARCHIVE_EXTENSIONS = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
_SYSTEM_NAMES = {".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r", ".localized"}
_SYSTEM_FOLDERS = {
    "__macosx",
    ".spotlight-v100",
    ".trashes",
    ".fseventsd",
    ".temporaryitems",
    "$recycle.bin",
    "system volume information",
}


def _is_system(name: str) -> bool:
    """Metadata macOS or Windows adds: AppleDouble "._x" files, __MACOSX/, .DS_Store, Thumbs.db, ..."""
    parts = name.split("/")
    if any(p.casefold() in _SYSTEM_FOLDERS for p in parts[:-1]):
        return True
    return parts[-1].casefold() in _SYSTEM_NAMES or parts[-1].startswith("._")


def _is_hidden(name: str) -> bool:
    """A dot file or a file in a dot folder (.git/, .cache/): left out, each with its own row."""
    return any(p.startswith(".") for p in name.split("/"))


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
    if (unsupported := unsupported_reason(name)) is not None:
        return unsupported
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
        text = decode_text(data, name=name)
    except SafeInputError as exc:
        raise InputError(str(exc)) from None
    rows = []
    for line, row in enumerate(read_csv_rows(text, name=name, delimiter=None), start=1):
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
    candidates, manifests, skipped = _sort_out(entries, limits)
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
    return _within_total(chosen, candidates, skipped, limits), skipped


def plan_unlabelled(entries: Sequence[Entry], *, limits: Limits) -> tuple[list[str], list[Skipped]]:
    """An unlabelled set (the "outside" images of an out-of-distribution check): every image file at any folder
    depth, no class folders and no manifest needed; what is skipped and why, as for a labelled set."""
    candidates, manifests, skipped = _sort_out(entries, limits)
    skipped += [Skipped(m.name, f"a {MANIFEST_NAME}: an unlabelled set needs none") for m in manifests]
    kept = _within_total([(path, 0) for path in candidates], candidates, skipped, limits)
    return [name for name, _ in kept], skipped


def _sort_out(entries: Sequence[Entry], limits: Limits) -> tuple[dict[str, Entry], list[Entry], list[Skipped]]:
    """The members that may be images (by "/"-separated path), the labels.csv manifests, and the rest with why."""
    skipped: list[Skipped] = []
    candidates: dict[str, Entry] = {}
    manifests: list[Entry] = []
    for entry in entries:
        if unsafe_path(entry.path):
            skipped.append(Skipped(entry.name, "unsafe path (absolute, or with '..'): never read"))
        elif _is_system(entry.path):
            skipped.append(Skipped(entry.name, SYSTEM_FILE))
        elif _is_hidden(entry.path):
            skipped.append(Skipped(entry.name, "hidden file or folder"))
        elif posixpath.basename(entry.path).casefold() == MANIFEST_NAME:
            manifests.append(entry)
        elif (reason := _screen(entry, limits)) is not None:
            skipped.append(Skipped(entry.name, reason))
        else:
            candidates[entry.path] = entry
    return candidates, manifests, skipped


def _within_total(
    chosen: list[tuple[str, int]], candidates: dict[str, Entry], skipped: list[Skipped], limits: Limits
) -> list[tuple[str, int]]:
    """(member name, class) in path order until the total uncompressed size is reached; the rest go to `skipped`."""
    kept: list[tuple[str, int]] = []
    total = 0
    for path, index in sorted(chosen):
        entry = candidates[path]
        total += entry.size
        if total > limits.max_total_bytes:
            limit = human_size(limits.max_total_bytes)
            skipped.append(Skipped(entry.name, f"over the {limit} total uncompressed limit"))
        else:
            kept.append((entry.name, index))
    return kept


def system_note(count: int) -> str:
    """The one line that stands for every OS metadata file of a set."""
    return f"{count} system file{'s' if count != 1 else ''} (macOS/Windows metadata) left out"


def labelled_set(
    kept: list[tuple[str, int]],
    skipped: list[Skipped],
    *,
    source: str,
    reader: Reader,
    digest: str,
    notes: Sequence[str] = (),
) -> LabelledSet:
    """The set `plan_members` decided on; its OS metadata files become one note (after `notes`), not rows."""
    system = sum(s.reason == SYSTEM_FILE for s in skipped)
    skipped = [s for s in skipped if s.reason != SYSTEM_FILE]
    all_notes = (*notes, system_note(system)) if system else tuple(notes)
    if not kept:
        examples = "; ".join(f"{s.name}: {s.reason}" for s in skipped[:3])
        detail = f" {len(skipped)} skipped, e.g. {examples}." if skipped else ""
        also = "".join(f" {note}." for note in all_notes)
        raise EmptyDatasetError(f"{source}: no labelled images to evaluate.{detail}{also}", skipped)
    return LabelledSet(
        source=source,
        files=tuple(p for p, _ in kept),
        targets=tuple(i for _, i in kept),
        skipped=tuple(skipped),
        reader=reader,
        digest=digest,
        notes=all_notes,
    )
