"""Image Inspector: upload images (or pick samples), see every step of each prediction, debug a misclassification.

A recipe: read the widgets → analyse each image once (`core.analysis.analyse`, cached per model and image
in `ui.cache`) → lay the results out (`ui.inspector.view`, one fragment). Moving k, T or softmax/sigmoid
reruns only that fragment and never runs the model; the expensive extras (preprocessing check, Grad-CAM,
a second model) run only in the tab that is open, from the analysed image, and are cached too.
"""

import streamlit as st

from core.errors import LogitscopeError
from core.i18n import escape_markdown, t
from ui.cache import current_model
from ui.inspector.controls import analyse_all, class_names, image_inputs
from ui.inspector.links import restore_link, show_link_problems
from ui.inspector.view import inspector_results
from ui.sidebar import shared_sidebar

link_problems = restore_link()  # a shared link seeds the model and the knobs before they are drawn
controls = shared_sidebar()
lang = controls.lang

st.title(t("inspector.title", lang))
st.caption(t("inspector.intro", lang))
show_link_problems(link_problems, lang)

try:
    model = current_model(controls)
except LogitscopeError as exc:
    st.error(escape_markdown(str(exc)), icon=":material/error:")
    st.stop()
names = class_names(controls, model.spec)

items = image_inputs(lang)
results = analyse_all(model, items, lang)
inspector_results(results, model, names, controls.label_mode, lang)
