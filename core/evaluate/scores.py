"""Per-image scores from the logits: hardness, margin and mistakenness.

- hardness: the entropy of softmax(z / T) in nats (0 = certain, log C = uniform);
- margin: top-1 minus top-2 probability (1 = no doubt, 0 = a tie between the first two);
- mistakenness: FiftyOne Brain's `(m * exp(-H) + 1) / 2` with m = +1 when the prediction is wrong and
  m = -1 when it is right (its `_compute_mistakenness_class`): near 1 for a confident wrong prediction
  (the label is likely the mistake), near 0 for a confident right one, 0.5 when the model is unsure.

Computed in float64 in blocks of rows, so 50,000 x 1,000 logits never need more than a few MB at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.errors import InputError
from core.numerics import check_temperature, log_softmax

BLOCK_ROWS = 4096
SCORE_COLUMNS = ("hardness", "margin", "mistakenness")


def _checked(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    if logits.ndim != 2 or targets.ndim != 1 or logits.shape[0] != targets.shape[0]:
        raise InputError(
            f"need logits (n, classes) and targets (n,), got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    if logits.shape[1] < 2:
        raise InputError("need at least 2 classes")
    return logits, targets.to(torch.int64)


def per_image_scores(logits: Tensor, targets: Tensor, *, temperature: float = 1.0) -> pd.DataFrame:
    """Columns hardness, margin, mistakenness (float64), one row per image, in the input's order."""
    z, y = _checked(logits, targets)
    t = check_temperature(temperature)
    n = int(z.shape[0])
    out = np.empty((n, 3), dtype=np.float64)
    for start in range(0, n, BLOCK_ROWS):
        block = z[start : start + BLOCK_ROWS].to(torch.float64)
        log_p = log_softmax(block, temperature=t)
        p = log_p.exp()
        # 0 * log 0 is 0: xlogy-style, log_p is finite wherever p > 0
        entropy = -(p * torch.where(p > 0, log_p, torch.zeros_like(log_p))).sum(dim=1)
        top2 = p.topk(2, dim=1).values
        wrong = p.argmax(dim=1) != y[start : start + BLOCK_ROWS]
        m = torch.where(wrong, 1.0, -1.0).to(torch.float64)
        out[start : start + len(block), 0] = entropy.numpy()
        out[start : start + len(block), 1] = (top2[:, 0] - top2[:, 1]).numpy()
        out[start : start + len(block), 2] = ((m * torch.exp(-entropy) + 1.0) / 2.0).numpy()
    return pd.DataFrame(out, columns=list(SCORE_COLUMNS))


def probabilities(logits: Tensor, *, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T) as a float32 array (what cleanlab and the galleries read), built in blocks."""
    t = check_temperature(temperature)
    n = int(logits.shape[0])
    out = np.empty(tuple(logits.shape), dtype=np.float32)
    for start in range(0, n, BLOCK_ROWS):
        block = log_softmax(logits[start : start + BLOCK_ROWS].to(torch.float64), temperature=t).exp()
        out[start : start + len(block)] = block.numpy()
    return out
