"""The Evaluation page's "Prediction sets" tool: split conformal sets (LAC, APS) at a coverage the user picks.

Calibrated on a seeded half of the stored result and measured on the other half, or calibrated on the whole result
and applied to a second results file (labelled, same model). Everything is at the page's T: APS follows the
probability mass, which T spreads or sharpens; LAC's ranking of classes never changes with T, only its threshold's
scale does, and the set-size-by-T chart recalibrates at each T to show both. The calibration shown is kept in the
session (`ui.doubt.keep_calibration`) for the Inspector. Session state (prefix "doubt_"): the knobs, and
"doubt_other" ({"file_id", "result"}), the second results file.
"""

from __future__ import annotations

import streamlit as st

from core.charts.uncertainty import coverage_by_class_figure, set_size_by_temperature_figure, set_size_figure
from core.errors import LogitscopeError
from core.evaluate.files import read_results
from core.evaluate.result import EvalResult, same_model
from core.i18n import escape_markdown, t
from core.numerics import temperature_options
from core.uncertainty.conformal import (
    METHODS,
    Calibration,
    SetSummary,
    apply_sets,
    calibrate_sets,
    set_sizes_by_temperature,
    split_conformal,
    summarise_sets,
)
from ui.doubt import keep_calibration, memo
from ui.evaluation.view import View
from ui.widgets import translated_choice

COVERAGES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99)
SWEEP_AT_ONCE_UP_TO = 5_000  # images; above, the set-size-by-T chart (two passes per T) is computed on request
SWEEP_STEPS_PER_DECADE = 3  # the one temperature grid, coarser: 0.25 .. 8 in 7 steps, plus the fitted and page's T
NEAR_ONE = 0.999  # an APS threshold above this on an over-confident model: sets fill with tiny probabilities


def _split(view: View, *, method: str, alpha: float, randomized: bool, seed: int) -> tuple[Calibration, SetSummary]:
    result, temperature = view.result, view.temperature
    found = split_conformal(
        result.logits,
        result.targets,
        method=method,
        alpha=alpha,
        temperature=temperature,
        randomized=randomized,
        seed=seed,
    )
    return found.calibration, summarise_sets(found.sets, found.targets, view.names)


def _on_other(
    view: View, other: EvalResult, *, method: str, alpha: float, randomized: bool, seed: int
) -> tuple[Calibration, SetSummary]:
    result = view.result
    calibration = calibrate_sets(
        result.logits,
        result.targets,
        method=method,
        alpha=alpha,
        temperature=view.temperature,
        randomized=randomized,
        seed=seed,
    )
    return calibration, summarise_sets(apply_sets(calibration, other.logits), other.targets, view.names)


def _other_file(view: View) -> EvalResult | None:
    """The second results file (labelled, of this result's model), kept in session state while it is uploaded."""
    lang, result = view.lang, view.result
    upload = st.file_uploader(t("unc.sets.other_upload", lang), type=["csv", "parquet"], key="doubt_other_file")
    if upload is None:
        st.session_state.pop("doubt_other", None)
        return None
    kept = st.session_state.get("doubt_other")
    if kept is None or kept["file_id"] != upload.file_id:
        try:
            other = read_results(upload.getvalue(), upload.name)
        except LogitscopeError as exc:
            st.error(escape_markdown(str(exc)))
            return None
        kept = st.session_state["doubt_other"] = {"file_id": upload.file_id, "result": other}
    other = kept["result"]
    if not same_model(other.model, other.num_classes, result.model or other.model, result.num_classes):
        st.error(t("unc.sets.other_model", lang, model=other.model or "?", n=other.num_classes, ours=result.model))
        return None
    return other


