"""What the client-side explorer is given: its three static files, and the data of one set of logits.

The explorer (assets/explorer.js, .css, .html) recomputes softmax(z / T), the top-k, the entropy and the top-p cut in
the browser. Both the Streamlit component (ui/explorer.py) and the HTML report (core/report.py) inline these same
files and pass it `explorer_data(...)`, a JSON object:

    version       1
    lang          "en" or "zh"
    n             the number of classes
    dtype         "float32" or "float64": how `logits` is packed
    logits        the logits, little-endian bytes in base64 (float32 stays float32, anything else float64: exact)
    labels        one name per class (a report puts them in the page once and gives their block's id here)
    revision      a digest of the logits and labels: the explorer reloads them only when it changes
    temperatures  the slider's grid (core.numerics.temperature_options); `temperature` is on it or added to it
    temperature, k, top_p   the settings to show (top_p null: no top-p control)
    ask           (optional) a number the app raises for each new ask: only then do the settings above win over
                  the user's (without it, settings that differ from the last ones given win)
    k_max, show_k           the k control's upper end, and whether it is shown at all
    reference     draw the grey bars at T = 1 next to those at T when T != 1 (as logits_vs_probs_figure does)
    rows          "top": the top-k classes by logit, ranked (the default); "all": every class in the given order,
                  the first `shown` of them one row each and the rest as one row named `rest_label`, with top-k and
                  top-p ticks (the Logits Lab's table)
    columns       the table's columns, in order, of rank, label, logit, probability, reference (at T = 1, hidden
                  while T = 1), cumulative, top_k, top_p (default: rank, label, logit, probability, cumulative)
    chart_n       the chart's bars: null for the table's top-k rows, n for the top n classes by logit whatever k
    probability_format      "percent" (95.664%, the default) or "decimal" (0.6590, as the Logits Lab prints them)
    strings       the wording, from core.i18n, with {name}, {name:g} and {name:.Nf} fields the explorer fills in

`class_data` is the part that only depends on the logits and labels (the bulk of it: 50,000 classes are about 1 MB),
`view_data` the rest: the app builds the first once per set of logits and the second on each change.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

import torch
from torch import Tensor

from core.errors import InputError
from core.i18n import STRINGS
from core.labels import label_of
from core.numerics import TEMPERATURES, as_logits, check_temperature

ASSETS: Final = Path(__file__).resolve().parent / "assets"
Asset = Literal["js", "css", "html"]

# the explorer's name for a string -> the core.i18n key it takes its wording from
STRING_KEYS: Final[dict[str, str]] = {
    "temperature": "inspector.temperature",
    "typed": "explorer.typed",
    "k": "inspector.k",
    "col_rank": "inspector.col.rank",
    "col_label": "inspector.col.label",
    "col_logit": "inspector.col.logit",
    "col_probability": "inspector.col.probability",
    "col_cumulative": "inspector.col.cumulative",
    "caption": "inspector.lines.softmax",
    "title": "inspector.chart.bars",
    "logit": "chart.logit",
    "probability": "chart.softmax",
    "probability_at": "chart.softmax_at",
    "entropy": "explorer.entropy",
    "top_p_kept": "explorer.top_p_kept",
    "bad_temperature": "explorer.bad_temperature",
    "col_p": "inspector.col.p",
    "col_reference": "inspector.col.probability_t1",
    "col_p_t1": "explorer.col.p_t1",
    "caption_all": "explorer.caption_all",
}
Column = Literal["rank", "label", "logit", "probability", "reference", "cumulative", "top_k", "top_p"]
COLUMNS: Final[tuple[Column, ...]] = ("rank", "label", "logit", "probability", "cumulative")


@cache
def asset(kind: Asset) -> str:
    """The text of explorer.js, explorer.css or explorer.html (read once per process)."""
    return (ASSETS / f"explorer.{kind}").read_text(encoding="utf-8")


def explorer_strings(lang: str) -> dict[str, str]:
    """The explorer's wording in `lang` (English where a string has no translation), fields left to fill."""
    return {name: STRINGS[key].get(lang) or STRINGS[key]["en"] for name, key in STRING_KEYS.items()}


