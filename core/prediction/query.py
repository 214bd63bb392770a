"""What about class X? Where one class stands (rank, score, margin, odds), finding a class by name
or number in the picker, and the numbers' text for people."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from core.errors import LogitscopeError
from core.numerics import ScoreKind, as_logits, check_temperature, order, ranks
from core.numerics import scores as score_values


@dataclass(frozen=True)
class ClassQuery:
    """Where one class stands.

    Attributes:
        index: the class asked about.
        rank: its rank by logit (1 = top); ties go to the lower index, as in every table (`numerics.ranks`).
        logit: its logit.
        score: its probability (softmax) or score (sigmoid) at T.
        top1: index of the top class.
        top1_score: the top class's probability or score at T.
        margin: logit of top-1 minus this class's logit (>= 0).
        odds: p(top-1) / p(X) under softmax at T, exp(margin / T) (inf if it overflows).
        num_classes: how many classes there are.
    """

    index: int
    rank: int
    logit: float
    score: float
    top1: int
    top1_score: float
    margin: float
    odds: float
    num_classes: int


def query_class(logits: Tensor, index: int, *, temperature: float = 1.0, scores: ScoreKind = "softmax") -> ClassQuery:
    """Rank, logit, score and margin to top-1 of class `index`. No T > 0 changes the rank or the margin."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    if not 0 <= index < z.numel():
        raise LogitscopeError(f"class {index} does not exist: the model has {z.numel()} classes (0 to {z.numel() - 1})")
    values = score_values(z, kind=scores, temperature=temperature).reshape(-1)
    rank = int(ranks(z)[index])
    top1 = int(order(z)[0])
    margin = float(z[top1] - z[index])
    ratio = margin / check_temperature(temperature)
    return ClassQuery(
        index=index,
        rank=rank,
        logit=float(z[index]),
        score=float(values[index]),
        top1=top1,
        top1_score=float(values[top1]),
        margin=margin,
        odds=math.exp(ratio) if ratio < 700 else math.inf,
        num_classes=z.numel(),
    )


def format_probability(p: float) -> str:
    """A probability for people: "95.66%", "0.012%", or "3.1e-09" when a percentage would read 0.000%."""
    return f"{p:.3%}" if p >= 1e-5 or p == 0 else f"{p:.2e}"


def format_ratio(ratio: float) -> str:
    """How many times more likely: "1.02", "69.3", "280,000", or "1.2e+12" (and "∞" past float range)."""
    if math.isinf(ratio):
        return "∞"
    if ratio < 1000:
        return f"{ratio:.3g}"
    return f"{ratio:,.0f}" if ratio < 1e9 else f"{ratio:.2g}"


def class_option_text(index: int, *label_lists: Sequence[str] | None) -> str:
    """The picker's text for a class: "967 · espresso · 浓咖啡" (each distinct name once)."""
    names: list[str] = []
    for labels in label_lists:
        if labels is not None and index < len(labels) and labels[index] not in names:
            names.append(labels[index])
    return " · ".join([str(index), *names])


def _normalise(text: str) -> str:
    return re.sub(r"[\s_\-·,]+", " ", text.casefold()).strip()


def search_labels(query: str, *label_lists: Sequence[str] | None, limit: int = 20) -> list[int]:
    """Class indices whose name (in any of `label_lists`) matches `query`, best first.

    A number matches that index; otherwise exact names come first, then names starting with the query,
    then names containing it, then names containing every word of it. Case and separators are ignored.
    """
    q = _normalise(query)
    if not q:
        return []
    size = max((len(labels) for labels in label_lists if labels is not None), default=0)
    if q.isdecimal():  # "²" is a digit but not a number int() reads
        return [int(q)] if len(q) <= 18 and int(q) < size else []
    words = q.split()
    best: dict[int, int] = {}
    for labels in label_lists:
        for index, name in enumerate(labels or ()):
            n = _normalise(name)
            if n == q:
                tier = 0
            elif n.startswith(q):
                tier = 1
            elif q in n:
                tier = 2
            elif all(w in n for w in words):
                tier = 3
            else:
                continue
            best[index] = min(tier, best.get(index, tier))
    return sorted(best, key=lambda i: (best[i], i))[:limit]
