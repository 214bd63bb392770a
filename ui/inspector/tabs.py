"""The Image Inspector's tabs under one image's details: its charts, the preprocessing check, "what about class X?"
(with Grad-CAM) and a second model. Only the open tab computes anything; each renderer takes a `Shown`, the image's
details as `ui.inspector.view` settled them (the k and T the user left the explorer at included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch
from streamlit.delta_generator import DeltaGenerator

from core.analysis import ImageResult
from core.attribution import overlay
from core.backends.choose import backend_info
from core.charts.prediction import class_sweep_figure, prediction_figures
from core.checks import Check
from core.errors import LogitscopeError
from core.i18n import escape_markdown, t
from core.models.labels import choose_labels
from core.models.registry import get_spec, list_models
from core.models.spec import LoadedModel
from core.prediction.downloads import export_stem
from core.prediction.query import class_option_text, format_probability, format_ratio, query_class, search_labels
from core.prediction.tables import compare_models, compare_preprocessing
from ui.cache import analysed_with, get_model, gradcam, model_key, variant_logits
from ui.inspector.controls import InspectorControls, Names, compare_columns, variant_columns
from ui.inspector.links import link_class, remember_class

STATUS_ICON = {
    "pass": ":green[:material/check_circle:]",
    "warn": ":orange[:material/warning:]",
    "fail": ":red[:material/cancel:]",
    "error": ":red[:material/broken_image:]",
}
CHART_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
AVAILABILITY_TTL_S = 300  # weight files rarely appear while the app runs: look at the disk every 5 minutes


@dataclass(frozen=True)
class Shown:
    """One image's details as the renderers share them.

    Attributes:
        result: the analysed image (a good one: view and logits are set).
        model: the model that produced it.
        names: the class names shown.
        knobs: k, T and softmax/sigmoid.
        table: its top-k table at T.
        checks: the checks of its logits at T.
        label_mode: the sidebar's label choice (the second model's labels follow it).
        lang: UI language.
    """

    result: ImageResult
    model: LoadedModel
    names: Names
    knobs: InspectorControls
    table: pd.DataFrame
    checks: list[Check]
    label_mode: str
    lang: str

    @property
    def stem(self) -> str:
        return export_stem(self.result.name, self.model.spec.name)


def tabs(shown: Shown) -> None:
    """3, 5, 6 and the model comparison: only the open tab computes anything."""
    lang = shown.lang
    charts_tab, preprocessing_tab, class_tab, compare_tab = st.tabs(
        [
            t("inspector.tab.charts", lang),
            t("inspector.tab.preprocessing", lang),
            t("inspector.tab.class", lang),
            t("inspector.tab.compare", lang),
        ],
        key="inspector_tab",
        on_change="rerun",
    )
    for tab, render in (
        (charts_tab, charts),
        (preprocessing_tab, preprocessing_check),
        (class_tab, class_x),
        (compare_tab, compare),
    ):
        if tab.open:
            with tab:
                render(shown)


# building the four figures is most of a T change's cost (plotly validates and copies templates): each
# (image, labels, k, T, scores, language) is built once; st.plotly_chart only reads a figure (to_dict)
@st.cache_resource(show_spinner=False, max_entries=64)
def _figures(
    model_id: str,
    image_key: str,
    labels_key: str,
    knobs: InspectorControls,
    lang: str,
    _logits: torch.Tensor,
    _labels: Sequence[str],
) -> dict[str, go.Figure]:
    return prediction_figures(
        _logits, _labels, k=knobs.k, temperature=knobs.temperature, scores=knobs.scores, lang=lang
    )


def charts(shown: Shown) -> None:
    """The whole distribution, the temperature sweep and entropy (and, in the sigmoid view, softmax vs sigmoid: in
    the softmax view the explorer above draws logits vs probabilities, live)."""
    knobs, logits = shown.knobs, shown.result.logits
    assert logits is not None
    figures = _figures(
        model_key(shown.model), shown.result.key, shown.names.key, knobs, shown.lang, logits, shown.names.labels
    )
    rows = (("bars", "distribution"), ("sweep", "entropy")) if knobs.scores == "sigmoid" else (("sweep", "entropy"),)
    if knobs.scores == "softmax":
        _chart(figures, "distribution", shown.stem, st.container())
    for row in rows:
        for column, name in zip(st.columns(2), row, strict=True):
            _chart(figures, name, shown.stem, column)
    st.caption(t("inspector.charts_caption", shown.lang))


def _chart(figures: dict[str, go.Figure], name: str, stem: str, where: DeltaGenerator) -> None:
    image_options = {**CHART_CONFIG["toImageButtonOptions"], "filename": f"{stem}_{name}"}  # type: ignore[dict-item]
    config = {**CHART_CONFIG, "toImageButtonOptions": image_options}
    where.plotly_chart(figures[name], width="stretch", config=config, key=f"inspector_chart_{name}")


def preprocessing_check(shown: Shown) -> None:
    """Top-5 under the model's own normalisation, ImageNet's and none: does top-1 survive?"""
    lang, temperature, labels, spec = shown.lang, shown.knobs.temperature, shown.names.labels, shown.model.spec
    st.caption(t("inspector.preprocessing_intro", lang))
    if spec.source == "onnx":  # its "own" normalisation is the preset the user picked: say so
        st.info(t("own.check.onnx", lang, preset=spec.preprocessing.normalisation_text()), icon=":material/info:")
    elif spec.preprocessing.pipeline is not None:
        st.caption(t("own.check.pipeline", lang))
    with st.spinner(t("inspector.preprocessing_running", lang)):
        logits = variant_logits(model_key(shown.model), shown.result.key, shown.model, shown.result)
    variants = compare_preprocessing(logits, labels, spec.preprocessing, k=5, temperature=temperature)
    for column, variant in zip(st.columns(len(variants)), variants, strict=True):
        with column, st.container(border=True):
            mark = STATUS_ICON["warn"] if variant.changed else STATUS_ICON["pass"]
            st.markdown(f"{mark} **{t(f'inspector.variant.{variant.id}', lang)}**")
            st.code(variant.description, language=None)
            st.dataframe(
                variant.table[["rank", "label", "probability"]],
                hide_index=True,
                width="stretch",
                column_config=variant_columns(lang, temperature=temperature),
            )
    own_top = escape_markdown(labels[variants[0].top1])
    changed = [v for v in variants if v.changed]
    for variant in changed:
        other = escape_markdown(labels[variant.top1])
        name = t(f"inspector.variant.{variant.id}", lang)
        st.warning(
            t("inspector.variant_changed", lang, variant=name, own=own_top, other=other), icon=":material/warning:"
        )
    if not changed:
        st.success(t("inspector.variant_same", lang, own=own_top), icon=":material/check_circle:")


def _class_pick(shown: Shown) -> int:
    """The class X picker (type a name in either language or an index); the runner-up by default."""
    lang, names, spec = shown.lang, shown.names, shown.model.spec
    order = shown.table["index"].tolist()
    default_x = order[1] if len(order) > 1 else order[0]
    from_link = link_class(spec.num_classes, names, lang)  # a shared link's class X, once
    default_x = default_x if from_link is None else from_link
    picked = st.selectbox(
        t("inspector.class_pick", lang),
        list(range(spec.num_classes)),
        index=default_x,
        format_func=lambda i: class_option_text(i, *names.search) if isinstance(i, int) else str(i),
        key=f"inspector_x_{spec.name}_{shown.result.key}",
        filter_mode="contains",
        accept_new_options=True,
        help=t("inspector.class_pick_help", lang),
    )
    if isinstance(picked, str):  # typed text that is not an option: take the best match
        matches = search_labels(picked, *names.search, limit=1)
        if not matches:
            st.warning(t("inspector.class_no_match", lang, query=escape_markdown(picked)), icon=":material/search_off:")
        index = matches[0] if matches else default_x
    else:
        index = int(picked if picked is not None else default_x)
    remember_class(index)
    return index


def class_x(shown: Shown) -> None:
    """Where class X stands (rank, logit, score, margin), its sweep with top-1, Grad-CAM of both."""
    lang, labels, knobs, logits = shown.lang, shown.names.labels, shown.knobs, shown.result.logits
    assert logits is not None
    temperature, scores = knobs.temperature, knobs.scores
    x = query_class(logits, _class_pick(shown), temperature=temperature, scores=scores)
    name_x, name_top = labels[x.index], labels[x.top1]
    rank_column, logit_column, score_column, margin_column = st.columns(4)
    rank_column.metric(t("inspector.x.rank", lang), f"{x.rank} / {x.num_classes}", border=True)
    logit_column.metric(t("inspector.x.logit", lang), f"{x.logit:.3f}", border=True)
    score_label = t(f"inspector.x.{scores}", lang, temperature=temperature)
    score_column.metric(score_label, format_probability(x.score), border=True)
    margin_column.metric(t("inspector.x.margin", lang), f"{x.margin:.3f}", border=True)
    if x.rank > 1:
        odds = format_ratio(x.odds)
        sentence = t(
            "inspector.x.sentence",
            lang,
            x=name_x,
            rank=x.rank,
            top=name_top,
            margin=x.margin,
            temperature=temperature,
            odds=odds,
        )
    else:
        sentence = t("inspector.x.is_top", lang, x=name_x)
    st.text(sentence)
    st.info(t("inspector.x.no_temperature", lang), icon=":material/lightbulb:")
    st.plotly_chart(
        class_sweep_figure(logits, labels, [x.top1, x.index], temperature=temperature, lang=lang),
        width="stretch",
        config=CHART_CONFIG,
        key="inspector_chart_class_sweep",
    )
    st.markdown(f"**{t('inspector.gradcam', lang)}**")
    if st.toggle(t("inspector.gradcam_toggle", lang), key="inspector_gradcam", help=t("inspector.gradcam_help", lang)):
        _gradcam(shown, [(t("inspector.gradcam_top1", lang), x.top1), (t("inspector.gradcam_x", lang), x.index)])


def _gradcam(shown: Shown, targets: Sequence[tuple[str, int]]) -> None:
    lang, result, model = shown.lang, shown.result, shown.model
    assert result.view is not None
    input_column, *map_columns = st.columns(1 + len(targets))
    input_column.image(result.view.model_input, width="stretch")
    input_column.text(t("inspector.gradcam_input", lang))
    for column, (title, target) in zip(map_columns, targets, strict=True):
        with column:
            try:
                with st.spinner(t("inspector.gradcam_running", lang)):
                    heat = gradcam(model_key(model), result.key, target, model, result)
            except LogitscopeError as exc:
                st.warning(escape_markdown(str(exc)), icon=":material/warning:")
                continue
            st.image(overlay(result.view.model_input, heat), width="stretch")
            st.text(f"{title}: {shown.names.labels[target]}")
    st.caption(t("inspector.gradcam_caption", lang))


@st.cache_data(show_spinner=False, ttl=AVAILABILITY_TTL_S)
def _model_choices(lang: str) -> dict[str, str]:
    """Every registry model's name, marked when its weights are not here (the disk looked at once per TTL)."""
    missing = t("sidebar.not_downloaded", lang)
    return {n: n if get_spec(n).availability().available else f"{n} · {missing}" for n in list_models()}


