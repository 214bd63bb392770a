"""Hugging Face transformers image classifiers from a folder: config.json, preprocessor_config.json, the weights.

Everything comes from the model's own files and is read by transformers itself, offline (`local_files_only`,
HF_HUB_OFFLINE=1) and without code from the folder (`trust_remote_code` is never set; a config with `auto_map` is
refused before transformers sees it): the classes from `id2label` (gaps refused), the input from the image processor
(`AutoImageProcessor`, run as is: its tensor is the library's own), the weights from safetensors or a .bin read with
`torch.load(weights_only=True)`. The config's sizes are checked before anything is built, and the architecture is
first built on the meta device (shapes, no memory) and compared with the weights' size.

transformers' models return an output object; `ClassifierLogits` wraps one so the rest of the code sees a module
that maps pixels to logits, with its head at "model.classifier". transformers is imported only for such a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from core.errors import CheckpointError, first_line
from core.label_formats import labels_from_mapping
from core.models.files import (
    CONFIG_NAME,
    check_budget,
    explain_refusal,
    offline_library,
    read_config,
    user_spec,
    weights_elements,
)
from core.models.spec import ModelSpec
from core.preprocess import Pipeline, Preprocessing

PROCESSOR_NAME = "preprocessor_config.json"
WEIGHTS_NAMES = ("model.safetensors", "pytorch_model.bin")
SHARD_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
HEAD = "model.classifier"
# PIL's resampling codes, as image processors store them
_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
_DEFAULT_LABEL = "LABEL_"  # transformers' names when a config gives none


def is_transformers_config(config: dict[str, object]) -> bool:
    """Whether a config.json is transformers' (it has a `model_type` or `architectures`)."""
    return "model_type" in config or "architectures" in config


class ClassifierLogits(nn.Module):
    """A transformers image classifier as a module from pixel values to logits (it returns an output object)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: Tensor) -> Tensor:
        logits: Tensor = self.model(pixel_values=pixel_values).logits
        return logits


def _transformers() -> Any:
    transformers = offline_library("transformers")
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers


def _weights(folder: Path, label: str) -> list[Path]:
    """The weights files: one file, or the shards an index names (each inside the folder)."""
    for name in WEIGHTS_NAMES:
        if (folder / name).is_file():
            return [folder / name]
    for index in SHARD_INDEXES:
        if (folder / index).is_file():
            mapping = read_config(folder / index).get("weight_map")
            shards = sorted({str(v) for v in mapping.values()}) if isinstance(mapping, dict) else []
            paths = [folder / shard for shard in shards if "/" not in shard and "\\" not in shard]
            if not paths or not all(p.is_file() for p in paths):
                raise CheckpointError(f"{label}: {index} names shards that are not in the folder")
            return paths
    raise CheckpointError(f"{label}: a {CONFIG_NAME} but no weights ({' or '.join(WEIGHTS_NAMES)})")


def _labels(id2label: object, label: str) -> tuple[tuple[str, ...], str]:
    """The class names transformers' config gives (its defaults, LABEL_i, when the file names none), gaps refused."""
    if not isinstance(id2label, dict) or not id2label:
        raise CheckpointError(f"{label}/{CONFIG_NAME}: no id2label and no num_labels: no classifier head")
    labels = labels_from_mapping(id2label, f"{label}/{CONFIG_NAME} id2label")
    if all(name == f"{_DEFAULT_LABEL}{i}" for i, name in enumerate(labels)):
        return tuple(labels), "none in the model's files (transformers' default LABEL_i names)"
    return tuple(labels), "id2label in config.json (transformers)"


def _interpolation(resample: object) -> str:
    value = getattr(resample, "value", resample)
    if isinstance(value, int):
        return _RESAMPLE.get(value, str(value))
    return str(value).lower()


def processor_preprocessing(processor: Any, key: str) -> Preprocessing:
    """The image processor run as is (its `pixel_values` for one image), with `Preprocessing` fields describing it.

    The output size is measured on a wide and a tall blank image (the processor decides it, not a guess); a processor
    whose output is not one square size is refused. The mean/std are folded with the rescale factor into [0, 1]
    pixel units, so the preprocessing check can swap in another normalisation exactly.
    """

    def fn(image: Any) -> Tensor:
        pixels: Tensor = processor(images=image, return_tensors="pt")["pixel_values"][0]
        return pixels

    from PIL import Image

    shapes = {tuple(fn(Image.new("RGB", size)).shape) for size in ((97, 61), (61, 97))}
    if len(shapes) != 1 or next(iter(shapes))[1] != next(iter(shapes))[2] or next(iter(shapes))[0] != 3:
        raise CheckpointError(
            f"{key}: its image processor gives inputs of shape {sorted(shapes)}: only one square RGB size is supported"
        )
    side = int(next(iter(shapes))[1])
    rescale = float(processor.rescale_factor) if getattr(processor, "do_rescale", True) else 1.0
    normalize = getattr(processor, "do_normalize", True)
    raw_mean = tuple(float(m) for m in processor.image_mean) if normalize else (0.0, 0.0, 0.0)
    raw_std = tuple(float(s) for s in processor.image_std) if normalize else (1.0, 1.0, 1.0)
    mean = tuple(m / (255 * rescale) for m in raw_mean)
    std = tuple(s / (255 * rescale) for s in raw_std)
    interpolation = _interpolation(getattr(processor, "resample", 2))
    shape = _geometry(processor, side)
    described = Preprocessing(shape[0], side, mean, std, interpolation, squash=shape[1])
    steps = described.describe()
    if rescale * 255 != 1.0:
        steps += f" (rescale factor {rescale:g})"
    text = f"transformers {type(processor).__name__}: {steps}"
    pipeline = Pipeline(key=f"transformers:{key}", text=text, mean=mean, std=std, fn=fn)
    return Preprocessing(shape[0], side, mean, std, interpolation, squash=shape[1], pipeline=pipeline)


