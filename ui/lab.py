"""The Logits Lab's Streamlit side: its session state, callbacks, knobs, URL sync and section renderers.

Every number comes from `core.lab` / `core.numerics`; this module only keeps state and draws. Callbacks
take what they need as arguments (the UI language, the values a button carries) and touch only the
`lab_*` session-state keys. Helpers return what the page passes on: `knobs()` gives a `LabControls`,
`editor()` the current table.

The page splits in two: the table's source (examples, import, the editor) reruns the whole page, and
`driven()` (the knobs and everything they drive) is an `st.fragment`, so moving T, k or top-p reruns
only that part. The fragment writes into containers the page made first (the knob row, the column
next to the editor, the export and share popovers), so the layout stays where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
import torch
from streamlit.delta_generator import DeltaGenerator

from core import lab
from core.charts import (
    PROB_COLOUR,
    SIGMOID_COLOUR,
    dim_softmax_figure,
    entropy_figure,
    filters_figure,
    lab_headline_figure,
    lab_sweep_figure,
    sampling_figure,
    scores_comparison_figure,
)
from core.errors import InputError
from core.i18n import escape_markdown as md  # labels are text: never let them render as Markdown
from core.i18n import t
from core.numerics import check_claims

TOP_N = 12  # classes drawn in the bar charts
P_FORMAT = "%.4f"  # probabilities in tables: 0.6590, as tutorials print them
TABS = {
    "temperature": "thermostat", "filters": "filter_alt", "steps": "calculate", "dim": "grid_on",
    "sigmoid": "stacked_bar_chart", "claims": "fact_check", "inverse": "undo",
}  # fmt: skip


def table_height(rows: int, *, max_rows: int = 16) -> int:
    """Pixel height that shows `rows` rows (up to `max_rows`) and the header without scrolling."""
    return 35 * (min(rows, max_rows) + 1) + 3


# --- state and callbacks ---------------------------------------------------------------------------


def set_table(table: lab.LabTable) -> None:
    """Make `table` the lab's table and re-seed the editor with it."""
    ss = st.session_state
    ss["lab_table"] = ss["lab_origin"] = table
    ss["lab_editor_version"] = ss.get("lab_editor_version", 0) + 1
    ss["lab_k"] = max(1, min(ss.get("lab_k", lab.LabControls().k), table.size))


def notify(kind: str, text: str) -> None:
    """Queue a message ("success", "warning", "error") for the next run to show under the toolbar."""
    st.session_state.setdefault("lab_notices", []).append((kind, text))


def show_notices() -> None:
    for kind, text in st.session_state.pop("lab_notices", []):
        getattr(st, kind)(text)


def load_inspector(lang: str) -> None:
    """Take the Image Inspector's handoff (its top classes editable, the rest as one tail)."""
    ss = st.session_state
    try:
        set_table(lab.table_from_inspector(ss.get("lab_from_inspector"), editable=ss.get("lab_inspector_n", 10)))
    except InputError as exc:
        notify("warning", lab.error_text(exc, lang))


def on_preset(lang: str) -> None:
    ss = st.session_state
    name = ss["lab_preset"]
    ss["lab_preset"] = None  # back to the placeholder, so the same example can be loaded again
    if name == "inspector":
        load_inspector(lang)
    elif name is not None:
        seed = ss.get("lab_seed", 0)
        ss["lab_seed"] = seed + 1 if name == "random" else seed
        set_table(lab.preset_table(name, lang=lang, seed=seed))


def _load(read: Callable[[], lab.LabTable], lang: str) -> None:
    try:
        set_table(read())
        notify("success", t("lab.loaded", lang, n=st.session_state["lab_table"].size))
    except InputError as exc:
        notify("error", t("lab.import_failed", lang, error=lab.error_text(exc, lang)))


def on_paste(lang: str) -> None:
    text = st.session_state.get("lab_paste", "")
    _load(lambda: lab.parse_pasted(text, source=t("lab.source.pasted", lang)), lang)


def on_upload(lang: str) -> None:
    upload = st.session_state.get("lab_upload")
    if upload is not None:
        _load(lambda: lab.parse_upload(upload.name, upload.getvalue()), lang)


