"""Row blocks of a logits matrix: the one way every uncertainty computation walks a large set.

A (50,000 × 1,000) float32 matrix is 200 MB; one float64 copy of it, plus a softmax, plus a sort, would be
1.2 GB more. Each block is converted to float64 on its own, so the extra memory is one block at a time.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from functools import partial

import torch
from torch import Tensor

from core.errors import InputError
from core.numerics import as_logits

BLOCK_ELEMENTS = 2**21  # entries per block: 16 MB in float64, a few blocks of work memory at most


# tensors found finite, by id: (a weak reference to the tensor, its version then). One results file's logits pass
# through a dozen of these functions in one `evaluate --json`; each full check of 50,000 x 1,000 costs 0.1 s.
_FINITE: dict[int, tuple[weakref.ref[Tensor], int]] = {}


def _finite(z: Tensor) -> bool:
    """Whether every entry of `z` is finite; a tensor found so is not read again until it changes in place."""
    if z.is_inference():  # an inference tensor keeps no version counter: checked every time
        return bool(torch.isfinite(z).all())
    key = id(z)
    known = _FINITE.get(key)
    if known is not None and known[0]() is z and known[1] == z._version:
        return True
    if not bool(torch.isfinite(z).all()):
        return False
    _FINITE[key] = (weakref.ref(z, partial(_forget, key)), z._version)
    return True


def _forget(key: int, _gone: object) -> None:
    _FINITE.pop(key, None)


def check_logits(logits: object, *, name: str = "logits") -> Tensor:
    """Logits as a 2-D float tensor (n, classes) with n >= 1 and at least 2 classes, all finite."""
    z = as_logits(logits, name=name)
    if z.ndim != 2 or z.shape[1] < 2:
        raise InputError(f"{name} must be (images, classes) with at least 2 classes, got {tuple(z.shape)}")
    if not _finite(z):
        raise InputError(f"{name} must be finite numbers (got NaN or inf)")
    return z


def block_rows(num_classes: int, *, elements: int = BLOCK_ELEMENTS) -> int:
    """How many rows of `num_classes` logits make one block (at least 1)."""
    return max(1, elements // max(1, num_classes))


def row_blocks(logits: Tensor, *, elements: int = BLOCK_ELEMENTS) -> Iterator[tuple[slice, Tensor]]:
    """(rows, block) pairs covering `logits` in order, each block a new row-major float64 tensor."""
    step = block_rows(logits.shape[1], elements=elements)
    for begin in range(0, logits.shape[0], step):
        rows = slice(begin, min(begin + step, logits.shape[0]))
        # a fresh row-major copy: callers may work on it in place, and a results file's column-major logits give
        # the same sums, bit for bit, as row-major ones
        yield rows, logits[rows].to(torch.float64, memory_format=torch.contiguous_format, copy=True)
