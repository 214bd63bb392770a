"""A seeded, realistic synthetic evaluation at the user's scale (ImageNet validation: 50,000 images, 1,000
classes, 1,280-d features), for the scale tests and `benchmarks/bench_scale.py`.

Realistic means: about 75% top-1 and 90% top-5, over-confident (most predictions above 90% at T = 1, right or
wrong, so the fitted T is above 1), wrong predictions mostly to a nearby class (as dog breeds are confused with dog
breeds), 3% of the given labels wrong, and planted near-duplicate images (features and logits of one image copied
with a little noise). Features are non-negative (after a ReLU and a pooling, as a CNN's are), float16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.evaluate.result import EvalResult

CHUNK = 5_000  # rows generated at a time: bounded temporaries


@dataclass(frozen=True)
class Synthetic:
    """The result and what was planted in it.

    Attributes:
        result: the evaluation (targets are the given labels, 3% of them wrong).
        truth: each image's true class.
        noisy: the rows whose given label is wrong.
        pairs: (a, b) rows planted as near-duplicates (b is a lightly noised copy of a).
    """

    result: EvalResult
    truth: np.ndarray
    noisy: np.ndarray
    pairs: np.ndarray


def synthetic_result(
    n: int = 50_000,
    classes: int = 1_000,
    dim: int = 1_280,
    *,
    seed: int = 0,
    accuracy: float = 0.75,
    label_noise: float = 0.03,
    duplicates: int = 200,
    features: bool = True,
) -> Synthetic:
    """A seeded evaluation of `n` images (see the module's docstring for what makes it realistic)."""
    rng = np.random.default_rng(seed)
    truth = rng.permutation(np.arange(n) % classes)
    wrong = rng.random(n) > accuracy
    believed = truth.copy()
    believed[wrong] = (truth[wrong] + rng.integers(1, 12, int(wrong.sum()))) % classes  # a nearby class
    logits = np.empty((n, classes), dtype=np.float32)
    rows = np.arange(n)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        logits[start:stop] = rng.standard_normal((stop - start, classes), dtype=np.float32) * 1.3
    peak = rng.normal(13.0, 2.5, n).astype(np.float32)  # the model is as sure when wrong as when right
    logits[rows, believed] += peak
    runner_up = peak - np.abs(rng.normal(3.0, 1.5, n)).astype(np.float32)
    logits[rows[wrong], truth[wrong]] += runner_up[wrong]  # the truth is often second when wrong
    given = truth.copy()
    noisy = np.flatnonzero(rng.random(n) < label_noise)
    given[noisy] = (truth[noisy] + rng.integers(1, classes, len(noisy))) % classes
    feats = None
    if features:
        centres = rng.standard_normal((classes, dim), dtype=np.float32)
        feats = np.empty((n, dim), dtype=np.float16)
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            mix = 0.8 * centres[truth[start:stop]] + 0.4 * centres[believed[start:stop]]
            noise = rng.standard_normal((stop - start, dim), dtype=np.float32)
            feats[start:stop] = np.maximum(mix + noise, 0.0)  # post-ReLU: non-negative
    chosen = rng.choice(n, 2 * duplicates, replace=False)
    a, b = np.sort(chosen[:duplicates]), chosen[duplicates:]
    logits[b] = logits[a] + rng.normal(0.0, 0.02, (len(a), classes)).astype(np.float32)
    given[b] = given[a]
    truth[b] = truth[a]
    if feats is not None:
        copy = feats[a].astype(np.float32)
        feats[b] = np.maximum(copy + rng.normal(0.0, 0.02, copy.shape).astype(np.float32), 0.0)
    pairs = np.sort(np.stack([a, b], axis=1), axis=1)
    noisy = np.flatnonzero(given != truth)
    files = tuple(f"val/{truth[i]:04d}/ILSVRC2012_val_{i + 1:08d}.JPEG" for i in range(n))
    result = EvalResult(
        files=files,
        targets=torch.from_numpy(given.astype(np.int64)),
        logits=torch.from_numpy(logits),
        model="synthetic",
        source=f"synthetic ({n:,} x {classes:,}, seed {seed})",
        attempted=n,
        features=torch.from_numpy(feats) if feats is not None else None,
    )
    return Synthetic(result, truth, noisy, pairs)