def on_use_inverse(logits: list[float], lang: str) -> None:
    """Put the inverse's logits in the table (keeping the names when the class count matches)."""
    table = st.session_state["lab_table"]
    labels = list(table.labels) if len(logits) == table.shown and not table.rest_logits else None
    set_table(lab.make_table(logits, labels, source=t("lab.source.inverse", lang)))
    st.rerun()  # the whole page, not just the fragment the button is in: the editor shows the new table


def on_matrix_columns() -> None:
    ss = st.session_state
    valid = ss.get("lab_matrix_valid", lab.matrix_frame())
    ss["lab_matrix_valid"] = lab.resize_matrix(valid, ss["lab_matrix_cols"])
    ss["lab_matrix_version"] = ss.get("lab_matrix_version", 0) + 1


def on_fill_claims(values: list[float]) -> None:
    st.session_state["lab_claims"] = ", ".join(f"{v:.4f}" for v in values)


def start(lang: str, query: dict[str, list[str]]) -> None:
    """First run in a session: restore a shared link (`query`: each key -> all its values), else the first
    example. Every run: take a new handoff from the Image Inspector."""
    ss = st.session_state
    if "lab_table" not in ss:
        first = lab.preset_table("news", lang=lang)
        knobs = lab.LabControls()
        if lab.has_lab_state(query):
            link = lab.decode_query(query, source=t("lab.source.link", lang))
            first, knobs = link.table or first, link.controls
            for problem in link.problems:
                notify("warning", t("lab.link_problem", lang, error=problem.message(lang)))
            # a link opened on purpose wins over an older Inspector handoff
            ss["lab_inspector_seen"] = lab.handoff_fingerprint(ss.get("lab_from_inspector"))
        ss.update(lab_T=knobs.temperature, lab_k=knobs.k, lab_top_p=knobs.top_p, lab_mode=knobs.mode)
        set_table(first)
    handoff = ss.get("lab_from_inspector")
    if handoff is not None and lab.handoff_fingerprint(handoff) != ss.get("lab_inspector_seen"):
        ss["lab_inspector_seen"] = lab.handoff_fingerprint(handoff)  # a new image from the Inspector
        load_inspector(lang)


# --- the table's source: toolbar and editor (full reruns) ------------------------------------------


def toolbar(lang: str) -> tuple[DeltaGenerator, DeltaGenerator]:
    """Examples and import; returns the (export, share) popovers for `driven()` to fill."""
    bar = st.columns([3.2, 1, 1, 1], vertical_alignment="bottom")
    bar[0].selectbox(
        t("lab.preset", lang),
        lab.PRESETS,
        index=None,
        key="lab_preset",
        on_change=on_preset,
        args=(lang,),
        placeholder=t("lab.preset.placeholder", lang),
        format_func=lambda name: t(f"lab.preset.{name}", lang),
        help=t("lab.preset.help", lang),
    )
    with bar[1].popover(t("lab.import", lang), icon=":material/upload:", width="stretch"):
        st.text_area(
            t("lab.paste", lang),
            key="lab_paste",
            height=120,
            placeholder="2.0, 1.0, 0.1\n— or —\ncat  2.0\ndog  1.0",
            help=t("lab.paste.help", lang),
        )
        st.button(t("lab.paste.load", lang), on_click=on_paste, args=(lang,), type="primary", icon=":material/input:")
        st.file_uploader(
            t("lab.upload", lang),
            type=["csv", "tsv", "json", "npy", "txt"],
            key="lab_upload",
            on_change=on_upload,
            args=(lang,),
            help=t("lab.upload.help", lang),
        )
    export_box = bar[2].popover(t("lab.export", lang), icon=":material/download:", width="stretch")
    share_box = bar[3].popover(t("lab.share", lang), icon=":material/link:", width="stretch")
    return export_box, share_box


