"""Tables of predictions as pandas DataFrames: top-k (softmax or sigmoid), every class, the seed-style
lines, many images' summary, the preprocessing check and two models side by side.

Every table ranks classes with `core.numerics.order`/`top_k` (stable: on a tie the lower index first), so
the top-k table, the full export, the JSON record and "what about class X?" always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

from core.analysis import VARIANT_IDS, ImageResult
from core.checks import run_checks, worst_status
from core.labels import label_of
from core.numerics import ScoreKind, as_logits, log_softmax, ranks, sigmoid, softmax, top_k
from core.numerics import scores as score_values
from core.preprocess import Preprocessing, normalisation_variants


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
    return pd.DataFrame(
        {
            "index": range(z.numel()),
            "label": [label_of(labels, i) for i in range(z.numel())],
            "logit": z.tolist(),
            "probability": probs.tolist(),
            "log_probability": log_softmax(z, temperature=temperature).tolist(),
            "rank": ranks(z).tolist(),
        }
    )


def score_table(
    logits: Tensor,
    labels: Sequence[str],
    *,
    k: int = 5,
    temperature: float = 1.0,
    scores: ScoreKind = "softmax",
    other_labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The top-k table in the chosen view.

    softmax: `top_k_table` (rank, index, label, [label_2], logit, probability, probability_t1,
    cumulative). sigmoid: rank, index, label, [label_2], logit, score, score_t1; no cumulative column, since
    independent scores do not add up to anything.
    """
    if scores == "softmax":
        return top_k_table(logits, labels, k=k, temperature=temperature, other_labels=other_labels)
    z = as_logits(logits).reshape(-1).to(torch.float64)
    now, at_one = sigmoid(z, temperature=temperature), sigmoid(z)
    table = top_k_table(z, labels, k=k, other_labels=other_labels)
    indices = table["index"].tolist()
    table = table.drop(columns=["probability", "probability_t1", "cumulative"])
    table["score"] = [float(now[i]) for i in indices]
    table["score_t1"] = [float(at_one[i]) for i in indices]
    return table


def score_lines(table: pd.DataFrame) -> list[str]:
    """The seed-style lines "1. espresso (95.7%)" for either view of `score_table`."""
    if "probability" in table.columns:
        return prediction_lines(table)
    return [f"{row.rank}. {row.label} ({row.score:.1%})" for row in table.itertuples()]


def summary_table(
    results: Sequence[ImageResult],
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    scores: ScoreKind = "softmax",
    num_classes: int | None = None,
) -> pd.DataFrame:
    """One row per image: file, top1 (label), index, score (at T), status (worst check, or "error"), message."""
    rows: list[dict[str, object]] = []
    for result in results:
        if result.logits is None:
            rows.append(
                {
                    "file": result.name,
                    "top1": "",
                    "index": None,
                    "score": None,
                    "status": "error",
                    "message": result.error or "",
                }
            )
            continue
        values = score_values(result.logits, kind=scores, temperature=temperature).reshape(-1)
        best = int(torch.argmax(result.logits))
        checks = run_checks(result.logits, labels=labels, num_classes=num_classes, temperature=temperature)
        failing = [c.message for c in checks if c.status != "pass"]
        rows.append(
            {
                "file": result.name,
                "top1": label_of(labels, best),
                "index": best,
                "score": float(values[best]),
                "status": worst_status(checks),
                "message": " ".join(failing),
            }
        )
    return pd.DataFrame(rows, columns=["file", "top1", "index", "score", "status", "message"])


@dataclass(frozen=True)
class VariantResult:
    """The top-k under one normalisation.

    Attributes:
        id: "own", "imagenet" or "none".
        description: how pixels were scaled, e.g. "scale to [-1, 1]".
        table: rank, index, label, logit, probability.
        top1: index of the top class.
        changed: whether top-1 differs from the model's own normalisation.
    """

    id: str
    description: str
    table: pd.DataFrame
    top1: int
    changed: bool


def compare_preprocessing(
    logits_by_variant: dict[str, Tensor],
    labels: Sequence[str],
    pre: Preprocessing,
    *,
    k: int = 5,
    temperature: float = 1.0,
) -> list[VariantResult]:
    """Top-k tables side by side for the outputs of `normalisation_logits`, flagging a changed top-1."""
    descriptions = [p.normalisation_text() for p in normalisation_variants(pre).values()]
    own_top = int(torch.argmax(logits_by_variant["own"]))
    results = []
    for variant, description in zip(VARIANT_IDS, descriptions, strict=True):
        z = logits_by_variant[variant]
        table = top_k_table(z, labels, k=k, temperature=temperature)[["rank", "index", "label", "logit", "probability"]]
        top1 = int(torch.argmax(z))
        results.append(VariantResult(variant, description, table, top1, top1 != own_top))
    return results


def compare_models(
    first: tuple[str, Tensor, Sequence[str]],
    second: tuple[str, Tensor, Sequence[str]],
    *,
    k: int = 5,
    temperature: float = 1.0,
) -> pd.DataFrame:
    """Top-k of two models on the same image, side by side: rank, then label and probability of each.

    Each tuple is (model name, logits, labels). Columns: rank, <name>, <name> p, ... for both.
    """
    columns: dict[str, list[object]] = {}
    for name, logits, labels in (first, second):
        table = top_k_table(logits, labels, k=k, temperature=temperature)
        columns.setdefault("rank", table["rank"].tolist())
        columns[name] = table["label"].tolist()
        columns[f"{name} p"] = table["probability"].tolist()
    size = min(len(v) for v in columns.values())
    return pd.DataFrame({key: values[:size] for key, values in columns.items()})
