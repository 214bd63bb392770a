"""The Image Inspector's state in a URL: which samples, which model, T, k, softmax/sigmoid and class X.

`encode_query(state)` gives the query parameters of a view, `decode_query(params, ...)` reads them back
and checks each one against what exists here (the sample images, the registry's models, the slider's
temperatures). A broken parameter never breaks the link: it becomes a `LinkProblem` (a message key for
`core.i18n`) and that part of the view keeps its default. Only sample images can travel in a link:
an uploaded image has no name anyone else could open.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlencode

from core.config import SETTINGS
from core.i18n import t
from core.numerics import ScoreKind
from core.prediction.query import search_labels

QUERY_KEYS: Final = ("samples", "model", "T", "k", "scores", "class")
SCORES: Final[tuple[ScoreKind, ...]] = ("softmax", "sigmoid")
K_RANGE: Final = (1, 20)
MAX_SAMPLES: Final = 20
_MAX_SHOWN_CHARS = 40  # a broken value is quoted back to the user, shortened


@dataclass(frozen=True)
class InspectorState:
    """One view of the Inspector, as a link carries it.

    Attributes:
        samples: names of the sample images shown (core.samples), in order.
        model: registry name of the model.
        temperature: T of softmax(z / T).
        k: how many top classes are listed.
        scores: "softmax" or "sigmoid".
        class_query: the "what about class X?" class (its index as text, or a name to search), or None.
    """

    samples: tuple[str, ...] = ("coffee",)
    model: str = SETTINGS.default_model
    temperature: float = 1.0
    k: int = SETTINGS.default_top_k
    scores: ScoreKind = "softmax"
    class_query: str | None = None


@dataclass(frozen=True)
class LinkProblem:
    """One parameter of a link that could not be used; `key` and `params` make its sentence (core.i18n)."""

    key: str
    params: dict[str, object] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        return t(self.key, lang, **self.params)


@dataclass(frozen=True)
class DecodedLink:
    """What a link restored: the state (defaults where a parameter was absent or broken) and the problems."""

    state: InspectorState
    problems: tuple[LinkProblem, ...] = ()
    given: frozenset[str] = frozenset()  # which of QUERY_KEYS the link carried


def _short(value: float) -> str:
    # repr is the shortest text that reads back as the same float: the link restores T exactly
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def encode_query(state: InspectorState) -> dict[str, str]:
    """The view as query parameters: samples comma-separated, then model, T, k, scores and (if set) class."""
    query = {
        "samples": ",".join(state.samples),
        "model": state.model,
        "T": _short(state.temperature),
        "k": str(state.k),
        "scores": state.scores,
    }
    if state.class_query is not None:
        query["class"] = state.class_query
    return query


def query_string(query: Mapping[str, str]) -> str:
    """`encode_query`'s parameters as the text after the "?" (commas kept readable)."""
    return urlencode(list(query.items()), safe=",")


def has_link_state(params: Mapping[str, Sequence[str]]) -> bool:
    """Whether the URL carries any of the Inspector's parameters."""
    return any(key in params for key in QUERY_KEYS)


def _quoted(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN_CHARS else text[:_MAX_SHOWN_CHARS] + "…"


def decode_query(
    params: Mapping[str, Sequence[str]],
    *,
    samples: Sequence[str],
    models: Sequence[str],
    temperatures: Sequence[float],
    default: InspectorState | None = None,
) -> DecodedLink:
    """Read a view back from query parameters (each key -> all its values; the last one counts).

    Args:
        params: e.g. `{key: st.query_params.get_all(key) for key in st.query_params}`.
        samples: the sample names that exist here; `models` the registry's names.
        temperatures: the slider's values: a T from the lowest to the highest is kept exactly (the explorer
            adds a typed T between two of them to its slider), any other is a problem.
        default: the view for every parameter that is absent or broken.
    """
    base = default or InspectorState()
    problems: list[LinkProblem] = []

    def one(key: str) -> str | None:
        values = params.get(key) or []
        return values[-1].strip() if values else None

    chosen = base.samples
    if (raw := one("samples")) is not None:
        names = [name.strip() for name in raw.split(",") if name.strip()]
        unknown = [name for name in names if name not in samples]
        if unknown:
            problems.append(LinkProblem("links.err.sample", {"names": ", ".join(_quoted(n) for n in unknown[:5])}))
        known = list(dict.fromkeys(name for name in names if name in samples))[:MAX_SAMPLES]
        chosen = tuple(known) if known or not unknown else base.samples

    model = base.model
    if (raw := one("model")) is not None:
        if raw in models:
            model = raw
        else:
            problems.append(LinkProblem("links.err.model", {"name": _quoted(raw)}))

    temperature = base.temperature
    if (raw := one("T")) is not None:
        try:
            value = float(raw.replace("−", "-"))
        except ValueError:
            value = math.nan
        low, high = min(temperatures), max(temperatures)
        if not (math.isfinite(value) and low <= value <= high):
            problems.append(LinkProblem("links.err.temperature", {"text": _quoted(raw), "low": low, "high": high}))
        else:
            temperature = value  # kept exactly: the explorer takes any typed T, and its link must restore it

    k = base.k
    if (raw := one("k")) is not None:
        # isdecimal, not isdigit: "²" is a digit that int() refuses; 3 digits keep it short
        if not raw.isdecimal() or len(raw) > 3 or not K_RANGE[0] <= int(raw) <= K_RANGE[1]:
            problems.append(LinkProblem("links.err.k", {"text": _quoted(raw), "low": K_RANGE[0], "high": K_RANGE[1]}))
        else:
            k = int(raw)

    scores = base.scores
    if (raw := one("scores")) is not None:
        if raw in SCORES:
            scores = "sigmoid" if raw == "sigmoid" else "softmax"
        else:
            problems.append(LinkProblem("links.err.scores", {"text": _quoted(raw)}))

    class_query = base.class_query
    if (raw := one("class")) is not None and raw:
        class_query = raw[:200]
    state = InspectorState(chosen, model, temperature, k, scores, class_query)
    return DecodedLink(state, tuple(problems), frozenset(key for key in QUERY_KEYS if key in params))


def resolve_class(
    query: str, num_classes: int, *label_lists: Sequence[str] | None
) -> tuple[int | None, LinkProblem | None]:
    """The class a link's `class` names: an index ("967") or the best match of a name ("espresso", "浓咖啡").

    Returns (index, None), or (None, the problem) when it names no class of this model.
    """
    text = query.strip()
    if text.isdecimal() and len(text) <= 18:
        index = int(text)
        if index < num_classes:
            return index, None
        return None, LinkProblem("links.err.class_index", {"index": index, "n": num_classes})
    try:
        matches = search_labels(text, *label_lists, limit=1) if text else []
    except ValueError:  # text no label search can read (e.g. a lone "²")
        matches = []
    if matches:
        return matches[0], None
    return None, LinkProblem("links.err.class", {"text": _quoted(text)})