def _geometry(processor: Any, side: int) -> tuple[int, bool]:
    """(resize, squash) as the processor's settings say: the shortest edge resized and centre-cropped, or both
    sides resized to a fixed size (then cropped when it has a crop_size)."""
    size = getattr(processor, "size", None) or {}
    get = size.get if isinstance(size, dict) else (lambda k: getattr(size, k, None))
    shortest = get("shortest_edge")
    if shortest:
        crop_pct = getattr(processor, "crop_pct", None)
        if crop_pct and shortest < 384:  # ConvNeXt's rule: resize shortest_edge / crop_pct, crop shortest_edge
            return int(shortest / crop_pct), False
        if crop_pct:  # and at 384 or more it warps to a square
            return int(shortest), True
        return int(shortest), False
    height = get("height")
    return (int(height) if height else side), True


def transformers_folder_spec(folder: Path, *, name: str, label: str, details: tuple[tuple[str, str], ...]) -> ModelSpec:
    """The spec of a transformers folder whose config.json has passed `core.models.files.read_config` (its sizes
    checked, `auto_map` refused) before transformers reads it here.

    Raises CheckpointError (or LabelError for an id2label with gaps) for a folder without a processor config or
    weights, an architecture transformers does not know as an image classifier, weights with pickled code or far
    fewer numbers than the architecture needs. The weights are read by the builder, which refuses missing,
    unexpected or mismatched tensors.
    """
    processor_config = folder / PROCESSOR_NAME
    if not processor_config.is_file():
        raise CheckpointError(
            f"{label}: no {PROCESSOR_NAME}: the preprocessing cannot be read from the model's files "
            "(it is never guessed); save the image processor with it (processor.save_pretrained(folder))"
        )
    read_config(processor_config)  # its sizes and auto_map are checked like the model's
    weights = _weights(folder, label)
    held = sum(weights_elements(path) for path in weights)
    transformers = _transformers()
    common = {"local_files_only": True, "trust_remote_code": False}
    try:
        model_config = transformers.AutoConfig.from_pretrained(str(folder), **common)
    except (ValueError, KeyError, OSError) as exc:
        raise CheckpointError(f"{label}: unknown architecture ({first_line(exc)})") from None
    categories, labels_source = _labels(model_config.id2label, label)  # the library's reading of config.json
    auto = transformers.AutoModelForImageClassification
    if type(model_config) not in auto._model_mapping:
        kind = getattr(model_config, "model_type", "?")
        raise CheckpointError(f"{label}: {kind!r} is not an image classifier transformers knows")
    with torch.device("meta"):  # shapes only, no memory: the config's model against the weights' size
        probe = auto.from_config(model_config)
    arch = type(probe).__name__
    check_budget(sum(t.numel() for t in probe.state_dict().values()), held, label, what=arch)
    if getattr(probe, "classifier", None) is None or int(model_config.num_labels) != len(categories):
        raise CheckpointError(f"{label}: {arch} has no classifier head of {len(categories)} classes")
    try:
        processor = transformers.AutoImageProcessor.from_pretrained(str(folder), **common)
    except Exception as exc:  # transformers raises many types for a processor config it cannot read
        raise CheckpointError(f"{label}: {PROCESSOR_NAME} cannot be read ({first_line(exc)})") from None
    preprocessing = processor_preprocessing(processor, name)
    safetensors = weights[0].suffix == ".safetensors"

    def builder() -> nn.Module:
        try:
            model, info = auto.from_pretrained(
                str(folder), **common, use_safetensors=safetensors, weights_only=True, output_loading_info=True
            )
        except Exception as exc:  # pickled code, a damaged file, shapes that do not fit
            text = str(exc)
            reason = explain_refusal(text) if "weights_only" in text.lower() else first_line(exc, limit=240)
            raise CheckpointError(f"{label}: the weights cannot be loaded: {reason}") from None
        _check_loading(info, label, arch)
        return ClassifierLogits(model).eval()

    title = f"{label} (transformers {arch}, {len(categories)} classes)"
    return user_spec(
        name,
        "transformers",
        title,
        preprocessing,
        builder,
        categories=categories,
        num_classes=len(categories),
        head=HEAD,
        arch=arch,
        labels_source=labels_source,
        details=(*details, ("weights", ", ".join(p.name for p in weights)), ("processor", type(processor).__name__)),
    )


def _check_loading(info: dict[str, Any], name: str, arch: str) -> None:
    """CheckpointError when transformers reports weights that do not fit: it would leave those randomly initialised."""
    problems = []
    for key, title in (
        ("missing_keys", "missing"),
        ("unexpected_keys", "unexpected"),
        ("mismatched_keys", "mismatched"),
    ):
        items = sorted(str(k) for k in info.get(key) or ())
        if items:
            problems.append(f"{len(items)} {title} ({', '.join(items[:3])}{' …' if len(items) > 3 else ''})")
    if problems:
        raise CheckpointError(f"{name}: the weights do not fit {arch}: " + "; ".join(problems))
