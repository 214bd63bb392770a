"""UI helpers of the Image Inspector page: its controls, its image inputs, its labels and table columns.

Each helper returns plain values (a dataclass, a list of `ImageInput`); the page passes them to `core`
through the caches of `ui.cache`. Widget values the page must remember across pages live in
"inspector_*" session-state keys, and the widgets are re-seeded from them (Streamlit forgets a widget's
value once its page is left). An image handed over by another page ("inspector_handoff": {"name",
"bytes"}) joins the inputs and is the one whose details show.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import streamlit as st

from core.analysis import ImageResult, digest
from core.i18n import escape_markdown, t
from core.image_formats import EXPLAINED_UPLOAD_TYPES, FORMAT_NAMES, UPLOAD_TYPES
from core.images import decode_image, image_bytes, thumbnail
from core.models.labels import choose_labels, spec_labels
from core.models.spec import LoadedModel, ModelSpec
from core.numerics import ScoreKind, temperature_options
from core.samples import sample_images
from ui.cache import analysed, model_key
from ui.explorer import ExplorerState
from ui.navigation import INSPECTOR_HANDOFF
from ui.sidebar import SidebarControls, keep, persistent_key

K_RANGE = (1, 20)
DEFAULT_K = 5
DEFAULT_SAMPLE = "coffee"
TEMPERATURES = temperature_options()


@dataclass(frozen=True)
class InspectorControls:
    """The page's own knobs (none of them re-runs the model).

    Attributes:
        k: how many top classes to show (1-20), as the page keeps it.
        temperature: T of softmax(z / T), as the page keeps it.
        scores: "softmax" (one distribution) or "sigmoid" (independent per-class scores).
    """

    k: int
    temperature: float
    scores: ScoreKind


@dataclass(frozen=True)
class ImageInput:
    """One image to analyse: its name, its bytes and their digest, computed once when it arrived."""

    name: str
    data: bytes = field(repr=False)
    key: str

    @classmethod
    def of(cls, name: str, data: bytes) -> ImageInput:
        return cls(name, data, digest(data))


@dataclass(frozen=True)
class Names:
    """The class names the page shows.

    Attributes:
        labels: one name per class in the chosen language (or the user's file).
        other: the other language's names ("both" mode), else None.
        search: every list a class is known by, for the "what about class X?" search.
    """

    labels: list[str]
    other: list[str] | None
    search: list[list[str] | None]

    @cached_property
    def shown(self) -> list[str]:
        """One name per class as a table cell shows it: both languages ("espresso · 浓咖啡") when both are chosen."""
        if self.other is None:
            return self.labels
        return [f"{a} · {b}" if b and b != a else a for a, b in zip(self.labels, self.other, strict=False)]

    @cached_property
    def key(self) -> str:
        """A digest of the names shown: what, with the model and the image, identifies a table's text."""
        return hashlib.sha256("\0".join(self.shown).encode("utf-8")).hexdigest()


def _widget(key: str) -> str:
    return key.replace("inspector_", "inspector_w_", 1)  # "inspector_k" is kept, "inspector_w_k" is the widget


def _seed(key: str, default: object) -> str:
    return persistent_key(key, default, widget_key=_widget(key))


def _keep(key: str) -> None:
    keep(key, _widget(key))


def inspector_controls(lang: str) -> InspectorControls:
    """Softmax or sigmoid, in the sidebar under the shared controls; k and T as the page keeps them.

    The page's one k and T live in "inspector_k" and "inspector_temperature": a link seeds them, and the control
    beside the table moves them (the explorer in the softmax view, `sigmoid_knobs` in the sigmoid view).
    """
    st.session_state.setdefault("inspector_k", DEFAULT_K)
    st.session_state.setdefault("inspector_temperature", 1.0)
    with st.sidebar:
        st.divider()
        st.subheader(t("inspector.controls", lang))
        scores = st.segmented_control(
            t("inspector.scores", lang),
            ["softmax", "sigmoid"],
            key=_seed("inspector_scores", "softmax"),
            format_func=lambda s: t(f"inspector.scores.{s}", lang),
            on_change=_keep,
            args=("inspector_scores",),
            required=True,
            help=t("inspector.scores_help", lang),
        )
        if scores == "sigmoid":
            st.caption(t("inspector.sigmoid_note", lang))
    ss = st.session_state
    return InspectorControls(
        int(ss["inspector_k"]), float(ss["inspector_temperature"]), "sigmoid" if scores == "sigmoid" else "softmax"
    )


def sigmoid_knobs(knobs: InspectorControls, lang: str) -> InspectorControls:
    """The sigmoid view's k and T (the explorer computes softmax only): sliders on the server, same kept values."""
    temperature_column, k_column = st.columns([3, 1], vertical_alignment="bottom")
    temperature = temperature_column.select_slider(
        t("inspector.temperature", lang),
        temperature_options(include=(knobs.temperature,)),  # a T typed in the explorer is kept exactly
        key=_seed("inspector_temperature", 1.0),
        format_func=lambda v: f"{v:g}",
        on_change=_keep,
        args=("inspector_temperature",),
        help=t("inspector.temperature_help", lang),
    )
    k = k_column.slider(
        t("inspector.k", lang),
        *K_RANGE,
        key=_seed("inspector_k", DEFAULT_K),
        on_change=_keep,
        args=("inspector_k",),
        help=t("inspector.k_help", lang),
    )
    return replace(knobs, k=int(k), temperature=float(temperature))


def keep_knobs(knobs: InspectorControls, state: ExplorerState) -> InspectorControls:
    """The settings the user left the explorer at become the page's k and T (links, downloads, charts follow)."""
    st.session_state["inspector_temperature"] = state.temperature
    st.session_state["inspector_k"] = state.k
    return replace(knobs, k=state.k, temperature=state.temperature)


def class_names(controls: SidebarControls, spec: ModelSpec) -> Names:
    """The labels the sidebar chose for this model (a warning when a label file does not fit)."""
    label_file = controls.label_file
    choice = choose_labels(
        spec,
        controls.label_mode,
        file_data=label_file.data if label_file else None,
        file_name=label_file.name if label_file else "labels.txt",
    )
    if choice.warning:
        st.warning(escape_markdown(choice.warning), icon=":material/label_off:")
    # every name a class is known by, for the "what about class X?" search (English and Chinese both)
    search = [choice.labels, spec_labels(spec, "en"), spec_labels(spec, "zh") if spec.label_set else None]
    return Names(choice.labels, choice.other, search)


# ---------------------------------------------------------------- image inputs
def _store_uploads() -> None:
    files = st.session_state.get("inspector_w_uploads") or []
    st.session_state["inspector_uploads"] = [ImageInput.of(f.name, f.getvalue()) for f in files]
    if files and not st.session_state.get("inspector_samples_touched"):
        # the sample shown by default was only there so the page is not empty: the user's images replace it
        st.session_state["inspector_samples"] = []


def _photo_taken() -> None:
    if st.session_state.get("inspector_w_camera") is not None and not st.session_state.get("inspector_samples_touched"):
        st.session_state["inspector_samples"] = []  # as for uploads: the user's own picture replaces the default


def _forget_uploads() -> None:
    st.session_state["inspector_uploads"] = []


def _toggle_sample(name: str) -> None:
    chosen = list(st.session_state["inspector_samples"])
    if st.session_state[f"inspector_w_sample_{name}"]:
        chosen = [*chosen, name] if name not in chosen else chosen
    else:
        chosen = [n for n in chosen if n != name]
    st.session_state["inspector_samples"] = chosen
    st.session_state["inspector_samples_touched"] = True


def _take_handoff() -> None:
    """An image sent by another page (the Evaluation page's "open in the Inspector") joins the uploads."""
    handoff = st.session_state.pop(INSPECTOR_HANDOFF, None)
    if not handoff:
        return
    item = ImageInput.of(str(handoff["name"]), bytes(handoff["bytes"]))
    kept = [u for u in st.session_state["inspector_uploads"] if u.key != item.key]
    st.session_state["inspector_uploads"] = [item, *kept]
    if not st.session_state.get("inspector_samples_touched"):
        st.session_state["inspector_samples"] = []  # as for an upload: it replaces the default sample
    st.session_state["inspector_detail"] = item.key  # its details show, whatever else is open


@st.cache_resource(show_spinner=False, max_entries=32)
def sample_input(name: str) -> ImageInput:
    """A sample's bytes, read and hashed once per process."""
    sample = next(s for s in sample_images() if s.name == name)
    return ImageInput.of(sample.path.name, sample.path.read_bytes())


@st.cache_data(show_spinner=False, max_entries=32)
def _sample_thumbnail(name: str) -> bytes:
    item = sample_input(name)
    return image_bytes(thumbnail(decode_image(item.data, item.name).image, square=True), fmt="JPEG")


def _gallery(lang: str) -> list[ImageInput]:
    samples = sample_images()
    st.session_state.setdefault(
        "inspector_samples", [DEFAULT_SAMPLE] if any(s.name == DEFAULT_SAMPLE for s in samples) else []
    )
    chosen = st.session_state["inspector_samples"]
    columns = st.columns(max(len(samples), 1), gap="small")
    for column, sample in zip(columns, samples, strict=False):
        with column:
            st.image(_sample_thumbnail(sample.name), width="stretch", alt=t(f"inspector.sample.{sample.name}", lang))
            st.session_state[f"inspector_w_sample_{sample.name}"] = sample.name in chosen
            st.checkbox(
                t(f"inspector.sample_name.{sample.name}", lang),
                key=f"inspector_w_sample_{sample.name}",
                on_change=_toggle_sample,
                args=(sample.name,),
            )
    return [sample_input(s.name) for s in samples if s.name in chosen]


def _camera_photo(lang: str) -> ImageInput | None:
    photo = st.camera_input(
        t("inspector.camera_label", lang), key="inspector_w_camera", width=480, on_change=_photo_taken
    )
    if photo is None:
        return None
    kept = st.session_state.get("inspector_camera_photo")
    if kept is None or kept[0] != photo.file_id:  # copied and hashed once per photo, not per rerun
        kept = st.session_state["inspector_camera_photo"] = (
            photo.file_id,
            ImageInput.of("camera.jpg", photo.getvalue()),
        )
    return kept[1]


def image_inputs(lang: str) -> list[ImageInput]:
    """Uploads (and a handed-over image), a camera photo and the chosen samples, in that order."""
    st.session_state.setdefault("inspector_uploads", [])
    _take_handoff()
    upload_column, camera_column = st.columns([3, 1], vertical_alignment="center")
    with upload_column:
        st.file_uploader(
            t("inspector.upload", lang),
            type=[*UPLOAD_TYPES, *EXPLAINED_UPLOAD_TYPES],  # SVG, RAW...: the decoder's one line, in the page
            accept_multiple_files=True,
            key="inspector_w_uploads",
            on_change=_store_uploads,
            help=t("inspector.upload_help", lang, formats=FORMAT_NAMES),
        )
    with camera_column:
        camera_on = st.toggle(t("inspector.camera", lang), key="inspector_camera_on")
    items: list[ImageInput] = list(st.session_state["inspector_uploads"])
    if items and not st.session_state.get("inspector_w_uploads"):
        # back from another page (or handed an image by one): the uploader is empty, but the files are here
        note, forget = st.columns([4, 1], vertical_alignment="center")
        note.caption(t("inspector.earlier_uploads", lang, names=escape_markdown(", ".join(i.name for i in items))))
        forget.button(t("inspector.forget_uploads", lang), on_click=_forget_uploads, key="inspector_forget")
    if camera_on:
        photo = _camera_photo(lang)
        if photo is not None:
            items.append(photo)
    with st.expander(t("inspector.gallery", lang), expanded=True, icon=":material/photo_library:"):
        items += _gallery(lang)
    return items


def analyse_all(model: LoadedModel, items: Sequence[ImageInput], lang: str) -> list[ImageResult]:
    """One cached `core.analysis.analyse` per (model, image); a progress bar while several run."""
    progress = st.progress(0.0, text=t("inspector.running", lang, n=len(items))) if len(items) > 1 else None
    key = model_key(model)
    results = []
    for done, item in enumerate(items, start=1):
        results.append(analysed(key, item.key, item.name, model, item.data))
        if progress is not None:
            text = t("inspector.progress", lang, done=done, total=len(items), name=escape_markdown(item.name))
            progress.progress(done / len(items), text=text)
    if progress is not None:
        progress.empty()
    return results


# ---------------------------------------------------------------- table columns
_PERCENT = {"min_value": 0, "max_value": 1, "format": "percent"}


def table_columns(lang: str, *, temperature: float, scores: ScoreKind) -> dict[str, object]:
    """Headers and formats of the top-k and summary tables ("score" is a probability in the softmax view)."""
    cc = st.column_config
    score_key = "inspector.col.probability" if scores == "softmax" else "inspector.col.score"
    return {
        "file": cc.TextColumn(t("inspector.col.file", lang)),
        "top1": cc.TextColumn(t("inspector.col.top1", lang)),
        "status": cc.TextColumn(t("inspector.col.status", lang)),
        "message": cc.TextColumn(t("inspector.col.message", lang), width="large"),
        "rank": cc.NumberColumn(t("inspector.col.rank", lang), width="small"),
        "index": cc.NumberColumn(t("inspector.col.index", lang), width="small", format="%d"),
        "label": cc.TextColumn(t("inspector.col.label", lang), width="medium"),
        "label_2": cc.TextColumn(t("inspector.col.label_2", lang), width="medium"),
        "logit": cc.NumberColumn(t("inspector.col.logit", lang), format="%.3f"),
        "probability": cc.ProgressColumn(t("inspector.col.probability", lang, temperature=temperature), **_PERCENT),
        "probability_t1": cc.NumberColumn(t("inspector.col.probability_t1", lang), format="percent"),
        "cumulative": cc.NumberColumn(t("inspector.col.cumulative", lang), format="percent"),
        "score": cc.ProgressColumn(t(score_key, lang, temperature=temperature), **_PERCENT),
        "score_t1": cc.NumberColumn(t("inspector.col.score_t1", lang), format="percent"),
    }


def variant_columns(lang: str, *, temperature: float) -> dict[str, object]:
    """Narrow columns for the three side-by-side tables of the preprocessing check."""
    cc = st.column_config
    return {
        "rank": cc.NumberColumn("#", width=32),
        "label": cc.TextColumn(t("inspector.col.label", lang), width=150),
        "probability": cc.NumberColumn(t("inspector.col.p", lang, temperature=temperature), format="percent", width=90),
    }


def compare_columns(lang: str, names: Sequence[str]) -> dict[str, object]:
    """Columns of the two-model table: the rank, then each model's label and probability bar."""
    columns: dict[str, object] = {"rank": st.column_config.NumberColumn(t("inspector.col.rank", lang), width="small")}
    for name in names:
        columns[f"{name} p"] = st.column_config.ProgressColumn(f"{name} p", **_PERCENT)
    return columns
