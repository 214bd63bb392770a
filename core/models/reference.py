"""One way to name a model everywhere: a registry name, or a PATH to the model's own files.

A PATH is a folder (transformers: config.json with `model_type`, preprocessor_config.json, the weights; timm's hub
format: config.json with `architecture`), a .zip of such a folder, an .onnx file, or a weights file (.safetensors,
.pt, .pth, .bin) with an architecture (`arch`: a torchvision name, efficientnet_lite0, or timm:NAME).
`resolve_model` turns either into a `ModelSpec`; the CLI's `--model`, `--arch` and `--normalize` go straight here,
and a spec made from a path carries `rebuild` (this call again), so a Ray actor reads the files itself.
`model_from_upload` does the same for uploaded bytes (the sidebar), `describe_model` says what was found, and
`allowed_local_path` keeps the UI's local paths under the folders the server's operator lists.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import tempfile
from pathlib import Path

from torch import nn

from core.archive import human_size
from core.errors import CheckpointError, InputError
from core.models.checkpoint import CHECKPOINT_SUFFIXES, checkpoint_spec
from core.models.files import CONFIG_NAME, MODEL_LIMITS, read_config, unpack_zip
from core.models.huggingface import is_transformers_config, transformers_folder_spec
from core.models.onnx_file import onnx_spec
from core.models.registry import get_spec, list_models
from core.models.spec import ModelSpec
from core.models.timm_hub import is_timm_config, timm_folder_spec

MODEL_ROOTS_ENV = "LOGITSCOPE_MODEL_ROOTS"  # folders (os.pathsep-separated) whose models the UI may open by path
ARCH_HELP = (
    "the architecture of a bare weights file (.safetensors/.pt/.pth/.bin): a torchvision name (resnet18), "
    "efficientnet_lite0, or timm:NAME (timm:resnet18)"
)
MODEL_HELP = (
    "a registry name (see `models`), or a PATH: a transformers or timm folder, a .zip of one, an .onnx file, or a "
    "weights file with --arch"
)
_PATH_SUFFIXES = (".zip", ".onnx", *CHECKPOINT_SUFFIXES)


def looks_like_path(text: str) -> bool:
    """Whether `text` names files rather than a registry model (a separator, a leading dot or ~, a model suffix)."""
    return "/" in text or os.sep in text or text.startswith((".", "~")) or text.lower().endswith(_PATH_SUFFIXES)


def resolve_model(text: str, *, arch: str | None = None, normalize: str | None = None) -> ModelSpec:
    """The spec of a registry name or of a model's files at the path `text`.

    Args:
        text: "efficientnet_lite0", "resnet50", "./tiny-vit", "model.zip", "model.onnx", "weights.safetensors".
        arch: the architecture of a bare weights file (required there, refused elsewhere).
        normalize: an ONNX file's normalisation preset (`core.models.onnx_file.parse_normalize`), refused elsewhere.

    Raises InputError (CheckpointError, LabelError) with one line for a name or files that cannot be used.
    """
    path = Path(text).expanduser()
    if not path.exists():
        if looks_like_path(text) or arch is not None or normalize is not None:
            raise CheckpointError(f"{text}: no such file or folder")
        return get_spec(text)  # an unknown name says so, with close matches
    if text in list_models() and not looks_like_path(text):
        return get_spec(text)  # a registry name wins over a stray file of the same name here
    resolved = path.resolve()
    return _path_spec(str(resolved), arch, normalize, path_stamp(resolved))


def path_stamp(path: Path) -> str:
    """What changes when a model's files change: a file's size and time, or those of each file in a folder."""
    info = path.stat()
    inside = _folder_stamp(path) if path.is_dir() else ""
    return f"{info.st_size}:{info.st_mtime_ns}:{inside}"


@functools.lru_cache(maxsize=8)
def _path_spec(path: str, arch: str | None, normalize: str | None, stamp: str) -> ModelSpec:
    """Cached per path, options and `path_stamp`: a Ray worker unpickling specs reads the files once, and files
    changed in place are read again."""
    spec = _from_files(Path(path), arch=arch, normalize=normalize, stamp=stamp)
    return dataclasses.replace(spec, rebuild=functools.partial(resolve_model, path, arch=arch, normalize=normalize))


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _from_files(path: Path, *, arch: str | None, normalize: str | None, stamp: str) -> ModelSpec:
    suffix = path.suffix.lower()
    where = (("path", str(path)),)
    if path.is_dir():
        _refuse_options(path.name, arch=arch, normalize=normalize, onnx=_single_onnx(path) is not None)
        digest = _digest(path, stamp)
        return _folder_spec(path, stem=path.name, digest=digest, normalize=normalize, details=where)
    if suffix == ".zip":
        _refuse_options(path.name, arch=arch, normalize=None)
        unpacked = unpack_zip(path, path.name)
        return _unpacked(unpacked, stem=path.stem, digest=_digest(path, stamp), normalize=normalize, details=where)
    data = _read(path)
    return _file_spec(data, path.name, arch=arch, normalize=normalize, details=where)


def model_from_upload(name: str, data: bytes, *, arch: str | None = None, normalize: str | None = None) -> ModelSpec:
    """The spec of an uploaded model file: a .zip of a folder, an .onnx file, or a weights file with `arch`.

    Its `rebuild` is this call (the bytes travel with a pickled spec: a Ray actor unpacks them itself).
    """
    return _upload_spec(name, data, arch, normalize)


@functools.lru_cache(maxsize=2)
def _upload_spec(name: str, data: bytes, arch: str | None, normalize: str | None) -> ModelSpec:
    """Cached per upload: a Ray worker unpickling the same spec for every batch reads the bytes once."""
    details = (("upload", name),)
    if name.lower().endswith(".zip"):
        unpacked = unpack_zip(data, name)
        digest = hashlib.sha256(data).hexdigest()
        spec = _unpacked(unpacked, stem=Path(name).stem, digest=digest, normalize=normalize, details=details)
    else:
        spec = _file_spec(data, name, arch=arch, normalize=normalize, details=details)
    rebuild = functools.partial(model_from_upload, name, data, arch=arch, normalize=normalize)
    return dataclasses.replace(spec, rebuild=rebuild)


def _unpacked(
    unpacked: tempfile.TemporaryDirectory[str],
    *,
    stem: str,
    digest: str,
    normalize: str | None,
    details: tuple[tuple[str, str], ...],
) -> ModelSpec:
    """The spec of an unpacked zip's folder; the folder lives as long as the spec's builder (it holds it)."""
    folder = Path(unpacked.name)
    onnx = _single_onnx(folder)
    if onnx is not None and not (folder / CONFIG_NAME).is_file():
        return _file_spec(_read(onnx), onnx.name, arch=None, normalize=normalize, details=details)
    _refuse_options(stem, arch=None, normalize=normalize)
    spec = _folder_spec(folder, stem=stem, digest=digest, details=details)
    build = spec.builder

    def builder() -> nn.Module:
        _ = unpacked  # keeps the unpacked files until the spec (and this builder) is dropped
        return build()

    return dataclasses.replace(spec, builder=builder)


def _folder_spec(
    folder: Path, *, stem: str, digest: str, details: tuple[tuple[str, str], ...], normalize: str | None = None
) -> ModelSpec:
    """A folder's spec: timm's or transformers' by its config.json, or its single .onnx file (with `normalize`)."""
    config_path = folder / CONFIG_NAME
    if not config_path.is_file():
        onnx = _single_onnx(folder)
        if onnx is not None:
            return _file_spec(_read(onnx), onnx.name, arch=None, normalize=normalize, details=details)
        raise CheckpointError(
            f"{stem}: not a model folder: no {CONFIG_NAME} (transformers or timm) and no single .onnx file"
        )
    config = read_config(config_path)  # sizes, auto_map: refused before any library sees the config
    if is_timm_config(config):
        found = (*details, ("format", "timm hub folder"))
        return timm_folder_spec(folder, config, name=f"timm:{stem}:{digest[:12]}", label=stem, details=found)
    if is_transformers_config(config):
        found = (*details, ("format", "transformers folder"))
        name = f"transformers:{stem}:{digest[:12]}"
        return transformers_folder_spec(folder, name=name, label=stem, details=found)
    raise CheckpointError(
        f"{stem}/{CONFIG_NAME}: neither transformers' (model_type) nor timm's (architecture): unknown architecture"
    )


