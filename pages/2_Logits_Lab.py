"""Logits Lab: edit logits by hand and watch softmax, temperature, top-k/top-p and the math update.

Recipe: the table's source (examples, import, the editor) → `ui.lab.page.driven`, a fragment with the knobs
and everything they drive (results, charts, export, the share link, the open section; `ui.lab.sections`).
The last valid table is kept in session state (`ui.lab.state`), so bad input shows a message and never
loses the user's work.
"""

import streamlit as st

from core.i18n import t
from ui.lab.page import driven, editor, toolbar
from ui.lab.state import show_notices, start
from ui.sidebar import shared_sidebar

controls = shared_sidebar()
lang = controls.lang
start(lang, {key: st.query_params.get_all(key) for key in st.query_params})

st.title(f":material/experiment: {t('lab.title', lang)}")
st.caption(t("lab.intro", lang))
export_box, share_box = toolbar(lang)
show_notices()

knob_row = st.container()
left, right = st.columns([1, 1.55])
with left:
    editor(lang)
driven(lang, knob_row, right, export_box, share_box)
