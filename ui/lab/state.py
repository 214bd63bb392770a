"""The Logits Lab's session state: the kept table, queued messages, the callbacks that load a table, and the
first run's restore from a shared link. Callbacks take the UI language as an argument and touch only the
`lab_*` session-state keys.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.errors import InputError
from core.i18n import t
from core.lab.logit_table import LabTable, error_text
from core.lab.parse import parse_pasted, parse_upload
from core.lab.presets import handoff_fingerprint, preset_table, table_from_inspector
from core.links.lab import LabControls, decode_query, has_lab_state
from ui.navigation import LAB_HANDOFF

TOP_N = 12  # classes drawn in the bar charts
P_FORMAT = "%.4f"  # probabilities in tables: 0.6590, as tutorials print them


def table_height(rows: int, *, max_rows: int = 16) -> int:
    """Pixel height that shows `rows` rows (up to `max_rows`) and the header without scrolling."""
    return 35 * (min(rows, max_rows) + 1) + 3


def rest_label(table: LabTable, lang: str) -> str:
    return t("lab.rest", lang, n=len(table.rest_logits))


def set_table(table: LabTable) -> None:
    """Make `table` the lab's table and re-seed the editor with it."""
    ss = st.session_state
    ss["lab_table"] = ss["lab_origin"] = table
    ss["lab_editor_version"] = ss.get("lab_editor_version", 0) + 1
    ss["lab_k"] = max(1, min(ss.get("lab_k", LabControls().k), table.size))


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
        set_table(table_from_inspector(ss.get(LAB_HANDOFF), editable=ss.get("lab_inspector_n", 10)))
    except InputError as exc:
        notify("warning", error_text(exc, lang, markdown=True))


def on_preset(lang: str) -> None:
    ss = st.session_state
    name = ss["lab_preset"]
    ss["lab_preset"] = None  # back to the placeholder, so the same example can be loaded again
    if name == "inspector":
        load_inspector(lang)
    elif name is not None:
        seed = ss.get("lab_seed", 0)
        ss["lab_seed"] = seed + 1 if name == "random" else seed
        set_table(preset_table(name, lang=lang, seed=seed))


def _load(read: Callable[[], LabTable], lang: str) -> None:
    try:
        set_table(read())
        notify("success", t("lab.loaded", lang, n=st.session_state["lab_table"].size))
    except InputError as exc:
        notify("error", t("lab.import_failed", lang, error=error_text(exc, lang, markdown=True)))


def on_paste(lang: str) -> None:
    text = st.session_state.get("lab_paste", "")
    _load(lambda: parse_pasted(text, source=t("lab.source.pasted", lang)), lang)


def on_upload(lang: str) -> None:
    upload = st.session_state.get("lab_upload")
    if upload is not None:
        _load(lambda: parse_upload(upload.name, upload.getvalue()), lang)


def start(lang: str, query: dict[str, list[str]]) -> None:
    """First run in a session: restore a shared link (`query`: each key -> all its values), else the first
    example. Every run: take a new handoff from the Image Inspector."""
    ss = st.session_state
    if "lab_table" not in ss:
        first = preset_table("news", lang=lang)
        knobs = LabControls()
        if has_lab_state(query):
            link = decode_query(query, source=t("lab.source.link", lang))
            first, knobs = link.table or first, link.controls
            for problem in link.problems:
                notify("warning", t("lab.link_problem", lang, error=error_text(problem, lang, markdown=True)))
            # a link opened on purpose wins over an older Inspector handoff
            ss["lab_inspector_seen"] = handoff_fingerprint(ss.get(LAB_HANDOFF))
        ss.update(lab_T=knobs.temperature, lab_k=knobs.k, lab_top_p=knobs.top_p, lab_mode=knobs.mode)
        set_table(first)
    handoff = ss.get(LAB_HANDOFF)
    if handoff is not None and handoff_fingerprint(handoff) != ss.get("lab_inspector_seen"):
        ss["lab_inspector_seen"] = handoff_fingerprint(handoff)  # a new image from the Inspector
        load_inspector(lang)
