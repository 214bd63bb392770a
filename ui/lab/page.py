"""The Logits Lab's page parts: the toolbar and editor (the table's source), the knobs, and `driven()`, the
fragment with the knobs and everything they drive.

Every number comes from `core.lab`; this module only draws. Helpers return what the page passes on:
`editor()` gives the table to compute with, `knobs()` a `LabControls`.

The page splits in two: the table's source (examples, import, the editor) reruns the whole page, and
`driven()` is an `st.fragment` with the knobs and everything they drive. In the softmax view the knobs are the
client-side explorer's (`ui.explorer`): the table beside the editor and the headline chart are redrawn in the browser
as T, k or top-p moves, and the fragment reruns once the user lets go, so the export, the share link and the open
tab follow. In the sigmoid view (the explorer computes softmax only) they are server sliders, as before. The fragment
writes into containers the page made first (the knob row, the column next to the editor, the export and share
popovers), so the layout stays where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.charts.common import PROB_COLOUR, SIGMOID_COLOUR
from core.charts.lab import lab_headline_figure
from core.errors import InputError
from core.i18n import escape_markdown as md  # labels are text: never let them render as Markdown
from core.i18n import t
from core.lab.logit_table import MAX_LABEL_CHARS, MODES, LabTable, error_text, table_from_frame
from core.lab.presets import PRESETS
from core.lab.steps import class_table, summary
from core.lab.write import table_csv, table_json
from core.links.lab import MAX_URL_CHARS, LabControls, encode_query, query_string, temperature_choices
from ui.explorer import Layout, logits_explorer
from ui.lab.sections import sections
from ui.lab.state import (
    P_FORMAT,
    TOP_N,
    load_inspector,
    on_paste,
    on_preset,
    on_upload,
    rest_label,
    show_notices,
    start,
    table_height,
)

__all__ = ["driven", "editor", "show_notices", "start", "toolbar"]


def toolbar(lang: str) -> tuple[DeltaGenerator, DeltaGenerator]:
    """Examples and import; returns the (export, share) popovers for `driven()` to fill."""
    bar = st.columns([3.2, 1, 1, 1], vertical_alignment="bottom")
    bar[0].selectbox(
        t("lab.preset", lang),
        PRESETS,
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


def editor(lang: str) -> LabTable:
    """The editable table and its source line; returns the table to compute with (the last valid one
    when the edits do not make a table, with a message)."""
    ss = st.session_state
    table: LabTable = ss["lab_table"]
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
            "label": st.column_config.TextColumn(t("lab.col.label", lang), max_chars=MAX_LABEL_CHARS),
            "logit": st.column_config.NumberColumn(t("lab.col.logit", lang), help=t("lab.col.logit.help", lang)),
        },
    )
    try:
        table = ss["lab_table"] = table_from_frame(edited, ss["lab_base"])
    except InputError as exc:
        st.error(t("lab.keeping_last", lang, error=error_text(exc, lang, markdown=True)))
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


def knobs(table: LabTable, lang: str) -> LabControls:
    """Softmax or sigmoid, and in the sigmoid view temperature, k and top-p as server sliders (in the softmax view the
    explorer beside the editor has them); returns the knobs as kept, k limited to the table's size."""
    ss = st.session_state
    ss["lab_k"] = max(1, min(ss["lab_k"], table.size))
    mode_column = st.columns([4, 1.4, 2.4, 1.8], vertical_alignment="bottom")
    mode = mode_column[3].segmented_control(
        t("lab.mode", lang),
        MODES,
        key="lab_mode",
        required=True,
        help=t("lab.mode.help", lang),
        persist_state="session",
    )
    if mode != "sigmoid":
        return LabControls(float(ss["lab_T"]), int(ss["lab_k"]), float(ss["lab_top_p"]), "softmax").clamped(table.size)
    temperature = mode_column[0].select_slider(
        t("lab.temperature", lang),
        options=temperature_choices(ss["lab_T"]),
        key="lab_T",
        format_func=lambda v: f"{v:g}",
        help=t("lab.temperature.help", lang),
        persist_state="session",
    )
    k = mode_column[1].number_input(
        "k", min_value=1, max_value=table.size, step=1, key="lab_k", help=t("lab.k.help", lang), persist_state="session"
    )
    top_p = mode_column[2].slider(
        "top-p",
        min_value=0.01,
        max_value=1.0,
        step=0.01,
        key="lab_top_p",
        help=t("lab.top_p.help", lang),
        persist_state="session",
    )
    return LabControls(float(temperature), int(k), float(top_p), "sigmoid").clamped(table.size)


