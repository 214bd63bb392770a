"""The features' geometry: 2-D maps, look-alikes and near-duplicate pairs.

Features are the penultimate-layer vectors (`core.features`), one row per image. Maps: PCA at once
(scikit-learn, randomized SVD for wide features), t-SNE on request (scikit-learn, after PCA to 50
dimensions) run in stages so a page can show progress. Similarity is the cosine of two feature vectors
(`FeatureIndex`): blocks of rows are scaled to unit length and multiplied against all rows (a BLAS matrix product
per block, never an n x n matrix in memory, nor a float32 copy of all the features).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.utils.extmath import randomized_svd

from core.errors import InputError

BLOCK_ROWS = 1024
SCAN_ROWS = 8192  # rows turned into float32 at a time (40 MB at 1,280 dimensions)
SKETCH_QUERIES = 32  # up to this many queries are answered from the bfloat16 sketch of a large set
SKETCH_MIN_ROWS = 4096  # below this a float32 scan is as fast
SKETCH_CANDIDATES = 64  # rows of the sketch's ranking re-ranked exactly
SKETCH_ERROR = 0.0125  # bound on |bfloat16 cosine - float32 cosine| for unit rows: 2 * 2^-8 + 2^-8, and a margin
PROJECTION_DIMS = 128  # near-duplicates: candidates are found in this many dimensions, then checked in full
PROJECTION_SAMPLE = 4096  # rows the projection's directions are taken from
PAIR_ROWS = 256  # near-duplicates: rows compared with every row after them at a time (50 MB at 50,000 rows)
CANDIDATES_PER_ROW = 64  # more per row in a block: that block is compared in full instead
TSNE_PCA_DIMS = 50
TSNE_STAGES = 4
TSNE_STAGE_ITERATIONS = 250  # scikit-learn's least max_iter; the first stage is its early exaggeration
TSNE_LIMIT = 5_000  # images; above, t-SNE is computed on a sample of this many (the page says so)
TSNE_SECONDS = (20, 105)  # what TSNE_LIMIT images took on 2 quiet and 2 busy cores (benchmarks/bench_scale.py)
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


def tsne_rows(n: int, *, limit: int = TSNE_LIMIT, seed: int = 0) -> np.ndarray:
    """The rows a t-SNE map is computed on: all `n` up to `limit`, else a seeded random sample of `limit`, sorted."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


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


