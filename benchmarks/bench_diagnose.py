"""Time and memory of the set-debugging tools at scale: label issues, per-image scores, per-class report,
the PCA map, the neighbours of one image, and all near-duplicate pairs, for 10,000 and 50,000 images of
1,000 classes with 1,280-dimensional float16 features (EfficientNet-Lite0's), synthetic.

Baselines in the same run: scikit-learn's brute-force cosine `NearestNeighbors` for every image's nearest
neighbour (what `near_duplicates` replaces), and the exact PCA (covariance eigendecomposition); t-SNE with
--tsne (slow: minutes for 10,000 on 2 cores). Every image's 10 neighbours and the baseline (both all pairs)
run up to 10,000 images unless --full.

Memory: the peak of Python/NumPy allocations during the step (tracemalloc; NumPy reports its buffers to
it, BLAS scratch space is not counted) and the process's peak RSS after the step (it only grows).

    .venv/bin/python benchmarks/bench_diagnose.py                 # 10,000 and 50,000
    .venv/bin/python benchmarks/bench_diagnose.py --sizes 2000    # a quick look
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.diagnose import classes, embedding, label_issues
from core.evaluate import scores

CLASSES = 1000
DIM = 1280
PLANTED = 10
FULL_UP_TO = 10_000  # every image's neighbours and the scikit-learn baseline are n^2: 10k by default


def synthetic(n: int, *, seed: int = 0) -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """Logits (n, 1000) of a ~80%-accurate model, labels with 2% moved to a wrong class, float16 features
    around one centre per class, and the moved rows."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, CLASSES, n)
    logits = rng.normal(0.0, 1.0, (n, CLASSES)).astype(np.float32)
    logits[np.arange(n), truth] += rng.normal(5.0, 1.5, n).astype(np.float32)
    given = truth.copy()
    moved = rng.choice(n, n // 50, replace=False)
    given[moved] = (truth[moved] + rng.integers(1, CLASSES, len(moved))) % CLASSES
    centres = rng.normal(0.0, 1.0, (CLASSES, DIM)).astype(np.float32)
    features = (centres[truth] + rng.normal(0.0, 1.0, (n, DIM)).astype(np.float32)).astype(np.float16)
    copies = rng.choice(n, 2 * PLANTED, replace=False)
    features[copies[PLANTED:]] = features[copies[:PLANTED]]  # exact duplicates for near_duplicates to find
    return torch.from_numpy(logits), given, features, moved


def measure(name: str, step: Callable[[], object]) -> object:
    tracemalloc.start()
    start = time.perf_counter()
    out = step()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"  {name:<44} {seconds:8.2f} s   peak alloc {peak / 2**20:8.1f} MiB   max RSS {rss:8.0f} MiB", flush=True)
    return out


def run(n: int, *, full: bool) -> None:
    print(f"\n{n:,} images, {CLASSES:,} classes, {DIM}-d float16 features (threads: {torch.get_num_threads()})")
    logits, given, features, moved = synthetic(n)
    target = torch.from_numpy(given)
    probs = measure("softmax probabilities (float32)", lambda: scores.probabilities(logits))
    issues = measure("label issues (cleanlab find_label_issues)", lambda: label_issues.label_issues(probs, given))
    top = set(issues["index"].head(2 * len(moved)).tolist())
    found = len(top & set(moved.tolist())) / len(moved)
    print(f"    flagged {len(issues):,}; {found:.0%} of the moved labels in the top {2 * len(moved):,}")
    measure("hardness, margin, mistakenness", lambda: scores.per_image_scores(logits, target))
    predictions = logits.argmax(1).numpy()
    measure(
        "per-class report (scikit-learn)", lambda: classes.per_class_report(given, predictions, [], num_classes=CLASSES)
    )
    matrix = classes.confusion_counts(given, predictions, num_classes=CLASSES)
    measure("most-confused 20 + other", lambda: classes.most_confused(matrix, top=20))
    measure("PCA map (randomized SVD)", lambda: embedding.pca_map(features))
    from sklearn.decomposition import PCA

    measure(
        "  baseline: PCA, exact (covariance eigh)",
        lambda: PCA(2, svd_solver="covariance_eigh").fit_transform(features.astype(np.float32)),
    )
    index = measure("feature index (float16 kept, row norms)", lambda: embedding.FeatureIndex(features))
    measure("neighbours of one image (k=10)", lambda: index.neighbours([0], k=10))
    if full:
        measure("every image's 10 neighbours (blocked)", lambda: index.neighbours(np.arange(n), k=10))
    pairs = measure("near-duplicate pairs >= 0.98 (projected, checked)", lambda: index.duplicates())
    print(f"    {len(pairs):,} pairs (planted: {PLANTED})")
    if not full:
        return
    from sklearn.neighbors import NearestNeighbors

    x = features.astype(np.float32)

    measure(
        "  baseline: sklearn brute cosine, every 1-NN",
        lambda: NearestNeighbors(n_neighbors=2, metric="cosine", algorithm="brute").fit(x).kneighbors(x),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--full", action="store_true", help=f"all-pairs steps and baseline above {FULL_UP_TO:,} too")
    parser.add_argument("--tsne", action="store_true", help="also time t-SNE (the smallest size only)")
    args = parser.parse_args()
    for n in args.sizes:
        run(n, full=args.full or n <= FULL_UP_TO)
    if args.tsne:
        n = min(args.sizes)
        print(f"\nt-SNE of {n:,} images")
        measure("t-SNE (PCA to 50, 4 x 250 iterations)", lambda: embedding.tsne_map(synthetic(n)[2]))


if __name__ == "__main__":
    main()