def explorer(table: LabTable, knobs: LabControls, lang: str) -> LabControls:
    """The softmax view's table and chart, redrawn in the browser as T, k or top-p moves: every class in the editor's
    order (the Inspector's tail as one row), p at T and at T = 1, rank, the top-k and top-p ticks, and the top
    classes' bars. Returns the knobs at the settings the user left (kept as the page's own)."""
    state = logits_explorer(
        table.all_logits(),
        table.all_labels(),
        temperature=knobs.temperature,
        k=knobs.k,
        top_p=knobs.top_p,
        lang=lang,
        key="lab_explorer",
        k_max=table.size,
        layout=Layout(
            rows="all",
            shown=table.shown,
            rest_label=rest_label(table, lang),
            columns=("label", "probability", "reference", "rank", "top_k", "top_p"),
            chart_n=TOP_N,
            probability_format="decimal",
        ),
    )
    top_p = knobs.top_p if state.top_p is None else state.top_p
    st.session_state.update(lab_T=state.temperature, lab_k=state.k, lab_top_p=top_p)
    return replace(knobs, temperature=state.temperature, k=state.k, top_p=top_p)


def results(table: LabTable, knobs: LabControls, lang: str) -> None:
    """The table of what the logits turn into, and the one-line summary under it."""
    temperature, k, top_p, mode = knobs.temperature, knobs.k, knobs.top_p, knobs.mode
    frame = class_table(table, temperature=temperature, k=k, top_p=top_p, mode=mode, rest_label=rest_label(table, lang))
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
    line = summary(table, temperature=temperature, mode=mode)
    st.caption(
        t(
            "lab.summary",
            lang,
            top=md(line.top_label),
            p=f"{line.top_probability:.1%}",
            h=f"{line.entropy_bits:.2f}",
            h_max=f"{line.max_entropy_bits:.2f}",
            total=f"{line.total_score:.1%}",
        )
        + (" " + t("lab.sigmoid_sum", lang) if mode == "sigmoid" else "")
    )


def headline(table: LabTable, knobs: LabControls, lang: str) -> None:
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


def export(table: LabTable, temperature: float, lang: str) -> None:
    """CSV and JSON downloads, built only when clicked (1,000 classes make a sizeable file)."""
    for name, build, mime, icon in (
        ("CSV", table_csv, "text/csv", "table"),
        ("JSON", table_json, "application/json", "data_object"),
    ):
        # one container each: after a fragment rerun, Streamlit 1.67 files two deferred downloads written
        # into the same outside container under one position and drops the first one's builder
        st.container().download_button(
            name,
            _deferred(build, table, temperature),
            file_name=f"logits.{name.lower()}",
            mime=mime,
            icon=f":material/{icon}:",
            on_click="ignore",
            width="stretch",
        )
    st.caption(t("lab.export.help", lang, n=table.size))


def _deferred(build: Callable[..., bytes], table: LabTable, temperature: float) -> Callable[[], bytes]:
    return lambda: build(table, temperature=temperature)


def share(table: LabTable, knobs: LabControls, lang: str) -> None:
    """The share link, and the address bar kept equal to it (cleared when the link would be too long)."""
    query = encode_query(table, knobs)
    link_text = query_string(query)
    too_long = len(link_text) > MAX_URL_CHARS
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
    table: LabTable = st.session_state["lab_table"]
    with knob_row:
        controls = knobs(table, lang)
    with beside:
        if controls.mode == "softmax":
            controls = explorer(table, controls, lang)
        else:
            results(table, controls, lang)
    if controls.mode == "sigmoid":
        headline(table, controls, lang)
    with export_box:
        export(table, controls.temperature, lang)
    with share_box:
        share(table, controls, lang)
    sections(table, controls, lang)
