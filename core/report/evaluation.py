"""The Evaluation page's report: headline metrics, reliability diagram, confusion, the most confident mistakes, the
likely label errors, and the doubt sections (`core.report.doubt`)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pandas as pd

from core.charts.evaluate import MAX_HEATMAP_CLASSES, confusion_matrix_figure, reliability_figure
from core.diagnose.availability import label_issues_unavailable
from core.evaluate.metrics import DEFAULT_BINS, TemperatureFit
from core.evaluate.records import confused_pairs, confusion_matrix, most_confident_mistakes, shown_classes
from core.evaluate.rescore import Rescorer
from core.evaluate.result import EvalResult
from core.i18n import t
from core.labels import label_of
from core.report.document import Charts, Raw, document, esc, meta_html, percent, table_html
from core.report.doubt import DoubtSettings, evaluation_doubt_html

MAX_TABLE_ROWS = 50
THUMBNAIL_SIDE = 96


def _metrics_html(
    scorer: Rescorer, fit: TemperatureFit, *, temperature: float, lang: str
) -> tuple[str, list[tuple[str, float]]]:
    """The headline table (T = 1, the fitted T, the chosen T) and the temperatures of its columns."""
    temps = [(t("report.at_one", lang), 1.0), (t("report.at_fitted", lang, t=fit.temperature), fit.temperature)]
    if abs(temperature - 1.0) > 5e-3 and abs(temperature - fit.temperature) > 5e-3:
        temps.append((t("report.at_chosen", lang, t=temperature), temperature))
    metrics = [scorer.metrics(value) for _, value in temps]
    rows: list[list[object]] = []
    for name in ("top1", "top5", "nll", "ece", "mce", "brier"):
        values = [getattr(m, name) for m in metrics]
        shown = [percent(v) if name in ("top1", "top5", "ece", "mce") else f"{v:.4f}" for v in values]
        rows.append([t(f"eval.metric.{name}", lang), *shown])
    header = [t("report.metric", lang), *(name for name, _ in temps)]
    return table_html(header, rows, numeric=list(range(1, len(temps) + 1))), temps


def _thumbnail_cell(thumbnails: Mapping[str, bytes] | None, file: str) -> object:
    data = (thumbnails or {}).get(file)
    if not data:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    return Raw(f'<img alt="" width="{THUMBNAIL_SIDE}" src="data:image/png;base64,{encoded}">')


def _label_issues_html(
    issues: pd.DataFrame, result: EvalResult, labels: Sequence[str], thumbnails: Mapping[str, bytes] | None, lang: str
) -> str:
    """core.diagnose.label_issues' table (index, given, suggested, confidence, score) with names and pictures."""
    if issues.empty:
        return f"<p>{esc(t('report.no_label_issues', lang))}</p>"
    rows: list[list[object]] = []
    for row in issues.head(MAX_TABLE_ROWS).to_dict(orient="records"):
        file = result.files[int(row["index"])]
        rows.append(
            [
                _thumbnail_cell(thumbnails, file),
                file,
                label_of(labels, int(row["given"])),
                label_of(labels, int(row["suggested"])),
                percent(float(row["confidence"])),
                percent(float(row["score"])),
            ]
        )
    header = ["", *(t(f"report.issue.{c}", lang) for c in ("file", "given", "suggested", "confidence", "score"))]
    more = len(issues) - MAX_TABLE_ROWS
    tail = f"<p>{esc(t('report.more_rows', lang, n=more))}</p>" if more > 0 else ""
    return table_html(header, rows, numeric=[4, 5]) + tail


