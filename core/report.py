"""One-file HTML reports: what the Inspector shows for some images, or what an evaluation found.

A report is ONE self-contained file to hand over by e-mail: plotly.js is inlined once (with the first
chart; the others reuse it), pictures are data URIs, there are no fonts, links or scripts from elsewhere,
and a Content-Security-Policy forbids the browser any request at all. The charts stay interactive (hover,
zoom); printed, each image starts a new A4 page and the charts are sized to fit its width.

Every name that came from outside (file names, labels, model names) is HTML-escaped here, once.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from PIL import Image

from core.analysis import ImageResult, analyse, digest
from core.charts import confusion_matrix_figure, prediction_figures, reliability_figure
from core.checks import Check, run_checks
from core.evaluate import (
    EvalResult,
    TemperatureFit,
    calibrate,
    calibration_table,
    compute_metrics,
    confidence_and_correct,
    confused_pairs,
    confusion_matrix,
    most_confident_mistakes,
    records_table,
    shown_classes,
)
from core.i18n import t
from core.labels import label_of
from core.numerics import ScoreKind
from core.registry import LoadedModel
from core.tables import score_table

# A4 is 210 mm wide; with 12 mm margins that is 186 mm, about 700 CSS px at 96 px per inch
CHART_WIDTH = 700
MAX_HEATMAP_CLASSES = 30
MAX_TABLE_ROWS = 50
THUMBNAIL_SIDE = 96
# the browser may run the inline scripts and show data: pictures, and fetch nothing (no network, no files)
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": False}
_STATUS_MARK = {"pass": "✓", "warn": "⚠", "fail": "✗"}

_CSS = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       color: #1f2328; margin: 0 auto; max-width: 760px; padding: 24px 16px; line-height: 1.45; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.3em; margin: 28px 0 8px; word-break: break-all; }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
.meta { color: #57606a; font-size: 0.9em; margin: 0 0 12px; }
.meta dt { font-weight: 600; float: left; clear: left; margin-right: 6px; } .meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pictures { display: flex; gap: 16px; flex-wrap: wrap; }
figure { margin: 0; max-width: 340px; } figure img { max-width: 340px; max-height: 340px; border: 1px solid #d0d7de; }
figcaption { font-size: 0.85em; color: #57606a; }
img.model-input { image-rendering: pixelated; }
.chart { width: 700px; margin: 8px 0; break-inside: avoid; page-break-inside: avoid; }
.status-pass { color: #1a7f37; } .status-warn { color: #9a6700; } .status-fail, .error { color: #cf222e; }
ul.checks { list-style: none; padding-left: 0; } ul.checks li { margin: 2px 0; }
.footer { color: #57606a; font-size: 0.8em; margin-top: 32px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; }
  section.page { break-before: page; page-break-before: always; }
  section.page:first-of-type { break-before: auto; page-break-before: auto; }
  table, figure, .pictures { break-inside: avoid; page-break-inside: avoid; }
  .modebar-container { display: none !important; }
}
"""


def esc(text: object) -> str:
    """HTML-escape anything for text or an attribute (quotes included)."""
    return html.escape(str(text), quote=True)


