"""What the CLI adds to `python -m core evaluate --json`: likely label errors and the per-class report.

Both are computed from the run's logits at T = 1 (ranking by self-confidence does not depend on a
temperature that keeps the order of each image's classes, and the per-class report needs only the top-1).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.diagnose.classes import per_class_records, per_class_report
from core.diagnose.label_issues import issue_records, label_issues
from core.evaluate.run import EvalResult
from core.evaluate.scores import probabilities


def diagnosis(result: EvalResult, labels: Sequence[str]) -> dict[str, object]:
    """{"label_issues": [{"file", "given", "suggested", "score"}] ranked, "per_class": [{"index", "label",
    "precision", "recall", "f1", "support"}] indexed by class}; no label issues for fewer than 2 images."""
    targets = result.targets.numpy()
    predictions = result.logits.argmax(dim=1).numpy()
    report = per_class_report(targets, predictions, labels, num_classes=result.num_classes)
    issues = issue_records(label_issues(probabilities(result.logits), targets), result.files) if result.n >= 2 else []
    return {"label_issues": issues, "per_class": per_class_records(report)}
