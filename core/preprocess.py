"""Preprocessing as data: what a model expects, how to apply it, and how to show it to a person.

A model's `Preprocessing` comes from the registry (never hand-copied in a page). The same spec builds
the torchvision transform, writes the pipeline out as text, and undoes the normalisation for display.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import torch
from PIL import Image
from torch import Tensor
from torchvision.transforms import v2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)

_INTERPOLATION = {
    "bilinear": v2.InterpolationMode.BILINEAR,
    "bicubic": v2.InterpolationMode.BICUBIC,
    "nearest": v2.InterpolationMode.NEAREST,
}


@dataclass(frozen=True)
class Preprocessing:
    """What a model expects as input.

    Attributes:
        resize: the shorter side is resized to this many pixels.
        crop: then a centred square crop of this size.
        mean: per-channel mean subtracted after scaling pixels to [0, 1].
        std: per-channel standard deviation divided by.
        interpolation: "bilinear", "bicubic" or "nearest".
        grayscale: convert to one channel first (e.g. the digits model).
    """

    resize: int
    crop: int
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    grayscale: bool = False

    def transform(self) -> v2.Compose:
        """The torchvision transform: PIL image -> normalised float tensor (C, crop, crop).

        Built once per distinct spec and shared (its steps are deterministic and hold no state).
        """
        return _compose(self)

    def __call__(self, image: Image.Image) -> Tensor:
        tensor: Tensor = _compose(self)(image)
        return tensor

    def normalisation_text(self) -> str:
        """How pixel values are scaled, in words: "scale to [-1, 1]" or "Normalize(mean=..., std=...)"."""
        if len(set(self.mean)) == 1 and len(set(self.std)) == 1:
            low = (0 - self.mean[0]) / self.std[0]
            high = (1 - self.mean[0]) / self.std[0]
            if self.mean == (0.0,) * len(self.mean) and self.std == (1.0,) * len(self.std):
                return "scale to [0, 1]"
            return f"scale to [{low:g}, {high:g}]"
        if self.mean == IMAGENET_MEAN and self.std == IMAGENET_STD:
            return "Normalize(ImageNet mean/std)"
        mean = ", ".join(f"{m:g}" for m in self.mean)
        std = ", ".join(f"{s:g}" for s in self.std)
        return f"Normalize(mean=({mean}), std=({std}))"

    def describe(self) -> str:
        """The pipeline in one line, e.g. "Resize 256 → CenterCrop 224 → scale to [-1, 1]"."""
        parts = ["Grayscale"] if self.grayscale else []
        parts += [f"Resize {self.resize} ({self.interpolation})", f"CenterCrop {self.crop}", self.normalisation_text()]
        return " → ".join(parts)

    def with_normalisation(self, mean: tuple[float, ...], std: tuple[float, ...]) -> Preprocessing:
        """The same pipeline with another mean/std (for the "wrong Normalize" comparison)."""
        return replace(self, mean=mean, std=std)

    def to_display_image(self, tensor: Tensor) -> Image.Image:
        """Undo Normalize on a (C, H, W) model input, so a person sees exactly what the model sees."""
        mean = torch.tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
        pixels = (tensor.detach().cpu() * std + mean).clamp(0, 1)
        array = (pixels * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        if array.shape[2] == 1:
            return Image.fromarray(array[:, :, 0], mode="L")
        return Image.fromarray(array, mode="RGB")


@functools.lru_cache(maxsize=64)
def _compose(pre: Preprocessing) -> v2.Compose:
    """`pre` as a torchvision transform; cached by the (frozen, hashable) spec, so built once per model."""
    steps: list[v2.Transform] = [v2.ToImage()]
    if pre.grayscale:
        steps.append(v2.Grayscale(num_output_channels=1))
    steps += [
        v2.Resize(pre.resize, interpolation=_INTERPOLATION[pre.interpolation], antialias=True),
        v2.CenterCrop(pre.crop),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(list(pre.mean), list(pre.std)),
    ]
    return v2.Compose(steps)


def normalisation_variants(pre: Preprocessing) -> dict[str, Preprocessing]:
    """The model's own normalisation next to the two most common wrong ones (ImageNet stats, none)."""
    return {
        "model's own": pre,
        "ImageNet mean/std": pre.with_normalisation(IMAGENET_MEAN[: len(pre.mean)], IMAGENET_STD[: len(pre.std)]),
        "no normalisation": pre.with_normalisation((0.0,) * len(pre.mean), (1.0,) * len(pre.std)),
    }
