"""The debugging checklist of "where did my top-5 come from?", as data.

Each check returns a status (pass / warn / fail), a sentence in the chosen language and the values it
looked at, so the UI can show a compact panel and the CLI can print or JSON-dump the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
from torch import Tensor

from core.i18n import t
from core.numerics import as_logits, softmax, top_k

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One line of the checklist.

    Attributes:
        name: stable identifier, e.g. "logits_finite".
        status: "pass", "warn" or "fail".
        message: the finding as a sentence.
        values: the numbers behind it (JSON-friendly).
    """

    name: str
    status: Status
    message: str
    values: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _check(name: str, status: Status, lang: str, **values: object) -> Check:
    return Check(name, status, t(f"check.{name}.{status}", lang, **values), values)


def run_checks(
    logits: Tensor,
    *,
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    k: int = 5,
    temperature: float = 1.0,
    lang: str = "en",
) -> list[Check]:
    """Run the checklist on one logits vector.

    Args:
        logits: the model's raw output for one image (1-D).
        labels: the label list in use, if any.
        num_classes: the model's class count (defaults to the logits' length).
        k: how many top classes are shown, for the "indices inside the label list" check.
        temperature: the T in use, for the "softmax sums to 1" check.
        lang: language of the messages.
    """
    z = as_logits(logits).reshape(-1).to(torch.float64)
    n = z.numel()
    num_classes = n if num_classes is None else num_classes
    checks: list[Check] = []

    nan, inf = int(torch.isnan(z).sum()), int(torch.isinf(z).sum())
    finite = nan == 0 and inf == 0
    checks.append(_check("logits_finite", "pass" if finite else "fail", lang, nan=nan, inf=inf, n=n))
    if not finite:
        return checks  # nothing after this means anything on NaN/inf logits

    high, low = float(z.max()), float(z.min())
    if high == low:
        checks.append(_check("logits_varied", "fail", lang, value=high))
    else:
        checks.append(_check("logits_varied", "pass", lang, max=high, min=low, spread=high - low))

    in_unit = bool(((z >= 0) & (z <= 1)).all())
    total = float(z.sum())
    if n > 1 and in_unit and abs(total - 1.0) <= 0.01:
        checks.append(_check("not_probabilities", "warn", lang, sum=total))
    else:
        checks.append(_check("not_probabilities", "pass", lang, sum=total))

    probs = softmax(z, temperature=temperature)
    prob_sum = float(probs.sum())
    ok = abs(prob_sum - 1.0) < 1e-6
    checks.append(_check("softmax_sums_to_one", "pass" if ok else "fail", lang, sum=prob_sum, temperature=temperature))

    if labels is not None:
        top = top_k(z, k).indices.tolist()
        outside = [i for i in top if i >= len(labels)]
        status: Status = "fail" if outside else "pass"
        checks.append(_check("top_k_in_labels", status, lang, k=len(top), outside=outside, labels=len(labels)))
        status = "pass" if len(labels) == num_classes else "fail"
        checks.append(_check("label_count", status, lang, labels=len(labels), classes=num_classes))
    return checks


def worst_status(checks: Sequence[Check]) -> Status:
    """The most severe status in a list of checks ("pass" for an empty list)."""
    order: dict[Status, int] = {"pass": 0, "warn": 1, "fail": 2}
    return max((c.status for c in checks), key=order.__getitem__, default="pass")
