"""The Logits Lab's sections (the tabs under the chart): one renderer per tab, and the callbacks of their
buttons. Each takes the table, the knobs and the UI language; only the open tab is drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
import torch

from core.charts.common import PROB_COLOUR, SIGMOID_COLOUR
from core.charts.lab import dim_softmax_figure, filters_figure, lab_sweep_figure, sampling_figure
from core.charts.prediction import entropy_figure, scores_comparison_figure
from core.errors import InputError
from core.i18n import escape_markdown as md  # labels are text: never let them render as Markdown
from core.i18n import t
from core.lab import steps
from core.lab.logit_table import LabTable, display_labels, display_logits, error_text, make_table
from core.lab.matrix import MAX_MATRIX_SIDE, matrix_frame, matrix_from_frame, resize_matrix
from core.lab.parse import parse_numbers
from core.links.lab import LabControls
from core.numerics import check_claims
from ui.lab.state import P_FORMAT, TOP_N, rest_label, set_table

TABS = {
    "temperature": "thermostat", "filters": "filter_alt", "steps": "calculate", "dim": "grid_on",
    "sigmoid": "stacked_bar_chart", "claims": "fact_check", "inverse": "undo",
}  # fmt: skip


def sections(table: LabTable, knobs: LabControls, lang: str) -> None:
    """The tabs; only the open one is computed."""
    labels = [f":material/{icon}: {t(f'lab.tab.{name}', lang)}" for name, icon in TABS.items()]
    tabs = dict(zip(TABS, st.tabs(labels, key=f"lab_tab_{lang}", on_change="rerun"), strict=True))
    for name, draw in SECTIONS.items():
        with tabs[name]:
            if tabs[name].open:
                draw(table, knobs, lang)


def on_use_inverse(logits: list[float], lang: str) -> None:
    """Put the inverse's logits in the table (keeping the names when the class count matches)."""
    table = st.session_state["lab_table"]
    labels = list(table.labels) if len(logits) == table.shown and not table.rest_logits else None
    set_table(make_table(logits, labels, source=t("lab.source.inverse", lang)))
    st.rerun()  # the whole page, not just the fragment the button is in: the editor shows the new table


def on_matrix_columns() -> None:
    ss = st.session_state
    valid = ss.get("lab_matrix_valid", matrix_frame())
    ss["lab_matrix_valid"] = resize_matrix(valid, ss["lab_matrix_cols"])
    ss["lab_matrix_version"] = ss.get("lab_matrix_version", 0) + 1


def on_fill_claims(values: list[float]) -> None:
    st.session_state["lab_claims"] = ", ".join(f"{v:.4f}" for v in values)


def temperature_section(table: LabTable, knobs: LabControls, lang: str) -> None:
    temperature = knobs.temperature
    st.latex(
        r"p_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}} \qquad\Rightarrow\qquad \frac{p_i}{p_j} = e^{(z_i - z_j)/T}"
    )
    ratio = steps.top_two_ratio(table, temperature=temperature)
    st.markdown(
        t(
            "lab.ratio",
            lang,
            a=md(ratio.first),
            b=md(ratio.second),
            gap=f"{ratio.gap:.4g}",
            t=f"{temperature:g}",
            r=f"{ratio.at_t:.4g}",
            r1=f"{ratio.at_1:.4g}",
        )
    )
    z, labels = table.all_logits(), table.all_labels()
    sweep_col, entropy_col = st.columns([3, 2])
    sweep_col.plotly_chart(
        lab_sweep_figure(z, labels, current_temperature=temperature, lang=lang, title=t("lab.fig.sweep", lang)),
        width="stretch",
    )
    entropy_col.plotly_chart(
        entropy_figure(z, current_temperature=temperature, lang=lang, title=t("lab.fig.entropy", lang)),
        width="stretch",
    )
    st.caption(t("lab.temperature.caption", lang))


