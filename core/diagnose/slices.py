"""Weak slices: accuracy by simple image properties, the weakest slices first (as Deepchecks does).

Properties of each decoded image (before the model's preprocessing):
- brightness: mean of the grayscale pixels, 0..255;
- contrast: their standard deviation (RMS contrast);
- size: width x height in pixels (megapixels shown on the page);
- aspect: width / height;
- grayscale: no colour (every pixel has R = G = B).
Brightness and contrast are measured on a copy at most 64 pixels on a side (cheap, and the same to a
fraction of a grey level). Continuous properties are cut into quantile buckets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from PIL import Image

from core.errors import ImageError, InputError
from core.images import decode_image

PROPERTY_COLUMNS = ("brightness", "contrast", "size", "aspect", "grayscale")
CONTINUOUS = ("brightness", "contrast", "size", "aspect")
PROBE_SIDE = 64


def image_properties(image: Image.Image) -> dict[str, float]:
    """The properties of one decoded image (see the module docstring)."""
    probe = image.copy()
    probe.thumbnail((PROBE_SIDE, PROBE_SIDE))
    rgb = np.asarray(probe.convert("RGB"), dtype=np.float64)
    gray = np.asarray(probe.convert("L"), dtype=np.float64)
    return {
        "brightness": float(gray.mean()),
        "contrast": float(gray.std()),
        "size": float(image.width * image.height),
        "aspect": image.width / image.height,
        "grayscale": float(np.ptp(rgb, axis=2).max() == 0),
    }


def properties_frame(files: Sequence[str], read: Callable[[str], bytes]) -> pd.DataFrame:
    """One row of properties per file (NaN where the file cannot be read or decoded)."""
    rows: list[dict[str, float]] = []
    for name in files:
        try:
            rows.append(image_properties(decode_image(read(name), name).image))
        except (ImageError, InputError, OSError, KeyError):
            rows.append(dict.fromkeys(PROPERTY_COLUMNS, float("nan")))
    return pd.DataFrame(rows, columns=list(PROPERTY_COLUMNS))


def weak_slices(properties: pd.DataFrame, correct: np.ndarray, *, buckets: int = 4) -> pd.DataFrame:
    """Accuracy per slice, weakest first.

    Continuous properties are cut into `buckets` quantile buckets (fewer when values repeat);
    grayscale is split into its two values. Columns property, slice (a readable range), lower, upper,
    count, accuracy, gap (slice accuracy minus overall accuracy).
    """
    hit = np.asarray(correct, dtype=bool).reshape(-1)
    if len(hit) != len(properties) or len(hit) == 0:
        raise InputError(f"need one correctness flag per image, got {len(hit)} for {len(properties)}")
    if buckets < 2:
        raise InputError(f"buckets must be at least 2, got {buckets}")
    overall = float(hit.mean())
    rows: list[dict[str, object]] = []
    for name in CONTINUOUS:
        values = properties[name].to_numpy(dtype=np.float64)
        known = ~np.isnan(values)
        if known.sum() == 0 or np.ptp(values[known]) == 0:
            continue  # one value for every image: no slice to compare
        edges = np.unique(np.quantile(values[known], np.linspace(0, 1, buckets + 1)))
        which = np.clip(np.searchsorted(edges, values[known], side="right") - 1, 0, len(edges) - 2)
        for b in range(len(edges) - 1):
            members = hit[known][which == b]
            if len(members):
                rows.append(
                    _row(name, f"{edges[b]:.4g} – {edges[b + 1]:.4g}", edges[b], edges[b + 1], members, overall)
                )
    gray = properties["grayscale"].to_numpy(dtype=np.float64)
    for value, text in ((1.0, "grayscale"), (0.0, "colour")):
        members = hit[gray == value]
        if len(members) and len(members) < len(hit):
            rows.append(_row("grayscale", text, value, value, members, overall))
    columns = ["property", "slice", "lower", "upper", "count", "accuracy", "gap"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["accuracy", "count"], ascending=[True, False]).reset_index(drop=True)


def _row(name: str, text: str, lower: float, upper: float, members: np.ndarray, overall: float) -> dict[str, object]:
    accuracy = float(members.mean())
    return {
        "property": name,
        "slice": text,
        "lower": float(lower),
        "upper": float(upper),
        "count": len(members),
        "accuracy": accuracy,
        "gap": accuracy - overall,
    }
