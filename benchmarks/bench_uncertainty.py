"""What the uncertainty tools cost at the user's scale (50,000 images × 1,000 classes), next to one softmax pass.

The logits come the results-file route: float32, column-major, as `core.evaluate.results.read_results` returns them
(`torch.tensor(frame.to_numpy(dtype=float32))`), without writing the 200 MB file itself. The baseline is one
softmax over those same logits; one over a row-major copy is printed too, for scale (the layout alone costs a lot).
They are random (seeded) with a true class that is usually the top one; the outside set is as large, with flatter
logits.

    python benchmarks/bench_uncertainty.py [--n 50000] [--classes 1000] [--reps 3]

Prints the median wall time of each computation over `--reps` runs (after one warm-up run), its ratio to the
baseline (one `core.numerics.softmax` pass over the same logits, same run), and the process's peak RSS so far:
the peak only grows, so a step that needed a full float64 copy would show as a jump.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.evaluate.metrics import fit_temperature
from core.numerics import softmax
from core.uncertainty.calibration import adaptive_calibration_table, classwise_calibration_table
from core.uncertainty.conformal import conformal_summary, set_sizes_by_temperature, split_conformal
from core.uncertainty.ood import ood_scores, ood_summary, separations
from core.uncertainty.selective import aurc, correct_predictions, risk_coverage, selective_summary


def as_read_from_a_results_file(logits: torch.Tensor) -> torch.Tensor:
    """The same values laid out as `read_results` gives them: one column per class, so column-major."""
    return torch.tensor(pd.DataFrame(logits.numpy()).to_numpy(dtype=np.float32))


def synthetic(n: int, classes: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, classes, (n,), generator=generator)
    logits = torch.randn(n, classes, generator=generator) * 2
    logits[torch.arange(n), targets] += 6  # right most of the time, with a confident tail of mistakes
    outside = torch.randn(n, classes, generator=generator) * 1.5  # no class stands out
    return as_read_from_a_results_file(logits), targets, as_read_from_a_results_file(outside)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(run: Callable[[], object], reps: int) -> float:
    run()  # warm-up: first-call allocations and lazy imports are not the steady cost
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row_major_softmax(z: torch.Tensor, reps: int) -> float:
    """One softmax over a row-major copy (freed on return): what the layout alone costs."""
    row_major = z.contiguous()
    return timed(lambda: softmax(row_major), reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--classes", type=int, default=1_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    z, y, outside = synthetic(args.n, args.classes, seed=0)
    size_mb = z.numel() * 4 / 2**20
    print(
        f"{args.n:,} images × {args.classes:,} classes, float32 column-major ({size_mb:.0f} MB of logits), "
        f"{torch.get_num_threads()} torch threads; median of {args.reps} runs; peak RSS {peak_mb():.0f} MB at start"
    )
    print(f"{'(for scale) one softmax pass over a row-major copy':<58} {row_major_softmax(z, args.reps):8.3f} s")
    baseline = timed(lambda: softmax(z), args.reps)
    print(
        f"{'baseline: one softmax pass (core.numerics.softmax)':<58} {baseline:8.3f} s    1.0x   "
        f"peak {peak_mb():6.0f} MB"
    )

    fitted = 1.5  # any T costs the same; fit_temperature (float64 copies of everything) runs last, for the peak
    inside_scores, outside_scores = ood_scores(z), ood_scores(outside)
    hit = correct_predictions(z, y)
    msp = torch.from_numpy(inside_scores["msp"])
    steps: list[tuple[str, Callable[[], object]]] = [
        ("ood_scores: msp, max_logit, energy, entropy (T = 1)", lambda: ood_scores(z)),
        ("ood_scores at T = 2", lambda: ood_scores(z, temperature=2.0)),
        ("separations: AUROC, FPR95, ROC ×4 (scores given)", lambda: separations(inside_scores, outside_scores)),
        ("ood_summary: both sets scored + separations", lambda: ood_summary(z, outside)),
        ("split_conformal LAC (calibrate half, sets for half)", lambda: split_conformal(z, y, method="lac")),
        ("split_conformal APS", lambda: split_conformal(z, y, method="aps")),
        ("split_conformal APS randomized", lambda: split_conformal(z, y, method="aps", randomized=True)),
        ("conformal_summary (CLI, LAC)", lambda: conformal_summary(z, y)),
        (
            "set_sizes_by_temperature LAC, 5 temperatures",
            lambda: set_sizes_by_temperature(z, y, [0.5, 1.0, 1.5, 2.0, 4.0], method="lac"),
        ),
        ("risk_coverage + AURC (msp given)", lambda: aurc(risk_coverage(inside_scores["msp"], hit))),
        ("selective_summary (CLI, fitted T given)", lambda: selective_summary(z, y, fitted_temperature=fitted)),
        (
            "adaptive_calibration_table (confidences given)",
            lambda: adaptive_calibration_table(msp, torch.from_numpy(hit)),
        ),
        ("classwise_calibration_table (1,000 × 15 bins)", lambda: classwise_calibration_table(z, y)),
    ]
    for name, run in steps:
        seconds = timed(run, args.reps)
        print(f"{name:<58} {seconds:8.3f} s {seconds / baseline:6.1f}x   peak {peak_mb():6.0f} MB")
    start = time.perf_counter()
    fit_temperature(z, y)
    print(
        f"{'(for scale) fit_temperature, which the CLI runs anyway':<58} {time.perf_counter() - start:8.3f} s "
        f"(once)   peak {peak_mb():6.0f} MB"
    )


if __name__ == "__main__":
    main()
