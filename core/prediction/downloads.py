"""Downloads of one prediction (every class as CSV, the top-k record as JSON, safe file names) and the
payload "Open in Logits Lab" hands over."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pandas as pd
import torch
from torch import Tensor

from core.checks import Check
from core.labels import label_of
from core.numerics import as_logits, sigmoid, softmax
from core.prediction.tables import full_table, top_k_table


def export_stem(image_name: str, model_name: str) -> str:
    """A safe file-name stem for downloads, e.g. "coffee_efficientnet_lite0"."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", image_name)
    text = f"{stem}_{model_name}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:120] or "prediction"


def export_table(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    other_labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every class: index, label, [label_2], logit, probability (at T), log_probability, rank,
    probability_t1 and sigmoid (at T)."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    table = full_table(z, labels, temperature=temperature)
    if other_labels is not None:
        table.insert(2, "label_2", [label_of(other_labels, i) for i in range(z.numel())])
    table["probability_t1"] = softmax(z).tolist()
    table["sigmoid"] = sigmoid(z, temperature=temperature).tolist()
    return table


def export_csv(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    other_labels: Sequence[str] | None = None,
) -> str:
    """The full logits/probabilities as CSV text (floats written exactly, so they read back equal)."""
    return export_table(logits, labels, temperature=temperature, other_labels=other_labels).to_csv(index=False)


def prediction_record(
    *,
    image: str,
    model: str,
    logits: Tensor,
    labels: Sequence[str],
    k: int = 5,
    temperature: float = 1.0,
    checks: Sequence[Check] = (),
    notes: Sequence[str] = (),
    preprocessing: str | None = None,
    other_labels: Sequence[str] | None = None,
) -> dict[str, object]:
    """The prediction as JSON-ready data, in the shape of `python -m core predict --json`.

    Each top-k entry has rank, index, label, [label_2], logit, probability (at T), probability_t1 and
    sigmoid (at T).
    """
    z = as_logits(logits).reshape(-1).to(torch.float64)
    table = top_k_table(z, labels, k=k, temperature=temperature, other_labels=other_labels)
    sig = sigmoid(z, temperature=temperature)
    top = []
    for row in table.to_dict(orient="records"):
        entry: dict[str, object] = {
            str(key): row[key]
            for key in ("rank", "index", "label", "label_2", "logit", "probability", "probability_t1")
            if key in row
        }
        entry["sigmoid"] = float(sig[int(row["index"])])
        top.append({key: (v.item() if hasattr(v, "item") else v) for key, v in entry.items()})
    record: dict[str, object] = {
        "image": image,
        "model": model,
        "temperature": temperature,
        "num_classes": z.numel(),
        "top_k": top,
        "checks": [c.to_dict() for c in checks],
        "notes": list(notes),
    }
    if preprocessing is not None:
        record["preprocessing"] = preprocessing
    return record


def export_json(record: dict[str, object]) -> str:
    """A `prediction_record` as pretty JSON text (UTF-8 names kept readable)."""
    return json.dumps(record, ensure_ascii=False, indent=2)


def lab_payload(logits: Tensor, labels: Sequence[str], *, source: str) -> dict[str, object]:
    """What "Open in Logits Lab" hands over: {"labels": [...], "logits": [...], "source": "..."}, all classes."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    names = [label_of(labels, i) for i in range(z.numel())]
    return {"labels": names, "logits": [float(v) for v in z.tolist()], "source": source}
