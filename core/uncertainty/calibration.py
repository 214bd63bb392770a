"""Calibration beyond equal-width bins: adaptive (equal-mass) ECE and classwise ECE, each with its table.

Today's ECE (`core.evaluate.metrics`) bins the top-1 confidence into 15 equal-width bins; a confident model puts
almost every image into the last bin, so that ECE mostly measures one bin. Two views that look further:
- adaptive ECE (Nguyen & O'Connor, 2015; torch-uncertainty's `AdaptiveCalibrationError`): sort the confidences
  and cut them into bins of equal count (the first n mod B bins hold one image more, as `torch.tensor_split`);
  ties at a cut are split in image order;
- classwise ECE (Kull et al., 2019; torch-uncertainty's `ClasswiseCalibrationError`): for every class c, the
  equal-width ECE of p_c against "the true class is c", averaged over all classes.
Both tables have the columns of `calibration_table` (bin, lower, upper, count, accuracy, confidence, gap), so
`expected_calibration_error` and the reliability figures read them alike; for classwise tables "accuracy" is the
share of images in the bin whose true class is c.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.errors import InputError
from core.evaluate.metrics import DEFAULT_BINS, expected_calibration_error
from core.numerics import check_temperature, softmax
from core.uncertainty.rows import check_logits, row_blocks

TABLE_COLUMNS = ["bin", "lower", "upper", "count", "accuracy", "confidence", "gap"]


def _check_bins(n_bins: int) -> int:
    if n_bins < 1:
        raise InputError(f"the number of bins must be at least 1, got {n_bins}")
    return int(n_bins)


def adaptive_calibration_table(confidence: Tensor, correct: Tensor, *, n_bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """Equal-count bins of the top-1 confidence: lower and upper are the smallest and largest confidence in the
    bin; with fewer images than bins, only as many bins as images."""
    bins = _check_bins(n_bins)
    conf = confidence.to(torch.float64).reshape(-1).numpy()
    hit = correct.to(torch.float64).reshape(-1).numpy()
    if conf.size != hit.size or conf.size == 0:
        raise InputError(f"need as many confidences as right/wrong flags (got {conf.size} and {hit.size})")
    order = np.argsort(conf, kind="stable")
    rows = []
    for number, part in enumerate(p for p in np.array_split(order, bins) if p.size):
        accuracy, mean_conf = float(hit[part].mean()), float(conf[part].mean())
        rows.append((number, conf[part].min(), conf[part].max(), part.size, accuracy, mean_conf, accuracy - mean_conf))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return table.astype({"bin": np.int64, "count": np.int64})


def adaptive_ece(table: pd.DataFrame) -> float:
    """Adaptive ECE of an `adaptive_calibration_table`: count-weighted mean |accuracy - confidence|."""
    return expected_calibration_error(table)


def classwise_calibration_table(
    logits: Tensor, targets: Tensor, *, temperature: float = 1.0, n_bins: int = DEFAULT_BINS
) -> pd.DataFrame:
    """Equal-width bins (lo, hi] (0 in the first) of every class's probability p_c at T, one-vs-rest.

    Columns: class, then those of `calibration_table`; classes × bins rows, NaN accuracy/confidence/gap for an
    empty bin. Counted block by block: 50,000 × 1,000 probabilities are never held at once.
    """
    bins = _check_bins(n_bins)
    z = check_logits(logits)
    t = check_temperature(temperature)
    y = torch.as_tensor(targets).reshape(-1).to(torch.int64)
    if y.numel() != z.shape[0] or int(y.min()) < 0 or int(y.max()) >= z.shape[1]:
        raise InputError(f"need one target in 0..{z.shape[1] - 1} per row of logits")
    classes = z.shape[1]
    edges = torch.linspace(0.0, 1.0, bins + 1, dtype=torch.float64)
    cells = classes * bins
    count = torch.zeros(cells, dtype=torch.float64)
    sum_conf = torch.zeros(cells, dtype=torch.float64)
    sum_hit = torch.zeros(cells, dtype=torch.float64)
    column = torch.arange(classes) * bins  # the first cell of each class
    for rows, block in row_blocks(z):
        probs = softmax(block, temperature=t)
        cell = (torch.bucketize(probs, edges[1:-1], right=False) + column).flatten()
        truth = torch.zeros_like(probs).scatter_(1, y[rows, None], 1.0).flatten()
        count += torch.bincount(cell, minlength=cells).to(torch.float64)
        sum_conf += torch.bincount(cell, weights=probs.flatten(), minlength=cells)
        sum_hit += torch.bincount(cell, weights=truth, minlength=cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = (sum_hit / count).numpy()
        mean_conf = (sum_conf / count).numpy()
    return pd.DataFrame(
        {
            "class": np.repeat(np.arange(classes), bins),
            "bin": np.tile(np.arange(bins), classes),
            "lower": np.tile(edges[:-1].numpy(), classes),
            "upper": np.tile(edges[1:].numpy(), classes),
            "count": count.numpy().astype(np.int64),
            "accuracy": accuracy,
            "confidence": mean_conf,
            "gap": accuracy - mean_conf,
        }
    )


def classwise_errors(table: pd.DataFrame) -> pd.DataFrame:
    """Each class's one-vs-rest ECE from a `classwise_calibration_table`, worst first: class, ece."""
    weighted = (table["count"] * table["gap"].abs()).fillna(0.0).groupby(table["class"]).sum()
    per_class = weighted / table.groupby("class")["count"].sum()
    frame = pd.DataFrame({"class": per_class.index.to_numpy(), "ece": per_class.to_numpy()})
    return frame.sort_values(["ece", "class"], ascending=[False, True], kind="stable").reset_index(drop=True)


def classwise_ece(table: pd.DataFrame) -> float:
    """Classwise ECE: the mean over all classes of their one-vs-rest ECE."""
    return float(classwise_errors(table)["ece"].mean())


def class_table(table: pd.DataFrame, class_index: int) -> pd.DataFrame:
    """One class's rows of a classwise table, shaped as a `calibration_table` (for `reliability_figure`)."""
    rows = table[table["class"] == class_index]
    if rows.empty:
        raise InputError(f"class {class_index} is not in the table")
    return rows[TABLE_COLUMNS].reset_index(drop=True)
