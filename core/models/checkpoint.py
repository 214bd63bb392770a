"""User checkpoints: an architecture name + a weights file, loaded without ever unpickling code.

The architecture is "efficientnet_lite0", a torchvision classification model name, or "timm:NAME" for a timm
architecture (its preprocessing then timm's own `create_transform`, `core.models.timm_hub`).
`.safetensors` files load through safetensors; `.pt`/`.pth`/`.bin` state dicts through
`torch.load(weights_only=True)`, which refuses pickled code (a malicious checkpoint fails cleanly).
The class count is read from the checkpoint's classifier weight; any other mismatch is listed.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torchvision
from torch import Tensor, nn

from core.errors import CheckpointError, InputError
from core.labels import validate_labels
from core.models.builtin import EFFICIENTNET_LITE0_PRE, build_efficientnet_lite0
from core.models.files import MODEL_LIMITS, explain_refusal, user_spec
from core.models.registry import get_spec
from core.models.spec import LoadedModel, ModelSpec, default_device
from core.models.timm_hub import TIMM_PREFIX, check_architecture, timm_head, timm_module, timm_preprocessing
from core.models.torchvision_hub import torchvision_model_names
from core.preprocess import Preprocessing

CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
_MAX_LISTED = 8
MAX_CLASSES = MODEL_LIMITS.max_classes


def checkpoint_architectures() -> list[str]:
    """Architecture names a checkpoint can be loaded into (timm's, "timm:NAME", are checked on their own:
    `core.models.timm_hub.timm_architectures` lists them)."""
    return ["efficientnet_lite0", *torchvision_model_names()]


def check_checkpoint_architecture(arch: str) -> None:
    """InputError for an architecture no checkpoint can be loaded into."""
    if arch.startswith(TIMM_PREFIX):
        check_architecture(arch[len(TIMM_PREFIX) :], "--arch")
    elif arch not in checkpoint_architectures():
        close = difflib.get_close_matches(arch, checkpoint_architectures(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else " A timm architecture is named timm:NAME."
        raise InputError(f"unknown architecture {arch!r} for a checkpoint.{hint}")


def read_state_dict(data: bytes, filename: str) -> dict[str, Tensor]:
    """Parse checkpoint bytes into a flat {name: tensor} dict, never executing pickled code."""
    suffix = Path(filename).suffix.lower()
    if suffix not in CHECKPOINT_SUFFIXES:
        raise CheckpointError(f"{filename}: expected a .safetensors, .pt or .pth file")
    if suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load as load_safetensors

        try:
            state: object = load_safetensors(data)
        except (SafetensorError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{filename}: not a valid safetensors file ({exc})") from None
    else:
        try:
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle errors come in many types; all mean "refused"
            raise CheckpointError(f"{filename}: {explain_refusal(str(exc))}") from None
    tensors = _flatten(state, filename)
    for key, tensor in tensors.items():
        # a pickled tensor may be a view that claims far more elements than its storage (stride 0):
        # refused here, before a model of that size is built from its shape
        if tensor.numel() * tensor.element_size() > len(data):
            raise CheckpointError(
                f"{filename}: tensor {key!r} claims shape {tuple(tensor.shape)}, more data than the file holds"
            )
    return tensors


def _flatten(state: object, filename: str) -> dict[str, Tensor]:
    if isinstance(state, Mapping):
        for key in _WRAPPER_KEYS:  # {"state_dict": {...}, "epoch": 3} style training checkpoints
            inner = state.get(key)
            if isinstance(inner, Mapping) and inner and all(isinstance(v, Tensor) for v in inner.values()):
                state = inner
                break
    if not isinstance(state, Mapping) or not state:
        raise CheckpointError(f"{filename}: expected a state dict (parameter name -> tensor)")
    tensors = {str(k): v for k, v in state.items() if isinstance(v, Tensor)}
    if not tensors:
        raise CheckpointError(f"{filename}: contains no tensors")
    prefix = "module."  # saved from DataParallel
    if all(k.startswith(prefix) for k in tensors):
        tensors = {k[len(prefix) :]: v for k, v in tensors.items()}
    return tensors


def _build(arch: str, num_classes: int, *, meta: bool = False) -> tuple[nn.Module, Preprocessing, str | None]:
    """`arch` with `num_classes` outputs, its preprocessing and its head's path (None: from the architecture's
    name); with `meta`, parameters have shapes but no memory (a free probe)."""
    with torch.device("meta") if meta else contextlib.nullcontext():
        if arch == "efficientnet_lite0":
            return build_efficientnet_lite0(num_classes, pretrained=False), EFFICIENTNET_LITE0_PRE, None
        if arch.startswith(TIMM_PREFIX):
            name = arch[len(TIMM_PREFIX) :]
            model: nn.Module = timm_module().create_model(name, pretrained=False, num_classes=num_classes)
            return model, timm_preprocessing(model, f"checkpoint:{arch}"), timm_head(model)
        model = torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
    return model, get_spec(arch).preprocessing, None


def _class_count(weight: Tensor, expected: Tensor, *, head: str, filename: str, arch: str, max_classes: int) -> int:
    """The class count of a checkpoint's classifier weight, checked against the architecture's head
    before any model of that size is built: (100000000, 0) or a scalar is refused, not allocated."""
    needed = ", ".join(str(d) for d in expected.shape[1:])
    if weight.ndim != expected.ndim or tuple(weight.shape[1:]) != tuple(expected.shape[1:]):
        raise CheckpointError(
            f"{filename} does not fit {arch}: its classifier weight {head!r} has shape {tuple(weight.shape)}, "
            f"but {arch} needs (classes, {needed})"
        )
    count = int(weight.shape[0])
    if count < 1:
        raise CheckpointError(
            f"{filename}: its classifier weight {head!r} has 0 classes; a classifier needs at least 1"
        )
    if count > max_classes:
        raise CheckpointError(f"{filename}: its classifier claims {count:,} classes, over the limit of {max_classes:,}")
    return count


def _head_key(model: nn.Module, head: str | None) -> str:
    """Name of the classifier weight: the head's own (timm names it), else the last parameter whose first dim is
    the class count."""
    state = model.state_dict()
    if head is not None and f"{head}.weight" in state:
        return f"{head}.weight"
    weights = [(k, v) for k, v in state.items() if k.endswith("weight") and v.ndim in (2, 4)]
    return weights[-1][0]


def _differences(model: nn.Module, state: Mapping[str, Tensor]) -> list[str]:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = []
    for title, items in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)):
        if items:
            listed = ", ".join(items[:_MAX_LISTED]) + (
                f" … (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
            )
            problems.append(f"{len(items)} {title}: {listed}")
    return problems


def checkpoint_spec(
    arch: str,
    data: bytes,
    filename: str,
    *,
    labels: Sequence[str] | None = None,
    max_classes: int = MAX_CLASSES,
    details: tuple[tuple[str, str], ...] = (),
) -> ModelSpec:
    """Build `arch`, load a user's weights into it (on the CPU) and return its spec, whose builder gives that model;
    or raise CheckpointError listing what differs.

    Args:
        arch: "efficientnet_lite0", a torchvision classification model name, or "timm:NAME".
        data: the checkpoint file's bytes.
        filename: its name (the suffix picks the format).
        labels: the user's class names; must match the checkpoint's class count.
        max_classes: the largest class count accepted.
        details: what else to say about where it came from (`models --describe`).
    """
    check_checkpoint_architecture(arch)
    state = read_state_dict(data, filename)
    # every check runs on meta-device models (shapes, no memory); the real model is built once they pass,
    # so its size is bounded by the checkpoint's own tensors
    probe, _, head_path = _build(arch, 1000, meta=True)
    head = _head_key(probe, head_path)
    if head not in state:
        raise CheckpointError(
            f"{filename} does not fit {arch}: its classifier weight {head!r} is missing. "
            + "; ".join(_differences(probe, state))
        )
    num_classes = _class_count(
        state[head], probe.state_dict()[head], head=head, filename=filename, arch=arch, max_classes=max_classes
    )
    shaped = probe if num_classes == 1000 else _build(arch, num_classes, meta=True)[0]
    problems = _differences(shaped, state)
    if problems:
        raise CheckpointError(f"{filename} does not fit {arch} ({num_classes} classes): " + "; ".join(problems))
    model, preprocessing, head_path = _build(arch, num_classes)
    model.load_state_dict(state, strict=False)  # strict check done above, minus num_batches_tracked
    model.eval()
    if labels is not None:
        validate_labels(labels, num_classes, source="the label file")
    digest = hashlib.sha256(data).hexdigest()[:12]
    imagenet = num_classes == 1000 and labels is None
    return user_spec(
        f"checkpoint:{arch}:{digest}",
        "checkpoint",
        f"{filename} ({arch}, {num_classes} classes)",
        preprocessing,
        lambda: model,
        num_classes=num_classes,
        label_set="imagenet" if imagenet else None,
        categories=tuple(labels) if labels is not None else None,
        head=head_path,
        arch=arch.removeprefix(TIMM_PREFIX),
        labels_source=(
            "your label file"
            if labels is not None
            else "ImageNet's names (the architecture's 1000 classes)"
            if imagenet
            else "none in a weights file: class index numbers (or your label file)"
        ),
        details=(*details, ("weights", filename)),
    )


def load_checkpoint(
    arch: str,
    data: bytes,
    filename: str,
    *,
    labels: Sequence[str] | None = None,
    device: torch.device | None = None,
    max_classes: int = MAX_CLASSES,
) -> LoadedModel:
    """`checkpoint_spec`'s model on `device` (default: CUDA if present)."""
    spec = checkpoint_spec(arch, data, filename, labels=labels, max_classes=max_classes)
    target = device or default_device()
    return LoadedModel(spec, spec.builder().to(target), target)