def data_uri(image: Image.Image, *, fmt: str = "PNG") -> str:
    """A PIL image as a data: URI (PNG keeps every pixel, JPEG keeps photos small)."""
    buffer = io.BytesIO()
    picture = image.convert("RGB") if fmt == "JPEG" and image.mode not in ("RGB", "L") else image
    picture.save(buffer, format=fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    mime = "image/jpeg" if fmt == "JPEG" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


class _Charts:
    """Turns figures into <div>s for one report; plotly.js goes inline with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure) -> str:
        sized = go.Figure(fig)  # a copy: the caller's figure keeps its own size
        sized.update_layout(width=CHART_WIDTH, autosize=False)
        self.count += 1
        div = pio.to_html(
            sized,
            full_html=False,
            include_plotlyjs=self.count == 1,
            include_mathjax=False,
            div_id=f"chart-{self.count}",  # stable ids: the same input gives the same file
            config=_PLOTLY_CONFIG,
        )
        return f'<div class="chart">{div}</div>'


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], *, numeric: Sequence[int] = ()) -> str:
    """An HTML table with every cell escaped; columns in `numeric` are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{value.html if isinstance(value, _Raw) else esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw:
    """Markup this module built itself (a thumbnail <img>), put into a table cell unescaped."""

    def __init__(self, markup: str) -> None:
        self.html = markup


def _meta(items: Sequence[tuple[str, object]]) -> str:
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<dl class="meta">{rows}</dl>'


def _document(title: str, body: str, *, lang: str, generated: datetime) -> str:
    html_lang = "zh-CN" if lang == "zh" else "en"
    footer = t("report.footer", lang, when=generated.strftime("%Y-%m-%d %H:%M UTC"))
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'{body}\n<p class="footer">{esc(footer)}</p>\n</body>\n</html>\n'
    )


def _percent(value: float) -> str:
    return f"{value:.2%}"


# ---------------------------------------------------------------- the Inspector's report
def _checks_html(checks: Sequence[Check], lang: str) -> str:
    items = "".join(
        f'<li class="status-{esc(c.status)}">{_STATUS_MARK.get(c.status, "?")} {esc(c.message)}</li>' for c in checks
    )
    return f'<h3>{esc(t("inspector.checks", lang))}</h3><ul class="checks">{items}</ul>'


def _top_k_html(table: pd.DataFrame, *, temperature: float, scores: ScoreKind, lang: str) -> str:
    columns = ["rank", "label", *(["label_2"] if "label_2" in table.columns else []), "index", "logit"]
    columns += ["probability", "probability_t1", "cumulative"] if scores == "softmax" else ["score", "score_t1"]
    header = [t(f"inspector.col.{c}", lang, temperature=temperature) for c in columns]
    rows = []
    for record in table.to_dict(orient="records"):
        row: list[object] = []
        for column in columns:
            value = record[column]
            if column == "logit":
                row.append(f"{float(value):.4f}")
            elif column in ("probability", "probability_t1", "cumulative", "score", "score_t1"):
                row.append(_percent(float(value)))
            else:
                row.append(value)
        rows.append(row)
    numeric = [i for i, c in enumerate(columns) if c not in ("label", "label_2")]
    return _table(header, rows, numeric=numeric)


def _image_section(
    result: ImageResult,
    labels: Sequence[str],
    charts: _Charts,
    *,
    temperature: float,
    k: int,
    scores: ScoreKind,
    num_classes: int | None,
    other_labels: Sequence[str] | None,
    lang: str,
) -> str:
    parts = [f"<h2>{esc(result.name)}</h2>"]
    if result.view is None or result.logits is None:
        parts.append(f'<p class="error">{esc(result.error or t("report.not_analysed", lang))}</p>')
        return '<section class="page image">' + "".join(parts) + "</section>"
    view = result.view
    width, height = view.original_size
    shape = " × ".join(str(n) for n in view.input_shape)
    parts.append(
        '<div class="pictures">'
        f'<figure><img alt="{esc(result.name)}" src="{data_uri(view.preview, fmt="JPEG")}">'
        f"<figcaption>{esc(t('report.picture', lang, width=width, height=height, mode=view.original_mode))}"
        "</figcaption></figure>"
        f'<figure><img class="model-input" alt="{esc(t("report.model_input_alt", lang))}" '
        f'src="{data_uri(view.model_input)}">'
        f"<figcaption>{esc(t('report.model_input', lang, shape=shape))}</figcaption></figure></div>"
    )
    if view.notes:
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in view.notes) + "</ul>")
    table = score_table(result.logits, labels, k=k, temperature=temperature, scores=scores, other_labels=other_labels)
    parts.append(f"<h3>{esc(t('report.top_k', lang, k=len(table), temperature=temperature))}</h3>")
    parts.append(_top_k_html(table, temperature=temperature, scores=scores, lang=lang))
    figures = prediction_figures(result.logits, labels, k=k, temperature=temperature, scores=scores, lang=lang)
    parts += [charts.html(figures[key]) for key in ("bars", "sweep", "entropy")]
    checks = run_checks(result.logits, labels=labels, num_classes=num_classes, k=k, temperature=temperature, lang=lang)
    parts.append(_checks_html(checks, lang))
    return '<section class="page image">' + "".join(parts) + "</section>"


