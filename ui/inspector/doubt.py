"""The Inspector's doubt readouts for the shown image, at the page's T: "is this like what the model knows?" (its
max softmax probability, max logit, energy and entropy, each placed among the images evaluated in this session when
there are some: `ui.doubt.reference_for`) and, once prediction sets were calibrated on the Evaluation page, its set
beside the top-k ("90% set: {espresso, cup} · size 2"). Compact: a few lines in the verdict column.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from torch import Tensor

from core.charts.uncertainty import score_label
from core.i18n import escape_markdown, t
from core.models.spec import ModelSpec
from core.report.doubt import ImageDoubt, calibration_caption, score_text
from core.uncertainty.conformal import set_for_image
from core.uncertainty.ood import SCORE_NAMES, ood_scores_record, score_percentiles
from ui.doubt import Reference, calibration_for, reference_for

UNLIKE_BELOW = 5.0  # an energy percentile under this: the readout says "unlike what the model knows"


def set_line(logits: Tensor, spec: ModelSpec, labels: Sequence[str], lang: str) -> None:
    """The image's prediction set under the session's calibration (nothing when there is none for this model)."""
    found = calibration_for(spec.name, spec.num_classes)
    if found is None:
        return
    calibration, source = found
    members = set_for_image(calibration, logits, labels)
    names = ", ".join(escape_markdown(label) for _, label, _ in members)
    text = t("unc.inspector.set", lang, coverage=1 - calibration.alpha, members=names, size=len(members))
    st.markdown(f"**{text}**")
    st.caption(escape_markdown(calibration_caption(calibration, source, lang)))


def doubt_readout(logits: Tensor, spec: ModelSpec, temperature: float, lang: str) -> None:
    """The image's four scores at the page's T, with their percentiles among the session's evaluation."""
    record = ood_scores_record(logits, temperature)
    reference = reference_for(spec.name, spec.num_classes, temperature)
    found = score_percentiles(record, reference.scores) if isinstance(reference, Reference) else {}
    with st.container(border=True, key="inspector_doubt"):
        st.markdown(f"**{t('unc.inspector.title', lang)}**")
        lines = []
        for name in SCORE_NAMES:
            at = t("unc.inspector.at", lang, p=found[name]) if name in found else ""
            value = score_text(name, record[name])
            lines.append(t("unc.inspector.line", lang, score=score_label(name, lang), value=value, percentile=at))
        st.markdown("  \n".join(lines))
        if isinstance(reference, Reference):
            if found["energy"] < UNLIKE_BELOW:
                st.warning(t("unc.inspector.unlike", lang, share=1 - found["energy"] / 100), icon=":material/help:")
            source = escape_markdown(reference.source)
            st.caption(
                t("unc.inspector.reference", lang, n=reference.n, source=source)
                + " "
                + t("unc.inspector.at_t", lang, t=temperature)
            )
        elif reference.other_model:
            st.caption(
                t("unc.inspector.other", lang, model=spec.name, other=reference.other_model, n=reference.other_classes)
            )
        else:
            st.caption(t("unc.inspector.none", lang, model=spec.name))


def report_doubt(shown_model: str, num_classes: int, temperature: float) -> ImageDoubt:
    """What the Inspector's HTML report adds to each image: the reference and the calibrated sets, when any."""
    reference = reference_for(shown_model, num_classes, temperature)
    calibration = calibration_for(shown_model, num_classes)
    return ImageDoubt(
        reference=reference.scores if isinstance(reference, Reference) else None,
        reference_name=reference.source if isinstance(reference, Reference) else "",
        calibration=calibration[0] if calibration else None,
        calibration_source=calibration[1] if calibration else "",
    )
