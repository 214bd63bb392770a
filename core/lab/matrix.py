"""The Logits Lab's dim= demo: softmax over the rows or the columns of a small matrix, and its editor's table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from core.lab.logit_table import LabInputError
from core.lab.values import is_missing, to_float
from core.numerics import (
    softmax,
)

MAX_MATRIX_SIDE: Final = 20


def dim_softmax(matrix: Tensor) -> tuple[Tensor, Tensor]:
    """softmax over dim=0 (each column sums to 1) and over dim=1 (each row sums to 1)."""
    return softmax(matrix, dim=0), softmax(matrix, dim=1)


DEFAULT_MATRIX: Final = ((1.0, 2.0, 3.0, 4.0), (5.0, 6.0, 7.0, 8.0))


def matrix_frame(matrix: Sequence[Sequence[float]] = DEFAULT_MATRIX) -> pd.DataFrame:
    """A matrix as a DataFrame with columns "0", "1", ... for the matrix editor."""
    rows = [list(map(float, row)) for row in matrix]
    return pd.DataFrame(rows, columns=[str(j) for j in range(len(rows[0]))], dtype="float64")


def resize_matrix(frame: pd.DataFrame, columns: int) -> pd.DataFrame:
    """The matrix editor's table with `columns` columns: new ones filled with 0, surplus ones dropped."""
    columns = max(1, min(int(columns), MAX_MATRIX_SIDE))
    values = frame.to_numpy(dtype=np.float64, na_value=0.0)[:, :columns]
    padded = np.zeros((max(1, values.shape[0]), columns))
    padded[: values.shape[0], : values.shape[1]] = values
    return matrix_frame(padded.tolist())


def matrix_from_frame(frame: pd.DataFrame, *, max_side: int = MAX_MATRIX_SIDE) -> Tensor:
    """The matrix editor's cells as a float64 tensor (rows × columns), every cell a finite number."""
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise LabInputError("lab.err.matrix_empty")
    if max(frame.shape) > max_side:
        raise LabInputError("lab.err.matrix_large", rows=frame.shape[0], columns=frame.shape[1], limit=max_side)
    values = []
    for r, row in enumerate(frame.itertuples(index=False), start=1):
        out = []
        for c, cell in enumerate(row, start=1):
            value = None if is_missing(cell) else to_float(cell)
            if value is None or not math.isfinite(value):
                raise LabInputError("lab.err.matrix_cell", row=r, column=c)
            out.append(value)
        values.append(out)
    return torch.tensor(values, dtype=torch.float64)