def _summary_html(results: Sequence[ImageResult], labels: Sequence[str], *, temperature: float, lang: str) -> str:
    rows: list[list[object]] = []
    for result in results:
        if result.logits is None:
            rows.append([result.name, "", "", result.error or ""])
            continue
        table = score_table(result.logits, labels, k=1, temperature=temperature)
        top = table.iloc[0]
        rows.append([result.name, top["label"], _percent(float(top["probability"])), ""])
    header = [
        t("inspector.col.file", lang),
        t("inspector.col.top1", lang),
        t("inspector.col.p", lang, temperature=temperature),
        t("inspector.col.message", lang),
    ]
    return _table(header, rows, numeric=[2])


def inspector_report(
    results: Sequence[ImageResult],
    labels: Sequence[str],
    *,
    model: str,
    preprocessing: str = "",
    temperature: float = 1.0,
    k: int = 5,
    scores: ScoreKind = "softmax",
    num_classes: int | None = None,
    other_labels: Sequence[str] | None = None,
    lang: str = "en",
    generated: datetime | None = None,
) -> str:
    """The Inspector's view of `results` as one HTML file: per image the picture, the model input, the
    top-k table, the logits-vs-probabilities and temperature charts and the checks, at T and k.

    Args:
        results: analysed images (a failed one shows its message).
        labels: the class names shown (`other_labels`: the second language's, or None).
        model: the model's registry name; `preprocessing` its pipeline in words.
        scores: "softmax" or "sigmoid", as on the page.
        generated: the time printed in the footer (default: now).
    """
    charts = _Charts()
    title = t("report.inspector_title", lang)
    meta = [
        (t("report.model", lang), model),
        *([(t("report.preprocessing", lang), preprocessing)] if preprocessing else []),
        (t("report.settings", lang), t("report.settings_value", lang, temperature=temperature, k=k, scores=scores)),
        (t("report.images", lang), len(results)),
    ]
    body = [f"<header><h1>{esc(title)}</h1>{_meta(meta)}</header>"]
    if len(results) > 1:
        body.append(_summary_html(results, labels, temperature=temperature, lang=lang))
    for result in results:
        body.append(
            _image_section(
                result,
                labels,
                charts,
                temperature=temperature,
                k=k,
                scores=scores,
                num_classes=num_classes,
                other_labels=other_labels,
                lang=lang,
            )
        )
    return _document(title, "\n".join(body), lang=lang, generated=generated or datetime.now(UTC))


def analyse_files(model: LoadedModel, paths: Sequence[str]) -> list[ImageResult]:
    """`core.analysis.analyse` for files on disk (the CLI): a missing or unreadable file is a result too."""
    results = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or type(exc).__name__
            results.append(ImageResult(path, digest(path.encode()), error=f"{path}: cannot be read ({reason})"))
            continue
        results.append(analyse(model, path, data))
    return results


# ---------------------------------------------------------------- the Evaluation page's report
def _metrics_html(
    result: EvalResult, fit: TemperatureFit, *, temperature: float, lang: str
) -> tuple[str, list[tuple[str, float]]]:
    """The headline table (T = 1, the fitted T, the chosen T) and the temperatures of its columns."""
    temps = [(t("report.at_one", lang), 1.0), (t("report.at_fitted", lang, t=fit.temperature), fit.temperature)]
    if abs(temperature - 1.0) > 5e-3 and abs(temperature - fit.temperature) > 5e-3:
        temps.append((t("report.at_chosen", lang, t=temperature), temperature))
    metrics = [compute_metrics(result.logits, result.targets, temperature=value) for _, value in temps]
    rows: list[list[object]] = []
    for name in ("top1", "top5", "nll", "ece", "mce", "brier"):
        values = [getattr(m, name) for m in metrics]
        shown = [_percent(v) if name in ("top1", "top5", "ece", "mce") else f"{v:.4f}" for v in values]
        rows.append([t(f"eval.metric.{name}", lang), *shown])
    header = [t("report.metric", lang), *(name for name, _ in temps)]
    return _table(header, rows, numeric=list(range(1, len(temps) + 1))), temps


