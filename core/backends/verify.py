"""Checking an export against torch: the probe batch, the tolerance and the verdict stored with the file.

An export may stand for torch only when, on real sample photos and seeded random inputs, its logits are
within 1e-4 of the logits' scale and give the same top-5 (and, for an export with features, its features
are within 1e-4 of theirs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image
from torch import Tensor

from core.models.spec import LoadedModel
from core.samples import sample_images

RELATIVE_TOLERANCE = 1e-4  # of max(1, max |value|): fp32 reorderings move logits by ~1e-6 of their scale
TOP_K = 5
PROBE_SAMPLES = 4  # real photos in the probe batch
PROBE_RANDOM = 3  # seeded random inputs beside them
PROBE_SEED = 0


@dataclass(frozen=True)
class Verdict:
    """The outcome of exporting and verifying one model, stored as JSON beside its .onnx file.

    Attributes:
        key: the cache key it belongs to (model name, weights hash, versions).
        ok: whether the export may be used.
        max_abs_dlogit: largest |ONNX Runtime logit - torch logit| over the probe batch.
        scale: largest |torch logit| over the probe batch (the tolerance is relative to it).
        top5_equal: whether every probe input got the same top-5 classes.
        reason: why it failed ("" when ok).
        exporter: "legacy" (TorchScript tracing) or "dynamo" (torch.export).
        onnx_sha256: hash of the .onnx file's bytes ("" when there is none): a changed file is stale.
        max_abs_dfeature: for an export with features, largest |feature difference| (NaN otherwise).
    """

    key: str
    ok: bool
    max_abs_dlogit: float = float("nan")
    scale: float = float("nan")
    top5_equal: bool = False
    reason: str = ""
    exporter: str = ""
    onnx_sha256: str = ""
    max_abs_dfeature: float = float("nan")


def input_shape(model: LoadedModel) -> tuple[int, int, int]:
    """(channels, height, width) of one preprocessed input of `model`."""
    pre = model.spec.preprocessing
    return (1 if pre.grayscale else 3, pre.crop, pre.crop)


def probe_batch(model: LoadedModel, *, samples: int = PROBE_SAMPLES, random: int = PROBE_RANDOM) -> Tensor:
    """Real sample photos through the model's preprocessing, then seeded standard-normal inputs."""
    pre = model.spec.preprocessing
    transform = pre.transform()
    inputs: list[Tensor] = []
    for sample in sample_images()[:samples]:
        with Image.open(sample.path) as image:
            inputs.append(transform(image.convert("RGB")))
    generator = torch.Generator().manual_seed(PROBE_SEED)
    inputs += list(torch.randn((random, *input_shape(model)), generator=generator))
    return torch.stack(inputs)


def compare_logits(reference: Tensor, candidate: Tensor, *, key: str = "") -> Verdict:
    """Whether `candidate` logits may stand for `reference` (torch's): within tolerance, the same top-5.

    A top-5 difference counts only when the swapped classes' torch logits differ by more than the tolerance
    (two classes tied to 1e-6 may come out in either order from any two fp32 computations).
    """
    if candidate.shape != reference.shape:
        return Verdict(key, False, reason=f"output shape {tuple(candidate.shape)}, torch {tuple(reference.shape)}")
    ref, cand = reference.double(), candidate.double()
    if not bool(torch.isfinite(cand).all()):
        return Verdict(key, False, reason="onnxruntime returned NaN or infinite logits")
    delta = float((cand - ref).abs().max())
    scale = float(ref.abs().max())
    tolerance = RELATIVE_TOLERANCE * max(1.0, scale)
    k = min(TOP_K, ref.shape[1])
    ref_top, cand_top = ref.topk(k, dim=1).indices, cand.topk(k, dim=1).indices
    gap = (ref.gather(1, ref_top) - ref.gather(1, cand_top)).abs()
    top_equal = bool(((ref_top == cand_top) | (gap <= tolerance)).all())
    ok = delta <= tolerance and top_equal
    reason = ""
    if not ok:
        reason = (
            f"verification against torch failed: max |Δlogit| {delta:.2g} (tolerance {tolerance:.2g}), "
            f"top-{k} {'identical' if top_equal else 'different'}"
        )
    return Verdict(key, ok, delta, scale, top_equal, reason)


def feature_deviation(reference: Tensor, candidate: Tensor) -> tuple[float, str]:
    """The max |Δfeature| of `candidate` against torch's `reference`, and why it may not be used ("" if it may)."""
    if candidate.shape != reference.shape:
        return float("nan"), f"features of shape {tuple(candidate.shape)}, torch {tuple(reference.shape)}"
    ref, cand = reference.double(), candidate.double()
    if not bool(torch.isfinite(cand).all()):
        return float("nan"), "onnxruntime returned NaN or infinite features"
    delta = float((cand - ref).abs().max())
    tolerance = RELATIVE_TOLERANCE * max(1.0, float(ref.abs().max()))
    if delta > tolerance:
        return delta, f"features differ from torch's: max |Δ| {delta:.2g} (tolerance {tolerance:.2g})"
    return delta, ""