def pack_logits(logits: Tensor) -> tuple[str, str]:
    """(dtype, base64 of the little-endian bytes): float32 as is, every other dtype as float64, both exact."""
    z = as_logits(logits).detach().cpu().reshape(-1)
    z = z if z.dtype == torch.float32 else z.to(torch.float64)
    dtype = "float32" if z.dtype == torch.float32 else "float64"
    raw = z.numpy().astype("<f4" if dtype == "float32" else "<f8", copy=False).tobytes()
    return dtype, base64.b64encode(raw).decode("ascii")


def class_data(logits: Tensor, labels: Sequence[str]) -> dict[str, object]:
    """The part of the explorer's data that only the logits and labels decide: n, dtype, logits, labels, revision."""
    dtype, packed = pack_logits(logits)
    n = as_logits(logits).numel()
    names = [label_of(labels, i) for i in range(n)]
    digest = hashlib.sha256(packed.encode("ascii"))
    digest.update("\0".join(names).encode("utf-8"))
    return {"n": n, "dtype": dtype, "logits": packed, "labels": names, "revision": digest.hexdigest()[:16]}


def view_data(
    n: int,
    *,
    temperature: float,
    k: int,
    lang: str,
    top_p: float | None = None,
    k_max: int = 20,
    show_k: bool = True,
    reference: bool = True,
    temperatures: Sequence[float] = TEMPERATURES,
    rows: Literal["top", "all"] = "top",
    shown: int | None = None,
    rest_label: str = "",
    columns: Sequence[Column] = COLUMNS,
    chart_n: int | None = None,
    probability_format: Literal["percent", "decimal"] = "percent",
) -> dict[str, object]:
    """The rest of the explorer's data for `n` classes: the settings, the layout and the wording (checked; see the
    module docstring for each key).

    Args:
        n: the number of classes.
        temperature: the T to show first, inside the grid's range (`temperatures`).
        k: the number of classes to list first (clipped to 1..k_max); `k_max` is clipped to the class count.
        top_p: None for no top-p control, else its first value in (0, 1].
    """
    value = check_temperature(temperature)
    low, high = min(temperatures), max(temperatures)
    if not low <= value <= high:
        raise InputError(f"temperature must be from {low:g} to {high:g}, got {value:g}")
    if top_p is not None and not 0 < top_p <= 1:
        raise InputError(f"top-p must be in (0, 1], got {top_p:g}")
    unknown = [c for c in columns if c not in get_args(Column)]
    if unknown:
        raise ValueError(f"unknown explorer columns: {unknown}")
    k_max = max(1, min(int(k_max), n))
    return {
        "version": 1,
        "lang": "zh" if lang == "zh" else "en",
        "temperatures": [float(v) for v in temperatures],
        "temperature": value,
        "k": max(1, min(int(k), k_max)),
        "top_p": None if top_p is None else float(top_p),
        "k_max": k_max,
        "show_k": show_k,
        "reference": reference,
        "rows": rows,
        "shown": n if shown is None else max(1, min(int(shown), n)),
        "rest_label": rest_label,
        "columns": list(columns),
        "chart_n": None if chart_n is None else max(1, min(int(chart_n), n)),
        "probability_format": probability_format,
        "strings": explorer_strings(lang),
    }


def explorer_data(logits: Tensor, labels: Sequence[str], **settings: Any) -> dict[str, object]:
    """The explorer's whole data for one vector of logits: `class_data(logits, labels)` and `view_data(n, **settings)`
    (the settings, layout and wording; see there) in one object, as the HTML report embeds it."""
    classes = class_data(logits, labels)
    return view_data(int(cast(int, classes["n"])), **settings) | classes


def json_script_text(value: object) -> str:
    """`value` as JSON that is safe inside <script type="application/json">: no "<", ">" or "&" (a label like
    "</script><script>..." stays text), and no U+2028/U+2029."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw in "<>&\u2028\u2029":
        text = text.replace(raw, f"\\u{ord(raw):04x}")  # the same character to JSON.parse, no markup to HTML
    return text
