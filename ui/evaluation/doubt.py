"""The Evaluation page's doubt tools: outside images (out of distribution), prediction sets, abstaining, and
calibration beyond equal-width bins.

One tool at a time, picked with a segmented control, like the debugging tools: only the picked tool computes
anything. Each pass over the logits (a 50,000 × 1,000 result costs seconds per pass) is memoised with the stored
result (`ui.doubt.memo`: per T, coverage, method..., the last few only), so a rerun that changes nothing else
recomputes nothing. A tool that this result cannot feed says why (`core.uncertainty.availability`). The outside
images are `ui.evaluation.outside`, the prediction sets `ui.evaluation.sets`; abstaining and calibration depth are
here. Session state (prefix "doubt_"): the picked tool and each tool's knobs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.charts.uncertainty import adaptive_reliability_figure, classwise_reliability_figure, risk_coverage_figure
from core.i18n import t
from core.labels import label_of
from core.uncertainty.availability import TOOLS, doubt_availability
from core.uncertainty.calibration import (
    adaptive_calibration_table,
    adaptive_ece,
    classwise_calibration_table,
    classwise_ece,
    classwise_errors,
)
from core.uncertainty.selective import (
    CURVES,
    RiskCoverage,
    abstain,
    abstained_images,
    accuracy_at_coverage,
    aurc,
    coverage_at_accuracy,
    curve_confidences,
    risk_curves,
    threshold_stops,
)
from ui.doubt import memo, scores_at
from ui.evaluation import outside, sets
from ui.evaluation.view import GALLERY_SIZE, View, precise_percent, records_gallery
from ui.widgets import translated_choice

ORDER = ("ood", "conformal", "selective", "depth")  # as the issue names them: outside images first
DEFAULT_ABSTAIN_SHARE = 0.1  # the abstain slider starts where about a tenth of the images are abstained on
WORST_CLASSES = 3


def render(view: View) -> None:
    """The doubt tools under the results; nothing is computed until a tool is picked."""
    lang = view.lang
    st.subheader(t("unc.page.title", lang))
    assert set(ORDER) == set(TOOLS)
    tool = translated_choice(
        st.segmented_control,
        "unc.page.tool",
        ORDER,
        lang=lang,
        key="doubt_tool",
        names="unc.tool",
        label_visibility="collapsed",
    )
    if tool is None:
        st.caption(t("unc.page.pick", lang))
        return
    reason = doubt_availability(view.result.n)[tool]
    if reason is not None:
        st.info(t("unc.page.unavailable", lang, tool=t(f"unc.tool.{tool}", lang), reason=reason.message(lang)))
        return
    {"ood": outside.outside_tool, "conformal": sets.sets_tool, "selective": selective_tool, "depth": depth_tool}[tool](
        view
    )


# ---------------------------------------------------------------- abstaining (selective prediction)
def curve_scores(view: View) -> dict[str, np.ndarray]:
    """The confidence behind each of `CURVES` (msp at T = 1 and at the fitted T, max logit, energy), from the
    memoised scores."""
    at_one = scores_at(view.kept, view.result, 1.0)
    return curve_confidences(at_one, scores_at(view.kept, view.result, view.fit.temperature))


def curve_names(view: View) -> dict[str, str]:
    return {name: t(f"unc.curve.{name}", view.lang, t=view.fit.temperature) for name in CURVES}


def view_curves(view: View) -> dict[str, RiskCoverage]:
    """The risk-coverage curve of each of `CURVES`, memoised; right or wrong is the stored scorer's."""
    scores = curve_scores(view)
    return memo(view.kept, ("curves", view.fit.temperature), lambda: risk_curves(scores, view.scorer.correct))


def forget_if_gone(key: str, stops: np.ndarray) -> None:
    """A slider's kept stop that is no longer among its options (another result, another fitted T) is dropped, so
    the slider starts again from its default."""
    if key in st.session_state and float(st.session_state[key]) not in set(stops.tolist()):
        del st.session_state[key]


def threshold_text(score: str, value: float) -> str:
    """A threshold as it reads best: a probability with the digits that tell it from 100%, else 4 decimals."""
    return precise_percent(value) if score.startswith("msp") else f"{value:.4f}"


