"""An evaluation scored at one temperature: what the Evaluation page and its report show at the slider's T.

Everything comes from the kept logits, without the model: the headline metrics, one row per image
(`core.evaluate.records.records_table`) and the reliability diagram's bins, whose confidences are the records'
(no second softmax).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

from core.evaluate.metrics import Metrics, calibration_table, compute_metrics
from core.evaluate.records import records_table
from core.evaluate.run import EvalResult


@dataclass(frozen=True)
class AtTemperature:
    """Everything shown at one T.

    Attributes:
        metrics: the headline metrics.
        records: one row per image (`records_table`): confidence, margin, prediction.
        calibration: the reliability diagram's bins.
    """

    metrics: Metrics
    records: pd.DataFrame
    calibration: pd.DataFrame

    @property
    def confidence(self) -> Tensor:
        return torch.tensor(self.records["confidence"].to_numpy())

    @property
    def correct(self) -> Tensor:
        return torch.tensor(self.records["correct"].to_numpy())


def score_at(result: EvalResult, names: Sequence[str], *, temperature: float, bins: int) -> AtTemperature:
    """Metrics, per-image records and calibration bins of `result` at `temperature`."""
    records = records_table(result, names, temperature=temperature)
    confidence = torch.tensor(records["confidence"].to_numpy())
    correct = torch.tensor(records["correct"].to_numpy())
    calibration = calibration_table(confidence, correct, n_bins=bins)  # the records' confidence: no new softmax
    metrics = compute_metrics(result.logits, result.targets, temperature=temperature, n_bins=bins)
    return AtTemperature(metrics, records, calibration)
