"""Cell values of the Logits Lab: a number from text ("1e3", "66%", "−2"), from a table cell, or shown as text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def number(token: str) -> float | None:
    """A float from one token, accepting the Unicode minus that web pages use; None if not a number."""
    text = token.strip().replace("\u2212", "-").replace("\u2013", "-")
    if not text or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def to_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        return number(value)
    return None


def is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def show_value(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else f"{value:g}"


def format_value(value: float) -> str:
    """A number as text that keeps NaN and inf visible: "NaN", "inf", "0.665241", "1.2e-30"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"
