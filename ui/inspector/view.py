"""Renderers of the Image Inspector: one `st.fragment` from the knobs to the last tab.

`inspector_results` gets the analysed images (`core.analysis.ImageResult`, cached per model and image by
`ui.cache`) and lays them out: summary, the chosen image's view and verdict, then its numbers: in the softmax view the
client-side explorer (`ui.explorer`: the top-k table and the logits-vs-probabilities chart, redrawn in the browser as
T or k moves), in the sigmoid view the server's sliders and table. The settings the user leaves there become the
page's one k and T (`ui.inspector.controls.keep_knobs`), and everything else follows them on the rerun they cause:
the summary, the verdict, downloads (built only when clicked), the share link and report, the tabs
(`ui.inspector.tabs`). No move ever runs a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.analysis import ImageResult
from core.checks import run_checks, worst_status
from core.i18n import escape_markdown, t
from core.models.spec import LoadedModel
from core.prediction.downloads import export_csv, export_json, lab_payload, prediction_record
from core.prediction.tables import score_lines, score_table, summary_table
from ui.cache import model_key
from ui.explorer import logits_explorer
from ui.inspector.controls import (
    K_RANGE,
    InspectorControls,
    Names,
    inspector_controls,
    keep_knobs,
    sigmoid_knobs,
    table_columns,
)
from ui.inspector.doubt import doubt_readout, set_line
from ui.inspector.links import share_row, sync_link
from ui.inspector.tabs import STATUS_ICON, Shown, tabs
from ui.navigation import LAB, LAB_HANDOFF


@st.fragment
def inspector_results(
    results: Sequence[ImageResult], model: LoadedModel, names: Names, label_mode: str, lang: str
) -> None:
    """The knobs and everything they drive; a fragment, so they rerun only this."""
    knobs = inspector_controls(lang)
    if not results:
        st.info(t("inspector.nothing", lang), icon=":material/add_photo_alternate:")
        sync_link(model, knobs, lang)
        return
    for failed in (r for r in results if not r.ok):  # first: a file that did not work is never passed over
        st.error(escape_markdown(failed.error or ""), icon=":material/broken_image:")
    summary_box = st.container() if len(results) > 1 else None  # filled once the explorer has said k and T
    good = [r for r in results if r.ok]
    if good:
        result = _detail_pick(good, lang)
        shown = overview(result, model, names, knobs, label_mode, lang)
        knobs = shown.knobs
    if summary_box is not None:
        with summary_box:
            summary(results, model, names, knobs, lang)
    if good:
        actions(shown)
        share_row(results, model, names, knobs, lang)
        tabs(shown)
    sync_link(model, knobs, lang)  # the address bar is always the share link of what is shown


def summary(
    results: Sequence[ImageResult], model: LoadedModel, names: Names, knobs: InspectorControls, lang: str
) -> None:
    """Several images: one row each (top-1, score, worst check or the error)."""
    st.subheader(t("inspector.summary", lang, n=len(results)))
    table = summary_table(
        results,
        names.labels,
        temperature=knobs.temperature,
        scores=knobs.scores,
        num_classes=model.spec.num_classes,
    )
    table["status"] = [t(f"inspector.status.{s}", lang) for s in table["status"]]
    st.dataframe(
        table.drop(columns=["index"]),
        hide_index=True,
        width="stretch",
        column_config=table_columns(lang, temperature=knobs.temperature, scores=knobs.scores),
    )


def _detail_pick(good: Sequence[ImageResult], lang: str) -> ImageResult:
    by_key = {r.key: r for r in good}
    if len(by_key) == 1:
        return good[0]
    if st.session_state.get("inspector_detail") not in by_key:
        st.session_state.pop("inspector_detail", None)  # e.g. the image it named was removed
    picked = st.selectbox(
        t("inspector.details_for", lang),
        list(by_key),
        format_func=lambda key: by_key[key].name,
        key="inspector_detail",
    )
    return by_key[picked or next(iter(by_key))]


def overview(
    result: ImageResult, model: LoadedModel, names: Names, knobs: InspectorControls, label_mode: str, lang: str
) -> Shown:
    """1. what the model sees (original and exact input), 2. what it says (lines, checks, and its numbers: the
    explorer or the sigmoid table); returns the image's details at the k and T the user left."""
    spec, view = model.spec, result.view
    assert view is not None and result.logits is not None  # a good result has its view and logits
    st.divider()
    st.subheader(escape_markdown(result.name))
    st.caption(t("inspector.model_caption", lang, model=escape_markdown(spec.title)))
    original_column, input_column, verdict_column = st.columns([1, 1, 1.25], gap="medium")
    with original_column:
        width, height = view.original_size
        caption = t("inspector.original", lang, w=width, h=height, mode=view.original_mode)
        st.image(view.preview, caption=caption, width="stretch")
        for note in view.notes:
            st.caption(f":material/info: {escape_markdown(note)}")
    with input_column:
        shape = " × ".join(map(str, view.input_shape))
        st.image(view.model_input, caption=t("inspector.model_input", lang, shape=shape), width="stretch")
        st.caption(t("inspector.pipeline", lang))
        st.code(spec.preprocessing.describe(), language=None, wrap_lines=True)
    if knobs.scores == "softmax":
        # one mount for every image of the page: another image keeps the T and k the user left
        state = logits_explorer(
            result.logits,
            names.shown,
            temperature=knobs.temperature,
            k=knobs.k,
            lang=lang,
            key="inspector_explorer",
            k_max=K_RANGE[1],
            source=(model_key(model), result.key, names.key),
        )
        knobs = keep_knobs(knobs, state)
    else:
        knobs = sigmoid_knobs(knobs, lang)
    k, temperature, scores = knobs.k, knobs.temperature, knobs.scores
    table = score_table(
        result.logits, names.labels, k=k, temperature=temperature, scores=scores, other_labels=names.other
    )
    checks = run_checks(
        result.logits, labels=names.labels, num_classes=spec.num_classes, k=k, temperature=temperature, lang=lang
    )
    shown = Shown(result, model, names, knobs, table, checks, label_mode, lang)
    _verdict(shown, verdict_column)
    if scores == "sigmoid":
        _sigmoid_table(shown)
    return shown


