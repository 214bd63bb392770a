"""The Logits Lab's tables of the math: per-class scores, softmax step by step, overflow, top-k/top-p
filters, sampling, softmax vs sigmoid, the claims checker and the inverse (probabilities -> logits).

Every function takes a `LabTable` (or tensors) and returns a DataFrame or a small dataclass; torch is the
oracle in tests/test_lab_core.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd
import torch
from torch import Tensor

from core.lab.logit_table import MIN_CLASSES, MODES, LabInputError, LabTable, Mode, class_frame, collapse_tail
from core.lab.parse import parse_numbers
from core.lab.values import format_value
from core.labels import index_labels
from core.numerics import (
    ClaimRow,
    check_temperature,
    entropy,
    inverse_softmax,
    log_softmax,
    naive_softmax,
    ranks,
    renormalise,
    sample,
    sigmoid,
    softmax,
    top_k,
    top_k_mask,
    top_p_mask,
)
from core.numerics import (
    scores as score_values,
)

MAX_DRAWS: Final = 1_000_000


ZERO_PROB_FLOOR: Final = 1e-12  # what a probability of 0 becomes before taking its log


def scores(logits: Tensor, *, mode: Mode = "softmax", temperature: float = 1.0) -> Tensor:
    """`core.numerics.scores` for a mode a person chose: softmax(z / T) or sigmoid(z / T), in float64.

    An unknown mode is a `LabInputError` (in the UI language) rather than numerics' English InputError.
    """
    if mode not in MODES:
        raise LabInputError("lab.err.mode", mode=mode)
    return score_values(logits, kind=mode, temperature=temperature)


def class_table(
    table: LabTable,
    *,
    temperature: float = 1.0,
    k: int = 5,
    top_p: float = 0.9,
    mode: Mode = "softmax",
    rest_label: str = "all other classes",
) -> pd.DataFrame:
    """One row per editable class in editor order (tail as one row): what each logit turns into.

    Columns: label, logit, score (softmax or sigmoid at T), score_t1 (at T = 1), rank (by logit),
    top_k and top_p (bool: does the class survive that filter; filters act on softmax).
    """
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    keep_k = top_k_mask(z, k)
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "logit": z.tolist(),
            "score": scores(z, mode=mode, temperature=temperature).tolist(),
            "score_t1": scores(z, mode=mode).tolist(),
            "rank": pd.array(ranks(z).tolist(), dtype="Int64"),
            "top_k": pd.array(keep_k.tolist(), dtype="boolean"),
            "top_p": pd.array(top_p_mask(probs, top_p).tolist(), dtype="boolean"),
        }
    )
    return collapse_tail(frame, table.shown, rest_label, ("score", "score_t1"))


@dataclass(frozen=True)
class Steps:
    """Softmax worked out step by step.

    Attributes:
        table: columns label, z, shifted (z − max), scaled ((z − max) / T), exp, p, log_p.
        max_logit: max(z), subtracted first so that no exp can overflow.
        total: Σ exp((z − max) / T), the denominator.
    """

    table: pd.DataFrame
    max_logit: float
    total: float


def step_table(table: LabTable, *, temperature: float = 1.0, rest_label: str = "all other classes") -> Steps:
    """The stable softmax in columns: z, z − max, (z − max)/T, exp(·), p = exp/Σ, log p."""
    t_value = check_temperature(temperature)
    z = table.all_logits()
    shifted = z - z.max()
    scaled = shifted / t_value
    exp = scaled.exp()
    total = float(exp.sum())
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "z": z.tolist(),
            "shifted": shifted.tolist(),
            "scaled": scaled.tolist(),
            "exp": exp.tolist(),
            "p": (exp / total).tolist(),
            "log_p": log_softmax(z, temperature=t_value).tolist(),
        }
    )
    frame = collapse_tail(frame, table.shown, rest_label, ("exp", "p"))
    if table.rest_logits:
        # log of the tail's total probability, from log-probabilities so it stays finite
        tail_log_p = torch.logsumexp(log_softmax(z, temperature=t_value)[table.shown :], dim=0)
        frame.loc[len(frame) - 1, "log_p"] = float(tail_log_p)
    return Steps(frame, float(z.max()), total)


def overflow_table(table: LabTable, *, temperature: float = 1.0, rest_label: str = "all other classes") -> pd.DataFrame:
    """Naive exp(z/T)/Σ next to the stable softmax, in float32 and float16, as text so NaN/inf show.

    Columns: label, exp32, naive32, stable32, exp16, naive16, stable16. For [1000, 1001, 1002] the
    naive columns hold inf and NaN while the stable ones hold 0.09, 0.24, 0.67.
    """
    z = table.all_logits()
    columns: dict[str, list[Any]] = {"label": table.all_labels()}
    for bits, dtype in (("32", torch.float32), ("16", torch.float16)):
        x = z.to(dtype)
        columns[f"exp{bits}"] = (x / check_temperature(temperature)).exp().to(torch.float64).tolist()
        columns[f"naive{bits}"] = naive_softmax(x, temperature=temperature).to(torch.float64).tolist()
        columns[f"stable{bits}"] = softmax(x, temperature=temperature).to(torch.float64).tolist()
    frame = collapse_tail(pd.DataFrame(columns), table.shown, rest_label, [c for c in columns if c != "label"])
    for column in frame.columns[1:]:
        frame[column] = [format_value(float(v)) for v in frame[column]]
    return frame


def overflows(table: LabTable, *, temperature: float = 1.0, dtype: torch.dtype = torch.float32) -> bool:
    """Whether the naive formula gives NaN or inf anywhere in `dtype` (while the stable one never does)."""
    naive = naive_softmax(table.all_logits().to(dtype), temperature=temperature)
    return not bool(torch.isfinite(naive).all())


@dataclass(frozen=True)
class Ratio:
    """p_i / p_j for the two most likely classes, at T and at T = 1."""

    first: str
    second: str
    gap: float
    at_t: float
    at_1: float


def top_two_ratio(table: LabTable, *, temperature: float = 1.0) -> Ratio:
    """The ratio of the two largest probabilities: exp((z_1 − z_2) / T), shown next to the formula."""
    z = table.all_logits()
    values, indices = top_k(z, 2)
    labels = table.all_labels()
    gap = float(values[0] - values[1])
    at_t = math.exp(min(gap / check_temperature(temperature), 709.0))  # beyond e^709 float64 overflows
    return Ratio(labels[int(indices[0])], labels[int(indices[1])], gap, at_t, math.exp(min(gap, 709.0)))


def filter_table(
    table: LabTable,
    *,
    temperature: float = 1.0,
    k: int = 5,
    top_p: float = 0.9,
    rest_label: str = "all other classes",
) -> pd.DataFrame:
    """Which classes survive top-k and top-p, and the distributions renormalised over the survivors.

    Rows sorted by probability (tail last, as one row). Columns: label, p, cumulative, top_k,
    p_top_k, top_p, p_top_p.
    """
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    keep_k = top_k_mask(z, k)
    keep_p = top_p_mask(probs, top_p)
    frame = pd.DataFrame(
        {
            "label": table.all_labels(),
            "p": probs.tolist(),
            "top_k": keep_k.tolist(),
            "p_top_k": renormalise(probs, keep_k).tolist(),
            "top_p": keep_p.tolist(),
            "p_top_p": renormalise(probs, keep_p).tolist(),
        }
    )
    head = frame.iloc[: table.shown].sort_values("p", ascending=False, kind="stable")
    tail = frame.iloc[table.shown :]
    frame = collapse_tail(pd.concat([head, tail]), table.shown, rest_label, ("p", "p_top_k", "p_top_p"))
    frame.insert(2, "cumulative", frame["p"].cumsum())
    for column in ("top_k", "top_p"):
        frame[column] = pd.array(frame[column].tolist(), dtype="boolean")
    return frame.reset_index(drop=True)


def filtered_probs(
    table: LabTable, *, temperature: float = 1.0, k: int = 5, top_p: float = 0.9, which: str = "full"
) -> Tensor:
    """The distribution to sample from: "full" softmax, or renormalised after "top_k" or "top_p"."""
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    if which == "top_k":
        return renormalise(probs, top_k_mask(z, k))
    if which == "top_p":
        return renormalise(probs, top_p_mask(probs, top_p))
    if which != "full":
        raise LabInputError("lab.err.filter", which=which)
    return probs


def sampling_counts(probs: Tensor, *, n: int = 1000, seed: int = 0) -> Tensor:
    """How often each class is drawn in `n` seeded draws from `probs` (core.numerics.sample)."""
    if not 1 <= n <= MAX_DRAWS:
        raise LabInputError("lab.err.draws", n=n, limit=MAX_DRAWS)
    draws = sample(probs, n, seed=seed)
    return torch.bincount(draws, minlength=probs.numel())


def sampling_noise(n: int) -> float:
    """The typical size of a frequency's error after `n` draws, 1/√n: what `sampling_error` is compared with."""
    return 1.0 / math.sqrt(n)