class FeatureIndex:
    """Cosine similarity over a set's features, exact, without a float32 copy of them.

    Keeps the features as they come (float16 from a run or a results file: 128 MB for 50,000 x 1,280) and each
    row's length; blocks of rows are turned into float32 unit rows only while they are compared. One image's
    look-alikes are one blocked matrix-vector product over all rows (`neighbours`); near-duplicate pairs
    (`duplicates`) are found without comparing all pairs in full: see there.
    """

    def __init__(self, features: np.ndarray | torch.Tensor) -> None:
        x = features.numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
        if x.dtype not in (np.float16, np.float32):
            x = x.astype(np.float32)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise InputError(f"features must be a non-empty (n, dim) array, got shape {x.shape}")
        self.features = x
        self.norms = np.empty(x.shape[0], dtype=np.float32)
        for start in range(0, len(x), SCAN_ROWS):
            block = x[start : start + SCAN_ROWS].astype(np.float32)
            if not np.isfinite(block).all():
                raise InputError("some features are NaN or infinite")
            self.norms[start : start + SCAN_ROWS] = np.linalg.norm(block, axis=1)
        self.inverse = np.divide(1.0, self.norms, out=np.zeros_like(self.norms), where=self.norms > 0)
        self._projected: np.ndarray | None = None
        self._sketch: torch.Tensor | None = None

    @property
    def n(self) -> int:
        return int(self.features.shape[0])

    def unit(self, rows: slice | np.ndarray) -> np.ndarray:
        """Those rows as float32 unit rows (a zero row stays zero)."""
        x = self.features[rows].astype(np.float32)
        x *= self.inverse[rows][:, None]
        return x

    def neighbours(self, queries: np.ndarray | list[int], *, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """For each query row, the `k` most similar other rows: (indices, similarities), each (q, k), most
        similar first (ties by lower index). Exact: a few queries on a large set are answered from a bfloat16 sketch
        and checked (`_from_sketch`); otherwise every row is compared in float32, a block at a time."""
        q = np.asarray(queries, dtype=np.int64).reshape(-1)
        n = self.n
        if len(q) and (q.min() < 0 or q.max() >= n):
            raise InputError(f"query indices must be 0..{n - 1}")
        k = max(0, min(k, n - 1))
        if k > 0 and len(q) <= SKETCH_QUERIES and n > SKETCH_MIN_ROWS:
            found = [self._from_sketch(int(row), k) for row in q]
            if all(f is not None for f in found):
                return np.stack([f[0] for f in found if f]), np.stack([f[1] for f in found if f])
        return self._scan(q, k)

    def sketch(self) -> torch.Tensor:
        """The unit rows in bfloat16 (half the float16 features' memory again; made on the first look-alike query):
        one query against every row is one fast matrix-vector product."""
        if self._sketch is None:
            rows = [
                torch.from_numpy(self.unit(slice(s, s + SCAN_ROWS))).to(torch.bfloat16)
                for s in range(0, self.n, SCAN_ROWS)
            ]
            self._sketch = torch.cat(rows)
        return self._sketch

    def _from_sketch(self, row: int, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The exact `k` neighbours of `row`, found among the best SKETCH_CANDIDATES of the sketch and re-ranked in
        float32, or None when the sketch cannot vouch for them. A bfloat16 cosine is within SKETCH_ERROR of the
        float32 one (8-bit mantissas: each unit component off by at most 2^-8 of itself, and the product rounded
        once), so a row left out has a true similarity at most the last candidate's + SKETCH_ERROR: when the k-th
        re-ranked similarity is above that, no row left out can beat it."""
        sketch = self.sketch()
        sims = (sketch @ sketch[row]).float()
        sims[row] = -torch.inf  # never one's own neighbour
        count = min(SKETCH_CANDIDATES, self.n - 1)
        approx, candidates = torch.topk(sims, count)
        picked = candidates.numpy()
        # the scan's own arithmetic, so both paths give the same numbers
        exact = (self.unit(np.asarray([row])) @ self.features[picked].astype(np.float32).T)[0] * self.inverse[picked]
        order = np.lexsort((picked, -exact))[:k]
        if count < self.n - 1 and not exact[order[-1]] > float(approx[-1]) + SKETCH_ERROR:
            return None  # too many look-alikes as close as the k-th: compare every row
        return picked[order], exact[order].astype(np.float32)

    def _scan(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Every row compared with every query, in float32, a block of rows at a time."""
        n = self.n
        indices = np.empty((len(q), k), dtype=np.int64)
        similarities = np.empty((len(q), k), dtype=np.float32)
        for begin in range(0, len(q), BLOCK_ROWS):
            rows = q[begin : begin + BLOCK_ROWS]
            wanted = self.unit(rows)
            sims = np.empty((len(rows), n), dtype=np.float32)
            for start in range(0, n, SCAN_ROWS):
                block = self.features[start : start + SCAN_ROWS].astype(np.float32)
                sims[:, start : start + SCAN_ROWS] = (wanted @ block.T) * self.inverse[start : start + SCAN_ROWS]
            sims[np.arange(len(rows)), rows] = -np.inf  # never one's own neighbour
            if k == 0:
                continue
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n else np.argsort(-sims, axis=1)[:, :k]
            part_sims = np.take_along_axis(sims, part, axis=1)
            order = np.lexsort((part, -part_sims), axis=1)
            indices[begin : begin + len(rows)] = np.take_along_axis(part, order, axis=1)
            similarities[begin : begin + len(rows)] = np.take_along_axis(part_sims, order, axis=1)
        return indices, similarities

    def projected(self) -> np.ndarray:
        """Each unit row's coordinates on `PROJECTION_DIMS` orthonormal directions (the main ones of a sample, by a
        randomized SVD), float32 (n, dims); computed once."""
        if self._projected is None:
            dims = min(PROJECTION_DIMS, self.features.shape[1])
            rng = np.random.default_rng(0)
            sample = self.unit(np.sort(rng.choice(self.n, min(self.n, PROJECTION_SAMPLE), replace=False)))
            _, _, basis = randomized_svd(sample - sample.mean(axis=0), dims, n_iter=2, random_state=0)
            basis = basis.astype(np.float32).T
            out = np.empty((self.n, basis.shape[1]), dtype=np.float32)
            for start in range(0, self.n, SCAN_ROWS):
                out[start : start + SCAN_ROWS] = self.unit(slice(start, start + SCAN_ROWS)) @ basis
            self._projected = out
        return self._projected

    def duplicates(self, *, threshold: float = DUPLICATE_THRESHOLD, max_pairs: int = MAX_PAIRS) -> pd.DataFrame:
        """Pairs (a < b) with cosine similarity >= `threshold`, most similar first, at most `max_pairs`.

        Columns a, b, similarity. Exact, without all pairs in full: for unit rows, cos >= t means a distance
        of at most sqrt(2 - 2t), and a projection on orthonormal directions never lengthens a distance, so only
        the pairs within that distance in `PROJECTION_DIMS` dimensions (one matrix product, the squared distance
        read straight from it) can qualify; those candidates are then compared in full. Wide features only (else,
        and where a block has too many candidates, that block is compared in full).
        """
        if not -1.0 <= threshold <= 1.0:
            raise InputError(f"the similarity threshold must be in [-1, 1], got {threshold}")
        n, wide = self.n, self.features.shape[1] > 2 * PROJECTION_DIMS
        radius = 2.0 - 2.0 * threshold + 1e-4  # squared; the margin covers float32 rounding
        if wide:
            p = self.projected()
            squares = (p * p).sum(axis=1, dtype=np.float32)[:, None]
            ones = np.ones((n, 1), dtype=np.float32)
            # [p_i, |p_i|^2, 1] . [-2 p_j, 1, |p_j|^2] = |p_i - p_j|^2
            left, right = np.hstack([p, squares, ones]), np.hstack([-2.0 * p, ones, squares])
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        kept = 0
        for start in range(0, n, PAIR_ROWS):
            stop = min(n, start + PAIR_ROWS)
            a, b = None, None
            if wide:
                close = np.flatnonzero((left[start:stop] @ right[start:].T).ravel() <= radius)
                if len(close) <= CANDIDATES_PER_ROW * (stop - start):
                    a, b = np.divmod(close, n - start)
                    a, b = a + start, b + start
                    keep = b > a
                    a, b = a[keep], b[keep]
                    others, where = np.unique(b, return_inverse=True)  # each row turned into a unit row once
                    mine = self.unit(slice(start, stop))[a - start]
                    sims = np.einsum("ij,ij->i", mine, self.unit(others)[where])
            if a is None or b is None:  # narrow features or a crowded block: compare it with every row after it
                block = self.unit(slice(start, stop)) @ self.unit(slice(start, n)).T
                block[:, : stop - start][np.tril_indices(stop - start)] = -np.inf  # within the block only b > a
                rows, cols = np.nonzero(block >= threshold)
                a, b, sims = rows + start, cols + start, block[rows, cols]
            hit = sims >= threshold
            if hit.any():
                found.append((a[hit], b[hit], sims[hit]))
                kept += int(hit.sum())
            if kept > 4 * max_pairs:  # keep memory bounded on a set of look-alikes
                found = [_top(found, max_pairs)]
                kept = len(found[0][0])
        if not found:
            return pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64), "similarity": np.empty(0)})
        a, b, s = _top(found, max_pairs)
        return pd.DataFrame({"a": a.astype(np.int64), "b": b.astype(np.int64), "similarity": s.astype(np.float64)})


def _top(
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]], limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aa, bb, ss = (np.concatenate([part[i] for part in found]) for i in range(3))
    order = np.lexsort((bb, aa, -ss))[:limit]
    return aa[order], bb[order], ss[order]