def _thumbnail_cell(thumbnails: Mapping[str, bytes] | None, file: str) -> object:
    data = (thumbnails or {}).get(file)
    if not data:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    return _Raw(f'<img alt="" width="{THUMBNAIL_SIDE}" src="data:image/png;base64,{encoded}">')


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
                _percent(float(row["confidence"])),
                _percent(float(row["score"])),
            ]
        )
    header = ["", *(t(f"report.issue.{c}", lang) for c in ("file", "given", "suggested", "confidence", "score"))]
    more = len(issues) - MAX_TABLE_ROWS
    tail = f"<p>{esc(t('report.more_rows', lang, n=more))}</p>" if more > 0 else ""
    return _table(header, rows, numeric=[4, 5]) + tail


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
) -> str:
    """The Evaluation page's findings as one HTML file: headline metrics, reliability diagram, confusion,
    the most confident mistakes and, when given, the likely label errors.

    Args:
        result: the evaluation run (or results read back from a file).
        labels: the class names.
        temperature: the page's T (mistakes and confusion are counted at it; metrics at 1, fitted and T).
        fit: the fitted temperature, computed here when None.
        label_issues: `core.diagnose.label_issues`' table, or None when not computed.
        thumbnails: PNG bytes per file name, shown next to mistakes and label issues.
    """
    fit = fit or calibrate(result.logits, result.targets)
    charts = _Charts()
    title = t("report.evaluation_title", lang)
    meta = [
        (t("report.source", lang), result.source or "—"),
        (t("report.model", lang), result.model or "—"),
        (t("report.images", lang), result.n),
        (t("report.settings", lang), t("report.eval_settings_value", lang, temperature=temperature)),
    ]
    if result.errors:
        meta.append((t("report.skipped", lang), len(result.errors)))
    body = [f"<header><h1>{esc(title)}</h1>{_meta(meta)}</header>"]
    if result.notes:  # how a zip's names were read, OS metadata left out
        body.append("<ul>" + "".join(f"<li>{esc(note)}</li>" for note in result.notes) + "</ul>")
    metrics, temps = _metrics_html(result, fit, temperature=temperature, lang=lang)
    body.append(f'<section class="metrics"><h2>{esc(t("report.headline", lang))}</h2>{metrics}')
    curves = []
    for name, value in temps:
        confidence, correct = confidence_and_correct(result.logits, result.targets, temperature=value)
        curves.append((name, calibration_table(confidence, correct)))
    body.append(f"<h3>{esc(t('report.reliability', lang))}</h3>{charts.html(reliability_figure(curves, lang=lang))}")
    body.append("</section>")

    records = records_table(result, labels, temperature=temperature)
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
        body.append(_table(header, rows, numeric=[2]))
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
                _percent(float(m["confidence"])),
            ]
            for m in mistakes.to_dict(orient="records")
        ]
        body.append(_table(header, rows, numeric=[4]))
    body.append("</section>")

    if label_issues is not None:
        body.append(f'<section class="page issues"><h2>{esc(t("report.label_issues", lang))}</h2>')
        body.append(f"<p>{esc(t('report.label_issues_note', lang))}</p>")
        body.append(_label_issues_html(label_issues, result, labels, thumbnails, lang))
        body.append("</section>")
    return _document(title, "\n".join(body), lang=lang, generated=generated or datetime.now(UTC))


def report_file_name(stem: str) -> str:
    """A download name, e.g. "logitscope_report_coffee.html"."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("._")[:80]
    return f"logitscope_report_{safe or 'images'}.html"
