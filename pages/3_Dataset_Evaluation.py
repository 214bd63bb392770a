"""Dataset Evaluation: where, and how confidently, is the model wrong on a labelled set?

Read widgets → call core → render. The model runs once per (model, dataset); everything after the
logits (temperature, bins, tables, figures) is recomputed from the kept logits on each rerun.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core import LoadedModel, LogitscopeError, run_checks, top_k_table
from core import evaluate as ev
from core.datasets import EmptyDatasetError, LabelledSet, Reader, digits_set, open_zip, resolver_for
from core.i18n import t
from core.labels import index_labels
from core.registry import ModelSpec, choose_labels
from ui.cache import current_model
from ui.sidebar import shared_sidebar

st.set_page_config(page_title="Dataset Evaluation · logitscope", layout="wide")
controls = shared_sidebar()
lang = controls.lang

DIGITS_MODEL = "digits_cnn"
SOURCES = ("digits", "zip", "results")
GALLERY_SIZE = 12
GALLERY_COLUMNS = 6
MAX_HEATMAP_CLASSES = 30

# eval_result: {"key": ..., "result": EvalResult, "fit": TemperatureFit}, written only when a run completes
st.session_state.setdefault("eval_result", None)
st.session_state.setdefault("eval_selected", None)  # file opened in the single-image view
st.session_state.setdefault("eval_selected_slot", None)  # which gallery it was opened from
st.session_state.setdefault("eval_autorun", False)  # set by the "switch to digits_cnn" button
st.session_state.setdefault("eval_temperature", 1.0)
st.session_state.setdefault("eval_bins", ev.DEFAULT_BINS)


@st.cache_resource(show_spinner=False)
def _digits() -> LabelledSet:
    return digits_set("test")


@st.cache_resource(show_spinner=False, max_entries=2)
def _zip_set(
    file_id: str, model_name: str, labels: tuple[str, ...], name: str, _spec: ModelSpec, _data: bytes
) -> LabelledSet:
    """The uploaded zip, listed once per (upload, model, labels): reruns never re-hash the bytes."""
    return open_zip(_data, resolver_for(_spec, labels), name=name)


@st.cache_data(show_spinner=False, max_entries=512)
def _thumbnail(digest: str, name: str, _reader: Reader) -> bytes | None:
    try:
        return ev.thumbnail(_reader.read(name), name)
    except LogitscopeError:
        return None


def _switch_to_digits() -> None:
    st.session_state["model"] = DIGITS_MODEL  # the shared sidebar's kept choice
    st.session_state["eval_autorun"] = True


def _use_fitted(temperature: float) -> None:
    st.session_state["eval_temperature"] = float(min(5.0, max(0.05, round(temperature, 2))))


def _open(name: str, slot: str) -> None:
    st.session_state["eval_selected"] = name
    st.session_state["eval_selected_slot"] = slot  # the view opens under the gallery that was clicked


def _close() -> None:
    st.session_state["eval_selected"] = None


def _run(loaded: LoadedModel, labelled: LabelledSet, key: tuple[str, ...]) -> None:
    """Evaluate with a progress bar; the result reaches session state only once complete."""
    bar = st.progress(0.0, text=t("eval.progress.start", lang, total=len(labelled)))

    def on_progress(p: ev.Progress) -> None:
        text = t("eval.progress", lang, done=p.done, total=p.total, rate=p.images_per_second)
        bar.progress(p.done / p.total, text=text)

    result = ev.evaluate(loaded, labelled, on_progress=on_progress)
    fit = ev.calibrate(result.logits, result.targets) if result.n else None
    st.session_state["eval_result"] = {"key": key, "result": result, "fit": fit}
    st.session_state["eval_selected"] = None
    st.rerun()  # draw the page from the stored result (the run button's label changes too)


st.title(t("eval.title", lang))
st.caption(t("eval.intro", lang))

source = st.segmented_control(
    t("eval.source", lang),
    SOURCES,
    key="eval_source",
    default="digits",
    format_func=lambda s: t(f"eval.source.{s}", lang),
    required=True,
)

model: LoadedModel | None = None
try:
    model = current_model(controls)
except LogitscopeError as exc:
    # a results file is explored without the model: then this is only a note
    (st.warning if source == "results" else st.error)(str(exc))
labels: list[str] = []
if model is not None:
    choice = choose_labels(
        model.spec,
        controls.label_mode,
        file_data=controls.label_file.data if controls.label_file else None,
        file_name=controls.label_file.name if controls.label_file else "labels.txt",
    )
    if choice.warning:
        st.warning(choice.warning)
    labels = choice.labels

labelled: LabelledSet | None = None
key: tuple[str, ...] | None = None
if source == "digits":
    st.caption(t("eval.digits.about", lang))
    if controls.uses_checkpoint or controls.model_name != DIGITS_MODEL:
        st.info(t("eval.digits.needs_model", lang, model=DIGITS_MODEL))
        st.button(t("eval.digits.switch", lang, model=DIGITS_MODEL), type="primary", on_click=_switch_to_digits)
    elif model is not None:
        labelled = _digits()
elif source == "zip":
    upload = st.file_uploader(t("eval.zip.upload", lang), type=["zip"], key="eval_zip", help=t("eval.zip.help", lang))
    if upload is not None and model is not None:
        try:
            labelled = _zip_set(
                upload.file_id, model.spec.name, tuple(labels), upload.name, model.spec, upload.getvalue()
            )
        except EmptyDatasetError as exc:
            st.error(str(exc))
            if exc.skipped:
                st.dataframe(pd.DataFrame([vars(s) for s in exc.skipped]), hide_index=True, width="stretch")
        except LogitscopeError as exc:
            st.error(str(exc))
else:
    upload = st.file_uploader(
        t("eval.results.upload", lang),
        type=["csv", "parquet"],
        key="eval_results_file",
        help=t("eval.results.help", lang),
    )
    if upload is not None:
        data = upload.getvalue()
        key = ("results", hashlib.sha256(data).hexdigest())
        stored = st.session_state["eval_result"]
        if stored is None or stored["key"] != key:
            try:
                loaded_result = ev.read_results(data, upload.name)
                fit = ev.calibrate(loaded_result.logits, loaded_result.targets)
                st.session_state["eval_result"] = {"key": key, "result": loaded_result, "fit": fit}
                st.session_state["eval_selected"] = None
            except LogitscopeError as exc:
                st.error(str(exc))
                key = None

if labelled is not None and model is not None:
    key = (model.spec.name, labelled.digest, hashlib.sha256(repr(labelled.targets).encode()).hexdigest())
    classes = len(set(labelled.targets))
    st.write(t("eval.set_summary", lang, n=len(labelled), classes=classes, skipped=len(labelled.skipped)))
    stored = st.session_state["eval_result"]
    done = stored is not None and stored["key"] == key
    clicked = st.button(
        t("eval.rerun" if done else "eval.run", lang, n=len(labelled), model=model.spec.name),
        type="secondary" if done else "primary",
    )
    if clicked or (st.session_state["eval_autorun"] and not done):
        st.session_state["eval_autorun"] = False
        try:
            _run(model, labelled, key)
        except LogitscopeError as exc:
            st.error(str(exc))

stored = st.session_state["eval_result"]
if key is None or stored is None or stored["key"] != key:
    st.stop()

# ---------------------------------------------------------------- results
result: ev.EvalResult = stored["result"]
fit: ev.TemperatureFit | None = stored["fit"]
reader = labelled.reader if labelled is not None else None
names = labels if len(labels) == result.num_classes else index_labels(result.num_classes)
if result.n == 0 or fit is None:
    st.error(t("eval.nothing_decoded", lang, errors=len(result.errors)))
    st.dataframe(pd.DataFrame([vars(e) for e in result.errors]), hide_index=True, width="stretch")
    st.stop()

st.divider()
st.subheader(t("eval.headline", lang))
st.caption(t("eval.headline_caption", lang, n=result.n, model=result.model or "?", source=result.source))
left, middle, right = st.columns([3, 2, 2], vertical_alignment="bottom")
with left:
    temperature = st.slider(
        t("eval.temperature", lang),
        min_value=0.05,
        max_value=5.0,
        step=0.01,
        key="eval_temperature",
        help=t("eval.temperature_help", lang),
    )
with middle:
    st.button(
        t("eval.use_fitted", lang, t=fit.temperature),
        on_click=_use_fitted,
        args=(fit.temperature,),
        width="stretch",
    )
with right:
    bins = st.number_input(t("eval.bins", lang), min_value=2, max_value=50, step=1, key="eval_bins")

at_one = ev.compute_metrics(result.logits, result.targets, n_bins=bins)
at_t = ev.compute_metrics(result.logits, result.targets, temperature=temperature, n_bins=bins)
at_fit = ev.compute_metrics(result.logits, result.targets, temperature=fit.temperature, n_bins=bins)

METRICS = (
    ("top1", "{:.2%}"),
    ("top5", "{:.2%}"),
    ("ece", "{:.2%}"),
    ("nll", "{:.4f}"),
    ("mce", "{:.2%}"),
    ("brier", "{:.4f}"),
)


def _metric_row(title: str, metrics: ev.Metrics, reference: ev.Metrics | None) -> None:
    """One row of metric cards; with `reference`, each shows its change from it (lower error is green)."""
    st.markdown(f"**{title}**")
    for cell, (name, fmt) in zip(st.columns(len(METRICS)), METRICS, strict=True):
        value = getattr(metrics, name)
        delta = None
        if reference is not None and abs(value - getattr(reference, name)) > 1e-12:
            delta = fmt.format(value - getattr(reference, name))
        cell.metric(
            t(f"eval.metric.{name}", lang),
            fmt.format(value),
            delta=delta,
            delta_color="normal" if name.startswith("top") else "inverse",
            help=t(f"eval.metric.{name}_help", lang),
        )


_metric_row(t("eval.at_one", lang), at_one, None)
if abs(temperature - 1.0) > 1e-9:
    _metric_row(t("eval.at_t", lang, t=temperature), at_t, at_one)
else:
    st.caption(t("eval.move_slider", lang))
st.info(
    t(
        "eval.fitted",
        lang,
        t=fit.temperature,
        nll=at_one.nll,
        nll_after=at_fit.nll,
        ece=at_one.ece,
        ece_after=at_fit.ece,
    )
)
if fit.probabilities_warning:
    st.warning(t("eval.probabilities_warning", lang))
if result.errors:
    with st.expander(t("eval.skipped", lang, n=len(result.errors))):
        st.dataframe(
            pd.DataFrame([vars(e) for e in result.errors]).rename(
                columns={"name": t("eval.col.file", lang), "reason": t("eval.col.reason", lang)}
            ),
            hide_index=True,
            width="stretch",
        )

# calibration: T = 1, the fitted T and (when different) the slider's T
records = ev.records_table(result, names, temperature=temperature)
st.subheader(t("eval.calibration", lang))
curves = [
    (t("eval.curve.one", lang, ece=at_one.ece), 1.0),
    (t("eval.curve.fitted", lang, t=fit.temperature, ece=at_fit.ece), fit.temperature),
]
if abs(temperature - 1.0) > 1e-9 and abs(temperature - fit.temperature) > 5e-3:
    curves.append((t("eval.curve.current", lang, t=temperature, ece=at_t.ece), temperature))
tables = []
for curve_name, curve_t in curves:
    conf, hit = ev.confidence_and_correct(result.logits, result.targets, temperature=curve_t)
    tables.append((curve_name, ev.calibration_table(conf, hit, n_bins=bins)))
chart_left, chart_right = st.columns(2)
with chart_left:
    st.plotly_chart(ev.reliability_figure(tables, lang=lang), width="stretch", key="eval_reliability")
with chart_right:
    conf, hit = ev.confidence_and_correct(result.logits, result.targets, temperature=temperature)
    st.plotly_chart(
        ev.confidence_histogram_figure(conf, hit, lang=lang, title=t("eval.chart.histogram_at", lang, t=temperature)),
        width="stretch",
        key="eval_histogram",
    )


def _card(row: pd.Series, slot: str) -> None:
    """One gallery card: thumbnail, true and predicted label (plain text), confidence, margin, open button."""
    with st.container(border=True):
        image = _thumbnail(stored["key"][1], row["file"], reader) if reader is not None else None
        if image is not None:
            st.image(image, width="stretch")
        st.text(t("eval.card", lang, true=row["target_label"], predicted=row["prediction_label"]))
        st.progress(float(row["confidence"]), text=t("eval.card_confidence", lang, confidence=row["confidence"]))
        st.caption(t("eval.card_margin", lang, margin=row["margin"]))
        st.button(
            t("eval.open", lang),
            key=f"eval_open_{slot}_{row['file']}",
            on_click=_open,
            args=(row["file"], slot),
            width="stretch",
        )


def _gallery(rows: pd.DataFrame, slot: str) -> None:
    """Cards in rows of GALLERY_COLUMNS; the image opened from this gallery shows right under it."""
    if rows.empty:
        st.caption(t("eval.gallery_empty", lang))
        return
    for start in range(0, len(rows), GALLERY_COLUMNS):
        for column, (_, row) in zip(
            st.columns(GALLERY_COLUMNS), rows.iloc[start : start + GALLERY_COLUMNS].iterrows(), strict=False
        ):
            with column:
                _card(row, slot)
    selected = st.session_state["eval_selected"]
    if selected in result.files and st.session_state.get("eval_selected_slot") == slot:
        _single_image_view(selected)


def _single_image_view(name: str) -> None:
    """The selected image in place: picture, top-k at the current T, the checklist."""
    position = result.files.index(name)
    logits = result.logits[position]
    row = records.iloc[position]
    with st.container(border=True):
        head, close = st.columns([5, 1])
        head.markdown(f"#### {t('eval.view.title', lang)}")
        head.text(name)
        close.button(t("eval.view.close", lang), on_click=_close, width="stretch")
        picture, table = st.columns([1, 3])
        checks = st.container()
        data = None
        if reader is not None:
            try:
                data = reader.read(name)
                picture.image(ev.thumbnail(data, name, size=320), width="stretch")
            except LogitscopeError as exc:
                picture.error(str(exc))
        picture.text(t("eval.card", lang, true=row["target_label"], predicted=row["prediction_label"]))
        picture.caption(t("eval.card_numbers", lang, confidence=row["confidence"], margin=row["margin"]))
        with table:
            st.caption(t("eval.view.top_k", lang, t=temperature))
            top = top_k_table(logits, names, k=5, temperature=temperature)
            st.dataframe(
                top[["rank", "index", "label", "logit"]].assign(probability=top["probability"] * 100),
                hide_index=True,
                width="stretch",
                column_config={
                    "logit": st.column_config.NumberColumn(format="%.4f"),
                    "probability": st.column_config.NumberColumn(format="%.2f%%"),
                },
            )
        with checks:
            st.caption(t("eval.view.checks", lang))
            found = run_checks(logits, labels=names, num_classes=result.num_classes, temperature=temperature, lang=lang)
            st.dataframe(
                pd.DataFrame(
                    {
                        t("eval.view.status", lang): [t(f"eval.status.{c.status}", lang) for c in found],
                        t("eval.view.finding", lang): [c.message for c in found],
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={t("eval.view.status", lang): st.column_config.TextColumn(width="small")},
            )
        if data is not None and st.button(t("eval.view.inspector", lang), key="eval_to_inspector"):
            st.session_state["inspector_handoff"] = {"name": name.rsplit("/", 1)[-1], "bytes": data}
            st.switch_page("pages/1_Image_Inspector.py")


# confusion: heatmap for up to ~30 classes, confused pairs (clickable) always
st.subheader(t("eval.confusion", lang))
shown = ev.shown_classes(records)
pairs = ev.confused_pairs(records)
matrix_column, pairs_column = st.columns([3, 2]) if len(shown) <= MAX_HEATMAP_CLASSES else (None, st.container())
if matrix_column is not None:
    with matrix_column:
        matrix = ev.confusion_matrix(records["target"], records["prediction"], num_classes=result.num_classes)
        st.plotly_chart(
            ev.confusion_matrix_figure(matrix, names, classes=shown, lang=lang), width="stretch", key="eval_confusion"
        )
else:
    st.caption(t("eval.too_many_classes", lang, n=len(shown), limit=MAX_HEATMAP_CLASSES))
with pairs_column:
    st.caption(t("eval.pairs_caption", lang))
    if pairs.empty:
        st.success(t("eval.no_mistakes", lang))
        selection = None
    else:
        display = pairs.rename(
            columns={
                "target_label": t("eval.col.true", lang),
                "prediction_label": t("eval.col.predicted", lang),
                "count": t("eval.col.count", lang),
            }
        )[[t("eval.col.true", lang), t("eval.col.predicted", lang), t("eval.col.count", lang)]]
        selection = st.dataframe(
            display,
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key="eval_pairs",
            height=min(420, 38 + 35 * len(display)),
        )
if selection is not None and selection.selection.rows:
    pair = pairs.iloc[selection.selection.rows[0]]
    chosen = records[(records["target"] == pair["target"]) & (records["prediction"] == pair["prediction"])]
    st.markdown(f"**{t('eval.pair_images', lang, n=len(chosen))}**")
    st.text(f"{pair['target_label']} → {pair['prediction_label']}")
    _gallery(chosen.sort_values("confidence", ascending=False).head(GALLERY_SIZE * 2), "pair")

# galleries
st.subheader(t("eval.galleries", lang))
kind = st.segmented_control(
    t("eval.gallery", lang),
    ("mistakes", "unsure"),
    key="eval_gallery",
    default="mistakes",
    required=True,
    format_func=lambda k: t(f"eval.gallery.{k}", lang),
    label_visibility="collapsed",
)
rows = (
    ev.most_confident_mistakes(records, n=GALLERY_SIZE)
    if kind == "mistakes"
    else ev.least_confident_correct(records, n=GALLERY_SIZE)
)
st.caption(t(f"eval.gallery.{kind}_caption", lang))
_gallery(rows, kind or "mistakes")

# per class
st.subheader(t("eval.per_class", lang))
per_class = ev.per_class_table(records, names)
percent = {"accuracy": per_class["accuracy"] * 100, "mean_confidence": per_class["mean_confidence"] * 100}
st.dataframe(
    per_class.assign(**percent),  # shown as "94.5%": one decimal on every row
    hide_index=True,
    width="stretch",
    key="eval_per_class",
    column_config={
        "index": st.column_config.NumberColumn(t("eval.col.index", lang)),
        "label": st.column_config.TextColumn(t("eval.col.label", lang)),
        "count": st.column_config.NumberColumn(t("eval.col.count", lang)),
        "correct": st.column_config.NumberColumn(t("eval.col.correct", lang)),
        "accuracy": st.column_config.ProgressColumn(
            t("eval.col.accuracy", lang), format="%.1f%%", min_value=0, max_value=100
        ),
        "mean_confidence": st.column_config.NumberColumn(t("eval.col.mean_confidence", lang), format="%.1f%%"),
        "predicted": st.column_config.NumberColumn(t("eval.col.predicted_count", lang)),
        "most_confused_with": st.column_config.TextColumn(t("eval.col.most_confused", lang)),
    },
)

# results out
st.subheader(t("eval.download", lang))
st.caption(t("eval.download_caption", lang))
stem = f"results-{result.model or 'model'}"
csv_column, parquet_column, _ = st.columns([1, 1, 3])
csv_column.download_button(
    t("eval.download_csv", lang),
    data=lambda: ev.results_bytes(result, fmt="csv", labels=names),
    file_name=f"{stem}.csv",
    mime="text/csv",
    key="eval_download_csv",
    width="stretch",
    on_click="ignore",
)
parquet_column.download_button(
    t("eval.download_parquet", lang),
    data=lambda: ev.results_bytes(result, fmt="parquet", labels=names),
    file_name=f"{stem}.parquet",
    mime="application/vnd.apache.parquet",
    key="eval_download_parquet",
    width="stretch",
    on_click="ignore",
)