def filters_section(table: LabTable, knobs: LabControls, lang: str) -> None:
    temperature, k, top_p = knobs.temperature, knobs.k, knobs.top_p
    st.caption(t("lab.filters.caption", lang, k=k, p=f"{top_p:g}"))
    filters = steps.filter_table(table, temperature=temperature, k=k, top_p=top_p, rest_label=rest_label(table, lang))
    survivors = st.columns(2)
    survivors[0].metric(t("lab.filters.k_survivors", lang, k=k), int(filters["top_k"].sum()))
    survivors[1].metric(t("lab.filters.p_survivors", lang, p=f"{top_p:g}"), int(filters["top_p"].sum()))
    labels = table.all_labels()
    st.plotly_chart(
        filters_figure(
            table.all_logits(),
            labels,
            temperature=temperature,
            k=k,
            top_p=top_p,
            top_n=TOP_N,
            lang=lang,
            title=t("lab.fig.filters", lang),
        ),
        width="stretch",
    )
    st.dataframe(
        filters,
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang)),
            "p": st.column_config.ProgressColumn("p", min_value=0.0, max_value=1.0, format=P_FORMAT),
            "cumulative": st.column_config.NumberColumn(t("lab.col.cumulative", lang), format=P_FORMAT),
            "top_k": st.column_config.CheckboxColumn(f"top-{k}"),
            "p_top_k": st.column_config.NumberColumn(t("lab.col.p_top_k", lang), format=P_FORMAT),
            "top_p": st.column_config.CheckboxColumn(f"top-p {top_p:g}"),
            "p_top_p": st.column_config.NumberColumn(t("lab.col.p_top_p", lang), format=P_FORMAT),
        },
    )
    st.subheader(t("lab.sampling", lang))
    s_cols = st.columns([1.4, 1, 2.4], vertical_alignment="bottom")
    draws = s_cols[0].number_input(t("lab.sampling.n", lang), 1, steps.MAX_DRAWS, 1000, step=100, key="lab_draws")
    seed = s_cols[1].number_input(t("lab.sampling.seed", lang), 0, 2**31 - 1, 0, key="lab_sample_seed")
    source = s_cols[2].segmented_control(
        t("lab.sampling.from", lang),
        ["full", "top_k", "top_p"],
        default="top_p",
        required=True,
        key="lab_sample_from",
        format_func=lambda w: t(f"lab.sampling.from.{w}", lang, k=k, p=f"{top_p:g}"),
    )
    target = steps.filtered_probs(table, temperature=temperature, k=k, top_p=top_p, which=source or "full")
    counts = steps.sampling_counts(target, n=int(draws), seed=int(seed))
    st.plotly_chart(
        sampling_figure(target, counts, labels, top_n=TOP_N, lang=lang, title=t("lab.fig.sampling", lang)),
        width="stretch",
    )
    gap, scale = steps.sampling_error(target, counts), steps.sampling_noise(int(draws))
    st.caption(t("lab.sampling.error", lang, gap=f"{gap * 100:.2f}", scale=f"{scale * 100:.2f}"))


