"""The Evaluation page's "Download report (HTML)": what the page found, as one self-contained file.

Built only when the button is clicked (`core.report.evaluation.evaluation_report`): the headline metrics at T = 1,
the fitted T and the slider's T, the reliability diagram, the confusion, the most confident mistakes with
their pictures, and the likely label errors (`core.diagnose`, the same cached table as the page's tool; for one
class or one image, `View.tools` says they cannot be looked for, and the report says why in one line).
"""

from __future__ import annotations

from core.evaluate.records import most_confident_mistakes
from core.report.document import report_file_name
from core.report.evaluation import evaluation_report
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
    )


def evaluation_file_name(view: View) -> str:
    """e.g. "logitscope_report_evaluation_efficientnet_lite0.html"."""
    return report_file_name(f"evaluation_{view.result.model or 'model'}")
