"""The home page's live demo: one sample photo's top-5 and its logits-vs-probabilities chart, with a
temperature slider, in an `st.fragment` so picking another sample reruns only the demo.

The model runs once per (model, sample) through the one image path's cache (`ui.cache.analysed`); the logits
then go to the browser once, and the temperature slider redraws the table and chart there
(`ui.explorer.logits_explorer`), with no rerun at all.
"""

from __future__ import annotations

import streamlit as st

from core.analysis import ImageResult, digest
from core.config import SETTINGS
from core.errors import LogitscopeError
from core.i18n import escape_markdown, t
from core.models.labels import choose_labels
from core.models.registry import get_spec
from core.samples import sample_images
from ui.cache import analysed, get_model, model_key
from ui.explorer import logits_explorer
from ui.sidebar import SidebarControls

DEMO_SAMPLES = ("coffee", "chelsea", "camera")
TOP = 5


@st.cache_resource(show_spinner=False, max_entries=8)
def _sample(name: str) -> tuple[str, bytes, str]:
    """A sample's file name, bytes and digest, read once per process."""
    sample = next(s for s in sample_images() if s.name == name)
    data = sample.path.read_bytes()
    return sample.path.name, data, digest(data)


def _model_name(controls: SidebarControls) -> str:
    # the sidebar's model when it is an ImageNet model that is here; else the embedded default
    name = controls.model_name
    if controls.uses_checkpoint:
        return SETTINGS.default_model
    try:
        spec = get_spec(name)
    except LogitscopeError:
        return SETTINGS.default_model
    return name if spec.label_set == "imagenet" and spec.availability().available else SETTINGS.default_model


def _analysed(model_name: str, backend: str, sample: str) -> ImageResult:
    model = get_model(model_name, backend)  # the Inspector's model too: one build per (model, backend)
    file_name, data, key = _sample(sample)
    return analysed(model_key(model), key, file_name, model, data)


@st.fragment
def live_demo(controls: SidebarControls) -> None:
    """Pick a sample, move T: the top-5 table and the paired bars follow, live, in the browser."""
    lang = controls.lang
    here = [name for name in DEMO_SAMPLES if any(s.name == name for s in sample_images())]
    if not here:
        return
    st.subheader(t("home.live", lang))
    st.caption(t("home.live_intro", lang))
    sample = st.segmented_control(
        t("home.live_sample", lang),
        here,
        default=here[0],
        format_func=lambda name: t(f"home.sample.{name}", lang),
        key="home_sample",
        required=True,
    )
    model_name = _model_name(controls)
    try:
        with st.spinner(t("home.live_loading", lang)):
            result = _analysed(model_name, controls.backend, sample or here[0])
    except LogitscopeError as exc:
        st.warning(escape_markdown(str(exc)), icon=":material/warning:")
        return
    if result.logits is None:
        st.warning(escape_markdown(result.error or ""), icon=":material/warning:")
        return
    spec = get_spec(model_name)
    mode = controls.label_mode if controls.label_mode in ("en", "zh") else "en"
    labels = choose_labels(spec, mode).labels
    picture, numbers = st.columns([1, 2.2], gap="medium")
    with picture:
        assert result.view is not None  # a good result has its view
        st.image(result.view.preview, width="stretch")
        st.caption(t("inspector.model_caption", lang, model=escape_markdown(spec.name)))
    with numbers:
        # one mount for every sample: another photo keeps the T the user left
        logits_explorer(
            result.logits,
            labels,
            temperature=1.0,
            k=TOP,
            show_k=False,
            lang=lang,
            key="home_explorer",
            source=(model_name, controls.backend, result.key, mode),
        )
    st.caption(t("home.live_caption", lang))