def sampling_error(probs: Tensor, counts: Tensor) -> float:
    """The largest gap between observed frequency and probability (shrinks like 1/√N)."""
    freq = counts.to(torch.float64) / float(counts.sum())
    return float((freq - probs.to(torch.float64)).abs().max())


def parse_claims(text: str, *, count: int) -> list[float]:
    """Claimed probabilities for `count` classes ("0.66, 0.24" or "66% 24%"); the count must match."""
    claimed = parse_numbers(text, allow_percent=True, max_count=max(count, 1) * 4)
    if len(claimed) != count:
        raise LabInputError("lab.err.claims_count", claims=len(claimed), n=count)
    return claimed


def claims_frame(labels: Sequence[str], rows: Sequence[ClaimRow]) -> pd.DataFrame:
    """The claims checker's rows (core.numerics.ClaimRow) as a table: label, claimed, actual, difference, ok."""
    return pd.DataFrame(
        {
            "label": [labels[r.index] if r.index < len(labels) else f"#{r.index}" for r in rows],
            "claimed": [r.claimed for r in rows],
            "actual": [r.actual for r in rows],
            "difference": [r.difference for r in rows],
            "ok": [r.ok for r in rows],
        }
    )


@dataclass(frozen=True)
class Inverse:
    """Logits recovered from probabilities.

    Attributes:
        logits: log p centred to mean 0 (logits are only defined up to a shift).
        probs: the probabilities normalised to sum 1.
        total: the sum of the probabilities as given.
        zeros: how many were 0 (clamped to the smallest float: their logit is very negative).
        roundtrip_error: the largest |softmax(logits) − probs|, the check that the inverse worked.
    """

    logits: list[float]
    probs: list[float]
    total: float
    zeros: int
    roundtrip_error: float

    @property
    def sums_to_one(self) -> bool:
        """Whether the probabilities as given already summed to 1 (within 1e-6), so none were rescaled."""
        return math.isclose(self.total, 1.0, abs_tol=1e-6)