def editor(lang: str) -> lab.LabTable:
    """The editable table and its source line; returns the table to compute with (the last valid one
    when the edits do not make a table, with a message)."""
    ss = st.session_state
    table: lab.LabTable = ss["lab_table"]
    editor_key = f"lab_editor_{ss['lab_editor_version']}_{lang}"
    if editor_key not in ss:
        ss["lab_base"] = table  # the editor holds edits relative to this seed
    edited = st.data_editor(
        ss["lab_base"].frame(),
        key=editor_key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        height=table_height(ss["lab_base"].shown + 1),  # from the seed: a changing height would reset the edits
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang), max_chars=lab.MAX_LABEL_CHARS),
            "logit": st.column_config.NumberColumn(t("lab.col.logit", lang), help=t("lab.col.logit.help", lang)),
        },
    )
    try:
        table = ss["lab_table"] = lab.table_from_frame(edited, ss["lab_base"])
    except InputError as exc:
        st.error(t("lab.keeping_last", lang, error=lab.error_text(exc, lang)))
    origin = ss["lab_origin"]
    is_edited = (table.labels, table.logits) != (origin.labels, origin.logits)
    source = md(table.source) + (f" · {t('lab.edited', lang)}" if is_edited else "")
    st.caption(t("lab.source", lang, source=source, n=table.size))
    if table.rest_logits:
        st.number_input(
            t("lab.inspector_n", lang),
            min_value=1,
            max_value=min(50, table.size - 1),
            key="lab_inspector_n",
            value=10,
            on_change=load_inspector,
            args=(lang,),
            width=220,
        )
    return table


# --- the knobs and what they drive (one fragment) --------------------------------------------------


def knobs(table: lab.LabTable, lang: str) -> lab.LabControls:
    """Temperature, k, top-p and softmax/sigmoid; returns them with k limited to the table's size."""
    ss = st.session_state
    cols = st.columns([4, 1.4, 2.4, 1.8], vertical_alignment="bottom")
    temperature = cols[0].select_slider(
        t("lab.temperature", lang),
        options=lab.temperature_choices(ss["lab_T"]),
        key="lab_T",
        format_func=lambda v: f"{v:g}",
        help=t("lab.temperature.help", lang),
        persist_state="session",
    )
    ss["lab_k"] = max(1, min(ss["lab_k"], table.size))
    k = cols[1].number_input(
        "k", min_value=1, max_value=table.size, step=1, key="lab_k", help=t("lab.k.help", lang), persist_state="session"
    )
    top_p = cols[2].slider(
        "top-p",
        min_value=0.01,
        max_value=1.0,
        step=0.01,
        key="lab_top_p",
        help=t("lab.top_p.help", lang),
        persist_state="session",
    )
    mode = cols[3].segmented_control(
        t("lab.mode", lang),
        lab.MODES,
        key="lab_mode",
        required=True,
        help=t("lab.mode.help", lang),
        persist_state="session",
    )
    return lab.LabControls(float(temperature), int(k), float(top_p), mode or "softmax").clamped(table.size)


