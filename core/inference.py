"""Inference: images in, float32 logits out, batched, with no gradients, on the model's backend.

The backend (torch eager, or ONNX Runtime verified against it) is attached by `core.backends.choose.with_backend`;
a model without one runs on torch (`core.backends.eager`, the one torch forward pass).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image
from torch import Tensor

from core.backends.eager import TorchBackend
from core.errors import InputError
from core.models.spec import BackendInfo, LoadedModel


def preprocess_batch(model: LoadedModel, images: Sequence[Image.Image | Tensor]) -> Tensor:
    """Stack images as model input: PIL images go through the spec's preprocessing, tensors pass as is."""
    pre = model.spec.preprocessing
    tensors = [image if isinstance(image, Tensor) else pre(image) for image in images]
    return torch.stack(tensors)


def predict(model: LoadedModel, images: Sequence[Image.Image | Tensor], *, batch_size: int = 32) -> Tensor:
    """Logits of shape (len(images), num_classes), float32 on CPU.

    Args:
        model: a model from `core.models.registry.load_model`.
        images: RGB PIL images, or tensors already preprocessed to the model's input shape.
        batch_size: images per forward pass.
    """
    if not images:
        raise InputError("no images to predict")
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    outputs: list[Tensor] = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            batch = preprocess_batch(model, images[start : start + batch_size]).to(model.device)
            outputs.append(forward(model, batch))
    return torch.cat(outputs)


def forward(model: LoadedModel, batch: Tensor) -> Tensor:
    """One forward pass of an already preprocessed batch on the model's backend: float32 CPU logits."""
    backend = model.backend or TorchBackend(model.module, model.device, BackendInfo("torch"))
    return backend.logits(batch)


def warm_up(model: LoadedModel) -> None:
    """One forward pass of a blank input: the first pass builds kernels and buffers (seconds on torch's CPU
    path), so a loader calls this once and no user's first upload pays for it."""
    pre = model.spec.preprocessing
    channels = 1 if pre.grayscale else len(pre.mean)
    forward(model, torch.zeros(1, channels, pre.crop, pre.crop, device=model.device))