def selective_tool(view: View) -> None:
    lang = view.lang
    st.caption(t("unc.selective.caption", lang))
    curves, names = view_curves(view), curve_names(view)
    left, right = st.columns(2)
    at_coverage = left.number_input(
        t("unc.selective.at_coverage", lang), 0.01, 1.0, 0.9, 0.01, key="doubt_at_coverage", format="%.2f"
    )
    at_accuracy = right.number_input(
        t("unc.selective.at_accuracy", lang), 0.0, 1.0, 0.99, 0.005, key="doubt_at_accuracy", format="%.3f"
    )
    table = pd.DataFrame(
        {
            "score": [names[n] for n in CURVES],
            "aurc": [aurc(curves[n]) for n in CURVES],
            "accuracy": [accuracy_at_coverage(curves[n], float(at_coverage)) * 100 for n in CURVES],
            "coverage": [coverage_at_accuracy(curves[n], float(at_accuracy)) * 100 for n in CURVES],
        }
    )
    cc = st.column_config
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="doubt_selective_table",
        column_config={
            "score": cc.TextColumn(t("unc.selective.col.score", lang)),
            "aurc": cc.NumberColumn(t("unc.selective.col.aurc", lang), format="%.5f", help=t("unc.aurc_help", lang)),
            "accuracy": cc.NumberColumn(t("unc.selective.col.accuracy", lang, c=float(at_coverage)), format="%.2f%%"),
            "coverage": cc.NumberColumn(t("unc.selective.col.coverage", lang, a=float(at_accuracy)), format="%.2f%%"),
        },
    )
    st.markdown(f"**{t('unc.abstain.title', lang)}**")
    score = st.segmented_control(
        t("unc.abstain.by", lang), CURVES, key="doubt_abstain_score", default="msp", format_func=names.__getitem__
    )
    score = score or "msp"
    values = curve_scores(view)[score]
    stops = memo(view.kept, ("stops", score, view.fit.temperature), lambda: threshold_stops(values))
    default = float(stops[int(np.searchsorted(stops, np.quantile(values, DEFAULT_ABSTAIN_SHARE)))])
    key = f"doubt_abstain_{score}"  # one per score: each keeps its own stop
    forget_if_gone(key, stops)
    threshold = st.select_slider(
        t("unc.abstain.threshold", lang, score=names[score]),
        options=stops.tolist(),
        value=default,
        key=key,
        format_func=lambda v: threshold_text(score, v),
        help=t("unc.abstain.help", lang),
    )
    found = abstain(values, view.scorer.correct, float(threshold))
    cells = st.columns(4)
    cells[0].metric(t("unc.abstain.kept", lang), f"{found.kept:,} ({found.coverage:.1%})")
    cells[1].metric(t("unc.abstain.kept_accuracy", lang), _percent(found.accuracy))
    cells[2].metric(t("unc.abstain.abstained", lang), f"{found.abstained:,} ({1 - found.coverage:.1%})")
    cells[3].metric(t("unc.abstain.abstained_accuracy", lang), _percent(found.abstained_accuracy))
    figure = risk_coverage_figure([(names[n], curves[n]) for n in CURVES], marked=found, lang=lang)
    st.plotly_chart(figure, width="stretch", key="doubt_risk_coverage")
    dropped = abstained_images(values, float(threshold))
    st.markdown(f"**{t('unc.abstain.gallery', lang, n=len(dropped), shown=min(len(dropped), GALLERY_SIZE))}**")
    rows = view.at(view.temperature).records.iloc[dropped[:GALLERY_SIZE]]
    records_gallery(view, rows, "abstain")


def _percent(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:.2%}"


# ---------------------------------------------------------------- calibration depth
def depth_tool(view: View) -> None:
    lang, result, temperature, bins = view.lang, view.result, view.temperature, view.bins
    now = view.at(temperature)
    st.caption(t("unc.depth.caption", lang, t=temperature, bins=bins))
    adaptive = memo(
        view.kept,
        ("adaptive", temperature, bins),
        lambda: adaptive_calibration_table(now.confidence, now.correct, n_bins=bins),
    )
    classwise = memo(
        view.kept,
        ("classwise", temperature, bins),
        lambda: classwise_calibration_table(result.logits, result.targets, temperature=temperature, n_bins=bins),
    )
    cells = st.columns(3)
    cells[0].metric(t("unc.depth.ece", lang), f"{now.metrics.ece:.2%}", help=t("unc.depth.ece_help", lang))
    cells[1].metric(
        t("unc.depth.adaptive", lang), f"{adaptive_ece(adaptive):.2%}", help=t("unc.depth.adaptive_help", lang)
    )
    cells[2].metric(
        t("unc.depth.classwise", lang), f"{classwise_ece(classwise):.3%}", help=t("unc.depth.classwise_help", lang)
    )
    errors = classwise_errors(classwise)
    options = errors["class"].astype(int).tolist()  # worst first
    chosen = st.multiselect(
        t("unc.depth.classes", lang),
        options,
        default=options[:WORST_CLASSES],
        key="doubt_depth_classes",
        format_func=lambda c: f"{c}: {label_of(view.names, c)}",
        max_selections=6,
    )
    left, right = st.columns(2)
    left.plotly_chart(adaptive_reliability_figure(adaptive, lang=lang), width="stretch", key="doubt_adaptive")
    figure = classwise_reliability_figure(classwise, view.names, classes=chosen or options[:WORST_CLASSES], lang=lang)
    right.plotly_chart(figure, width="stretch", key="doubt_classwise")
    with st.popover(t("unc.depth.table", lang)):
        st.dataframe(
            errors.assign(label=[label_of(view.names, int(c)) for c in errors["class"]])[["class", "label", "ece"]],
            hide_index=True,
            width="stretch",
            column_config={"ece": st.column_config.NumberColumn(format="%.4f")},
        )
