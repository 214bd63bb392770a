"""The Dataset Evaluation page's results: one `st.fragment` from the T slider to the downloads.

`results_view` draws a stored evaluation (the data in, the run and the stored result are `ui.evaluation.inputs`).
Moving T or the bins reruns only this fragment; each T is one pass over the logits (the stored `Rescorer`). The
renderers take a `View` (explicit arguments, no page globals); the debugging tools (`ui.evaluation.diagnose`) use the
same `View`. Session state: "eval_temperature"/"eval_bins" are the knobs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core.charts.evaluate import (
    MAX_HEATMAP_CLASSES,
    confidence_histogram_figure,
    confusion_matrix_figure,
    reliability_figure,
)
from core.datasets.sets import Reader
from core.evaluate.files import results_bytes
from core.evaluate.metrics import Metrics, TemperatureFit
from core.evaluate.records import (
    confused_pairs,
    confusion_matrix,
    least_confident_correct,
    most_confident_mistakes,
    per_class_table,
    shown_classes,
)
from core.evaluate.result import EvalResult
from core.i18n import escape_markdown, t
from core.labels import index_labels
from core.models.spec import LoadedModel
from core.numerics import temperature_options
from ui.evaluation import diagnose, doubt, report
from ui.evaluation.view import GALLERY_SIZE, View, notes, records_gallery
from ui.widgets import translated_choice

# the headline metrics: name, format
METRICS = (
    ("top1", "{:.2%}"),
    ("top5", "{:.2%}"),
    ("ece", "{:.2%}"),
    ("nll", "{:.4f}"),
    ("mce", "{:.2%}"),
    ("brier", "{:.4f}"),
)


def _use_fitted(temperature: float) -> None:
    st.session_state["eval_temperature"] = temperature  # exactly: the slider has the fitted T among its stops


# ---------------------------------------------------------------- results (one fragment: T, bins, galleries)
def temperature_stops(fitted: float) -> list[float]:
    """The app's one temperature grid with the fitted T among its stops (exactly, not rounded)."""
    return temperature_options(include=(fitted,))


def _nearest(value: float, stops: Sequence[float]) -> float:
    return min(stops, key=lambda s: abs(s - value))


def _temperature_controls(fit: TemperatureFit, lang: str) -> tuple[float, int]:
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
def results_view(
    stored: dict[str, object], labels: Sequence[str], reader: Reader | None, lang: str, model: LoadedModel | None = None
) -> None:
    """Everything below the run button; a fragment, so T, bins and the galleries rerun only this."""
    result: EvalResult = stored["result"]  # type: ignore[assignment]
    fit: TemperatureFit | None = stored["fit"]  # type: ignore[assignment]
    if result.n == 0 or fit is None:
        st.error(t("eval.nothing_decoded", lang, errors=len(result.errors)))
        notes(result.notes)
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
    scorer = stored["scorer"]
    view = View(stored["key"], result, fit, names, scorer, reader, temperature, bins, lang, stored, model)  # type: ignore[arg-type]
    headline(view)
    calibration(view)
    confusion(view)
    galleries(view)
    per_class(view)
    diagnose.render(view)
    doubt.render(view)
    downloads(view)


def _metric_row(title: str, metrics: Metrics, reference: Metrics | None, lang: str) -> None:
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
    notes(view.result.notes)  # about the whole set: a zip's name encoding, system files left out
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
        st.plotly_chart(reliability_figure(tables, lang=lang), width="stretch", key="eval_reliability")
    with chart_right:
        title = t("eval.chart.histogram_at", lang, t=temperature)
        figure = confidence_histogram_figure(now.confidence, now.correct, lang=lang, title=title)
        st.plotly_chart(figure, width="stretch", key="eval_histogram")


def confusion(view: View) -> None:
    """Heatmap for up to MAX_HEATMAP_CLASSES classes, the confused pairs (a row opens its images) always."""
    lang, records = view.lang, view.at(view.temperature).records
    st.subheader(t("eval.confusion", lang))
    shown = shown_classes(records)
    pairs = confused_pairs(records)
    small = len(shown) <= MAX_HEATMAP_CLASSES
    matrix_column, pairs_column = st.columns([3, 2]) if small else (None, st.container())
    if matrix_column is not None:
        with matrix_column:
            matrix = confusion_matrix(records["target"], records["prediction"], num_classes=view.result.num_classes)
            figure = confusion_matrix_figure(matrix, view.names, classes=shown, lang=lang)
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
        records_gallery(view, chosen.sort_values("confidence", ascending=False).head(GALLERY_SIZE * 2), "pair")


def galleries(view: View) -> None:
    """Most confident mistakes or least confident right answers, as cards."""
    lang, records = view.lang, view.at(view.temperature).records
    st.subheader(t("eval.galleries", lang))
    kind = translated_choice(
        st.segmented_control,
        "eval.gallery",
        ("mistakes", "unsure"),
        lang=lang,
        key="eval_gallery",
        default="mistakes",
        required=True,
        label_visibility="collapsed",
    )
    kind = kind or "mistakes"
    pick = most_confident_mistakes if kind == "mistakes" else least_confident_correct
    st.caption(t(f"eval.gallery.{kind}_caption", lang))
    records_gallery(view, pick(records, n=GALLERY_SIZE), kind)


def per_class(view: View) -> None:
    """Accuracy and mean confidence (at T) per true class."""
    lang = view.lang
    st.subheader(t("eval.per_class", lang))
    table = per_class_table(view.at(view.temperature).records, view.names)
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
    formats = (("csv", "text/csv", csv_column), ("parquet", "application/vnd.apache.parquet", parquet_column))
    for fmt, mime, column in formats:
        column.download_button(
            t(f"eval.download_{fmt}", lang),
            data=lambda fmt=fmt: results_bytes(result, fmt=fmt, labels=names),  # built only when clicked
            file_name=f"{stem}.{fmt}",
            mime=mime,
            key=f"eval_download_{fmt}",
            width="stretch",
            on_click="ignore",
        )
    report_column.download_button(
        t("report.download", lang),
        data=lambda: report.evaluation_html(view),
        file_name=report.evaluation_file_name(view),
        mime="text/html",
        key="eval_download_report",
        width="stretch",
        on_click="ignore",
        icon=":material/summarize:",
        help=t("report.download_help", lang),
    )
