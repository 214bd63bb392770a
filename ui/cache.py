"""The cached model loaders and the bounded per-(model, image) caches of the one image path.

Each image is analysed once per (model key, image key) by `core.analysis.analyse` (decode, input tensor,
one forward pass); a bad file is a result too, cached like a good one. The extras (preprocessing check,
Grad-CAM, a second model) start from that result's decoded image or input tensor and are cached the same
way. Sliders (k, temperature, softmax/sigmoid) never re-run the model: everything after the logits is
recomputed on each rerun, which is cheap.

These caches are shared by all sessions (no pickled copy on every read): the keys are content digests, and
no caller mutates a cached result, tensor or image. The analyses are bounded by memory, not by count
(`SETTINGS.analysis_cache_bytes`, a size-aware LRU from cachetools): one 12-megapixel phone photo holds about
37 MB, a sample image under 2 MB, so a count would either waste memory or not bound it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Hashable

import streamlit as st
import torch
from cachetools import LRUCache

from core.analysis import ImageResult, analyse, analyse_with, normalisation_logits, result_nbytes
from core.attribution import grad_cam
from core.backends.choose import with_backend
from core.config import DEFAULT_BACKEND, SETTINGS
from core.errors import LogitscopeError
from core.i18n import t
from core.inference import warm_up
from core.models.checkpoint import load_checkpoint
from core.models.registry import load_model
from core.models.spec import LoadedModel
from ui.sidebar import SidebarControls, show_backend


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _torch_model(name: str) -> LoadedModel:
    """A registry model's torch module, built once per process whichever backends run it."""
    return load_model(name)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def get_model(name: str, backend: str = DEFAULT_BACKEND) -> LoadedModel:
    """A registry model on `backend`, once per process and backend (the first time: export and verify, cached
    on disk), sharing one torch module; shared read-only by every session. Warmed by one blank forward pass
    (LOGITSCOPE_WARM_START=0: not)."""
    model = with_backend(_torch_model(name), backend)
    if os.environ.get("LOGITSCOPE_WARM_START", "1") != "0":
        warm_up(model)
    return model


@st.cache_resource(show_spinner="Loading your checkpoint…", max_entries=2)
def _checkpoint_model(arch: str, file_id: str, filename: str, backend: str, _data: bytes) -> LoadedModel:
    """`file_id` (unique per upload) stands for the bytes: a rerun never copies or hashes them."""
    return with_backend(load_checkpoint(arch, _data, filename), backend)


def current_model(controls: SidebarControls) -> LoadedModel:
    """The model the sidebar chose, on the backend it chose (and the sidebar says what runs it);
    raises LogitscopeError with a message when it cannot be had."""
    if controls.uses_checkpoint:
        upload = controls.checkpoint
        if upload is None:
            raise LogitscopeError(t("sidebar.no_checkpoint", controls.lang))
        # an Upload made without a file id (a test, a script) falls back to its content's digest
        file_id = upload.file_id or hashlib.sha256(upload.data).hexdigest()
        model = _checkpoint_model(controls.checkpoint_arch, file_id, upload.name, controls.backend, upload.data)
    else:
        model = get_model(controls.model_name, controls.backend)
    show_backend(model, controls.lang)
    return model


def model_key(model: LoadedModel) -> str:
    """What identifies a model's outputs: its spec name (a checkpoint's includes its digest) and backend."""
    backend = model.backend.info.name if model.backend is not None else "torch"
    return f"{model.spec.name}@{backend}"


# ---------------------------------------------------------------- the one image path
class _Analyses:
    """The analysis cache: a thread-safe LRU over (model key, image key, name), bounded by `result_nbytes`.

    Two sessions asking for the same image at once analyse it once (a lock per key while it is computed).
    A result larger than the whole budget is returned and not kept.
    """

    def __init__(self, max_bytes: int) -> None:
        self._results: LRUCache[Hashable, ImageResult] = LRUCache(maxsize=max_bytes, getsizeof=result_nbytes)
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def __call__(self, model_id: str, image_key: str, name: str, _model: LoadedModel, _data: bytes) -> ImageResult:
        """`core.analysis.analyse` once per (model, image bytes, name); errors are cached results too.

        `model_id` (`model_key`) stands for `_model` and `image_key` (the bytes' digest) for `_data`.
        """
        key = (model_id, image_key, name)
        with self._lock:
            found = self._results.get(key)
            if found is not None:
                return found
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            try:
                with self._lock:
                    found = self._results.get(key)
                if found is None:
                    found = analyse(_model, name, _data, key=image_key)
                    with self._lock, contextlib.suppress(ValueError):  # ValueError: larger than the whole budget
                        self._results[key] = found
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return found

    def clear(self) -> None:
        with self._lock:
            self._results.clear()

    @property
    def nbytes(self) -> int:
        """What the kept results hold now, in `result_nbytes`."""
        with self._lock:
            return int(self._results.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._results)


analysed = _Analyses(SETTINGS.analysis_cache_bytes)


@st.cache_resource(show_spinner=False, max_entries=32)
def analysed_with(model_id: str, image_key: str, name: str, _model: LoadedModel, _result: ImageResult) -> ImageResult:
    """The same image through a second model (the compare tab), from the decoded image: no new decode."""
    return analyse_with(_model, _result)


@st.cache_resource(show_spinner=False, max_entries=32)
def variant_logits(model_id: str, image_key: str, _model: LoadedModel, _result: ImageResult) -> dict[str, torch.Tensor]:
    """Logits under the three normalisations of the preprocessing check (the own one reused: 2 forward passes)."""
    assert _result.image is not None  # only asked for a good result
    return normalisation_logits(_model, _result.image, own_input=_result.input, own_logits=_result.logits)


@st.cache_resource(show_spinner=False, max_entries=64)
def gradcam(model_id: str, image_key: str, target: int, _model: LoadedModel, _result: ImageResult) -> torch.Tensor:
    """The Grad-CAM map (H, W) in [0, 1] of class `target` on the result's exact model input."""
    assert _result.input is not None  # only asked for a good result
    return grad_cam(_model, _result.input, target)
