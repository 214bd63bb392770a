"""Configuration of the library: limits and defaults, in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# what may run a model (`core.backends.choose`): the CLI's and the UI's choices, "auto" by default
BACKENDS: Final = ("auto", "torch", "onnxruntime")
DEFAULT_BACKEND: Final = "auto"


@dataclass(frozen=True)
class Settings:
    """Limits and defaults shared by the UI and the CLI.

    Attributes:
        max_image_pixels: images larger than this are refused before decoding (decompression bombs).
        max_upload_bytes: largest single file the library accepts.
        default_model: the model used when none is named; works offline.
        default_top_k: how many classes the top-k views show by default.
        claims_tolerance: absolute difference under which a claimed probability counts as right.
        claims_sum_tolerance: how far from 1 the sum of claimed probabilities may be for one softmax.
        analysis_cache_bytes: memory budget of the UI's per-(model, image) analysis cache, shared by every
            session (decoded images, inputs, logits; `core.analysis.result_nbytes`); least recently used first out.
        max_logits: most classes the Logits Lab accepts.
    """

    max_image_pixels: int = 50_000_000
    max_upload_bytes: int = 200 * 1024 * 1024
    default_model: str = "efficientnet_lite0"
    default_top_k: int = 5
    claims_tolerance: float = 5e-3
    claims_sum_tolerance: float = 0.01
    analysis_cache_bytes: int = 1024 * 1024 * 1024
    max_logits: int = 10_000


SETTINGS = Settings()
