"""What the CLI adds to `python -m core evaluate --json`: likely label errors, the per-class report, and what
could not be computed for this set and why.

They are computed from the run's logits at T = 1 (ranking by self-confidence does not depend on a
temperature that keeps the order of each image's classes, and the per-class report needs only the top-1).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.diagnose.availability import label_issues_unavailable
from core.diagnose.classes import per_class_records, per_class_report
from core.diagnose.label_issues import issue_records, label_issues
from core.evaluate.result import EvalResult
from core.evaluate.scores import probabilities


def diagnosis(result: EvalResult, labels: Sequence[str]) -> dict[str, object]:
    """{"label_issues": [{"file", "given", "suggested", "score"}] ranked, "per_class": [{"index", "label",
    "precision", "recall", "f1", "support"}] indexed by class, "unavailable": {key: reason}}.

    "unavailable" names each key above that could not be computed for this set, with the reason in a sentence:
    {"label_issues": "needs images of at least 2 classes to compare them; all 6 images here are labelled
    espresso"} for a one-class set (the key itself is then []), {} when everything was computed.
    """
    targets = result.targets.numpy()
    predictions = result.logits.argmax(dim=1).numpy()
    report = per_class_report(targets, predictions, labels, num_classes=result.num_classes)
    why_not = label_issues_unavailable(targets, result.num_classes, labels)
    issues = [] if why_not else issue_records(label_issues(probabilities(result.logits), targets), result.files)
    unavailable = {"label_issues": str(why_not)} if why_not else {}
    return {"label_issues": issues, "per_class": per_class_records(report), "unavailable": unavailable}
