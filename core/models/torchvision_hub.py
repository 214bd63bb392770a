"""torchvision's classification models as specs: each with its `Weights` transforms and categories; the weights come
from the torch hub cache, or a download when the network allows it (never tried with LOGITSCOPE_OFFLINE=1)."""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision
from torch import nn

from core.errors import ModelUnavailableError
from core.labels import builtin_labels
from core.models.spec import Availability, ModelSpec
from core.preprocess import Preprocessing

# LOGITSCOPE_OFFLINE=1 never tries the network (tests, air-gapped machines)
OFFLINE_ENV = "LOGITSCOPE_OFFLINE"
DOWNLOAD_CONNECT_TIMEOUT_S = 3.0


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


def torchvision_spec(name: str) -> ModelSpec:
    """The spec of torchvision model `name`: its DEFAULT weights' transforms, categories and top-1."""
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