def sets_tool(view: View) -> None:
    lang, temperature = view.lang, view.temperature
    st.caption(t("unc.sets.caption", lang))
    columns = st.columns([3, 2, 2, 1], vertical_alignment="bottom")
    coverage = columns[0].select_slider(
        t("unc.sets.coverage", lang), COVERAGES, value=0.9, key="doubt_coverage", format_func=lambda c: f"{c:.0%}"
    )
    method = columns[1].segmented_control(
        t("unc.sets.method", lang), METHODS, key="doubt_method", default="lac", required=True, format_func=str.upper
    )
    method = method or "lac"
    randomized = columns[2].toggle(
        t("unc.sets.randomized", lang),
        key="doubt_randomized",
        disabled=method != "aps",
        help=t("unc.sets.randomized_help", lang),
    )
    randomized = bool(randomized and method == "aps")
    seed = int(columns[3].number_input(t("unc.sets.seed", lang), 0, 10_000, 0, 1, key="doubt_seed"))
    how = translated_choice(
        st.radio, "unc.sets.how", ("split", "file"), lang=lang, key="doubt_sets_how", horizontal=True
    )
    alpha = round(1.0 - float(coverage), 10)  # 1 - 0.9 is 0.09999999999999998
    knobs = dict(method=method, alpha=alpha, randomized=randomized, seed=seed)
    if how == "file":
        other = _other_file(view)
        if other is None:
            return
        key = ("sets-file", st.session_state["doubt_other"]["file_id"], temperature, *knobs.values())
        calibration, summary = memo(view.kept, key, lambda: _on_other(view, other, **knobs))  # type: ignore[arg-type]
        measured_on = t("unc.sets.on_file", lang, n=summary.n, source=escape_markdown(other.source))
    else:
        key = ("sets-split", temperature, *knobs.values())
        calibration, summary = memo(view.kept, key, lambda: _split(view, **knobs))  # type: ignore[arg-type]
        measured_on = t("unc.sets.on_half", lang, n=summary.n, seed=seed)
    keep_calibration(calibration, view.result)
    _readout(view, calibration, summary, measured_on)
    _by_temperature(view, method=method, alpha=alpha, randomized=randomized, seed=seed)


def _readout(view: View, calibration: Calibration, summary: SetSummary, measured_on: str) -> None:
    lang, alpha = view.lang, calibration.alpha
    cells = st.columns(4)
    threshold = calibration.threshold
    cells[0].metric(
        t("unc.sets.threshold", lang), f"{threshold:.6g}", help=t(f"unc.sets.threshold_help.{calibration.method}", lang)
    )
    cells[1].metric(
        t("unc.sets.test_coverage", lang), f"{summary.coverage:.2%}", delta=f"{summary.coverage - (1 - alpha):+.2%}"
    )
    cells[2].metric(t("unc.sets.mean_size", lang), f"{summary.mean_set_size:.2f}")
    cells[3].metric(t("unc.sets.empty", lang), f"{summary.empty_share:.1%}", help=t("unc.sets.empty_help", lang))
    st.caption(
        t("unc.sets.measured", lang, measured=measured_on, n_cal=calibration.n, t=calibration.temperature)
        + " "
        + t("unc.sets.inspector", lang)
    )
    if threshold == float("inf"):
        st.warning(t("unc.sets.infinite", lang, n=calibration.n, coverage=1 - alpha))
    rule = t(f"unc.sets.rule.{calibration.method}", lang, cut=1 - threshold, q=threshold)
    st.info(rule, icon=":material/info:")
    if calibration.method == "aps" and not calibration.randomized:
        note = "unc.sets.aps_large" if threshold >= NEAR_ONE else "unc.sets.aps_plain"
        st.caption(t(note, lang, q=threshold, mean=summary.mean_set_size))
    left, right = st.columns(2)
    left.plotly_chart(set_size_figure(summary.histogram, lang=lang), width="stretch", key="doubt_set_sizes")
    figure = coverage_by_class_figure(summary.by_class, alpha=alpha, lang=lang)
    right.plotly_chart(figure, width="stretch", key="doubt_coverage_by_class")


def _by_temperature(view: View, *, method: str, alpha: float, randomized: bool, seed: int) -> None:
    """Mean set size and coverage recalibrated at each T of a coarse grid, on the same split."""
    lang, result = view.lang, view.result
    st.markdown(f"**{t('unc.sets.by_t', lang)}**")
    st.caption(t(f"unc.sets.by_t_caption.{method}", lang))
    temps = temperature_options(
        low=0.25, high=8.0, steps_per_decade=SWEEP_STEPS_PER_DECADE, include=(view.fit.temperature, view.temperature)
    )
    key = ("sets-by-t", tuple(temps), method, alpha, randomized, seed)
    if result.n > SWEEP_AT_ONCE_UP_TO and not st.toggle(
        t("unc.sets.by_t_run", lang, n=len(temps), passes=2 * len(temps)), key="doubt_by_t_run"
    ):
        return
    table = memo(
        view.kept,
        key,
        lambda: set_sizes_by_temperature(
            result.logits, result.targets, temps, method=method, alpha=alpha, randomized=randomized, seed=seed
        ),
    )
    figure = set_size_by_temperature_figure(table, alpha=alpha, current=view.temperature, lang=lang)
    st.plotly_chart(figure, width="stretch", key="doubt_by_temperature")