def results(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    """The table of what the logits turn into, and the one-line summary under it."""
    temperature, k, top_p, mode = knobs.temperature, knobs.k, knobs.top_p, knobs.mode
    frame = lab.class_table(
        table, temperature=temperature, k=k, top_p=top_p, mode=mode, rest_label=rest_label(table, lang)
    )
    score_name = "p" if mode == "softmax" else "σ"
    hidden = ["logit"] + (["score_t1"] if temperature == 1.0 else [])
    st.dataframe(
        # the tail row has no rank of its own: show it blank rather than "None"
        frame.drop(columns=hidden).assign(rank=frame["rank"].astype("string").fillna("")),
        height=table_height(len(frame)),
        hide_index=True,
        width="stretch",
        key="lab_results",
        column_config={
            "label": st.column_config.TextColumn(t("lab.col.label", lang)),
            "score": st.column_config.ProgressColumn(
                f"{score_name} (T = {temperature:g})",
                min_value=0.0,
                max_value=1.0,
                format=P_FORMAT,
                width="medium",
                color=PROB_COLOUR if mode == "softmax" else SIGMOID_COLOUR,
            ),
            "score_t1": st.column_config.NumberColumn(f"{score_name} (T = 1)", format=P_FORMAT),
            "rank": st.column_config.TextColumn(t("lab.col.rank", lang), width="small", alignment="right"),
            "top_k": st.column_config.CheckboxColumn(f"top-{k}", width="small"),
            "top_p": st.column_config.CheckboxColumn("top-p", width="small", help=f"top-p = {top_p:g}"),
        },
    )
    summary = _summary(table, temperature=temperature, mode=mode)
    st.caption(
        t(
            "lab.summary",
            lang,
            top=md(summary.top_label),
            p=f"{summary.top_probability:.1%}",
            h=f"{summary.entropy_bits:.2f}",
            h_max=f"{summary.max_entropy_bits:.2f}",
            total=f"{summary.total_score:.1%}",
        )
        + (" " + t("lab.sigmoid_sum", lang) if mode == "sigmoid" else "")
    )


def headline(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    title = t("lab.fig.headline" if knobs.mode == "softmax" else "lab.fig.headline_sigmoid", lang)
    figure = lab_headline_figure(
        table.all_logits(),
        table.all_labels(),
        mode=knobs.mode,
        temperature=knobs.temperature,
        top_n=TOP_N,
        lang=lang,
        title=title,
    )
    st.plotly_chart(figure, width="stretch", key="lab_headline")


def export(table: lab.LabTable, temperature: float, lang: str) -> None:
    """CSV and JSON downloads, built only when clicked (1,000 classes make a sizeable file)."""
    for name, build, mime, icon in (
        ("CSV", lab.table_csv, "text/csv", "table"),
        ("JSON", lab.table_json, "application/json", "data_object"),
    ):
        st.download_button(
            name,
            _deferred(build, table, temperature),
            file_name=f"logits.{name.lower()}",
            mime=mime,
            icon=f":material/{icon}:",
            on_click="ignore",
            width="stretch",
        )
    st.caption(t("lab.export.help", lang, n=table.size))


def _deferred(build: Callable[..., bytes], table: lab.LabTable, temperature: float) -> Callable[[], bytes]:
    return lambda: build(table, temperature=temperature)


def share(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    """The share link, and the address bar kept equal to it (cleared when the link would be too long)."""
    query = lab.encode_query(table, knobs)
    link_text = lab.query_string(query)
    too_long = len(link_text) > lab.MAX_URL_CHARS
    if too_long:
        st.warning(t("lab.share.too_long", lang, n=table.size))
    else:
        st.code(f"{st.context.url or ''}?{link_text}", language=None, wrap_lines=True)
        st.caption(t("lab.share.help", lang))
        if table.rest_logits:
            st.caption(t("lab.share.rest", lang, n=len(table.rest_logits)))
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    wanted = {key: [value] if isinstance(value, str) else value for key, value in query.items()}
    if too_long:
        st.query_params.clear()
    elif current != wanted:
        st.query_params.from_dict(query)  # the address bar is always the share link


@st.fragment
def driven(
    lang: str, knob_row: DeltaGenerator, beside: DeltaGenerator, export_box: DeltaGenerator, share_box: DeltaGenerator
) -> None:
    """The knobs and everything they drive: a fragment, so moving T, k or top-p reruns only this.

    It reads the table the last full run settled on (the editor is outside), and writes into the page's
    containers: the knob row, the column beside the editor, the export and share popovers.
    """
    table: lab.LabTable = st.session_state["lab_table"]
    with knob_row:
        controls = knobs(table, lang)
    with beside:
        results(table, controls, lang)
    headline(table, controls, lang)
    with export_box:
        export(table, controls.temperature, lang)
    with share_box:
        share(table, controls, lang)
    sections(table, controls, lang)


def rest_label(table: lab.LabTable, lang: str) -> str:
    return t("lab.rest", lang, n=len(table.rest_logits))


def sections(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    """The tabs; only the open one is computed."""
    labels = [f":material/{icon}: {t(f'lab.tab.{name}', lang)}" for name, icon in TABS.items()]
    tabs = dict(zip(TABS, st.tabs(labels, key=f"lab_tab_{lang}", on_change="rerun"), strict=True))
    for name, draw in SECTIONS.items():
        with tabs[name]:
            if tabs[name].open:
                draw(table, knobs, lang)


# --- the sections ----------------------------------------------------------------------------------


def temperature_section(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    temperature = knobs.temperature
    st.latex(
        r"p_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}} \qquad\Rightarrow\qquad \frac{p_i}{p_j} = e^{(z_i - z_j)/T}"
    )
    ratio = lab.top_two_ratio(table, temperature=temperature)
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


def filters_section(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    temperature, k, top_p = knobs.temperature, knobs.k, knobs.top_p
    st.caption(t("lab.filters.caption", lang, k=k, p=f"{top_p:g}"))
    filters = lab.filter_table(table, temperature=temperature, k=k, top_p=top_p, rest_label=rest_label(table, lang))
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
    draws = s_cols[0].number_input(t("lab.sampling.n", lang), 1, lab.MAX_DRAWS, 1000, step=100, key="lab_draws")
    seed = s_cols[1].number_input(t("lab.sampling.seed", lang), 0, 2**31 - 1, 0, key="lab_sample_seed")
    source = s_cols[2].segmented_control(
        t("lab.sampling.from", lang),
        ["full", "top_k", "top_p"],
        default="top_p",
        required=True,
        key="lab_sample_from",
        format_func=lambda w: t(f"lab.sampling.from.{w}", lang, k=k, p=f"{top_p:g}"),
    )
    target = lab.filtered_probs(table, temperature=temperature, k=k, top_p=top_p, which=source or "full")
    counts = lab.sampling_counts(target, n=int(draws), seed=int(seed))
    st.plotly_chart(
        sampling_figure(target, counts, labels, top_n=TOP_N, lang=lang, title=t("lab.fig.sampling", lang)),
        width="stretch",
    )
    gap, scale = lab.sampling_error(target, counts), _sampling_noise(int(draws))
    st.caption(t("lab.sampling.error", lang, gap=f"{gap * 100:.2f}", scale=f"{scale * 100:.2f}"))


def steps_section(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    temperature, rest = knobs.temperature, rest_label(table, lang)
    st.latex(
        r"m = \max_j z_j \qquad p_i = \frac{e^{(z_i - m)/T}}{\sum_j e^{(z_j - m)/T}} \qquad "
        r"\log p_i = \frac{z_i - m}{T} - \log \sum_j e^{(z_j - m)/T}"
    )
    steps = lab.step_table(table, temperature=temperature, rest_label=rest)
    m_cols = st.columns(3)
    m_cols[0].metric("max(z)", f"{steps.max_logit:.6g}")
    m_cols[1].metric(t("lab.steps.sum", lang), f"{steps.total:.6g}")
    m_cols[2].metric("Σ p", f"{steps.table['p'].sum():.6f}")
    number = st.column_config.NumberColumn
    st.dataframe(
        steps.table,
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
        lab.overflow_table(table, temperature=temperature, rest_label=rest),
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
    if lab.overflows(table, temperature=temperature, dtype=torch.float32):
        st.warning(t("lab.naive.overflow32", lang))
    elif lab.overflows(table, temperature=temperature, dtype=torch.float16):
        st.info(t("lab.naive.overflow16", lang))
    else:
        st.success(t("lab.naive.fine", lang))


def dim_section(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    ss = st.session_state
    st.caption(t("lab.dim.caption", lang))
    matrix_key = f"lab_matrix_{ss.get('lab_matrix_version', 0)}"
    if matrix_key not in ss:
        ss["lab_matrix_base"] = ss.get("lab_matrix_valid", lab.matrix_frame())
    d_left, d_right = st.columns([1.3, 2.4])
    with d_left:
        matrix_edit = st.data_editor(ss["lab_matrix_base"], key=matrix_key, num_rows="dynamic", hide_index=False)
        try:
            matrix = lab.matrix_from_frame(matrix_edit)
            ss["lab_matrix_valid"] = matrix_edit.copy()
        except InputError as exc:
            st.error(t("lab.keeping_last", lang, error=lab.error_text(exc, lang)))
            matrix = lab.matrix_from_frame(ss.get("lab_matrix_valid", lab.matrix_frame()))
        st.number_input(
            t("lab.dim.columns", lang),
            min_value=1,
            max_value=lab.MAX_MATRIX_SIDE,
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


def sigmoid_section(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    temperature = knobs.temperature
    st.caption(t("lab.sigmoid.caption", lang))
    both = lab.sigmoid_softmax_table(table, temperature=temperature, rest_label=rest_label(table, lang))
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


def claims_section(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    temperature = knobs.temperature
    shown_labels = lab.display_labels(table, rest_label=rest_label(table, lang))
    shown_logits = lab.display_logits(table, temperature=temperature)
    st.caption(t("lab.claims.caption", lang, n=len(shown_labels), t=f"{temperature:g}"))
    st.text_area(
        t("lab.claims.input", lang),
        key="lab_claims",
        height=90,
        placeholder="0.659, 0.242, 0.099   ·   65.9% 24.2% 9.9%",
    )
    truth = lab.scores(shown_logits, temperature=temperature).tolist()
    st.button(t("lab.claims.fill", lang), on_click=on_fill_claims, args=(truth,), icon=":material/edit_note:")
    text = st.session_state.get("lab_claims", "")
    if not text.strip():
        return
    try:
        claimed = lab.parse_claims(text, count=len(shown_labels))
        report = check_claims(shown_logits, torch.tensor(claimed), temperature=temperature)
    except InputError as exc:
        st.error(lab.error_text(exc, lang))
        return
    (st.success if report.all_ok else st.error)(report.verdict(lang))
    st.markdown(t("lab.claims.one_softmax_yes" if report.consistent else "lab.claims.one_softmax_no", lang))
    st.dataframe(
        lab.claims_frame(shown_labels, report.rows),
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


def inverse_section(table: lab.LabTable, knobs: lab.LabControls, lang: str) -> None:
    st.caption(t("lab.inverse.caption", lang))
    st.latex(r"z_i = \log p_i - \frac{1}{C}\sum_j \log p_j")
    st.text_area(t("lab.inverse.input", lang), key="lab_inverse", height=90, placeholder="0.7, 0.2, 0.1")
    text = st.session_state.get("lab_inverse", "")
    if not text.strip():
        return
    try:
        inverse = lab.invert(lab.parse_numbers(text, allow_percent=True))
    except InputError as exc:
        st.error(lab.error_text(exc, lang))
        return
    if not _normalised(inverse):
        st.info(t("lab.inverse.normalised", lang, total=f"{inverse.total:.6g}"))
    if inverse.zeros:
        st.warning(t("lab.inverse.zeros", lang, n=inverse.zeros, floor=lab.ZERO_PROB_FLOOR))
    st.dataframe(
        lab.inverse_frame(inverse, table.labels if not table.rest_logits else None),
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


SECTIONS: dict[str, Callable[[lab.LabTable, lab.LabControls, str], Any]] = {
    "temperature": temperature_section,
    "filters": filters_section,
    "steps": steps_section,
    "dim": dim_section,
    "sigmoid": sigmoid_section,
    "claims": claims_section,
    "inverse": inverse_section,
}


# --- TEMPORARY until core.lab has them (asked H1-core on the BOARD) -------------------------------
import math  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from core.numerics import entropy, softmax  # noqa: E402


@dataclass(frozen=True)
class _Summary:
    top_label: str
    top_probability: float
    entropy_bits: float
    max_entropy_bits: float
    total_score: float


def _summary(table: lab.LabTable, *, temperature: float, mode: lab.Mode) -> _Summary:
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    return _Summary(
        table.all_labels()[int(probs.argmax())],
        float(probs.max()),
        float(entropy(probs, base=2)),
        math.log2(table.size),
        float(lab.scores(z, mode=mode, temperature=temperature).sum()),
    )


def _sampling_noise(n: int) -> float:
    return 1 / math.sqrt(n)


def _normalised(inverse: lab.Inverse) -> bool:
    return math.isclose(inverse.total, 1.0, abs_tol=1e-6)
