"""A user's model files, read with every cost bounded before it is paid.

- `read_config`: a config.json (size, nesting and numbers bounded), refused when it names code of its own
  (`auto_map`: logitscope never sets `trust_remote_code`), and checked against `ModelLimits` (class count, input
  size, widths, depth) before any library builds anything from it: a config claiming 10^9 labels or a 100,000-pixel
  input is refused here, in milliseconds, not after allocating.
- `unpack_zip`: a zip of a model folder, its members screened by `core.archive`'s rules (the labelled sets' own):
  unsafe paths and links never written, a member that inflates like a bomb refuses the zip, sizes capped.
- `folder_stamp`: what names a folder's files (their names, sizes and times), cheap enough for every call.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import math
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor, nn

from core.archive import Entry, bomb_reason, human_size, unsafe_path
from core.errors import CheckpointError, first_line
from core.models.spec import Availability, ModelSpec
from core.preprocess import Preprocessing
from core.safe_io import SafeInputError, load_json

CONFIG_NAME = "config.json"
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelLimits:
    """What a user's model may claim, checked on its files before anything is built.

    Attributes:
        max_classes: most classes (id2label entries, num_labels, num_classes, label_names).
        max_input_side: largest input height or width in pixels.
        max_width: largest hidden size, channel count, embedding or feature width.
        max_depth: most layers, blocks or heads a config may ask for.
        max_config_bytes: largest config.json / preprocessor_config.json.
        max_zip_members: most entries a model zip may list.
        max_zip_bytes: most uncompressed bytes a model zip may unpack to.
        max_ratio: highest uncompressed/compressed ratio of one member (weights barely compress).
        ratio_floor_bytes: the ratio is only checked on members larger than this.
        max_onnx_bytes: largest ONNX file read.
    """

    max_classes: int = 1_000_000
    max_input_side: int = 4096
    max_width: int = 65_536
    max_depth: int = 1_024
    max_config_bytes: int = 4 * 2**20
    max_zip_members: int = 10_000
    max_zip_bytes: int = 16 * 2**30
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 2**20
    max_onnx_bytes: int = 4 * 2**30


MODEL_LIMITS = ModelLimits()

# config keys by what they size (nested configs, timm's model_args and pretrained_cfg included)
_CLASS_KEYS = frozenset({"num_labels", "num_classes"})
_LABEL_LISTS = frozenset({"id2label", "label2id", "label_names"})
_SIDE_KEYS = frozenset(
    {"image_size", "img_size", "input_size", "test_input_size", "crop_size", "size", "shortest_edge"}
)
_DEPTH_KEYS = frozenset({"num_hidden_layers", "depths", "depth", "num_layers", "num_attention_heads", "num_heads"})
_WIDTH_SUFFIXES = ("_size", "_sizes", "_dim", "_dims", "_features", "_channels", "_chans", "_width", "_widths")
_SKIP_KEYS = frozenset({"vocab_size", "batch_size"})


def read_config(path: Path, *, limits: ModelLimits = MODEL_LIMITS) -> dict[str, object]:
    """A model's JSON config, refused when it is too large, malformed, names code of its own, or claims sizes
    over `limits` (CheckpointError, one line naming the file)."""
    try:
        size = path.stat().st_size
        if size > limits.max_config_bytes:
            raise CheckpointError(
                f"{path.name}: {human_size(size)}, over the {human_size(limits.max_config_bytes)} limit"
            )
        data = load_json(path.read_bytes(), name=path.name, max_bytes=limits.max_config_bytes)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    except SafeInputError as exc:
        raise CheckpointError(str(exc)) from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name}: expected a JSON object, got {type(data).__name__}")
    refuse_remote_code(data, path.name)
    check_limits(data, path.name, limits=limits)
    return data


def refuse_remote_code(config: Mapping[str, object], name: str) -> None:
    """CheckpointError when a config asks for code shipped with the model (`auto_map`): never run, never imported."""
    for key in ("auto_map", "custom_pipelines"):
        if key in config:
            raise CheckpointError(
                f"{name} names code of its own ({key}): logitscope never runs code from a model folder "
                "(trust_remote_code is never set). Use a model whose architecture the library itself ships."
            )


def _numbers(value: object) -> Iterator[int | float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _numbers(item)


def _walk(config: Mapping[str, object], path: str = "") -> Iterator[tuple[str, str, object]]:
    """(key, dotted path, value) of every entry, nested objects included."""
    for key, value in config.items():
        where = f"{path}.{key}" if path else str(key)
        yield str(key), where, value
        if isinstance(value, Mapping) and key not in _LABEL_LISTS:
            yield from _walk(value, where)


def check_limits(config: Mapping[str, object], name: str, *, limits: ModelLimits = MODEL_LIMITS) -> None:
    """CheckpointError when any class count, input side, width or depth the config claims is over `limits`."""
    for key, where, value in _walk(config):
        checks: list[tuple[float, int, str]]
        if key in _LABEL_LISTS and isinstance(value, Mapping | list):
            checks = [(len(value), limits.max_classes, "classes")]
        elif key in _CLASS_KEYS:
            checks = [(n, limits.max_classes, "classes") for n in _numbers(value)]
        elif key in _SIDE_KEYS:
            checks = [(n, limits.max_input_side, "pixels a side") for n in _numbers(value)]
        elif key in _DEPTH_KEYS:
            checks = [(n, limits.max_depth, "layers or heads") for n in _numbers(value)]
        elif key.endswith(_WIDTH_SUFFIXES) and key not in _SKIP_KEYS:
            checks = [(n, limits.max_width, "wide") for n in _numbers(value)]
        else:
            continue
        for number, limit, unit in checks:
            if number > limit or number < 0:
                raise CheckpointError(
                    f"{name}: {where} = {number:,} is over the limit of {limit:,} {unit}; refused before "
                    "anything is built"
                )


# ---------------------------------------------------------------- a zip of a model folder
def _entries(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, Entry]]:
    found = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        link = stat.S_ISLNK(info.external_attr >> 16)
        entry = Entry(info.filename, info.file_size, info.compress_size, bool(info.flag_bits & 0x1), link)
        found.append((info, entry))
    return found


def _model_folder(entries: list[Entry], name: str) -> str:
    """The folder of the zip that holds the model: the shallowest one with a config.json, else with an .onnx file."""
    for wanted in (lambda p: p.rsplit("/", 1)[-1] == CONFIG_NAME, lambda p: p.lower().endswith(".onnx")):
        paths = sorted(
            (e.path for e in entries if wanted(e.path) and not unsafe_path(e.path)), key=lambda p: p.count("/")
        )
        if paths:
            return paths[0].rsplit("/", 1)[0] + "/" if "/" in paths[0] else ""
    raise CheckpointError(f"{name}: no {CONFIG_NAME} or .onnx file in the zip: not a model folder")


def unpack_zip(
    source: bytes | Path, name: str, *, limits: ModelLimits = MODEL_LIMITS
) -> tempfile.TemporaryDirectory[str]:
    """The model folder inside a zip, unpacked into a new temporary folder (deleted with the returned object).

    Only the regular files directly in the model folder are written, under their base names; a member with an
    unsafe path or a link is never written, an encrypted one or one that inflates like a bomb refuses the zip, and
    the sizes are capped by `limits`. Raises CheckpointError with the reason.
    """
    try:
        archive = zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(f"{name}: not a zip archive ({exc})") from None
    with archive:
        listed = _entries(archive)
        if len(listed) > limits.max_zip_members:
            raise CheckpointError(f"{name}: {len(listed):,} members, over the limit of {limits.max_zip_members:,}")
        folder = _model_folder([e for _, e in listed], name)
        members = [(i, e) for i, e in listed if e.path.startswith(folder) and "/" not in e.path[len(folder) :]]
        members = [(i, e) for i, e in members if not unsafe_path(e.path) and not e.link]
        total = 0
        for _, entry in members:
            reason = bomb_reason(entry, max_ratio=limits.max_ratio, ratio_floor_bytes=limits.ratio_floor_bytes)
            if entry.encrypted:
                reason = "encrypted: cannot be read"
            if reason is not None:
                raise CheckpointError(f"{name}: {entry.name} is {reason}; the zip is refused")
            total += entry.size
        if total > limits.max_zip_bytes:
            raise CheckpointError(
                f"{name}: unpacks to {human_size(total)}, over the {human_size(limits.max_zip_bytes)} limit"
            )
        target = tempfile.TemporaryDirectory(prefix="logitscope-model-")
        try:
            for info, entry in members:
                _copy_member(archive, info, Path(target.name) / entry.path.rsplit("/", 1)[-1], entry.size)
        except BaseException:
            target.cleanup()
            raise
    return target


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, declared: int) -> None:
    """Stream one member to `path`, stopping at its declared size (a lying header never writes more)."""
    written = 0
    try:
        with archive.open(info) as src, open(path, "wb") as dst:
            while chunk := src.read(_COPY_CHUNK):
                written += len(chunk)
                if written > declared:
                    raise CheckpointError(f"{info.filename}: inflates past its declared {human_size(declared)}")
                dst.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise CheckpointError(f"{info.filename}: damaged in the zip ({type(exc).__name__}: {exc})") from None


def folder_stamp(folder: Path) -> str:
    """sha256 (hex) of the names, sizes and modification times of the files directly in `folder`."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        info = path.stat()
        digest.update(f"{path.name}|{info.st_size}|{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- weights files, never unpickled
def explain_refusal(message: str) -> str:
    """Turn torch.load's long weights_only error into one sentence a user can act on."""
    match = re.search(r"(?i)unsupported\s+(?:global:\s+)?global\s+([\w.]+)", message)
    if match:
        return (
            f"refused: it contains a Python object ({match.group(1)}) besides tensors, and loading it could run "
            "code. Save a plain state dict (model.state_dict()) or use .safetensors."
        )
    return "not a readable PyTorch state dict (expected a file saved with torch.save(model.state_dict(), ...))"


def weights_elements(path: Path) -> int:
    """How many numbers a weights file holds: a .safetensors file's header, or a pickled state dict opened with
    `torch.load(weights_only=True)` (memory-mapped: the tensors are not read). Raises CheckpointError for a file
    that is not one, or holds pickled code."""
    if path.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                return sum(math.prod(handle.get_slice(key).get_shape()) for key in handle.keys())  # noqa: SIM118 (not a dict)
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path.name}: not a valid safetensors file ({first_line(exc)})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):  # a legacy (non-zip) file cannot be mapped: read it
            raise CheckpointError(f"{path.name}: {explain_refusal(str(exc))}") from None
        state = _load_unmapped(path)
    except Exception as exc:  # pickle errors come in many types; all mean "refused"
        raise CheckpointError(f"{path.name}: {explain_refusal(str(exc))}") from None
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path.name}: expected a state dict (parameter name -> tensor)")
    return sum(v.numel() for v in state.values() if isinstance(v, Tensor))