def _verdict(shown: Shown, where: DeltaGenerator) -> None:
    """The prediction in lines ("1. espresso (95.7%)") with its prediction set, the checks' verdict and the doubt
    readout, at the k and T shown."""
    lang, table, knobs = shown.lang, shown.table, shown.knobs
    with where:
        st.markdown(f"**{t(f'inspector.lines.{knobs.scores}', lang, k=len(table), temperature=knobs.temperature)}**")
        st.code("\n".join(score_lines(table)), language=None)
        logits, spec = shown.result.logits, shown.model.spec
        assert logits is not None  # a shown image is a good one
        set_line(logits, spec, shown.names.labels, lang)  # its prediction set, once calibrated in this session
        worst = worst_status(shown.checks)
        with st.container(border=True):
            verdict = t(f"inspector.checks.{worst}", lang)
            st.markdown(f"{STATUS_ICON[worst]} **{t('inspector.checks', lang)}** · {verdict}")
            st.markdown("  \n".join(f"{STATUS_ICON[c.status]} {escape_markdown(c.message)}" for c in shown.checks))
        doubt_readout(logits, spec, knobs.temperature, lang)  # is this like what the model knows?


def _sigmoid_table(shown: Shown) -> None:
    """The sigmoid view's top-k table (the explorer computes softmax only: sigmoid scores stay on the server)."""
    lang, table, temperature = shown.lang, shown.table, shown.knobs.temperature
    st.markdown(f"**{t('inspector.table.sigmoid', lang, k=len(table), temperature=temperature)}**")
    # at T = 1 the "at T = 1" column would repeat the one before it
    columns = [c for c in table.columns if temperature != 1.0 or c != "score_t1"]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_order=columns,
        column_config=table_columns(lang, temperature=temperature, scores="sigmoid"),
    )
    st.info(t("inspector.sigmoid_explained", lang), icon=":material/info:")


def actions(shown: Shown) -> None:
    """Downloads (CSV of every class, JSON of the prediction; built when clicked) and "Open in Logits Lab"."""
    result, lang, spec, labels, other = (
        shown.result,
        shown.lang,
        shown.model.spec,
        shown.names.labels,
        shown.names.other,
    )
    logits, temperature = result.logits, shown.knobs.temperature
    assert logits is not None and result.view is not None

    def csv_text() -> str:
        return export_csv(logits, labels, temperature=temperature, other_labels=other)

    def json_text() -> str:
        record = prediction_record(
            image=result.name,
            model=spec.name,
            logits=logits,
            labels=labels,
            k=shown.knobs.k,
            temperature=temperature,
            checks=shown.checks,
            notes=result.view.notes if result.view else (),
            preprocessing=spec.preprocessing.describe(),
            other_labels=other,
        )
        return export_json(record)

    row = st.container(horizontal=True, gap="small")
    downloads = (
        ("csv", csv_text, f"{shown.stem}_logits.csv", "text/csv", ":material/download:"),
        ("json", json_text, f"{shown.stem}_prediction.json", "application/json", ":material/data_object:"),
    )
    for kind, build, file_name, mime, icon in downloads:  # each file is built only when its button is clicked
        row.download_button(
            t(f"inspector.download_{kind}", lang), build, file_name=file_name, mime=mime, icon=icon, on_click="ignore"
        )
    if row.button(
        t("inspector.open_lab", lang),
        icon=":material/science:",
        key="inspector_open_lab",
        help=t("inspector.open_lab_help", lang),
    ):
        st.session_state[LAB_HANDOFF] = lab_payload(logits, labels, source=f"{result.name} · {spec.name}")
        LAB.go()
