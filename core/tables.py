"""Tables of predictions as pandas DataFrames: top-k, the full distribution, the seed-style lines."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import Tensor

from core.labels import label_of
from core.numerics import as_logits, log_softmax, softmax, top_k


def top_k_table(
    logits: Tensor,
    labels: Sequence[str],
    *,
    k: int = 5,
    temperature: float = 1.0,
    other_labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The k most likely classes of one logits vector.

    Columns: rank, index, label, (label_2 with `other_labels`), logit, probability (at T),
    probability_t1 (at T = 1), cumulative (running sum of probability at T).
    """
    z = as_logits(logits).reshape(-1).to(torch.float64)
    probs = softmax(z, temperature=temperature)
    probs_t1 = softmax(z)
    values, indices = top_k(z, k)  # top-k of logits == top-k of probabilities
    rows = []
    cumulative = 0.0
    for rank, (logit, index) in enumerate(zip(values.tolist(), indices.tolist(), strict=True), start=1):
        cumulative += float(probs[index])
        row: dict[str, object] = {"rank": rank, "index": index, "label": label_of(labels, index)}
        if other_labels is not None:
            row["label_2"] = label_of(other_labels, index)
        row |= {
            "logit": logit,
            "probability": float(probs[index]),
            "probability_t1": float(probs_t1[index]),
            "cumulative": cumulative,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def prediction_lines(table: pd.DataFrame) -> list[str]:
    """Lines like "1. espresso (95.7%)" from a `top_k_table`."""
    return [f"{row.rank}. {row.label} ({row.probability:.1%})" for row in table.itertuples()]


def full_table(logits: Tensor, labels: Sequence[str], *, temperature: float = 1.0) -> pd.DataFrame:
    """Every class: index, label, logit, probability at T, log-probability at T, rank (for CSV export)."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    probs = softmax(z, temperature=temperature)
    ranks = torch.empty_like(z, dtype=torch.long)
    ranks[torch.argsort(z, descending=True)] = torch.arange(1, z.numel() + 1)
    return pd.DataFrame(
        {
            "index": range(z.numel()),
            "label": [label_of(labels, i) for i in range(z.numel())],
            "logit": z.tolist(),
            "probability": probs.tolist(),
            "log_probability": log_softmax(z, temperature=temperature).tolist(),
            "rank": ranks.tolist(),
        }
    )
