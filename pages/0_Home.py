"""Home: what the tool does, a live demo (one photo's top-5 vs T), the pipeline in one picture, links to the pages
(app.py routes here by default)."""

import streamlit as st

from core.charts.pipeline import pipeline_dot
from core.i18n import t
from ui.home import live_demo
from ui.navigation import EVALUATION, INSPECTOR, LAB
from ui.sidebar import shared_sidebar

controls = shared_sidebar()
lang = controls.lang

st.title(t("home.title", lang))
st.write(t("home.tagline", lang))
live_demo(controls)

st.subheader(t("home.pipeline", lang))
st.graphviz_chart(pipeline_dot(), width="stretch")

st.subheader(t("home.pages", lang))
for column, (entry, about) in zip(
    st.columns(3), ((INSPECTOR, "inspector"), (LAB, "lab"), (EVALUATION, "evaluate")), strict=True
):
    with column:
        entry.link(lang)
        st.caption(t(f"home.page.{about}", lang))

st.subheader(t("home.facts", lang))
for fact in ("ranking", "overflow", "sum", "double", "normalize", "labels"):
    st.markdown(f"- {t(f'home.fact.{fact}', lang)}")
st.caption(f"{t('home.default_model', lang)}: `{controls.model_name}`")
