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
from dataclasses import dataclass

import streamlit as st
import torch
from cachetools import LRUCache

from core.analysis import ImageResult, analyse, analyse_with, normalisation_logits, result_nbytes
from core.attribution import grad_cam
from core.backends.choose import with_backend
from core.config import DEFAULT_BACKEND, SETTINGS
from core.errors import CheckpointError, LogitscopeError
from core.i18n import escape_markdown, t
from core.inference import warm_up
from core.models.checkpoint import CHECKPOINT_SUFFIXES
from core.models.reference import (
    allowed_local_path,
    describe_model,
    model_from_upload,
    path_stamp,
    resolve_model,
)
from core.models.registry import load_model
from core.models.spec import LoadedModel
from ui.sidebar import CHECKPOINT, SidebarControls, Upload, show_backend

_LAST_GOOD = "_model_last_good"  # session state: the `_Choice` of the last model that loaded


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


@st.cache_resource(show_spinner="Loading your model…", max_entries=2)
def _own_model(
    key: str, name: str, arch: str | None, normalize: str | None, backend: str, _data: bytes
) -> LoadedModel | str:
    """An uploaded model (`key`, unique per upload, stands for the bytes: a rerun never copies or hashes them), or
    the message saying why it cannot be used: a failure is cached like a success, not retried on every rerun."""
    try:
        return with_backend(load_model(model_from_upload(name, _data, arch=arch, normalize=normalize)), backend)
    except LogitscopeError as exc:
        return str(exc)


@st.cache_resource(show_spinner="Loading your model…", max_entries=2)
def _path_model(path: str, stamp: str, arch: str | None, normalize: str | None, backend: str) -> LoadedModel | str:
    """A model under the operator's LOGITSCOPE_MODEL_ROOTS (`stamp`: its files' sizes and times, so files changed
    in place are read again), or the message saying why it cannot be used."""
    try:
        return with_backend(load_model(resolve_model(path, arch=arch, normalize=normalize)), backend)
    except LogitscopeError as exc:
        return str(exc)


@dataclass(frozen=True)
class _Choice:
    """What the sidebar asked for, as plain values (kept in session state as the last model that loaded)."""

    name: str
    upload: Upload | None = None
    path: str = ""
    arch: str | None = None
    normalize: str | None = None


def _choice(controls: SidebarControls) -> _Choice:
    if not controls.uses_checkpoint:
        return _Choice(controls.model_name)
    weights = (controls.local_path or (controls.checkpoint.name if controls.checkpoint else "")).lower()
    arch = controls.checkpoint_arch if weights.endswith(CHECKPOINT_SUFFIXES) else None
    if controls.local_path:
        return _Choice(CHECKPOINT, path=controls.local_path, arch=arch, normalize=controls.normalize)
    return _Choice(CHECKPOINT, upload=controls.checkpoint, arch=arch, normalize=controls.normalize)


def _load(choice: _Choice, backend: str, lang: str) -> LoadedModel:
    if choice.name != CHECKPOINT:
        return get_model(choice.name, backend)
    if choice.path:
        allowed = allowed_local_path(choice.path)  # before anything looks at the path
        if not allowed.exists():
            raise CheckpointError(f"{choice.path}: no such file or folder")
        loaded = _path_model(str(allowed), path_stamp(allowed), choice.arch, choice.normalize, backend)
    elif choice.upload is None:
        raise LogitscopeError(t("sidebar.no_checkpoint", lang))
    else:
        upload = choice.upload
        # an Upload made without a file id (a test, a script) falls back to its content's digest
        key = upload.file_id or hashlib.sha256(upload.data).hexdigest()
        loaded = _own_model(key, upload.name, choice.arch, choice.normalize, backend, upload.data)
    if isinstance(loaded, str):
        raise CheckpointError(loaded)
    return loaded


def current_model(controls: SidebarControls) -> LoadedModel:
    """The model the sidebar chose, on the backend it chose (and the sidebar says what runs it, and what was found
    in a user's model). When it cannot be had, the sidebar says why and the last model that loaded stays; with none
    before it, raises LogitscopeError with the message."""
    choice = _choice(controls)
    try:
        model = _load(choice, controls.backend, controls.lang)
        st.session_state[_LAST_GOOD] = choice
    except LogitscopeError as exc:
        previous: _Choice | None = st.session_state.get(_LAST_GOOD)
        if previous is None or previous == choice:
            raise
        model = _load(previous, controls.backend, controls.lang)
        message = escape_markdown(t("own.kept", controls.lang, error=str(exc), name=model.spec.name))
        if choice.name == CHECKPOINT and choice.upload is None and not choice.path:
            st.sidebar.info(message, icon=":material/upload:")  # nothing uploaded yet: not an error
        else:
            st.sidebar.error(message, icon=":material/error:")
    if model.spec.user_model:
        show_found(model, controls.lang)
    show_backend(model, controls.lang)
    return model


def show_found(model: LoadedModel, lang: str) -> None:
    """What was found in a user's model, in the sidebar: `models --describe`'s description, and its notes."""
    described = describe_model(model.spec)
    with st.sidebar.expander(t("own.found", lang, title=model.spec.title)):
        for key in ("kind", "architecture", "classes", "input_size", "normalisation", "labels_source", "preprocessing"):
            st.caption(f"{t(f'own.field.{key}', lang)}: {escape_markdown(str(described[key]))}")
    for note in described["notes"]:  # type: ignore[attr-defined]
        st.sidebar.info(escape_markdown(str(note)), icon=":material/info:")


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
