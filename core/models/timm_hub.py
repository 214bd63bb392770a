"""timm models: a folder in timm's hub format, and the preprocessing timm derives from a model's own config.

A hub-format folder (what `timm.models._hub.save_for_hf` and the Hub hold) has a config.json with `architecture`,
`num_classes`, `model_args`, `pretrained_cfg` (input size, mean/std, crop_pct, interpolation, crop_mode) and
`label_names` where present, beside model.safetensors (or pytorch_model.bin). timm reads it itself
(`create_model("local-dir:FOLDER")`, then `load_checkpoint(strict=True)`: safetensors, or torch.load with
weights_only=True), after the config's sizes are checked (`core.models.files`) and a parameter-only build on the meta
device is found to fit the weights. The input is timm's own, run as is:
`create_transform(**resolve_data_config({}, model=model))`.

A timm architecture name with a bare weights file is `core.models.checkpoint`'s (`--arch timm:NAME`); it takes its
pipeline from `timm_preprocessing` too. timm is imported only when such a model is used.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.errors import CheckpointError, first_line
from core.labels import validate_labels
from core.models.files import check_budget, offline_library, user_spec, weights_elements
from core.models.spec import ModelSpec
from core.preprocess import Pipeline, Preprocessing

TIMM_PREFIX = "timm:"  # `--arch timm:resnet18`: a timm architecture (torchvision's names are bare)
WEIGHTS_NAMES = ("model.safetensors", "pytorch_model.bin", "pytorch_model.pth", "model.pth")


def is_timm_config(config: dict[str, object]) -> bool:
    """Whether a config.json is timm's hub format (it names one `architecture`; transformers' name `architectures`)."""
    return isinstance(config.get("architecture"), str)


def timm_module() -> Any:
    """timm, imported offline (`core.models.files.offline_library`)."""
    return offline_library("timm")


def timm_architectures() -> list[str]:
    """Every architecture timm builds, prefixed "timm:" (the name an `--arch` takes)."""
    return [TIMM_PREFIX + name for name in timm_module().list_models()]


def check_architecture(arch: str, where: str) -> None:
    """CheckpointError when timm does not know `arch`."""
    timm = timm_module()
    if not timm.is_model(arch):
        raise CheckpointError(f"{where}: unknown timm architecture {arch!r} (timm {timm.__version__})")


def timm_preprocessing(model: nn.Module, key: str) -> Preprocessing:
    """timm's eval pipeline for `model`, from its pretrained_cfg: `resolve_data_config` + `create_transform`,
    run as is, with the `Preprocessing` fields describing it (scale = floor(size / crop_pct), as timm computes it)."""
    from timm.data import create_transform, resolve_data_config

    config = resolve_data_config({}, model=model)
    channels, height, width = config["input_size"]
    if height != width or channels != 3:
        raise CheckpointError(f"{key}: input {channels} x {height} x {width}: only square RGB inputs are supported")
    mean = tuple(float(m) for m in config["mean"])
    std = tuple(float(s) for s in config["std"])
    crop_pct = float(config.get("crop_pct") or 0.875)
    crop_mode = str(config.get("crop_mode") or "center")
    scale = math.floor(height / crop_pct)
    interpolation = str(config.get("interpolation") or "bilinear")
    shape = Preprocessing(scale, int(height), mean, std, interpolation, squash=crop_mode == "squash")
    text = f"timm create_transform (crop_pct {crop_pct:g}, {crop_mode}): {shape.describe()}"
    transform = create_transform(**config)
    pipeline = Pipeline(key=f"timm:{key}", text=text, mean=mean, std=std, fn=transform)
    return Preprocessing(scale, int(height), mean, std, interpolation, squash=crop_mode == "squash", pipeline=pipeline)


def timm_head(model: nn.Module) -> str | None:
    """The dotted path of a timm model's classifier (its pretrained_cfg's `classifier`), or None."""
    classifier = getattr(model, "pretrained_cfg", {}).get("classifier")
    if isinstance(classifier, list | tuple):  # distilled models list two heads: features feed the first
        classifier = classifier[0]
    return classifier if isinstance(classifier, str) else None


def _weights(folder: Path, label: str) -> Path:
    for name in WEIGHTS_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise CheckpointError(f"{label}: a timm config.json but no weights ({' or '.join(WEIGHTS_NAMES[:2])})")


def _labels(model: nn.Module, label: str, num_classes: int) -> tuple[tuple[str, ...] | None, str]:
    names = getattr(model, "pretrained_cfg", {}).get("label_names")
    if not names:
        return None, "none in the model's files: class index numbers (or your label file)"
    labels = [str(n) for n in names]
    validate_labels(labels, num_classes, source=f"{label}/config.json label_names")
    return tuple(labels), "label_names in config.json (timm)"


def timm_folder_spec(
    folder: Path, config: dict[str, object], *, name: str, label: str, details: tuple[tuple[str, str], ...]
) -> ModelSpec:
    """The spec of a timm hub-format folder whose config.json (`config`) has passed `core.models.files.read_config`.

    Raises CheckpointError for an unknown architecture, missing weights, weights that hold pickled code or far fewer
    numbers than the architecture needs; the weights themselves are read by the builder.
    """
    timm = timm_module()
    arch = str(config["architecture"])
    check_architecture(arch, f"{label}/config.json")
    weights = _weights(folder, label)
    held = weights_elements(weights)
    source = f"local-dir:{folder}"
    try:
        with torch.device("meta"):  # shapes only, no memory: the config's model against the weights' size
            probe = timm.create_model(source, pretrained=False)
    except Exception as exc:  # timm raises many types for a config it cannot build
        raise CheckpointError(f"{label}: timm cannot build {arch} from config.json ({first_line(exc)})") from None
    check_budget(sum(t.numel() for t in probe.state_dict().values()), held, label, what=f"timm {arch}")
    num_classes = int(probe.num_classes)
    if num_classes < 1:
        raise CheckpointError(f"{label}: {arch} has no classifier (num_classes {num_classes})")
    categories, labels_source = _labels(probe, label, num_classes)
    preprocessing = timm_preprocessing(probe, name)

    def builder() -> nn.Module:
        # built from the config, then the weights loaded strictly: timm's pretrained path would silently
        # re-initialise a head whose class count differs from its pretrained_cfg's
        model: nn.Module = timm.create_model(source, pretrained=False)
        try:
            timm.models.load_checkpoint(model, str(weights), strict=True, weights_only=True)
        except Exception as exc:  # a state dict that does not fit raises RuntimeError with one line per key
            raise CheckpointError(f"{label}: the weights do not fit {arch}: {_state_dict_error(exc)}") from None
        return model.eval()

    title = f"{label} (timm {arch}, {num_classes} classes)"
    return user_spec(
        name,
        "timm",
        title,
        preprocessing,
        builder,
        categories=categories,
        num_classes=num_classes,
        head=timm_head(probe),
        arch=arch,
        labels_source=labels_source,
        details=(*details, ("weights", weights.name)),
    )


def _state_dict_error(exc: BaseException) -> str:
    """torch's "Error(s) in loading state_dict for X:\n\tsize mismatch for fc.weight: ..." as one short line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = lines[1] if len(lines) > 1 and lines[0].startswith("Error(s)") else (lines[0] if lines else "")
    return first_line(RuntimeError(detail or type(exc).__name__), limit=240)
