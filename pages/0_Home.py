"""Home: what the tool does, a live demo (one photo's top-5 vs T), the pipeline in one picture, links to the pages
(app.py routes here by default)."""

import streamlit as st

from core.charts import pipeline_dot
from core.i18n import t
from ui.home import live_demo
from ui.sidebar import shared_sidebar

controls = shared_sidebar()
lang = controls.lang

st.title(t("home.title", lang))
st.write(t("home.tagline", lang))
live_demo(controls)

st.subheader(t("home.pipeline", lang))
st.graphviz_chart(pipeline_dot(), width="stretch")

st.subheader(t("home.pages", lang))
left, middle, right = st.columns(3)
with left:
    st.page_link("pages/1_Image_Inspector.py", label=t("nav.inspector", lang), icon=":material/image_search:")
    st.caption(t("home.page.inspector", lang))
with middle:
    st.page_link("pages/2_Logits_Lab.py", label=t("nav.lab", lang), icon=":material/experiment:")
    st.caption(t("home.page.lab", lang))
with right:
    st.page_link("pages/3_Dataset_Evaluation.py", label=t("nav.evaluate", lang), icon=":material/analytics:")
    st.caption(t("home.page.evaluate", lang))

st.subheader(t("home.facts", lang))
for fact in ("ranking", "overflow", "sum", "double", "normalize", "labels"):
    st.markdown(f"- {t(f'home.fact.{fact}', lang)}")
st.caption(f"{t('home.default_model', lang)}: `{controls.model_name}`")
