"""UI helpers of the Dataset Evaluation page, results: one `st.fragment` from the T slider to the downloads.

`results_view` draws a stored evaluation (the data in, the run and the stored result are `ui.evaluate_input`).
Everything after the logits (metrics, per-image records, calibration bins) is computed once per
(result, T, bins) by `at_temperature` and cached, so moving T or the bins reruns only this fragment and
each T is scored once. The renderers take a `View` (explicit arguments, no page globals); `ui.diagnose`
adds its tools through the same `View`. Session state: "eval_selected"/"eval_selected_slot" name the
image opened in the single-image view and its gallery; "eval_temperature"/"eval_bins" are the knobs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import streamlit as st
import torch
from torch import Tensor

from core import LogitscopeError, run_checks, top_k_table
from core import evaluate as ev
from core.datasets import Reader
from core.i18n import escape_markdown, t
from core.images import decode_image, image_bytes, thumbnail
from core.labels import index_labels
from core.numerics import temperature_options

GALLERY_SIZE = 12
GALLERY_COLUMNS = 6
MAX_HEATMAP_CLASSES = 30
INSPECTOR_PAGE = "pages/1_Image_Inspector.py"
HANDOFF_KEY = "inspector_handoff"  # read by ui.inspector.image_inputs
# the headline metrics: name, format
METRICS = (
    ("top1", "{:.2%}"),
    ("top5", "{:.2%}"),
    ("ece", "{:.2%}"),
    ("nll", "{:.4f}"),
    ("mce", "{:.2%}"),
    ("brier", "{:.4f}"),
)


# ---------------------------------------------------------------- caches


@st.cache_data(show_spinner=False, max_entries=512)
def _thumbnail(digest: str, name: str, _reader: Reader) -> bytes | None:
    try:
        return image_bytes(thumbnail(decode_image(_reader.read(name), name).image))
    except LogitscopeError:
        return None


@dataclass(frozen=True)
class AtTemperature:
    """Everything the page shows at one T, computed once per (result, T, bins).

    Attributes:
        metrics: the headline metrics.
        records: one row per image (`core.evaluate.records_table`): confidence, margin, prediction.
        calibration: the reliability diagram's bins.
    """

    metrics: ev.Metrics
    records: pd.DataFrame
    calibration: pd.DataFrame

    @property
    def confidence(self) -> Tensor:
        return torch.tensor(self.records["confidence"].to_numpy())

    @property
    def correct(self) -> Tensor:
        return torch.tensor(self.records["correct"].to_numpy())


def score_at(result: ev.EvalResult, names: Sequence[str], *, temperature: float, bins: int) -> AtTemperature:
    """Metrics, per-image records and calibration bins of `result` at `temperature` (not cached)."""
    records = ev.records_table(result, names, temperature=temperature)
    confidence = torch.tensor(records["confidence"].to_numpy())
    correct = torch.tensor(records["correct"].to_numpy())
    calibration = ev.calibration_table(confidence, correct, n_bins=bins)  # the records' confidence: no new softmax
    metrics = ev.compute_metrics(result.logits, result.targets, temperature=temperature, n_bins=bins)
    return AtTemperature(metrics, records, calibration)


# shared read-only by reruns and sessions (keyed by the result's content key); never mutated by the page
@st.cache_resource(show_spinner=False, max_entries=48)
def at_temperature(
    key: tuple[str, ...],
    names_key: str,
    temperature: float,
    bins: int,
    _result: ev.EvalResult,
    _names: tuple[str, ...],
) -> AtTemperature:
    """`score_at`, once per (result, names, T, bins).

    `key` (the result's content key) and `names_key` (a digest of `_names`) stand for the unhashed arguments.
    """
    return score_at(_result, _names, temperature=temperature, bins=bins)


# ---------------------------------------------------------------- callbacks


def _use_fitted(temperature: float) -> None:
    st.session_state["eval_temperature"] = temperature  # exactly: the slider has the fitted T among its stops


def _open(name: str, slot: str) -> None:
    st.session_state["eval_selected"] = name
    st.session_state["eval_selected_slot"] = slot  # the view opens under the gallery that was clicked


def _close() -> None:
    st.session_state["eval_selected"] = None


# ---------------------------------------------------------------- results (one fragment: T, bins, galleries)
@dataclass(frozen=True)
class View:
    """What the results renderers share.

    Attributes:
        key: the stored result's key.
        result: the evaluation.
        fit: the fitted temperature.
        names: one label per class of the result.
        reader: reads an image's bytes (None for a results file: no pictures).
        temperature: the slider's T.
        bins: calibration bins.
        lang: UI language.
    """

    key: tuple[str, ...]
    result: ev.EvalResult
    fit: ev.TemperatureFit
    names: tuple[str, ...]
    reader: Reader | None
    temperature: float
    bins: int
    lang: str

    @cached_property
    def names_key(self) -> str:
        return hashlib.sha256("\0".join(self.names).encode()).hexdigest()

    def at(self, temperature: float) -> AtTemperature:
        return at_temperature(self.key, self.names_key, temperature, self.bins, self.result, self.names)


def temperature_stops(fitted: float) -> list[float]:
    """The app's one temperature grid with the fitted T among its stops (exactly, not rounded)."""
    return temperature_options(include=(fitted,))


def _nearest(value: float, stops: Sequence[float]) -> float:
    return min(stops, key=lambda s: abs(s - value))


def _temperature_controls(fit: ev.TemperatureFit, lang: str) -> tuple[float, int]:
    stops = temperature_stops(fit.temperature)
    if st.session_state["eval_temperature"] not in stops:  # e.g. the fitted T of an earlier result
        st.session_state["eval_temperature"] = _nearest(float(st.session_state["eval_temperature"]), stops)
    fitted_text = t("eval.temperature.fitted_stop", lang, t=fit.temperature)
    left, middle, right = st.columns([3, 2, 2], vertical_alignment="bottom")
    with left:
        temperature = st.select_slider(
            t("eval.temperature", lang),
            stops,
            key="eval_temperature",
            format_func=lambda v: fitted_text if v == fit.temperature else f"{v:g}",
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
    return float(temperature), int(bins)


@st.fragment
def results_view(stored: dict[str, object], labels: Sequence[str], reader: Reader | None, lang: str) -> None:
    """Everything below the run button; a fragment, so T, bins and the galleries rerun only this."""
    from ui import diagnose  # imports this module: a module-level import would be circular

    result: ev.EvalResult = stored["result"]  # type: ignore[assignment]
    fit: ev.TemperatureFit | None = stored["fit"]  # type: ignore[assignment]
    if result.n == 0 or fit is None:
        st.error(t("eval.nothing_decoded", lang, errors=len(result.errors)))
        st.dataframe(pd.DataFrame([vars(e) for e in result.errors]), hide_index=True, width="stretch")
        return
    names = tuple(labels) if len(labels) == result.num_classes else tuple(index_labels(result.num_classes))
    st.divider()
    st.subheader(t("eval.headline", lang))
    source, model_name = escape_markdown(result.source), escape_markdown(result.model or "?")  # file names: text
    caption = t("eval.headline_caption", lang, n=result.n, model=model_name, source=source)
    if result.seconds > 0 and result.backend:  # a run here, not a results file
        rate, backend = result.images_per_second, result.backend
        caption += " · " + t("eval.run_caption", lang, seconds=result.seconds, rate=rate, backend=backend)
    st.caption(caption)
    temperature, bins = _temperature_controls(fit, lang)
    view = View(stored["key"], result, fit, names, reader, temperature, bins, lang)  # type: ignore[arg-type]
    headline(view)
    calibration(view)
    confusion(view)
    galleries(view)
    per_class(view)
    diagnose.render(view)
    downloads(view)


def _metric_row(title: str, metrics: ev.Metrics, reference: ev.Metrics | None, lang: str) -> None:
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


def headline(view: View) -> None:
    """Metric cards at T = 1 and at the slider's T, the fitted T's effect, skipped files."""
    lang, temperature = view.lang, view.temperature
    at_one, at_fit = view.at(1.0).metrics, view.at(view.fit.temperature).metrics
    _metric_row(t("eval.at_one", lang), at_one, None, lang)
    if temperature != 1.0:
        _metric_row(t("eval.at_t", lang, t=temperature), view.at(temperature).metrics, at_one, lang)
    else:
        st.caption(t("eval.move_slider", lang))
    st.info(
        t(
            "eval.fitted",
            lang,
            t=view.fit.temperature,
            nll=at_one.nll,
            nll_after=at_fit.nll,
            ece=at_one.ece,
            ece_after=at_fit.ece,
        )
    )
    if view.fit.probabilities_warning:
        st.warning(t("eval.probabilities_warning", lang))
    errors = view.result.errors
    if errors:
        with st.expander(t("eval.skipped", lang, n=len(errors))):
            st.dataframe(
                pd.DataFrame([vars(e) for e in errors]).rename(
                    columns={"name": t("eval.col.file", lang), "reason": t("eval.col.reason", lang)}
                ),
                hide_index=True,
                width="stretch",
            )


def calibration(view: View) -> None:
    """Reliability diagram at T = 1, the fitted T and (when different) the slider's T; histogram at T."""
    lang, temperature, fitted = view.lang, view.temperature, view.fit.temperature
    st.subheader(t("eval.calibration", lang))
    curves = [(t("eval.curve.one", lang, ece=view.at(1.0).metrics.ece), 1.0)]
    curves.append((t("eval.curve.fitted", lang, t=fitted, ece=view.at(fitted).metrics.ece), fitted))
    if temperature != 1.0 and abs(temperature - fitted) > 5e-3:  # a third curve only when it differs
        curves.append((t("eval.curve.current", lang, t=temperature, ece=view.at(temperature).metrics.ece), temperature))
    tables = [(name, view.at(curve_t).calibration) for name, curve_t in curves]
    now = view.at(temperature)
    chart_left, chart_right = st.columns(2)
    with chart_left:
        st.plotly_chart(ev.reliability_figure(tables, lang=lang), width="stretch", key="eval_reliability")
    with chart_right:
        title = t("eval.chart.histogram_at", lang, t=temperature)
        figure = ev.confidence_histogram_figure(now.confidence, now.correct, lang=lang, title=title)
        st.plotly_chart(figure, width="stretch", key="eval_histogram")


def confusion(view: View) -> None:
    """Heatmap for up to MAX_HEATMAP_CLASSES classes, the confused pairs (a row opens its images) always."""
    lang, records = view.lang, view.at(view.temperature).records
    st.subheader(t("eval.confusion", lang))
    shown = ev.shown_classes(records)
    pairs = ev.confused_pairs(records)
    small = len(shown) <= MAX_HEATMAP_CLASSES
    matrix_column, pairs_column = st.columns([3, 2]) if small else (None, st.container())
    if matrix_column is not None:
        with matrix_column:
            matrix = ev.confusion_matrix(records["target"], records["prediction"], num_classes=view.result.num_classes)
            figure = ev.confusion_matrix_figure(matrix, view.names, classes=shown, lang=lang)
            st.plotly_chart(figure, width="stretch", key="eval_confusion")
    else:
        st.caption(t("eval.too_many_classes", lang, n=len(shown), limit=MAX_HEATMAP_CLASSES))
    selection = None
    with pairs_column:
        st.caption(t("eval.pairs_caption", lang))
        if pairs.empty:
            st.success(t("eval.no_mistakes", lang))
        else:
            columns = {"target_label": "true", "prediction_label": "predicted", "count": "count"}
            display = pairs[list(columns)].rename(columns={c: t(f"eval.col.{v}", lang) for c, v in columns.items()})
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
        gallery(view, chosen.sort_values("confidence", ascending=False).head(GALLERY_SIZE * 2), "pair")


def galleries(view: View) -> None:
    """Most confident mistakes or least confident right answers, as cards."""
    lang, records = view.lang, view.at(view.temperature).records
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
    kind = kind or "mistakes"
    pick = ev.most_confident_mistakes if kind == "mistakes" else ev.least_confident_correct
    st.caption(t(f"eval.gallery.{kind}_caption", lang))
    gallery(view, pick(records, n=GALLERY_SIZE), kind)


def gallery(view: View, rows: pd.DataFrame, slot: str) -> None:
    """Cards in rows of GALLERY_COLUMNS; the image opened from this gallery shows right under it."""
    if rows.empty:
        st.caption(t("eval.gallery_empty", view.lang))
        return
    for start in range(0, len(rows), GALLERY_COLUMNS):
        chunk = rows.iloc[start : start + GALLERY_COLUMNS].iterrows()
        for column, (_, row) in zip(st.columns(GALLERY_COLUMNS), chunk, strict=False):
            with column:
                _card(view, row, slot)
    selected = st.session_state["eval_selected"]
    if selected in view.result.files and st.session_state.get("eval_selected_slot") == slot:
        single_image(view, selected)


def _card(view: View, row: pd.Series, slot: str) -> None:
    """One gallery card: thumbnail, true and predicted label (plain text), confidence, margin, open button."""
    lang = view.lang
    with st.container(border=True):
        image = _thumbnail(view.key[1], row["file"], view.reader) if view.reader is not None else None
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


def single_image(view: View, name: str) -> None:
    """The selected image in place: picture, top-k at the current T, the checklist, the Inspector button."""
    lang, temperature = view.lang, view.temperature
    position = view.result.files.index(name)
    logits = view.result.logits[position]
    row = view.at(temperature).records.iloc[position]
    with st.container(border=True):
        head, close = st.columns([5, 1])
        head.markdown(f"#### {t('eval.view.title', lang)}")
        head.text(name)
        close.button(t("eval.view.close", lang), on_click=_close, width="stretch")
        picture, table = st.columns([1, 3])
        checks = st.container()
        data = None
        if view.reader is not None:
            try:
                data = view.reader.read(name)
                picture.image(image_bytes(thumbnail(decode_image(data, name).image, size=320)), width="stretch")
            except LogitscopeError as exc:
                picture.error(escape_markdown(str(exc)))
        picture.text(t("eval.card", lang, true=row["target_label"], predicted=row["prediction_label"]))
        picture.caption(t("eval.card_numbers", lang, confidence=row["confidence"], margin=row["margin"]))
        with table:
            st.caption(t("eval.view.top_k", lang, t=temperature))
            top = top_k_table(logits, view.names, k=5, temperature=temperature)
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
            found = run_checks(
                logits, labels=view.names, num_classes=view.result.num_classes, temperature=temperature, lang=lang
            )
            status, finding = t("eval.view.status", lang), t("eval.view.finding", lang)
            st.dataframe(
                pd.DataFrame(
                    {status: [t(f"eval.status.{c.status}", lang) for c in found], finding: [c.message for c in found]}
                ),
                hide_index=True,
                width="stretch",
                column_config={status: st.column_config.TextColumn(width="small")},
            )
        if data is not None and st.button(t("eval.view.inspector", lang), key="eval_to_inspector"):
            open_in_inspector(name, data)


def open_in_inspector(name: str, data: bytes) -> None:
    """Hand one image to the Image Inspector (its image inputs take it) and go there."""
    st.session_state[HANDOFF_KEY] = {"name": name, "bytes": data}
    st.switch_page(INSPECTOR_PAGE)


def per_class(view: View) -> None:
    """Accuracy and mean confidence (at T) per true class."""
    lang = view.lang
    st.subheader(t("eval.per_class", lang))
    table = ev.per_class_table(view.at(view.temperature).records, view.names)
    percent = {"accuracy": table["accuracy"] * 100, "mean_confidence": table["mean_confidence"] * 100}
    cc = st.column_config
    st.dataframe(
        table.assign(**percent),  # shown as "94.5%": one decimal on every row
        hide_index=True,
        width="stretch",
        key="eval_per_class",
        column_config={
            "index": cc.NumberColumn(t("eval.col.index", lang)),
            "label": cc.TextColumn(t("eval.col.label", lang)),
            "count": cc.NumberColumn(t("eval.col.count", lang)),
            "correct": cc.NumberColumn(t("eval.col.correct", lang)),
            "accuracy": cc.ProgressColumn(t("eval.col.accuracy", lang), format="%.1f%%", min_value=0, max_value=100),
            "mean_confidence": cc.NumberColumn(t("eval.col.mean_confidence", lang), format="%.1f%%"),
            "predicted": cc.NumberColumn(t("eval.col.predicted_count", lang)),
            "most_confused_with": cc.TextColumn(t("eval.col.most_confused", lang)),
        },
    )


def downloads(view: View) -> None:
    """The per-image results as CSV or Parquet, built only when a button is clicked."""
    lang, result, names = view.lang, view.result, view.names
    st.subheader(t("eval.download", lang))
    st.caption(t("eval.download_caption", lang))
    stem = f"results-{result.model or 'model'}"
    csv_column, parquet_column, report_column, _ = st.columns([1, 1, 1.4, 1.6])
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
    from ui import reports  # ui.reports imports this module

    report_column.download_button(
        t("report.download", lang),
        data=lambda: reports.evaluation_html(view),
        file_name=reports.evaluation_file_name(view),
        mime="text/html",
        key="eval_download_report",
        width="stretch",
        on_click="ignore",
        icon=":material/summarize:",
        help=t("report.download_help", lang),
    )