def invert(probabilities: Sequence[float], *, zero_floor: float = ZERO_PROB_FLOOR) -> Inverse:
    """Logits whose softmax is `probabilities` (normalised first), via core.numerics.inverse_softmax.

    A probability of 0 has no finite logit; it is raised to `zero_floor` first, which keeps the other
    logits readable (clamping to the smallest float would put one near -745 and shift the centre).
    """
    p = torch.tensor(list(probabilities), dtype=torch.float64)
    if p.numel() < MIN_CLASSES:
        raise LabInputError("lab.err.too_few", count=p.numel())
    if bool((p < 0).any()):
        raise LabInputError("lab.err.negative_prob")
    total = float(p.sum())
    if total <= 0:
        raise LabInputError("lab.err.zero_probs")
    normalised = p / total
    # inverse_softmax centres log p, so normalising first changes nothing but the display
    logits = inverse_softmax(normalised.clamp_min(zero_floor))
    error = float((softmax(logits) - normalised).abs().max())
    return Inverse(logits.tolist(), normalised.tolist(), total, int((p == 0).sum()), error)


def inverse_frame(inverse: Inverse, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The inverse as a table: label (the given ones when the count matches, else "class i"), p, logit."""
    n = len(inverse.logits)
    names = list(labels) if labels is not None and len(labels) == n else index_labels(n)
    return pd.DataFrame({"label": names, "p": inverse.probs, "logit": inverse.logits})


def sigmoid_softmax_table(
    table: LabTable, *, temperature: float = 1.0, rest_label: str = "all other classes"
) -> pd.DataFrame:
    """Softmax next to sigmoid for each class (tail as one row): columns label, logit, softmax, sigmoid."""
    z = table.all_logits()
    frame = class_frame(table, softmax=softmax(z, temperature=temperature), sigmoid=sigmoid(z, temperature=temperature))
    return collapse_tail(frame, table.shown, rest_label, ("softmax", "sigmoid"))


@dataclass(frozen=True)
class Summary:
    """The one line under the Lab's results table.

    Attributes:
        top_label: the most likely class at T (on a tie, the lowest index, as every ranking does).
        top_probability: its softmax probability at T.
        entropy_bits: the entropy of softmax at T, in bits.
        max_entropy_bits: log2 of the class count, the entropy of the uniform distribution.
        total_score: the sum of the scores in the chosen mode over every class (1 for softmax; sigmoid
            scores are independent and can sum to anything up to the class count).
    """

    top_label: str
    top_probability: float
    entropy_bits: float
    max_entropy_bits: float
    total_score: float


def summary(table: LabTable, *, temperature: float = 1.0, mode: Mode = "softmax") -> Summary:
    """The top class, its probability, the entropy and the scores' sum of `table` at `temperature`."""
    z = table.all_logits()
    probs = softmax(z, temperature=temperature)
    top = int(probs.argmax())  # torch returns the first of tied maxima
    return Summary(
        top_label=table.all_labels()[top],
        top_probability=float(probs[top]),
        entropy_bits=float(entropy(probs, base=2)),
        max_entropy_bits=math.log2(table.size),
        total_score=float(scores(z, mode=mode, temperature=temperature).sum()),
    )
