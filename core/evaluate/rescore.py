"""An evaluation re-scored at any temperature at the speed of one pass over its logits: what the Evaluation page, its
report and `python -m core evaluate RESULTS` show at T.

`Rescorer(result)` computes once what does not depend on T: each image's largest and second-largest logit, its
prediction (the largest logit, the lower index on a tie: the one ranking of `core.numerics`), the rank of its true
class (top-1 and top-5 accuracy) and its true class's logit. A temperature then costs one chunked float32 pass over
the logits (`Rescorer.sums`: with u = (z - max z) / T, the sums of exp(u), exp(u) u and exp(2u), each in float64),
and everything shown at T follows per image from those three sums S, A and Q:

- confidence (the top probability) = 1 / S, the largest term being exp(0);
- NLL = log S - u_y; Brier = Q / S^2 - 2 p_y + 1 with p_y = exp(u_y) / S;
- hardness (the entropy) = log S - A / S; margin (top-1 minus top-2 probability) = (1 - exp(u_2)) / S.

The definitions, and the tests' oracles, are `core.evaluate.metrics`, `core.evaluate.records` and
`core.evaluate.scores`. `Rescorer.fit_temperature` is the same Newton's method on 1 / T as `metrics.fit_temperature`
(`metrics.solve_temperature`), each of its steps one pass (the NLL and its first two derivatives from S, A and
B = sum exp(u) u^2).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.errors import InputError
from core.evaluate.metrics import (
    DEFAULT_BINS,
    PROBABILITY_ROWS,
    TOP_K,
    Metrics,
    TemperatureFit,
    calibration_table,
    expected_calibration_error,
    max_calibration_error,
    solve_temperature,
)
from core.evaluate.result import EvalResult
from core.labels import label_of
from core.numerics import check_temperature

CHUNK_VALUES = 1 << 16  # logits per chunk of the pass: 256 KB of float32, they stay in the CPU's cache
MAX_CACHED = 8  # temperatures kept per result (T = 1, the fitted T, the slider's last few)


@dataclass(frozen=True)
class RowSums:
    """One pass at T: per image, with u = (z - max z) / T, S = sum exp(u), A = sum exp(u) u, Q = sum exp(2u) (None
    when not asked for), and u of the true class and of the runner-up."""

    s: np.ndarray
    a: np.ndarray
    q: np.ndarray | None
    u_target: np.ndarray
    u_second: np.ndarray


@dataclass(frozen=True)
class PerImage:
    """Per-image figures at one T (float64, one entry per image)."""

    confidence: np.ndarray
    margin: np.ndarray
    hardness: np.ndarray
    mistakenness: np.ndarray
    target_probability: np.ndarray
    nll: np.ndarray
    brier: np.ndarray


@dataclass(frozen=True)
class AtTemperature:
    """Everything shown at one T.

    Attributes:
        metrics: the headline metrics.
        per_image: confidence, margin, hardness, mistakenness, target probability, NLL and Brier per image.
        calibration: the reliability diagram's bins.
        right: whether each image's prediction is its label (the same at every T).
        columns: file, target, target_label, prediction, prediction_label: the records' columns that do not
            depend on T (shared by every T of one result).
        logit_margin: the largest logit minus the runner-up (the same at every T; tells 99.97% from 99.9999%).
    """

    metrics: Metrics
    per_image: PerImage
    calibration: pd.DataFrame
    right: np.ndarray
    columns: pd.DataFrame
    logit_margin: np.ndarray

    @property
    def confidence(self) -> Tensor:
        return torch.from_numpy(self.per_image.confidence)

    @property
    def correct(self) -> Tensor:
        return torch.from_numpy(self.right)

    @cached_property
    def records(self) -> pd.DataFrame:
        """One row per image, as `core.evaluate.records.records_table`: file, target, target_label, prediction,
        prediction_label, confidence, margin, hardness, mistakenness, target_probability, correct, and logit_margin."""
        p = self.per_image
        frame = self.columns.copy(deep=False)
        frame["confidence"] = p.confidence
        frame["margin"] = p.margin
        frame["hardness"] = p.hardness
        frame["mistakenness"] = p.mistakenness
        frame["target_probability"] = p.target_probability
        frame["correct"] = self.right
        frame["logit_margin"] = self.logit_margin
        return frame


class Rescorer:
    """A result made ready to re-score: what does not depend on T, computed once (one pass), and the last
    `MAX_CACHED` temperatures asked for.

    Holds the result's logits (no copy) and a few arrays of one number per image (about 50 bytes an image).
    Not thread-safe: one per session (the page keeps it in session state, so it goes when the session ends).
    """

    def __init__(self, result: EvalResult) -> None:
        z = result.logits.detach().to(torch.float32).contiguous().numpy()
        y = result.targets.to(torch.int64).reshape(-1).numpy()
        if z.ndim != 2 or z.shape[0] != len(y) or z.shape[0] == 0 or z.shape[1] < 2:
            raise InputError(f"need logits (n, classes >= 2) and targets (n,), got {z.shape} and {y.shape}")
        if int(y.min()) < 0 or int(y.max()) >= z.shape[1]:
            raise InputError(f"targets must be class indices 0..{z.shape[1] - 1}")
        self.result = result
        self.logits = z
        self.targets = y
        n = z.shape[0]
        self.top = np.empty(n, dtype=np.float32)  # the largest logit
        self.second = np.empty(n, dtype=np.float32)  # the runner-up (equal to `top` on a tie)
        self.predictions = np.empty(n, dtype=np.int64)
        self.target_rank = np.empty(n, dtype=np.int64)  # 1 = the largest, ties by index (`core.numerics.ranks`)
        self.target_logit = z[np.arange(n), y]
        columns = np.arange(z.shape[1])
        like_probabilities = 0
        for start, stop in self._chunks():
            block = z[start:stop]
            if not np.isfinite(block).all():
                raise InputError("some logits are NaN or infinite")
            # `metrics.probability_rows`: every value in [0, 1] and a sum within 0.01 of 1
            in_range = (block.min(axis=1) >= 0) & (block.max(axis=1) <= 1)
            like_probabilities += int((in_range & (np.abs(block.sum(axis=1, dtype=np.float64) - 1) <= 0.01)).sum())
            rows = np.arange(stop - start)
            best = block.argmax(axis=1)  # the first largest: the lower index on a tie
            self.predictions[start:stop] = best
            self.top[start:stop] = block[rows, best]
            rest = block.copy()
            rest[rows, best] = -np.inf
            self.second[start:stop] = rest.max(axis=1)
            mine = self.target_logit[start:stop, None]
            before = (block > mine).sum(axis=1)
            tied_before = ((block == mine) & (columns < y[start:stop, None])).sum(axis=1)
            self.target_rank[start:stop] = before + tied_before + 1
        self.probabilities_warning = like_probabilities / n > PROBABILITY_ROWS  # `metrics.looks_like_probabilities`
        self.correct = self.predictions == y
        self._cache: OrderedDict[tuple[float, int, int], AtTemperature] = OrderedDict()
        self._columns: tuple[int, pd.DataFrame] | None = None
        self._fitted: float | None = None

    @property
    def n(self) -> int:
        return int(self.logits.shape[0])

    @property
    def num_classes(self) -> int:
        return int(self.logits.shape[1])

    def _chunks(self) -> list[tuple[int, int]]:
        rows = max(1, CHUNK_VALUES // self.num_classes)
        return [(start, min(self.n, start + rows)) for start in range(0, self.n, rows)]

    # ---------------------------------------------------------------- the one pass
    def sums(self, temperature: float, *, squares: bool = True) -> RowSums:
        """S, A (and Q with `squares`) per image at T: one chunked float32 pass over the logits."""
        t = check_temperature(temperature)
        inverse = np.float32(1.0 / t)
        n = self.n
        s = np.empty(n, dtype=np.float64)
        a = np.empty(n, dtype=np.float64)
        q = np.empty(n, dtype=np.float64) if squares else None
        for start, stop in self._chunks():
            u = self.logits[start:stop] - self.top[start:stop, None]  # <= 0, the largest exactly 0
            u *= inverse
            e = np.exp(u)
            s[start:stop] = e.sum(axis=1, dtype=np.float64)
            a[start:stop] = np.einsum("ij,ij->i", e, u, dtype=np.float64)
            if q is not None:
                q[start:stop] = np.einsum("ij,ij->i", e, e, dtype=np.float64)
        # the true class's and the runner-up's u, rounded as in the pass
        u_target = ((self.target_logit - self.top) * inverse).astype(np.float64)
        u_second = ((self.second - self.top) * inverse).astype(np.float64)
        return RowSums(s, a, q, u_target, u_second)

    def per_image(self, temperature: float) -> PerImage:
        """Every per-image figure at T from one pass."""
        sums = self.sums(temperature)
        assert sums.q is not None
        s, log_s = sums.s, np.log(sums.s)
        confidence = 1.0 / s
        target_probability = np.exp(sums.u_target) / s
        hardness = np.maximum(log_s - sums.a / s, 0.0)
        sign = np.where(self.correct, -1.0, 1.0)
        return PerImage(
            confidence=confidence,
            margin=(1.0 - np.exp(sums.u_second)) / s,
            hardness=hardness,
            mistakenness=(sign * np.exp(-hardness) + 1.0) / 2.0,
            target_probability=target_probability,
            nll=log_s - sums.u_target,
            brier=np.maximum(sums.q / (s * s) - 2.0 * target_probability + 1.0, 0.0),
        )

    # ---------------------------------------------------------------- at one temperature
    def at(self, temperature: float, *, bins: int = DEFAULT_BINS, names: Sequence[str] = ()) -> AtTemperature:
        """Metrics, per-image figures and records (labels from `names`) and calibration bins at T; the last
        `MAX_CACHED` (T, bins, names) asked for are kept."""
        t = check_temperature(temperature)
        key = (t, int(bins), hash(tuple(names)))
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        per_image = self.per_image(t)
        per_image = replace(per_image, confidence=self._exact_near_edges(per_image.confidence, t, bins))
        table = calibration_table(torch.from_numpy(per_image.confidence), torch.from_numpy(self.correct), n_bins=bins)
        metrics = Metrics(
            n=self.n,
            temperature=t,
            top1=float(self.correct.mean()),
            top5=float((self.target_rank <= TOP_K).mean()),
            nll=float(per_image.nll.mean()),
            brier=float(per_image.brier.mean()),
            ece=expected_calibration_error(table),
            mce=max_calibration_error(table),
        )
        margin = (self.top - self.second).astype(np.float64)
        found = AtTemperature(metrics, per_image, table, self.correct, self._label_columns(names), margin)
        self._cache[key] = found
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        return found

    def _exact_near_edges(self, confidence: np.ndarray, temperature: float, bins: int) -> np.ndarray:
        """`confidence` with the images within float32's rounding of a bin's edge recomputed in float64, so each
        image falls in the bin the float64 definition puts it in (a handful of images, if any)."""
        position = confidence * bins
        near = np.flatnonzero(np.abs(position - np.round(position)) < bins * 1e-6)
        if not len(near):
            return confidence
        rows = self.logits[near].astype(np.float64)
        exact = np.exp((rows - rows.max(axis=1, keepdims=True)) / temperature).sum(axis=1)
        fixed = confidence.copy()
        fixed[near] = 1.0 / exact
        return fixed

    def metrics(self, temperature: float, *, bins: int = DEFAULT_BINS) -> Metrics:
        return self.at(temperature, bins=bins).metrics

    def _label_columns(self, names: Sequence[str]) -> pd.DataFrame:
        """file, target, target_label, prediction, prediction_label: built once per label list."""
        key = hash(tuple(names))
        if self._columns is not None and self._columns[0] == key:
            return self._columns[1]
        table = np.array([label_of(names, i) for i in range(self.num_classes)], dtype=object)
        frame = pd.DataFrame(
            {
                "file": pd.array(self.result.files, dtype="str"),
                "target": self.targets,
                "target_label": pd.array(table[self.targets], dtype="str"),
                "prediction": self.predictions,
                "prediction_label": pd.array(table[self.predictions], dtype="str"),
            }
        )
        self._columns = (key, frame)
        return frame

    # ---------------------------------------------------------------- temperature scaling
    def moments(self, beta: float, *, dtype: type[np.floating] = np.float32) -> tuple[float, float, float]:
        """The mean NLL at T = 1 / beta and its first and second derivatives with respect to beta, from one pass
        in `dtype`: with u = beta (z - max z), S = sum exp(u), A = sum exp(u) u, B = sum exp(u) u^2, the NLL is
        log S - u_y, its slope (A / S - u_y) / beta and its curvature (B / S - (A / S)^2) / beta^2 (the variance of
        z under the softmax)."""
        inverse = dtype(beta)
        s = np.empty(self.n, dtype=np.float64)
        a = np.empty(self.n, dtype=np.float64)
        b = np.empty(self.n, dtype=np.float64)
        for start, stop in self._chunks():
            u = self.logits[start:stop].astype(dtype) - self.top[start:stop, None].astype(dtype)
            u *= inverse
            e = np.exp(u)
            s[start:stop] = e.sum(axis=1, dtype=np.float64)
            eu = e * u
            a[start:stop] = eu.sum(axis=1, dtype=np.float64)
            b[start:stop] = np.einsum("ij,ij->i", eu, u, dtype=np.float64)
        u_target = ((self.target_logit.astype(dtype) - self.top.astype(dtype)) * inverse).astype(np.float64)
        mean = a / s
        loss = float(np.mean(np.log(s) - u_target))
        slope = float(np.mean(mean - u_target)) / beta
        curve = float(np.mean(np.maximum(b / s - mean * mean, 0.0))) / (beta * beta)
        return loss, slope, curve

    def fit_temperature(self, *, max_iter: int = 100) -> float:
        """The T > 0 minimising the NLL: `metrics.solve_temperature` (Newton's method on 1 / T), each step one pass
        (the value and both derivatives from the same sums): float32 passes to the minimum, then float64 ones from
        there (one or two steps), so the T is `metrics.fit_temperature`'s to float64 precision."""
        near = solve_temperature(self.moments, max_iter=max_iter, tolerance=1e-4)
        return solve_temperature(lambda beta: self.moments(beta, dtype=np.float64), start=1.0 / near, max_iter=max_iter)

    def calibrate(self, *, temperature: float = 1.0, bins: int = DEFAULT_BINS) -> TemperatureFit:
        """The fitted T (fitted once per result) with the metrics at `temperature` (before, T = 1 by default) and
        at the fitted T (after)."""
        if self._fitted is None:
            self._fitted = self.fit_temperature()
        before, after = self.metrics(temperature, bins=bins), self.metrics(self._fitted, bins=bins)
        return TemperatureFit(self._fitted, before, after, self.probabilities_warning)
