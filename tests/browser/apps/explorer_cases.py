"""The 50,000-class case of the explorer's browser tests and benchmark, shared by the app and the tests."""

from __future__ import annotations

import torch

LARGE = 50_000
HOSTILE = '<img src=x onerror="window.__pwned=1"></script>'  # a label is user text: it must stay text


def large_logits() -> torch.Tensor:
    """50,000 seeded logits, with a three-way tie at the top (ranked 77, 4321, 49999) and a tie below it (8, 9)."""
    z = torch.randn(LARGE, generator=torch.Generator().manual_seed(20)) * 2
    z[[4321, 77, 49_999]] = z.max() + 1
    z[[9, 8]] = z[77] - 0.5
    return z


def large_labels() -> list[str]:
    """ "class i" for each, but class 77's name is markup."""
    labels = [f"class {i}" for i in range(LARGE)]
    labels[77] = f"{HOSTILE} class 77"
    return labels
