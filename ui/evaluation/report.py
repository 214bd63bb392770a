"""The Evaluation page's "Download report (HTML)": what the page found, as one self-contained file.

Built only when the button is clicked (`core.report.evaluation.evaluation_report`): the headline metrics at T = 1,
the fitted T and the slider's T, the reliability diagram, the confusion, the most confident mistakes with
their pictures, the likely label errors (`core.diagnose`, the same cached table as the page's tool; for one
class or one image, `View.tools` says they cannot be looked for, and the report says why in one line), and the doubt
sections at the doubt tools' settings (with the outside images, when some were run against this result).
"""

from __future__ import annotations

import streamlit as st

from core.evaluate.records import most_confident_mistakes
from core.evaluate.result import EvalResult
from core.report.document import report_file_name
from core.report.doubt import DoubtSettings
from core.report.evaluation import evaluation_report
from core.uncertainty.conformal import DEFAULT_ALPHA
from ui.evaluation.outside import kept_outside
from ui.evaluation.view import View, thumbnail_png

MAX_MISTAKES = 12
MAX_ISSUE_PICTURES = 50


def evaluation_html(view: View) -> str:
    """The report of the results shown, at the slider's T, in the UI language."""
    result = view.result
    issues = view.label_issues() if view.tools["label_issues"] is None else None
    files: list[str] = []
    mistakes = most_confident_mistakes(view.at(view.temperature).records, n=MAX_MISTAKES)
    files += mistakes["file"].tolist()
    if issues is not None:
        files += [result.files[int(i)] for i in issues["index"].head(MAX_ISSUE_PICTURES)]
    thumbnails: dict[str, bytes] = {}
    if view.reader is not None:
        for name in dict.fromkeys(files):
            data = thumbnail_png(view.key[1], name, view.reader)
            if data:
                thumbnails[name] = data
    return evaluation_report(
        result,
        list(view.names),
        temperature=view.temperature,
        fit=view.fit,
        label_issues=issues,
        thumbnails=thumbnails,
        max_mistakes=MAX_MISTAKES,
        lang=view.lang,
        scorer=view.scorer,
        bins=view.bins,
        doubt=doubt_settings(view),
    )


def doubt_settings(view: View) -> DoubtSettings:
    """The doubt tools' knobs as the page has them (their defaults where a tool was never opened), and the outside
    set run against this result, if any."""
    ss = st.session_state
    coverage = float(ss.get("doubt_coverage", 1 - DEFAULT_ALPHA))
    method = ss.get("doubt_method") or "lac"
    score = ss.get("doubt_abstain_score") or "msp"
    threshold = ss.get(f"doubt_abstain_{score}")
    outside = kept_outside(view)
    other: EvalResult | None = outside["result"] if outside is not None else None  # type: ignore[assignment]
    return DoubtSettings(
        method=method,
        alpha=round(1.0 - coverage, 10),
        randomized=bool(ss.get("doubt_randomized")) and method == "aps",
        seed=int(ss.get("doubt_seed", 0)),
        abstain_score=score if threshold is not None else None,
        abstain_threshold=float(threshold) if threshold is not None else None,
        outside=other.logits if other is not None else None,
        outside_source=other.source if other is not None else "",
    )


def evaluation_file_name(view: View) -> str:
    """e.g. "logitscope_report_evaluation_efficientnet_lite0.html"."""
    return report_file_name(f"evaluation_{view.result.model or 'model'}")