def _load_unmapped(path: Path) -> object:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # as above
        raise CheckpointError(f"{path.name}: {explain_refusal(str(exc))}") from None


def check_budget(needed: int, held: int, name: str, *, what: str) -> None:
    """CheckpointError when the model `what` describes needs far more numbers than its weights file holds: a model
    is never built larger than its own weights (1.5 x and 1M spare for buffers the file may leave out)."""
    if needed > 1.5 * held + 1_000_000:
        raise CheckpointError(
            f"{name}: {what} has {needed:,} parameters but the weights hold {held:,} numbers: they do not match, "
            "and nothing that large is built"
        )


def offline_library(name: str) -> ModuleType:
    """Import `name` (transformers, timm) with the Hugging Face Hub switched off: HF_HUB_OFFLINE=1 is set before
    the hub's first import reads it, so a model's files are read from disk only, never fetched. Imported on first
    use only: a registry model never pays for these libraries."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    return importlib.import_module(name)


def user_spec(
    name: str,
    source: str,
    title: str,
    preprocessing: Preprocessing,
    builder: Callable[[], nn.Module],
    *,
    num_classes: int,
    arch: str,
    labels_source: str,
    details: tuple[tuple[str, str], ...],
    categories: tuple[str, ...] | None = None,
    label_set: str | None = None,
    head: str | None = None,
    runtime: str = "torch",
) -> ModelSpec:
    """The spec of a user's model read from its files (`ModelSpec`'s fields): always available, its files are here."""
    return ModelSpec(
        name=name,
        title=title,
        source=source,
        num_classes=num_classes,
        preprocessing=preprocessing,
        label_set=label_set,
        builder=builder,
        availability=_available,
        categories=categories,
        head=head,
        arch=arch,
        runtime=runtime,
        labels_source=labels_source,
        details=details,
    )


def _available() -> Availability:
    return Availability(True)