def compare(shown: Shown) -> None:
    """The same image through a second model (from the decoded image: no new decode), top-5 side by side."""
    lang, spec, result = shown.lang, shown.model.spec, shown.result
    choices = _model_choices(lang)
    second_name = st.selectbox(
        t("inspector.compare_pick", lang),
        [name for name in choices if name != spec.name],
        index=None,
        key="inspector_compare_model",
        width=420,
        placeholder=t("inspector.compare_placeholder", lang),
        format_func=lambda n: choices.get(n, n),
    )
    if second_name is None:
        st.caption(t("inspector.compare_intro", lang))
        return
    try:
        second = get_model(second_name, backend_info(shown.model).requested)  # the sidebar's backend choice
    except LogitscopeError as exc:
        st.error(escape_markdown(str(exc)), icon=":material/error:")
        return
    other = analysed_with(model_key(second), result.key, result.name, second, result)
    if other.logits is None:
        st.error(escape_markdown(other.error or ""), icon=":material/error:")
        return
    second_mode = shown.label_mode if shown.label_mode in ("en", "zh") else "en"
    second_labels = choose_labels(second.spec, second_mode).labels
    assert result.logits is not None
    both = compare_models(
        (spec.name, result.logits, shown.names.labels),
        (second.spec.name, other.logits, second_labels),
        k=5,
        temperature=shown.knobs.temperature,
    )
    st.dataframe(
        both, hide_index=True, width="stretch", column_config=compare_columns(lang, [spec.name, second.spec.name])
    )
    first_top, second_top = both[spec.name].iloc[0], both[second.spec.name].iloc[0]
    key = "inspector.compare_agree" if first_top == second_top else "inspector.compare_disagree"
    st.text(t(key, lang, first=first_top, second=second_top))
    st.caption(
        t(
            "inspector.compare_preprocessing",
            lang,
            first=spec.preprocessing.describe(),
            second=second.spec.preprocessing.describe(),
        )
    )
