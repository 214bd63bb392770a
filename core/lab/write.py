"""Writing a Logits Lab table out: every class as CSV or JSON, which `core.lab.parse` reads back."""

from __future__ import annotations

import json

from core.lab.logit_table import LabTable, class_frame
from core.numerics import log_softmax, softmax


def table_csv(table: LabTable, *, temperature: float = 1.0) -> bytes:
    """Every class (tail included) as CSV: label, logit, probability (at T), log_probability."""
    z = table.all_logits()
    frame = class_frame(
        table,
        probability=softmax(z, temperature=temperature),
        log_probability=log_softmax(z, temperature=temperature),
    )
    return frame.to_csv(index=False).encode("utf-8")


def table_json(table: LabTable, *, temperature: float = 1.0) -> bytes:
    """Every class as JSON {"labels", "logits", "temperature", "probabilities"}; `parse_json` reads it."""
    z = table.all_logits()
    doc = {
        "labels": table.all_labels(),
        "logits": z.tolist(),
        "temperature": temperature,
        "probabilities": softmax(z, temperature=temperature).tolist(),
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