def steps_section(table: LabTable, knobs: LabControls, lang: str) -> None:
    temperature, rest = knobs.temperature, rest_label(table, lang)
    st.latex(
        r"m = \max_j z_j \qquad p_i = \frac{e^{(z_i - m)/T}}{\sum_j e^{(z_j - m)/T}} \qquad "
        r"\log p_i = \frac{z_i - m}{T} - \log \sum_j e^{(z_j - m)/T}"
    )
    worked = steps.step_table(table, temperature=temperature, rest_label=rest)
    m_cols = st.columns(3)
    m_cols[0].metric("max(z)", f"{worked.max_logit:.6g}")
    m_cols[1].metric(t("lab.steps.sum", lang), f"{worked.total:.6g}")
    m_cols[2].metric("Σ p", f"{worked.table['p'].sum():.6f}")
    number = st.column_config.NumberColumn
    st.dataframe(
        worked.table,
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang)),
            "z": number("z", format="%.6g"),
            "shifted": number("z − max", format="%.6g"),
            "scaled": number("(z − max) / T", format="%.6g"),
            "exp": number("exp((z − max) / T)", format="%.6g"),
            "p": number("p = exp / Σ", format="%.6g"),
            "log_p": number("log p", format="%.6g"),
        },
    )
    st.subheader(t("lab.naive", lang))
    st.caption(t("lab.naive.caption", lang))
    st.dataframe(
        steps.overflow_table(table, temperature=temperature, rest_label=rest),
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang)),
            "exp32": "exp(z/T) · float32",
            "naive32": t("lab.col.naive", lang, bits=32),
            "stable32": t("lab.col.stable", lang, bits=32),
            "exp16": "exp(z/T) · float16",
            "naive16": t("lab.col.naive", lang, bits=16),
            "stable16": t("lab.col.stable", lang, bits=16),
        },
    )
    if steps.overflows(table, temperature=temperature, dtype=torch.float32):
        st.warning(t("lab.naive.overflow32", lang))
    elif steps.overflows(table, temperature=temperature, dtype=torch.float16):
        st.info(t("lab.naive.overflow16", lang))
    else:
        st.success(t("lab.naive.fine", lang))


def dim_section(table: LabTable, knobs: LabControls, lang: str) -> None:
    ss = st.session_state
    st.caption(t("lab.dim.caption", lang))
    matrix_key = f"lab_matrix_{ss.get('lab_matrix_version', 0)}"
    if matrix_key not in ss:
        ss["lab_matrix_base"] = ss.get("lab_matrix_valid", matrix_frame())
    d_left, d_right = st.columns([1.3, 2.4])
    with d_left:
        matrix_edit = st.data_editor(ss["lab_matrix_base"], key=matrix_key, num_rows="dynamic", hide_index=False)
        try:
            matrix = matrix_from_frame(matrix_edit)
            ss["lab_matrix_valid"] = matrix_edit.copy()
        except InputError as exc:
            st.error(t("lab.keeping_last", lang, error=error_text(exc, lang, markdown=True)))
            matrix = matrix_from_frame(ss.get("lab_matrix_valid", matrix_frame()))
        st.number_input(
            t("lab.dim.columns", lang),
            min_value=1,
            max_value=MAX_MATRIX_SIDE,
            value=matrix.shape[1],
            key="lab_matrix_cols",
            on_change=on_matrix_columns,
        )
        st.caption(t("lab.dim.help", lang))
    with d_right:
        st.plotly_chart(dim_softmax_figure(matrix, lang=lang, title=t("lab.fig.dim", lang)), width="stretch")
    st.code(
        "torch.softmax(x, dim=0)  # "
        + t("lab.dim.code0", lang)
        + "\ntorch.softmax(x, dim=1)  # "
        + t("lab.dim.code1", lang),
        language="python",
    )


def sigmoid_section(table: LabTable, knobs: LabControls, lang: str) -> None:
    temperature = knobs.temperature
    st.caption(t("lab.sigmoid.caption", lang))
    both = steps.sigmoid_softmax_table(table, temperature=temperature, rest_label=rest_label(table, lang))
    sums = st.columns(2)
    sums[0].metric(t("lab.sigmoid.softmax_sum", lang), f"{both['softmax'].sum():.1%}")
    sums[1].metric(t("lab.sigmoid.sigmoid_sum", lang), f"{both['sigmoid'].sum():.1%}")
    st.plotly_chart(
        scores_comparison_figure(
            table.all_logits(),
            table.all_labels(),
            temperature=temperature,
            top_n=TOP_N,
            title=t("lab.fig.sigmoid", lang),
        ),
        width="stretch",
    )
    st.dataframe(
        both,
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang)),
            "logit": st.column_config.NumberColumn("logit", format="%.4g"),
            "softmax": st.column_config.ProgressColumn(
                "softmax", min_value=0.0, max_value=1.0, format=P_FORMAT, color=PROB_COLOUR
            ),
            "sigmoid": st.column_config.ProgressColumn(
                "sigmoid", min_value=0.0, max_value=1.0, format=P_FORMAT, color=SIGMOID_COLOUR
            ),
        },
    )


