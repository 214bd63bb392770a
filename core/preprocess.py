"""Preprocessing as data: what a model expects, how to apply it, and how to show it to a person.

A model's `Preprocessing` comes from the registry (never hand-copied in a page). The same spec builds
the torchvision transform, writes the pipeline out as text, and undoes the normalisation for display.
A model whose own library defines its input (transformers' image processor, timm's `create_transform`) carries
that library's transform as a `Pipeline`: it is run as is, so the input tensor is the library's own, and the
`Preprocessing` fields around it describe it (sizes, normalisation) for the view, the checks and the batch sizes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

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
class Pipeline:
    """A model library's own preprocessing (transformers' image processor, timm's transform), run as is.

    Attributes:
        key: identifies the pipeline (equal keys: equal transforms), e.g. the model files' digest.
        text: the pipeline in one line, as `Preprocessing.describe` shows it.
        mean: the per-channel mean `fn` subtracts, in units of pixels scaled to [0, 1] (a rescale factor other
            than 1/255 folded in), so another normalisation can be swapped in exactly.
        std: the per-channel standard deviation `fn` divides by, in the same units.
        fn: an RGB PIL image -> its float tensor (C, H, W).
    """

    key: str
    text: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    fn: Callable[[Image.Image], Tensor] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Preprocessing:
    """What a model expects as input.

    Attributes:
        resize: the shorter side is resized to this many pixels.
        crop: then a centred square crop of this size.
        mean: per-channel mean subtracted after scaling pixels to [0, 1].
        std: per-channel standard deviation divided by.
        interpolation: "bilinear", "bicubic" or "nearest" (a library's pipeline may name others).
        grayscale: convert to one channel first (e.g. the digits model).
        squash: resize both sides to `resize`, not keeping the aspect ratio, then CenterCrop `crop` (with
            resize == crop the whole image is seen).
        pipeline: the model library's own transform, run instead of the steps above (which then describe it);
            `mean`/`std` differing from the pipeline's own renormalise its output (the preprocessing check).
    """

    resize: int
    crop: int
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    grayscale: bool = False
    squash: bool = False
    pipeline: Pipeline | None = None

    def transform(self) -> Callable[[Image.Image], Tensor]:
        """PIL image -> normalised float tensor (C, crop, crop): the torchvision transform, or the library's own.

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
        if self.pipeline is not None:
            if self._renormalised():
                return f"{self.pipeline.text} → renormalised: {self.normalisation_text()}"
            return self.pipeline.text
        parts = ["Grayscale"] if self.grayscale else []
        if self.squash:
            parts.append(f"Resize {self.resize} x {self.resize} ({self.interpolation})")
        else:
            parts.append(f"Resize {self.resize} ({self.interpolation})")
        if self.crop != self.resize or not self.squash:
            parts.append(f"CenterCrop {self.crop}")
        parts.append(self.normalisation_text())
        return " → ".join(parts)

    def _renormalised(self) -> bool:
        return self.pipeline is not None and (self.mean, self.std) != (self.pipeline.mean, self.pipeline.std)

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


class _CapLongSide(v2.Transform):
    """Before Resize: cut a very long side down to the centre part that CenterCrop keeps, plus a margin.

    Resize(256) scales the short side, so a 20,000 x 2 strip would become 256 x 2,560,000 (2 GB) only for
    CenterCrop to keep 224 x 224 of it. Cutting first bounds that cost by the crop size; the pixels the
    model sees are the same up to resampling at the margin. Images with a usual aspect ratio (up to
    `max_aspect`) are not touched, so their input stays exactly as before.
    """

    def __init__(self, *, resize: int, crop: int, margin: int = 8, max_aspect: float = 4.0) -> None:
        super().__init__()
        self.resize, self.crop, self.margin, self.max_aspect = resize, crop, margin, max_aspect

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        height, width = v2.functional.get_size(inpt)
        cut = capped_long_side(
            (width, height), resize=self.resize, crop=self.crop, margin=self.margin, max_aspect=self.max_aspect
        )
        if cut is None:
            return inpt
        start, keep = cut
        if width >= height:
            return v2.functional.crop(inpt, 0, start, height, keep)
        return v2.functional.crop(inpt, start, 0, keep, width)


def capped_long_side(
    size: tuple[int, int], *, resize: int, crop: int, margin: int = 8, max_aspect: float = 4.0
) -> tuple[int, int] | None:
    """(start, length) of the part of the long side of a `size` (width, height) image that survives
    Resize(`resize`) + CenterCrop(`crop`), plus `margin` resized pixels each side; None when the image is
    not longer than `max_aspect` times its short side.

    The length is a multiple of short / gcd(short, resize), so the cut part resizes by exactly the same
    factor, and the start puts the crop where the full-length resize would have put it.
    """
    short, long = min(size), max(size)
    if long <= max_aspect * short:
        return None
    step = short // math.gcd(short, resize)
    keep = step * math.ceil((crop + 2 * margin) * short / resize / step)
    if keep >= long:
        return None
    scale = resize / short
    full_start = round((int(resize * long / short) - crop) / 2)  # CenterCrop's offset after a full resize
    cut_start = round((round(keep * scale) - crop) / 2)  # and inside the cut part
    start = min(max(round(full_start / scale - cut_start / scale), 0), long - keep)
    return start, keep


def seen_region(size: tuple[int, int], pre: Preprocessing) -> tuple[float, float]:
    """(width, height) of the part of a `size` (width, height) image that the model sees after Resize and
    CenterCrop, in the image's own pixels."""
    width, height = size
    if pre.squash:  # both sides resized to `resize`, then the centre `crop` of each kept
        return width * min(1.0, pre.crop / pre.resize), height * min(1.0, pre.crop / pre.resize)
    side = pre.crop * min(width, height) / pre.resize  # the crop's side, mapped back onto the image
    return min(side, width), min(side, height)


def coverage_note(size: tuple[int, int], pre: Preprocessing, *, below: float = 0.2) -> str | None:
    """A sentence saying how little of an odd-shaped image the model sees, or None for usual shapes
    (a square photo loses its border: about 77% is seen at 224/256)."""
    width, height = size
    seen_w, seen_h = seen_region(size, pre)
    fraction = seen_w * seen_h / (width * height)
    if fraction >= below:
        return None
    return (
        f"the model sees only the centre {seen_w:.0f} x {seen_h:.0f} pixels of this {width} x {height} image "
        f"({fraction:.2%} of it); crop the part that matters before uploading"
    )


def scale_note(size: tuple[int, int], pre: Preprocessing, *, above: float = 2.0) -> str | None:
    """A sentence saying how much a small image is enlarged before the model sees it, or None when the
    enlargement is under `above` times (a 32 x 32 icon goes to Resize 256: 8 times)."""
    width, height = size
    factor = pre.resize / min(width, height)
    if factor < above:
        return None
    seen_w, seen_h = (max(1, round(side)) for side in seen_region(size, pre))
    return (
        f"upscaled {factor:.3g}× from {width} x {height} pixels: the model sees {seen_w} x {seen_h} of them "
        f"stretched to {pre.crop} x {pre.crop}, with no fine detail"
    )


def input_notes(size: tuple[int, int], pre: Preprocessing) -> tuple[str, ...]:
    """What the preprocessing does to an image of `size` (width, height) that a person should know: a large
    enlargement (`scale_note`) and a crop that keeps little of it (`coverage_note`). The one rule for every
    path: the CLI, the Inspector, an evaluation's per-file notes and the reports."""
    return tuple(note for note in (scale_note(size, pre), coverage_note(size, pre)) if note is not None)


class _LibraryTransform:
    """A `Pipeline` run as is, after the same long-side cut as `_CapLongSide` (images of a usual aspect ratio are
    not touched, so their input is exactly the library's), renormalised when the spec asks for another mean/std."""

    def __init__(self, pre: Preprocessing, pipeline: Pipeline) -> None:
        self.pre, self.pipeline = pre, pipeline
        self.renormalise = pre._renormalised()

    def __call__(self, image: Image.Image) -> Tensor:
        if not self.pre.squash:
            cut = capped_long_side(image.size, resize=self.pre.resize, crop=self.pre.crop)
            if cut is not None:
                start, keep = cut
                width, height = image.size
                box = (start, 0, start + keep, height) if width >= height else (0, start, width, start + keep)
                image = image.crop(box)
        tensor = self.pipeline.fn(image)
        if self.renormalise:  # the library's normalisation undone, the spec's applied (the preprocessing check)
            own_mean, own_std = _column(self.pipeline.mean, tensor), _column(self.pipeline.std, tensor)
            mean, std = _column(self.pre.mean, tensor), _column(self.pre.std, tensor)
            tensor = (tensor * own_std + own_mean - mean) / std
        return tensor


def _column(values: tuple[float, ...], like: Tensor) -> Tensor:
    return torch.tensor(values, dtype=like.dtype).view(-1, 1, 1)


@functools.lru_cache(maxsize=64)
def _compose(pre: Preprocessing) -> Callable[[Image.Image], Tensor]:
    """`pre` as a transform; cached by the (frozen, hashable) spec, so built once per model."""
    if pre.pipeline is not None:
        return _LibraryTransform(pre, pre.pipeline)
    steps: list[v2.Transform] = [v2.ToImage()]
    if pre.grayscale:
        steps.append(v2.Grayscale(num_output_channels=1))
    interpolation = _INTERPOLATION[pre.interpolation]
    if pre.squash:
        steps += [
            v2.Resize((pre.resize, pre.resize), interpolation=interpolation, antialias=True),
            v2.CenterCrop(pre.crop),
        ]
    else:
        steps += [
            _CapLongSide(resize=pre.resize, crop=pre.crop),
            v2.Resize(pre.resize, interpolation=interpolation, antialias=True),
            v2.CenterCrop(pre.crop),
        ]
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(pre.mean), list(pre.std))]
    compose: Callable[[Image.Image], Tensor] = v2.Compose(steps)
    return compose


def normalisation_variants(pre: Preprocessing) -> dict[str, Preprocessing]:
    """The model's own normalisation next to the two most common wrong ones (ImageNet stats, none)."""
    return {
        "model's own": pre,
        "ImageNet mean/std": pre.with_normalisation(IMAGENET_MEAN[: len(pre.mean)], IMAGENET_STD[: len(pre.std)]),
        "no normalisation": pre.with_normalisation((0.0,) * len(pre.mean), (1.0,) * len(pre.std)),
    }
