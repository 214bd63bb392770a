"""Dataset Evaluation: where, and how confidently, is the model wrong on a labelled set?

Read widgets → call core → render: the data in and the run are `ui.evaluate_input`, the results
`ui.evaluate`. The model runs once per (model, dataset); everything after the logits is computed once
per temperature from the kept logits, inside one fragment, so moving T or the bins reruns only it.
"""

from __future__ import annotations

import streamlit as st

from core import LoadedModel, LogitscopeError
from core.i18n import escape_markdown, t
from core.registry import choose_labels
from ui import evaluate as ue
from ui import evaluate_input as ui_in
from ui.cache import current_model
from ui.sidebar import shared_sidebar

controls = shared_sidebar()
lang = controls.lang
ui_in.init_state()

st.title(t("eval.title", lang))
st.caption(t("eval.intro", lang))
source = ui_in.source_picker(lang)

model: LoadedModel | None = None
try:
    model = current_model(controls)
except LogitscopeError as exc:
    # a results file is explored without the model: then this is only a note
    (st.warning if source == "results" else st.error)(escape_markdown(str(exc)))
labels: list[str] = []
if model is not None:
    label_file = controls.label_file
    choice = choose_labels(
        model.spec,
        controls.label_mode,
        file_data=label_file.data if label_file else None,
        file_name=label_file.name if label_file else "labels.txt",
    )
    if choice.warning:
        st.warning(escape_markdown(choice.warning))  # it names the user's label file
    labels = choice.labels

data = ui_in.data_input(source, controls=controls, model=model, labels=labels)
ui_in.run_controls(data, model, lang)
stored = ui_in.stored_result(data.key)
if stored is None:
    st.stop()
ue.results_view(stored, labels, data.labelled.reader if data.labelled is not None else None, lang)
