"""The cached model loaders and the bounded per-(model, image) logits cache.

Sliders (k, temperature, softmax/sigmoid) never re-run the model: logits are cached by
(model key, image bytes); everything after the logits is recomputed on each rerun, which is cheap.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch

from core import SETTINGS, LoadedModel, LogitscopeError, decode_image, load_model, predict
from core.checkpoint import load_checkpoint
from core.i18n import t
from ui.sidebar import SidebarControls


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def get_model(name: str) -> LoadedModel:
    """Build a registry model once per process; shared read-only by every session."""
    return load_model(name)


@st.cache_resource(show_spinner="Loading your checkpoint…", max_entries=2)
def _checkpoint_model(arch: str, file_id: str, filename: str, _data: bytes) -> LoadedModel:
    """`file_id` (unique per upload) stands for the bytes: a rerun never copies or hashes them."""
    return load_checkpoint(arch, _data, filename)


def current_model(controls: SidebarControls) -> LoadedModel:
    """The model the sidebar chose; raises LogitscopeError with a message when it cannot be had."""
    if controls.uses_checkpoint:
        upload = controls.checkpoint
        if upload is None:
            raise LogitscopeError(t("sidebar.no_checkpoint", controls.lang))
        # an Upload made without a file id (a test, a script) falls back to its content's digest
        file_id = upload.file_id or hashlib.sha256(upload.data).hexdigest()
        return _checkpoint_model(controls.checkpoint_arch, file_id, upload.name, upload.data)
    return get_model(controls.model_name)


@st.cache_data(show_spinner=False, max_entries=SETTINGS.logits_cache_entries)
def cached_logits(model_key: str, image_bytes: bytes, file_name: str, _model: LoadedModel) -> np.ndarray:
    """Logits of one image as a float32 array, cached by (model key, image bytes, name).

    `_model` is not hashed: `model_key` (the spec name, which includes a checkpoint's digest) stands for it.
    Raises core.ImageError for a bad file.
    """
    decoded = decode_image(image_bytes, file_name)
    return predict(_model, [decoded.image])[0].numpy()


def as_tensor(logits: np.ndarray) -> torch.Tensor:
    """A tensor copy of cached logits (the cached array itself is never modified)."""
    return torch.from_numpy(np.array(logits, copy=True))