def _file_spec(
    data: bytes, filename: str, *, arch: str | None, normalize: str | None, details: tuple[tuple[str, str], ...]
) -> ModelSpec:
    suffix = Path(filename).suffix.lower()
    if suffix == ".onnx":
        _refuse_options(filename, arch=arch, normalize=None)
        digest = hashlib.sha256(data).hexdigest()
        stem = Path(filename).stem
        return onnx_spec(data, name=f"onnx:{stem}:{digest[:12]}", title=filename, normalize=normalize, details=details)
    if suffix in CHECKPOINT_SUFFIXES:
        _refuse_options(filename, arch=None, normalize=normalize)
        if not arch:
            raise InputError(f"{filename}: a bare weights file needs its architecture: --arch NAME ({ARCH_HELP})")
        return checkpoint_spec(arch, data, filename, details=details)
    raise CheckpointError(
        f"{filename}: not a model file this tool reads (a folder, .zip, .onnx, {', '.join(CHECKPOINT_SUFFIXES)})"
    )


def _refuse_options(what: str, *, arch: str | None, normalize: str | None, onnx: bool = False) -> None:
    if arch:
        raise InputError(f"{what}: --arch is only for a bare weights file; this model names its own architecture")
    if normalize and not onnx:
        raise InputError(f"{what}: --normalize is only for an ONNX file; this model carries its own preprocessing")


