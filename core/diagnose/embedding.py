"""The features' geometry: 2-D maps, look-alikes and near-duplicate pairs.

Features are the penultimate-layer vectors (`core.features`), one row per image. Maps: PCA at once
(scikit-learn, randomized SVD for wide features), t-SNE on request (scikit-learn, after PCA to 50
dimensions) run in stages so a page can show progress. Similarity is the cosine of two feature vectors:
rows are scaled to unit length once, then blocks of rows are multiplied against all rows (a BLAS matrix
product per block: 50,000 x 1,280 features take a few seconds, never an n x n matrix in memory).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from core.errors import InputError

BLOCK_ROWS = 1024
TSNE_PCA_DIMS = 50
TSNE_STAGES = 4
TSNE_STAGE_ITERATIONS = 250  # scikit-learn's least max_iter; the first stage is its early exaggeration
DUPLICATE_THRESHOLD = 0.98
MAX_PAIRS = 10_000


def as_matrix(features: np.ndarray | torch.Tensor) -> np.ndarray:
    """Features as a float32 (n, dim) array; InputError for any other shape or non-finite values."""
    x = features.float().numpy() if isinstance(features, torch.Tensor) else np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise InputError(f"features must be a non-empty (n, dim) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError("some features are NaN or infinite")
    return x


def pca_map(features: np.ndarray | torch.Tensor, *, seed: int = 0) -> np.ndarray:
    """(n, 2) coordinates on the two principal components (zeros where there is nothing to project)."""
    x = as_matrix(features)
    components = min(2, x.shape[0], x.shape[1])
    out = np.zeros((x.shape[0], 2), dtype=np.float32)
    if x.shape[0] >= 2:
        out[:, :components] = PCA(n_components=components, random_state=seed).fit_transform(x)
    return out


def tsne_map(
    features: np.ndarray | torch.Tensor,
    *,
    perplexity: float = 30.0,
    seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """(n, 2) t-SNE coordinates, after PCA to 50 dimensions.

    Runs `TSNE_STAGES` scikit-learn runs of 250 iterations, each starting where the last stopped (the
    first with early exaggeration, all with one learning rate), and calls `on_progress(done, total)`
    after each; an exception from it stops the run.
    """
    x = as_matrix(features)
    n = x.shape[0]
    if n < 5:
        raise InputError(f"t-SNE needs at least 5 images, got {n}")
    dims = min(TSNE_PCA_DIMS, x.shape[1], n)
    if dims < x.shape[1]:
        x = PCA(n_components=dims, random_state=seed).fit_transform(x).astype(np.float32)
    perplexity = min(perplexity, (n - 1) / 3)
    rate = max(n / 12.0 / 4.0, 50.0)  # scikit-learn's "auto" rate, kept for the later stages too
    y: np.ndarray | None = None
    for stage in range(TSNE_STAGES):
        model = TSNE(
            n_components=2,
            perplexity=perplexity,
            early_exaggeration=12.0 if stage == 0 else 1.0,
            learning_rate=rate,
            max_iter=TSNE_STAGE_ITERATIONS,
            init="pca" if y is None else y,
            random_state=seed,
        )
        y = model.fit_transform(x).astype(np.float32)
        if on_progress is not None:
            on_progress(stage + 1, TSNE_STAGES)
    assert y is not None
    return y


def unit_rows(features: np.ndarray | torch.Tensor) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero), float32: cosine similarity is then a dot product."""
    x = as_matrix(features)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def nearest_neighbours(
    unit: np.ndarray, queries: np.ndarray | list[int], *, k: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the `k` most similar other rows: (indices, similarities), each (q, k), most
    similar first (ties by lower index). `unit` comes from `unit_rows`."""
    q = np.asarray(queries, dtype=np.int64).reshape(-1)
    n = unit.shape[0]
    if len(q) and (q.min() < 0 or q.max() >= n):
        raise InputError(f"query indices must be 0..{n - 1}")
    k = max(0, min(k, n - 1))
    indices = np.empty((len(q), k), dtype=np.int64)
    similarities = np.empty((len(q), k), dtype=np.float32)
    for start in range(0, len(q), BLOCK_ROWS):
        rows = q[start : start + BLOCK_ROWS]
        sims = unit[rows] @ unit.T
        sims[np.arange(len(rows)), rows] = -np.inf  # never one's own neighbour
        if k == 0:
            continue
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n else np.argsort(-sims, axis=1)[:, :k]
        part_sims = np.take_along_axis(sims, part, axis=1)
        order = np.lexsort((part, -part_sims), axis=1)
        indices[start : start + len(rows)] = np.take_along_axis(part, order, axis=1)
        similarities[start : start + len(rows)] = np.take_along_axis(part_sims, order, axis=1)
    return indices, similarities


def near_duplicates(
    unit: np.ndarray, *, threshold: float = DUPLICATE_THRESHOLD, max_pairs: int = MAX_PAIRS
) -> pd.DataFrame:
    """Pairs (a < b) with cosine similarity >= `threshold`, most similar first, at most `max_pairs`.

    Columns a, b, similarity. Each block of rows is compared only with itself and the rows after it.
    """
    if not -1.0 <= threshold <= 1.0:
        raise InputError(f"the similarity threshold must be in [-1, 1], got {threshold}")
    n = unit.shape[0]
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    found_s: list[np.ndarray] = []
    kept = 0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        sims = unit[start:stop] @ unit[start:].T
        # within the block itself keep only b > a
        sims[:, : stop - start][np.tril_indices(stop - start)] = -np.inf
        rows, cols = np.nonzero(sims >= threshold)
        if len(rows):
            found_a.append(rows + start)
            found_b.append(cols + start)
            found_s.append(sims[rows, cols])
            kept += len(rows)
        if kept > 4 * max_pairs:  # keep memory bounded on a set of look-alikes
            found_a, found_b, found_s = _top(found_a, found_b, found_s, max_pairs)
            kept = len(found_a[0])
    if not found_a:
        return pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64), "similarity": np.empty(0)})
    a, b, s = (x[0] for x in _top(found_a, found_b, found_s, max_pairs))
    return pd.DataFrame({"a": a.astype(np.int64), "b": b.astype(np.int64), "similarity": s.astype(np.float64)})


def _top(
    a: list[np.ndarray], b: list[np.ndarray], s: list[np.ndarray], limit: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    aa, bb, ss = np.concatenate(a), np.concatenate(b), np.concatenate(s)
    order = np.lexsort((bb, aa, -ss))[:limit]
    return [aa[order]], [bb[order]], [ss[order]]
