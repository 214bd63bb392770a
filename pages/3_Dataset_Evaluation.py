"""Dataset Evaluation: where, and how confidently, is the model wrong on a labelled set?

Read widgets → call core → render: the data in and the run are `ui.evaluation.inputs`, the results
`ui.evaluation.results`. The model runs once per (model, dataset); everything after the logits is computed once
per temperature from the kept logits, inside one fragment, so moving T or the bins reruns only it.
"""

from __future__ import annotations

import streamlit as st

from core.errors import LogitscopeError
from core.i18n import escape_markdown, t
from core.models.labels import choose_labels
from core.models.spec import LoadedModel
from ui.cache import current_model
from ui.evaluation.inputs import data_input, init_state, run_controls, source_picker, stored_result
from ui.evaluation.results import results_view
from ui.sidebar import shared_sidebar

controls = shared_sidebar()
lang = controls.lang
init_state()

st.title(t("eval.title", lang))
st.caption(t("eval.intro", lang))
source = source_picker(lang)

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

data = data_input(source, controls=controls, model=model, labels=labels)
run_controls(data, model, lang)
stored = stored_result(data.key)
if stored is None:
    st.stop()
results_view(stored, labels, data.labelled.reader if data.labelled is not None else None, lang, model)
