"""The doubt sections of the HTML reports: one image's out-of-distribution scores (and its prediction set), and an
evaluation's abstaining, prediction sets, outside images and calibration depth, with the pages' figures.

Every number is the one `core.uncertainty` computes; the settings (coverage, method, seed, the abstain threshold,
the outside set) are the ones the page shows, passed in as a `DoubtSettings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from core.charts.uncertainty import (
    adaptive_reliability_figure,
    classwise_reliability_figure,
    coverage_by_class_figure,
    risk_coverage_figure,
    roc_figure,
    score_label,
    set_size_figure,
)
from core.evaluate.rescore import Rescorer
from core.i18n import t
from core.prediction.query import format_probability
from core.report.document import Charts, esc, percent, table_html
from core.uncertainty.availability import doubt_availability
from core.uncertainty.calibration import (
    adaptive_calibration_table,
    adaptive_ece,
    classwise_calibration_table,
    classwise_ece,
)
from core.uncertainty.conformal import DEFAULT_ALPHA, Calibration, set_for_image, split_conformal, summarise_sets
from core.uncertainty.ood import SCORE_NAMES, ood_scores, ood_scores_record, score_percentiles, separations
from core.uncertainty.selective import (
    CURVES,
    abstain,
    accuracy_at_coverage,
    aurc,
    coverage_at_accuracy,
    curve_confidences,
    risk_curves,
)

READ_AT_COVERAGE = 0.9  # the report's "accuracy at coverage c" and "coverage at accuracy a"
READ_AT_ACCURACY = 0.99


def score_text(name: str, value: float) -> str:
    """One score as people read it: a probability as a percentage, the others in their own units."""
    return format_probability(value) if name == "msp" else f"{value:.4f}"


def set_text(members: Sequence[tuple[int, str, float]], coverage: float, lang: str) -> str:
    """ "90% set: {espresso, cup} (2 classes)" """
    names = ", ".join(label for _, label, _ in members)
    return t("unc.inspector.set", lang, coverage=coverage, members=names, size=len(members))


# ---------------------------------------------------------------- one image
@dataclass(frozen=True, eq=False)
class ImageDoubt:
    """What the session knows beyond one image's logits (all optional).

    Attributes:
        reference: in-distribution images' `ood_scores` at the report's T (percentiles among them).
        reference_name: where they came from.
        calibration: prediction sets calibrated on the Evaluation page; calibration_source: on what.
    """

    reference: Mapping[str, np.ndarray] | None = None
    reference_name: str = ""
    calibration: Calibration | None = None
    calibration_source: str = ""


def image_doubt_html(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float,
    reference: Mapping[str, np.ndarray] | None = None,
    reference_name: str = "",
    calibration: Calibration | None = None,
    calibration_source: str = "",
    lang: str = "en",
) -> str:
    """The image's scores at T, their percentiles among `reference` (in-distribution images' `ood_scores` at the
    same T) when given, and its prediction set under `calibration` when given."""
    record = ood_scores_record(logits, temperature)
    found = score_percentiles(record, reference) if reference is not None else {}
    rows = [
        [score_label(name, lang), score_text(name, record[name]), f"{found[name]:.1f}" if name in found else "—"]
        for name in SCORE_NAMES
    ]
    n = len(next(iter(reference.values()))) if reference else 0
    header = [
        t("unc.report.score", lang),
        t("unc.report.value", lang, t=temperature),
        t("unc.report.percentile", lang, n=n),
    ]
    parts = [f"<h3>{esc(t('unc.inspector.title', lang))}</h3>", table_html(header, rows, numeric=[1, 2])]
    if reference is not None:
        parts.append(f"<p>{esc(t('unc.inspector.reference', lang, n=n, source=reference_name))}</p>")
    else:
        parts.append(f"<p>{esc(t('unc.report.no_reference', lang))}</p>")
    if calibration is not None:
        members = set_for_image(calibration, logits, labels)
        parts.append(f"<p><strong>{esc(set_text(members, 1 - calibration.alpha, lang))}</strong></p>")
        parts.append(f"<p>{esc(calibration_caption(calibration, calibration_source, lang))}</p>")
    return "".join(parts)


def calibration_caption(calibration: Calibration, source: str, lang: str) -> str:
    """What a set was calibrated on: method, T, how many images, where."""
    return t(
        "unc.inspector.calibrated",
        lang,
        method=calibration.method.upper(),
        t=calibration.temperature,
        n=calibration.n,
        source=source,
    )


# ---------------------------------------------------------------- an evaluation
@dataclass(frozen=True)
class DoubtSettings:
    """What the Evaluation page's doubt tools were set to, for the report's sections.

    Attributes:
        method: "lac" or "aps"; alpha: 1 - the coverage; randomized: randomized APS; seed: the split's seed.
        abstain_score: the score the abstain threshold was set on (one of `core.uncertainty.selective.CURVES`),
            with `abstain_threshold`; None for no threshold on the curve.
        outside: the outside images' logits (None: no out-of-distribution section), from `outside_source`.
    """

    method: str = "lac"
    alpha: float = DEFAULT_ALPHA
    randomized: bool = False
    seed: int = 0
    abstain_score: str | None = None
    abstain_threshold: float | None = None
    outside: Tensor | None = None
    outside_source: str = ""


def _section(key: str, lang: str, body: str, **params: object) -> str:
    return f'<section class="page doubt"><h2>{esc(t(key, lang, **params))}</h2>{body}</section>'


def _selective(scorer: Rescorer, fitted: float, settings: DoubtSettings, charts: Charts, lang: str) -> str:
    logits, hit = scorer.result.logits, scorer.correct  # right or wrong: the scorer's, the same at every T
    values = curve_confidences(ood_scores(logits), ood_scores(logits, temperature=fitted))
    names = {name: t(f"unc.curve.{name}", lang, t=fitted) for name in CURVES}
    curves = risk_curves(values, hit)
    rows = [
        [
            names[name],
            f"{aurc(curve):.5f}",
            percent(accuracy_at_coverage(curve, READ_AT_COVERAGE)),
            percent(coverage_at_accuracy(curve, READ_AT_ACCURACY)),
        ]
        for name, curve in curves.items()
    ]
    header = [
        t("unc.selective.col.score", lang),
        "AURC",
        t("unc.selective.col.accuracy", lang, c=READ_AT_COVERAGE),
        t("unc.selective.col.coverage", lang, a=READ_AT_ACCURACY),
    ]
    marked, body = None, [table_html(header, rows, numeric=[1, 2, 3])]
    if settings.abstain_score in values and settings.abstain_threshold is not None:
        score, threshold = settings.abstain_score, settings.abstain_threshold
        marked = abstain(values[score], hit, threshold)
        line = t(
            "unc.report.abstain",
            lang,
            score=names[score],
            threshold=score_text("msp" if score.startswith("msp") else score, threshold),
            kept=marked.kept,
            abstained=marked.abstained,
            accuracy=marked.accuracy,
        )
        body.append(f"<p>{esc(line)}</p>")
    figure = risk_coverage_figure([(names[n], c) for n, c in curves.items()], marked=marked, lang=lang)
    body.append(charts.html(figure))
    return "".join(body)


def _conformal(
    logits: Tensor,
    targets: Tensor,
    labels: Sequence[str],
    temperature: float,
    settings: DoubtSettings,
    charts: Charts,
    lang: str,
) -> str:
    split = split_conformal(
        logits,
        targets,
        method=settings.method,
        alpha=settings.alpha,
        temperature=temperature,
        randomized=settings.randomized,
        seed=settings.seed,
    )
    summary = summarise_sets(split.sets, split.targets, labels)
    calibration = split.calibration
    header = [
        t("unc.sets.method", lang),
        t("unc.sets.coverage", lang),
        t("unc.sets.threshold", lang),
        t("unc.sets.test_coverage", lang),
        t("unc.sets.mean_size", lang),
        t("unc.sets.empty", lang),
    ]
    method = calibration.method.upper() + (" (randomized)" if calibration.randomized else "")
    row = [
        method,
        f"{1 - calibration.alpha:.0%}",
        f"{calibration.threshold:.6g}",
        percent(summary.coverage) if math.isfinite(summary.coverage) else "—",
        f"{summary.mean_set_size:.2f}",
        f"{summary.empty_share:.1%}",
    ]
    measured = t("unc.sets.on_half", lang, n=summary.n, seed=settings.seed)
    caption = t("unc.sets.measured", lang, measured=measured, n_cal=calibration.n, t=calibration.temperature)
    return (
        table_html(header, [row], numeric=[1, 2, 3, 4, 5])
        + f"<p>{esc(caption)}</p>"
        + charts.html(set_size_figure(summary.histogram, lang=lang))
        + charts.html(coverage_by_class_figure(summary.by_class, alpha=calibration.alpha, lang=lang))
    )


def _outside(logits: Tensor, settings: DoubtSettings, temperature: float, charts: Charts, lang: str) -> str:
    assert settings.outside is not None
    inside, outside = ood_scores(logits, temperature=temperature), ood_scores(settings.outside, temperature=temperature)
    found = separations(inside, outside)
    header = [t("unc.ood.col.score", lang), "AUROC", t("unc.ood.col.fpr95", lang), t("unc.ood.col.threshold95", lang)]
    rows = [
        [score_label(n, lang), f"{found[n].auroc:.4f}", percent(found[n].fpr95), f"{found[n].threshold95:.6g}"]
        for n in SCORE_NAMES
    ]
    n_in, n_out = int(inside["msp"].size), int(outside["msp"].size)
    against = t("unc.ood.against", lang, n_in=n_in, n_out=n_out, source=settings.outside_source, t=temperature)
    return (
        f"<p>{esc(against)}</p>"
        + table_html(header, rows, numeric=[1, 2, 3])
        + charts.html(roc_figure(found, lang=lang))
    )


def _depth(scorer: Rescorer, labels: Sequence[str], temperature: float, bins: int, charts: Charts, lang: str) -> str:
    result, now = scorer.result, scorer.at(temperature, bins=bins)
    adaptive = adaptive_calibration_table(now.confidence, now.correct, n_bins=bins)
    classwise = classwise_calibration_table(result.logits, result.targets, temperature=temperature, n_bins=bins)
    header = [t("unc.depth.ece", lang), t("unc.depth.adaptive", lang), t("unc.depth.classwise", lang)]
    row = [percent(now.metrics.ece), percent(adaptive_ece(adaptive)), f"{classwise_ece(classwise):.3%}"]
    return (
        f"<p>{esc(t('unc.depth.caption', lang, t=temperature, bins=bins))}</p>"
        + table_html(header, [row], numeric=[0, 1, 2])
        + charts.html(adaptive_reliability_figure(adaptive, lang=lang))
        + charts.html(classwise_reliability_figure(classwise, labels, lang=lang))
    )


def evaluation_doubt_html(
    scorer: Rescorer,
    labels: Sequence[str],
    *,
    fitted: float,
    temperature: float,
    bins: int,
    settings: DoubtSettings,
    charts: Charts,
    lang: str = "en",
) -> str:
    """Abstaining, prediction sets, outside images (when `settings.outside` is given) and calibration depth; a
    section the result cannot feed says why."""
    result = scorer.result
    z, y = result.logits, result.targets
    why = doubt_availability(result.n)
    parts = []
    for key, tool, build in (
        ("unc.tool.selective", "selective", lambda: _selective(scorer, fitted, settings, charts, lang)),
        ("unc.tool.conformal", "conformal", lambda: _conformal(z, y, labels, temperature, settings, charts, lang)),
        ("unc.tool.ood", "ood", lambda: _outside(z, settings, temperature, charts, lang)),
        ("unc.tool.depth", "depth", lambda: _depth(scorer, labels, temperature, bins, charts, lang)),
    ):
        if tool == "ood" and settings.outside is None:
            continue
        reason = why[tool]
        body = f"<p>{esc(t('unc.report.unavailable', lang, reason=reason.message(lang)))}</p>" if reason else build()
        parts.append(_section(key, lang, body))
    return "\n".join(parts)
