"""The one cached model loader, and the bounded per-(model, image) logits cache.

Sliders (k, temperature, softmax/sigmoid) never re-run the model: logits are cached by
(model name, image bytes); everything after the logits is recomputed on each rerun, which is cheap.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from core import SETTINGS, LoadedModel, decode_image, load_model, predict


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def get_model(name: str) -> LoadedModel:
    """Build a registry model once per process; shared read-only by every session."""
    return load_model(name)


@st.cache_data(show_spinner=False, max_entries=SETTINGS.logits_cache_entries)
def cached_logits(model_name: str, image_bytes: bytes, file_name: str = "image") -> np.ndarray:
    """Logits of one image as a float32 array (raises core.ImageError for a bad file)."""
    decoded = decode_image(image_bytes, file_name)
    logits = predict(get_model(model_name), [decoded.image])[0]
    return logits.numpy()


def as_tensor(logits: np.ndarray) -> torch.Tensor:
    """A tensor view of cached logits (the cached array itself is never modified)."""
    return torch.from_numpy(np.array(logits, copy=True))