def _single_onnx(folder: Path) -> Path | None:
    found = sorted(folder.glob("*.onnx"))
    return found[0] if len(found) == 1 else None


def _folder_stamp(folder: Path) -> str:
    parts = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(folder.iterdir()) if p.is_file()]
    return _digest(*parts)


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MODEL_LIMITS.max_onnx_bytes:
        raise CheckpointError(
            f"{path.name}: {human_size(size)}, over the {human_size(MODEL_LIMITS.max_onnx_bytes)} limit"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None


# ---------------------------------------------------------------- what was found
def describe_model(spec: ModelSpec) -> dict[str, object]:
    """What a model is, as `models --describe` prints it: kind, architecture, classes, input size, normalisation,
    the labels' source, the preprocessing, what was found in the files and the notes."""
    details = dict(spec.details)
    notes = [value for key, value in spec.details if key == "note"]
    details.pop("note", None)
    labels_source = spec.labels_source or (
        f"the shipped {spec.label_set} label set"
        if spec.label_set
        else "the source's categories"
        if spec.categories
        else "class index numbers"
    )
    return {
        "model": spec.name,
        "kind": spec.source,
        "title": spec.title,
        "architecture": spec.architecture,
        "runtime": spec.runtime,
        "classes": spec.num_classes,
        "input_size": spec.preprocessing.crop,
        "normalisation": spec.preprocessing.normalisation_text(),
        "preprocessing": spec.preprocessing.describe(),
        "labels_source": labels_source,
        "details": details,
        "notes": notes,
    }


def allowed_local_path(text: str, *, roots: str | None = None) -> Path:
    """`text` as a path the UI may open: under one of the folders in $LOGITSCOPE_MODEL_ROOTS (`roots` overrides it).

    Raises InputError when local paths are off (no roots listed: the default on a shared server) or the path,
    symbolic links resolved, lies outside every root.
    """
    listed = os.environ.get(MODEL_ROOTS_ENV, "") if roots is None else roots
    allowed = [Path(r).expanduser().resolve() for r in listed.split(os.pathsep) if r.strip()]
    if not allowed:
        raise InputError(f"local model paths are off on this server (its operator lists folders in {MODEL_ROOTS_ENV})")
    path = Path(text.strip()).expanduser().resolve()
    if not any(path == root or path.is_relative_to(root) for root in allowed):
        raise InputError(f"{text}: outside the folders this server allows ({', '.join(map(str, allowed))})")
    return path