def evaluation_report(
    result: EvalResult,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    fit: TemperatureFit | None = None,
    label_issues: pd.DataFrame | None = None,
    thumbnails: Mapping[str, bytes] | None = None,
    max_mistakes: int = 12,
    lang: str = "en",
    generated: datetime | None = None,
    scorer: Rescorer | None = None,
    bins: int = DEFAULT_BINS,
    doubt: DoubtSettings | None = None,
) -> str:
    """The Evaluation page's findings as one HTML file: headline metrics, reliability diagram, confusion,
    the most confident mistakes and, when given, the likely label errors.

    Args:
        result: the evaluation run (or results read back from a file).
        labels: the class names.
        temperature: the page's T (mistakes and confusion are counted at it; metrics at 1, fitted and T).
        fit: the fitted temperature, computed here when None.
        label_issues: `core.diagnose.label_issues`' table, or None when not computed (when they cannot be, for one
            class or one image, the report says why in one line).
        thumbnails: PNG bytes per file name, shown next to mistakes and label issues.
        scorer: the result made ready to re-score (the page's, with its temperatures scored); made here when None.
        bins: calibration bins of the calibration-depth section.
        doubt: the doubt tools' settings (coverage, method, the abstain threshold, the outside set); the defaults
            when None. The sections: abstaining, prediction sets, outside images (only with an outside set),
            calibration depth.
    """
    scorer = scorer or Rescorer(result)
    fit = fit or scorer.calibrate()
    charts = Charts()
    title = t("report.evaluation_title", lang)
    meta = [
        (t("report.source", lang), result.source or "—"),
        (t("report.model", lang), result.model or "—"),
        (t("report.images", lang), result.n),
        (t("report.settings", lang), t("report.eval_settings_value", lang, temperature=temperature)),
    ]
    if result.errors:
        meta.append((t("report.skipped", lang), len(result.errors)))
    body = [f"<header><h1>{esc(title)}</h1>{meta_html(meta)}</header>"]
    if result.notes:  # how a zip's names were read, OS metadata left out
        body.append("<ul>" + "".join(f"<li>{esc(note)}</li>" for note in result.notes) + "</ul>")
    metrics, temps = _metrics_html(scorer, fit, temperature=temperature, lang=lang)
    body.append(f'<section class="metrics"><h2>{esc(t("report.headline", lang))}</h2>{metrics}')
    curves = []
    for name, value in temps:
        curves.append((name, scorer.at(value).calibration))
    body.append(f"<h3>{esc(t('report.reliability', lang))}</h3>{charts.html(reliability_figure(curves, lang=lang))}")
    body.append("</section>")

    records = scorer.at(temperature, names=labels).records
    body.append(f'<section class="page confusion"><h2>{esc(t("report.confusion", lang, t=temperature))}</h2>')
    shown = shown_classes(records)
    if len(shown) <= MAX_HEATMAP_CLASSES:
        matrix = confusion_matrix(records["target"], records["prediction"], num_classes=result.num_classes)
        body.append(charts.html(confusion_matrix_figure(matrix, labels, classes=shown, lang=lang)))
    else:
        body.append(f"<p>{esc(t('report.too_many_classes', lang, n=len(shown), limit=MAX_HEATMAP_CLASSES))}</p>")
    pairs = confused_pairs(records, top=MAX_TABLE_ROWS)
    if not pairs.empty:
        header = [t("eval.col.true", lang), t("eval.col.predicted", lang), t("eval.col.count", lang)]
        rows = [[p["target_label"], p["prediction_label"], p["count"]] for p in pairs.to_dict(orient="records")]
        body.append(table_html(header, rows, numeric=[2]))
    body.append("</section>")

    mistakes = most_confident_mistakes(records, n=max_mistakes)
    body.append(f'<section class="page mistakes"><h2>{esc(t("report.mistakes", lang, t=temperature))}</h2>')
    if mistakes.empty:
        body.append(f"<p>{esc(t('eval.no_mistakes', lang))}</p>")
    else:
        header = ["", t("report.issue.file", lang), t("eval.col.true", lang), t("eval.col.predicted", lang)]
        header.append(t("report.issue.confidence", lang))
        rows = [
            [
                _thumbnail_cell(thumbnails, str(m["file"])),
                "; ".join((str(m["file"]), *result.file_notes.get(str(m["file"]), ()))),  # upscaled, cropped, ...
                m["target_label"],
                m["prediction_label"],
                percent(float(m["confidence"])),
            ]
            for m in mistakes.to_dict(orient="records")
        ]
        body.append(table_html(header, rows, numeric=[4]))
    body.append("</section>")

    if label_issues is not None:
        body.append(f'<section class="page issues"><h2>{esc(t("report.label_issues", lang))}</h2>')
        body.append(f"<p>{esc(t('report.label_issues_note', lang))}</p>")
        body.append(_label_issues_html(label_issues, result, labels, thumbnails, lang))
        body.append("</section>")
    elif (why := label_issues_unavailable(result.targets.numpy(), result.num_classes, labels)) is not None:
        body.append(f"<p>{esc(t('report.label_issues_unavailable', lang, reason=why.message(lang)))}</p>")
    settings = doubt or DoubtSettings()
    body.append(
        evaluation_doubt_html(
            scorer,
            labels,
            fitted=fit.temperature,
            temperature=temperature,
            bins=bins,
            settings=settings,
            charts=charts,
            lang=lang,
        )
    )
    return document(title, "\n".join(body), lang=lang, generated=generated or datetime.now(UTC))
