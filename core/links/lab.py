"""The Logits Lab's state in a URL: its knobs (`LabControls`), encoding to query parameters and back."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, cast

import numpy as np

from core.config import SETTINGS
from core.lab.logit_table import MODES, LabInputError, LabTable, Mode, make_table
from core.lab.parse import parse_numbers
from core.lab.values import number
from core.labels import index_labels
from core.numerics import T_MAX, T_MIN, temperature_options

MAX_URL_CHARS: Final = 16_000  # longer links are unwieldy to paste; export JSON instead


@dataclass(frozen=True)
class LabControls:
    """The lab's knobs: temperature, k, top-p and softmax / sigmoid."""

    temperature: float = 1.0
    k: int = SETTINGS.default_top_k
    top_p: float = 0.9
    mode: Mode = "softmax"

    def clamped(self, size: int) -> LabControls:
        """The same controls with k limited to 1..size."""
        return replace(self, k=max(1, min(self.k, size)))


QUERY_KEYS: Final = ("logits", "labels", "rest", "T", "k", "top_p", "mode")


def _short(value: float) -> str:
    # repr is the shortest text that parses back to the same float64: the link restores it exactly
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def temperature_choices(current: float) -> list[float]:
    """The slider's temperatures (the app's one grid), with `current` added where a link asked for one in between."""
    return temperature_options(include=(current,))


def encode_query(table: LabTable, controls: LabControls) -> dict[str, str | list[str]]:
    """The state as query parameters: logits comma-separated, one `labels` entry per class, the tail
    (if any) as base64 float32, then T, k, top_p, mode."""
    query: dict[str, str | list[str]] = {
        "logits": ",".join(_short(x) for x in table.logits),
        "labels": list(table.labels),
    }
    if table.rest_logits:
        raw = np.asarray(table.rest_logits, dtype="<f4").tobytes()
        query["rest"] = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    query |= {
        "T": _short(controls.temperature),
        "k": str(controls.k),
        "top_p": _short(controls.top_p),
        "mode": controls.mode,
    }
    return query


def query_string(query: Mapping[str, str | list[str]]) -> str:
    """`encode_query`'s parameters as a URL query string (without the "?")."""
    from urllib.parse import urlencode

    return urlencode(list(_pairs(query)), safe=",")


def _pairs(query: Mapping[str, str | list[str]]) -> list[tuple[str, str]]:
    out = []
    for key, value in query.items():
        for item in [value] if isinstance(value, str) else value:
            out.append((key, item))
    return out


@dataclass(frozen=True)
class LinkState:
    """What a link restored.

    Attributes:
        table: the classes from the link, or None when the link had no usable logits.
        controls: the knobs (defaults where the link had none or a broken value).
        problems: one error per broken parameter; what was broken fell back to the default.
    """

    table: LabTable | None
    controls: LabControls
    problems: list[LabInputError] = field(default_factory=list)


def has_lab_state(params: Mapping[str, Sequence[str]]) -> bool:
    """Whether the URL carries any of the lab's parameters."""
    return any(key in params for key in QUERY_KEYS)


def decode_query(
    params: Mapping[str, Sequence[str]],
    *,
    fallback: LabControls | None = None,
    source: str = "link",
    max_count: int = SETTINGS.max_logits,
) -> LinkState:
    """Read the lab's state back from query parameters (each key -> all its values), validating each.

    A broken parameter never fails the whole link: it is reported in `problems` and its default used.
    """
    defaults = fallback or LabControls()
    problems: list[LabInputError] = []

    def one(key: str) -> str | None:
        values = params.get(key) or []
        return values[-1] if values else None

    table: LabTable | None = None
    raw_logits = one("logits")
    labels: list[str] | None = list(params.get("labels") or []) or None
    rest: list[float] = []
    raw_rest = one("rest")
    if raw_rest:
        try:
            padded = raw_rest + "=" * (-len(raw_rest) % 4)
            data = base64.b64decode(padded, altchars=b"-_", validate=True)
            if len(data) % 4:
                raise ValueError("not a whole number of float32 values")
            rest = np.frombuffer(data, dtype="<f4").astype(np.float64).tolist()
            if not all(math.isfinite(x) for x in rest):
                raise ValueError("NaN or inf")
        except (ValueError, binascii.Error) as exc:
            problems.append(LabInputError("lab.err.link_rest", detail=str(exc)[:80]))
            rest = []
    if raw_logits is not None:
        try:
            values = parse_numbers(raw_logits, max_count=max_count)
            if labels is not None and len(labels) != len(values):
                problems.append(LabInputError("lab.err.link_labels", labels=len(labels), logits=len(values)))
                labels = None
            table = make_table(
                values,
                labels,
                rest_logits=rest,
                rest_labels=index_labels(len(values) + len(rest))[len(values) :],
                source=source,
                max_count=max_count,
            )
        except LabInputError as exc:
            problems.append(LabInputError("lab.err.link_logits", detail=exc.message("en")))
            table = None
    elif labels is not None or rest:
        problems.append(LabInputError("lab.err.link_no_logits"))

    temperature = defaults.temperature
    if (raw := one("T")) is not None:
        value = number(raw)
        if value is None or not T_MIN <= value <= T_MAX:
            problems.append(LabInputError("lab.err.link_t", text=raw[:20], low=T_MIN, high=T_MAX))
        else:
            temperature = value
    size = table.size if table is not None else None
    k = defaults.k
    if (raw := one("k")) is not None:
        # isdecimal, not isdigit: "²" is a digit that int() refuses; 18 digits keep int() cheap
        if not raw.strip().isdecimal() or len(raw.strip()) > 18 or int(raw) < 1:
            problems.append(LabInputError("lab.err.link_k", text=raw[:20]))
        elif size is not None and int(raw) > size:
            problems.append(LabInputError("lab.err.link_k_large", k=int(raw), size=size))
            k = size
        else:
            k = int(raw)
    top_p_value = defaults.top_p
    if (raw := one("top_p")) is not None:
        value = number(raw)
        if value is None or not 0 < value <= 1:
            problems.append(LabInputError("lab.err.link_top_p", text=raw[:20]))
        else:
            top_p_value = value
    mode = defaults.mode
    if (raw := one("mode")) is not None:
        if raw in MODES:
            mode = cast(Mode, raw)
        else:
            problems.append(LabInputError("lab.err.link_mode", text=raw[:20]))
    return LinkState(table, LabControls(temperature, k, top_p_value, mode), problems)
