"""What the Evaluation page leaves in the session for the Inspector: the stored evaluation as the reference of "is
this like what the model knows?", the prediction sets calibrated on it, and a small memo of what the doubt tools
computed from it.

The stored evaluation is session state "eval_result" ({"key", "result", "fit", "scorer"}, written by
`ui.evaluation.inputs`, shared by the pages of one session). What the doubt tools compute from it is memoised in
that same dict (under "doubt"), the last `MEMO_SIZE` things only, so a 50,000-image result's several passes are paid
once per (T, coverage, method...) and go with the result or the session. Session state "doubt_calibration": the
prediction sets last calibrated on the Evaluation page, {"calibration", "model", "num_classes", "source"}.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import streamlit as st

from core.evaluate.result import EvalResult, same_model
from core.uncertainty.conformal import Calibration
from core.uncertainty.ood import ood_scores

STORED_KEY = "eval_result"
CALIBRATION_KEY = "doubt_calibration"
MEMO_SIZE = 8  # things computed per stored result (each at most a few arrays of one number per image)

Value = TypeVar("Value")


def memo(kept: dict[str, object], key: tuple[Hashable, ...], compute: Callable[[], Value]) -> Value:
    """`compute()` once per `key` for the stored result `kept` (its session-state dict); the last `MEMO_SIZE` kept."""
    cache = kept.get("doubt")
    if not isinstance(cache, OrderedDict):
        cache = kept["doubt"] = OrderedDict()
    if key in cache:
        cache.move_to_end(key)
        found: Value = cache[key]
        return found
    value = compute()
    cache[key] = value
    while len(cache) > MEMO_SIZE:
        cache.popitem(last=False)
    return value


def scores_at(kept: dict[str, object], result: EvalResult, temperature: float) -> dict[str, np.ndarray]:
    """`core.uncertainty.ood.ood_scores` of the stored result at T (msp, max_logit, energy, entropy), memoised."""
    return memo(kept, ("scores", float(temperature)), lambda: ood_scores(result.logits, temperature=temperature))


def stored_evaluation() -> dict[str, object] | None:
    """The session's stored evaluation (a run or a results file), or None."""
    stored = st.session_state.get(STORED_KEY)
    return stored if isinstance(stored, dict) and isinstance(stored.get("result"), EvalResult) else None


@dataclass(frozen=True)
class Reference:
    """The in-distribution images an image is placed among.

    Attributes:
        source: where they came from (a folder, a zip, a results file).
        model: the model that scored them ("" when a results file did not say).
        n: how many.
        scores: their `ood_scores` at the asked T.
    """

    source: str
    model: str
    n: int
    scores: dict[str, np.ndarray]


@dataclass(frozen=True)
class NoReference:
    """Why there is none: nothing evaluated in this session (`other_model` ""), or an evaluation of another model."""

    other_model: str = ""
    other_classes: int = 0


def reference_for(model_name: str, num_classes: int, temperature: float) -> Reference | NoReference:
    """The session's evaluation as a reference for `model_name`'s images at T, or why there is none."""
    stored = stored_evaluation()
    if stored is None or stored.get("scorer") is None:  # no evaluation, or one where no image was decoded
        return NoReference()
    result: EvalResult = stored["result"]  # type: ignore[assignment]
    if not same_model(result.model, result.num_classes, model_name, num_classes):
        return NoReference(result.model or "?", result.num_classes)
    return Reference(result.source, result.model, result.n, scores_at(stored, result, temperature))


def keep_calibration(calibration: Calibration, result: EvalResult) -> None:
    """The prediction sets just shown on the Evaluation page, for the Inspector to apply."""
    st.session_state[CALIBRATION_KEY] = {
        "calibration": calibration,
        "model": result.model,
        "num_classes": result.num_classes,
        "source": result.source,
    }


def calibration_for(model_name: str, num_classes: int) -> tuple[Calibration, str] | None:
    """The session's calibrated prediction sets, with what they were calibrated on, when they fit this model."""
    kept = st.session_state.get(CALIBRATION_KEY)
    if not isinstance(kept, dict) or not same_model(kept["model"], kept["num_classes"], model_name, num_classes):
        return None
    return kept["calibration"], str(kept["source"])
