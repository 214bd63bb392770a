"""The Image Inspector's report: per image the picture, the model input, the top-k table, the charts, the checks and
its out-of-distribution scores (with their percentiles and its prediction set when the session has them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from core.analysis import ImageResult
from core.charts.prediction import prediction_figures
from core.checks import Check, run_checks
from core.explorer.embed import explorer_box, explorer_script, explorer_style, labels_block, static_part
from core.explorer.payload import explorer_data
from core.i18n import t
from core.numerics import T_MAX, T_MIN, ScoreKind
from core.prediction.tables import score_table
from core.report.document import Charts, data_uri, document, esc, meta_html, percent, table_html
from core.report.doubt import ImageDoubt, image_doubt_html

_STATUS_MARK = {"pass": "✓", "warn": "⚠", "fail": "✗"}


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
                row.append(percent(float(value)))
            else:
                row.append(value)
        rows.append(row)
    numeric = [i for i, c in enumerate(columns) if c not in ("label", "label_2")]
    return table_html(header, rows, numeric=numeric)


def _image_section(
    result: ImageResult,
    labels: Sequence[str],
    charts: Charts,
    *,
    temperature: float,
    k: int,
    scores: ScoreKind,
    num_classes: int | None,
    other_labels: Sequence[str] | None,
    lang: str,
    doubt: ImageDoubt,
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
    figures = prediction_figures(result.logits, labels, k=k, temperature=temperature, scores=scores, lang=lang)
    static = (
        f"<h3>{esc(t('report.top_k', lang, k=len(table), temperature=temperature))}</h3>"
        + _top_k_html(table, temperature=temperature, scores=scores, lang=lang)
        + charts.html(figures["bars"])
    )
    if _live(scores, temperature):  # the same T slider, table and chart as the app, the static copy without JS
        data = explorer_data(result.logits, labels, temperature=temperature, k=k, k_max=max(k, 20), lang=lang)
        parts += [explorer_box(data), static_part(static)]
    else:
        parts.append(static)
    parts += [charts.html(figures[key]) for key in ("sweep", "entropy")]
    checks = run_checks(result.logits, labels=labels, num_classes=num_classes, k=k, temperature=temperature, lang=lang)
    parts.append(_checks_html(checks, lang))
    parts.append(
        image_doubt_html(
            result.logits,
            labels,
            temperature=temperature,
            reference=doubt.reference,
            reference_name=doubt.reference_name,
            calibration=doubt.calibration,
            calibration_source=doubt.calibration_source,
            lang=lang,
        )
    )
    return '<section class="page image">' + "".join(parts) + "</section>"


def _live(scores: ScoreKind, temperature: float) -> bool:
    """Whether the report's images get the live explorer: softmax at a T on the slider's range."""
    return scores == "softmax" and T_MIN <= temperature <= T_MAX


def _summary_html(results: Sequence[ImageResult], labels: Sequence[str], *, temperature: float, lang: str) -> str:
    rows: list[list[object]] = []
    for result in results:
        if result.logits is None:
            rows.append([result.name, "", "", result.error or ""])
            continue
        table = score_table(result.logits, labels, k=1, temperature=temperature)
        top = table.iloc[0]
        rows.append([result.name, top["label"], percent(float(top["probability"])), ""])
    header = [
        t("inspector.col.file", lang),
        t("inspector.col.top1", lang),
        t("inspector.col.p", lang, temperature=temperature),
        t("inspector.col.message", lang),
    ]
    return table_html(header, rows, numeric=[2])


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
    doubt: ImageDoubt | None = None,
) -> str:
    """The Inspector's view of `results` as one HTML file: per image the picture, the model input, the
    top-k table, the logits-vs-probabilities and temperature charts and the checks, at T and k.

    Args:
        results: analysed images (a failed one shows its message).
        labels: the class names shown (`other_labels`: the second language's, or None).
        model: the model's registry name; `preprocessing` its pipeline in words.
        scores: "softmax" or "sigmoid", as on the page.
        generated: the time printed in the footer (default: now).
        doubt: the reference images and calibrated prediction sets of the session, for each image's "is this like
            what the model knows?" (its scores at T are always shown).
    """
    charts = Charts()
    title = t("report.inspector_title", lang)
    meta = [
        (t("report.model", lang), model),
        *([(t("report.preprocessing", lang), preprocessing)] if preprocessing else []),
        (t("report.settings", lang), t("report.settings_value", lang, temperature=temperature, k=k, scores=scores)),
        (t("report.images", lang), len(results)),
    ]
    body = [f"<header><h1>{esc(title)}</h1>{meta_html(meta)}</header>"]
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
                doubt=doubt or ImageDoubt(),
            )
        )
    sizes = [r.logits.numel() for r in results if r.logits is not None]
    if _live(scores, temperature) and sizes:
        body += [labels_block(labels, max(sizes)), explorer_script()]
        head = explorer_style()
    else:
        head = ""
    return document(title, "\n".join(body), lang=lang, generated=generated or datetime.now(UTC), head=head)
