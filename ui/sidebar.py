"""The shared sidebar: UI language, model (or the user's own), backend and labels. Every page calls it.

The user's own model is an upload (a .zip of a transformers or timm folder, an .onnx file, or a weights file with
its architecture) or, where the server's operator lists folders in LOGITSCOPE_MODEL_ROOTS, a local path under them.

Streamlit forgets a widget's value when the page that drew it changes, so each choice is kept in a
plain session-state key and the widget is re-seeded from it on every page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.backends.choose import backend_info
from core.config import BACKENDS, DEFAULT_BACKEND, SETTINGS
from core.i18n import LANGUAGES, escape_markdown, t
from core.label_formats import LABEL_FILE_TYPES
from core.models.checkpoint import CHECKPOINT_SUFFIXES, checkpoint_architectures
from core.models.onnx_file import NORMALIZE_PRESETS
from core.models.reference import MODEL_ROOTS_ENV
from core.models.registry import get_spec, list_models
from core.models.spec import LoadedModel
from core.models.timm_hub import timm_architectures

CHECKPOINT = "__checkpoint__"  # the model choice "your own model" (its key predates zips and ONNX files)
LABEL_MODES = ("en", "zh", "both", "file")
OWN_MODEL_TYPES = ["zip", "onnx", *(s.lstrip(".") for s in CHECKPOINT_SUFFIXES)]
CUSTOM_NORMALIZE = "custom"


@dataclass(frozen=True)
class Upload:
    """An uploaded file's name and bytes (plain values, safe to keep in session state).

    `file_id` is the id Streamlit gave that upload: unique per upload, so it keys caches of what was
    built from the bytes (a checkpoint's model) without hashing them on every rerun.
    """

    name: str
    data: bytes
    file_id: str = ""


@dataclass(frozen=True)
class SidebarControls:
    """What the shared sidebar decided.

    Attributes:
        lang: UI language, "en" or "zh".
        model_name: registry name of the chosen model, or CHECKPOINT for the user's own.
        label_mode: "en", "zh", "both" (the other language in a second column) or "file".
        checkpoint_arch: architecture for the user's bare weights file.
        checkpoint: the user's uploaded model file (a .zip, an .onnx, a weights file), if any.
        label_file: the uploaded label file, if any.
        backend: what runs the model: "auto", "torch" or "onnxruntime" (`core.backends`).
        normalize: an ONNX file's normalisation preset (`core.models.onnx_file.parse_normalize`).
        local_path: the user's model as a path on the server ("" when none; only where the operator allows it).
    """

    lang: str
    model_name: str
    label_mode: str
    checkpoint_arch: str = "resnet18"
    checkpoint: Upload | None = None
    label_file: Upload | None = None
    backend: str = DEFAULT_BACKEND
    normalize: str | None = None
    local_path: str = ""

    @property
    def uses_checkpoint(self) -> bool:
        return self.model_name == CHECKPOINT


def persistent_key(key: str, default: object, *, widget_key: str | None = None) -> str:
    """Seed the widget's key (default `_w_<key>`) from the kept value `key`; returns the widget key."""
    st.session_state.setdefault(key, default)
    widget_key = widget_key or f"_w_{key}"
    st.session_state[widget_key] = st.session_state[key]
    return widget_key


def keep(key: str, widget_key: str | None = None) -> None:
    """on_change callback: copy the widget's value back to the kept value `key`."""
    st.session_state[key] = st.session_state[widget_key or f"_w_{key}"]


@st.cache_data(show_spinner=False)
def _model_choices(lang: str) -> dict[str, str]:
    choices = {}
    for name in list_models():
        status = get_spec(name).availability()
        choices[name] = name if status.available else f"{name} · {t('sidebar.not_downloaded', lang)}"
    choices[CHECKPOINT] = t("sidebar.checkpoint", lang)
    return choices


def _upload(label: str, types: list[str], key: str, help_text: str) -> Upload | None:
    """A file uploader whose last file is kept in session state across pages.

    The bytes are copied once per upload (its file id), not on every rerun: a checkpoint can be 100 MB.
    """
    file = st.file_uploader(label, type=types, key=f"_w_{key}", help=help_text)
    kept: Upload | None = st.session_state.get(key)
    if file is not None and (kept is None or kept.file_id != file.file_id):
        kept = st.session_state[key] = Upload(file.name, file.getvalue(), file.file_id)
    return kept


def _through_the_router() -> None:
    """Make sure the page runs under app.py's `st.navigation`.

    A `pages/` folder next to app.py puts a fresh Streamlit process in its old multipage mode until app.py
    has run once: the first visit to a page's own URL (a shared Lab link, a bookmark) would run that file
    alone, without the router's menu titles or page config. The flag is Streamlit's, process-wide; once
    cleared, the rerun goes through app.py and lands on the same page (same url path, same page hash).
    """
    if PagesManager.uses_pages_directory and st.session_state.get("_router_checked") is None:
        st.session_state["_router_checked"] = True  # at most once per session, whatever happens
        PagesManager.uses_pages_directory = False
        st.rerun()


def shared_sidebar() -> SidebarControls:
    """Draw the sidebar common to every page and return its values."""
    _through_the_router()
    with st.sidebar:
        st.radio(
            "Language / 语言",
            list(LANGUAGES),
            key=persistent_key("lang", "en"),
            format_func=LANGUAGES.__getitem__,
            horizontal=True,
            on_change=keep,
            args=("lang",),
        )
        lang = st.session_state["lang"]
        choices = _model_choices(lang)
        st.selectbox(
            t("sidebar.model", lang),
            list(choices),
            key=persistent_key("model", SETTINGS.default_model),
            format_func=choices.__getitem__,
            on_change=keep,
            args=("model",),
            help=t("sidebar.model_help", lang),
        )
        checkpoint, normalize, local_path = None, None, ""
        arch = st.session_state.get("checkpoint_arch", "resnet18")
        if st.session_state["model"] == CHECKPOINT:
            checkpoint, arch, normalize, local_path = _own_model_inputs(lang)
        st.radio(
            t("sidebar.backend", lang),
            BACKENDS,
            key=persistent_key("backend", DEFAULT_BACKEND),
            horizontal=True,
            format_func=lambda name: t(f"sidebar.backend.{name}", lang),
            on_change=keep,
            args=("backend",),
            help=t("sidebar.backend_help", lang),
        )
        st.radio(
            t("sidebar.labels", lang),
            LABEL_MODES,
            key=persistent_key("label_mode", "en"),
            horizontal=True,
            format_func=lambda mode: t(f"sidebar.labels.{mode}", lang),
            on_change=keep,
            args=("label_mode",),
        )
        label_file = None
        if st.session_state["label_mode"] == "file":
            label_file = _upload(
                t("sidebar.label_file", lang),
                list(LABEL_FILE_TYPES),
                "label_upload",
                t("sidebar.label_file_help", lang),
            )
    return SidebarControls(
        lang,
        st.session_state["model"],
        st.session_state["label_mode"],
        arch,
        checkpoint,
        label_file,
        st.session_state["backend"],
        normalize,
        local_path,
    )


@st.cache_data(show_spinner=False)
def _architectures() -> list[str]:
    """What a bare weights file may be loaded into: torchvision's names, efficientnet_lite0, then timm's."""
    return [*checkpoint_architectures(), *timm_architectures()]


def _own_model_inputs(lang: str) -> tuple[Upload | None, str, str | None, str]:
    """The user's own model: an upload (and a local path where the operator allows one), an architecture for a bare
    weights file, a normalisation for an ONNX file. Returns (upload, architecture, normalisation, local path)."""
    roots = os.environ.get(MODEL_ROOTS_ENV, "").strip()
    local_path = ""
    if roots:
        local_path = st.text_input(
            t("own.path", lang),
            key=persistent_key("own_model_path", ""),
            on_change=keep,
            args=("own_model_path",),
            help=t("own.path_help", lang, roots=roots),
        ).strip()
    upload = _upload(
        t("sidebar.checkpoint_file", lang), OWN_MODEL_TYPES, "checkpoint_upload", t("own.upload_help", lang)
    )
    name = (local_path or (upload.name if upload else "")).lower()
    arch = st.session_state.get("checkpoint_arch", "resnet18")
    if not name or name.endswith(CHECKPOINT_SUFFIXES):  # a bare weights file: which architecture
        arch = st.selectbox(
            t("sidebar.arch", lang),
            _architectures(),
            key=persistent_key("checkpoint_arch", "resnet18"),
            on_change=keep,
            args=("checkpoint_arch",),
            help=t("own.arch_help", lang),
        )
    normalize = None
    if name.endswith(".onnx"):
        presets = [*NORMALIZE_PRESETS, CUSTOM_NORMALIZE]
        normalize = st.selectbox(
            t("own.normalize", lang),
            presets,
            key=persistent_key("own_normalize", presets[0]),
            format_func=lambda preset: t(f"own.normalize.{preset}", lang),
            on_change=keep,
            args=("own_normalize",),
            help=t("own.normalize_help", lang),
        )
        if normalize == CUSTOM_NORMALIZE:
            normalize = st.text_input(
                t("own.normalize_custom", lang),
                key=persistent_key("own_normalize_custom", "0.5,0.5,0.5/0.5,0.5,0.5"),
                on_change=keep,
                args=("own_normalize_custom",),
            )
    st.caption(t("own.link_note", lang))
    return upload, arch, normalize, local_path


def chosen_backend() -> str:
    """The backend the sidebar's radio chose ("auto" before the sidebar has run)."""
    return str(st.session_state.get("backend", DEFAULT_BACKEND))


def backend_caption(model: LoadedModel, lang: str) -> str:
    """The sidebar's line on what runs `model`: "onnxruntime · max |Δlogit| 5e-06 vs torch", or torch and why."""
    info = backend_info(model)
    if info.name == "onnxruntime" and info.max_abs_dlogit is not None:
        return t("sidebar.backend.runs_onnx", lang, delta=f"{info.max_abs_dlogit:.0e}")
    if info.name == "onnxruntime":  # an ONNX file: its own graph, nothing to verify against
        return t("own.backend.onnx_file", lang)
    line = t("sidebar.backend.runs_torch", lang)
    return f"{line} · {t('sidebar.backend.fallback', lang, reason=info.reason)}" if info.reason else line


def show_backend(model: LoadedModel, lang: str) -> None:
    """Write `backend_caption` at the foot of the sidebar (plain text: a reason may quote a file name)."""
    st.sidebar.caption(escape_markdown(backend_caption(model, lang)))