def claims_section(table: LabTable, knobs: LabControls, lang: str) -> None:
    temperature = knobs.temperature
    shown_labels = display_labels(table, rest_label=rest_label(table, lang))
    shown_logits = display_logits(table, temperature=temperature)
    st.caption(t("lab.claims.caption", lang, n=len(shown_labels), t=f"{temperature:g}"))
    st.text_area(
        t("lab.claims.input", lang),
        key="lab_claims",
        height=90,
        placeholder="0.659, 0.242, 0.099   ·   65.9% 24.2% 9.9%",
    )
    truth = steps.scores(shown_logits, temperature=temperature).tolist()
    st.button(t("lab.claims.fill", lang), on_click=on_fill_claims, args=(truth,), icon=":material/edit_note:")
    text = st.session_state.get("lab_claims", "")
    if not text.strip():
        return
    try:
        claimed = steps.parse_claims(text, count=len(shown_labels))
        report = check_claims(shown_logits, torch.tensor(claimed), temperature=temperature)
    except InputError as exc:
        st.error(error_text(exc, lang, markdown=True))
        return
    (st.success if report.all_ok else st.error)(report.verdict(lang))
    st.markdown(t("lab.claims.one_softmax_yes" if report.consistent else "lab.claims.one_softmax_no", lang))
    st.dataframe(
        steps.claims_frame(shown_labels, report.rows),
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang)),
            "claimed": st.column_config.NumberColumn(t("lab.col.claimed", lang), format="%.4f"),
            "actual": st.column_config.NumberColumn(t("lab.col.actual", lang), format="%.4f"),
            "difference": st.column_config.NumberColumn(t("lab.col.difference", lang), format="%+.4f"),
            "ok": st.column_config.CheckboxColumn("ok"),
        },
    )


def inverse_section(table: LabTable, knobs: LabControls, lang: str) -> None:
    st.caption(t("lab.inverse.caption", lang))
    st.latex(r"z_i = \log p_i - \frac{1}{C}\sum_j \log p_j")
    st.text_area(t("lab.inverse.input", lang), key="lab_inverse", height=90, placeholder="0.7, 0.2, 0.1")
    text = st.session_state.get("lab_inverse", "")
    if not text.strip():
        return
    try:
        inverse = steps.invert(parse_numbers(text, allow_percent=True))
    except InputError as exc:
        st.error(error_text(exc, lang, markdown=True))
        return
    if not inverse.sums_to_one:
        st.info(t("lab.inverse.normalised", lang, total=f"{inverse.total:.6g}"))
    if inverse.zeros:
        st.warning(t("lab.inverse.zeros", lang, n=inverse.zeros, floor=steps.ZERO_PROB_FLOOR))
    st.dataframe(
        steps.inverse_frame(inverse, table.labels if not table.rest_logits else None),
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang)),
            "p": st.column_config.NumberColumn("p", format="%.6g"),
            "logit": st.column_config.NumberColumn("logit", format="%.6g"),
        },
    )
    st.caption(t("lab.inverse.check", lang, gap=f"{inverse.roundtrip_error:.1e}"))
    st.button(
        t("lab.inverse.use", lang),
        on_click=on_use_inverse,
        args=(inverse.logits, lang),
        type="primary",
        icon=":material/arrow_upward:",
    )


SECTIONS: dict[str, Callable[[LabTable, LabControls, str], None]] = {
    "temperature": temperature_section,
    "filters": filters_section,
    "steps": steps_section,
    "dim": dim_section,
    "sigmoid": sigmoid_section,
    "claims": claims_section,
    "inverse": inverse_section,
}
