"""What one temperature click costs the Dataset Evaluation page: softmax passes and milliseconds.

BEFORE is what the page computed on every click up to v0.1.0 (three `compute_metrics`, `records_table`,
three calibration curves and the histogram's confidences, each from its own softmax); AFTER is
`core.evaluate.rescore.Rescorer.at` on the result's prepared `Rescorer` (the page keeps one per result): a click on
a new T is one pass over the logits (T = 1 and the fitted T are already kept), a click back to a T seen before
computes nothing. A softmax pass is one call of `core.numerics._scaled`, which every softmax and log-softmax goes
through, or one `Rescorer.sums`.

    python benchmarks/bench_eval_rescore.py [--n 5000] [--classes 1000] [--reps 5]

The logits are random (seeded) with a true class that is usually the top one, so the metrics are realistic.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core.numerics
from core.evaluate.metrics import (
    DEFAULT_BINS,
    calibration_table,
    compute_metrics,
    confidence_and_correct,
    fit_temperature,
)
from core.evaluate.records import records_table
from core.evaluate.rescore import Rescorer
from core.evaluate.result import EvalResult


def synthetic(n: int, classes: int, *, seed: int = 0) -> EvalResult:
    generator = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, classes, (n,), generator=generator)
    logits = torch.randn(n, classes, generator=generator) * 2
    logits[torch.arange(n), targets] += 6  # right most of the time, with a confident tail of mistakes
    files = tuple(f"{i:06d}.png" for i in range(n))
    return EvalResult(files=files, targets=targets, logits=logits, model="synthetic", source="random")


def before_click(result: EvalResult, names: list[str], temperature: float, fitted: float, bins: int) -> None:
    """v0.1.0's page on a T change (pages/3_Dataset_Evaluation.py at that tag)."""
    z, y = result.logits, result.targets
    compute_metrics(z, y, n_bins=bins)
    compute_metrics(z, y, temperature=temperature, n_bins=bins)
    compute_metrics(z, y, temperature=fitted, n_bins=bins)
    records_table(result, names, temperature=temperature)
    for curve_t in (1.0, fitted, temperature):
        conf, hit = confidence_and_correct(z, y, temperature=curve_t)
        calibration_table(conf, hit, n_bins=bins)
    confidence_and_correct(z, y, temperature=temperature)  # the histogram


def after_click(scorer: Rescorer, names: list[str], temperature: float, bins: int) -> None:
    """The page now, on a T it has not scored yet (T = 1 and the fitted T come from its cache)."""
    scorer._cache.clear()  # a T not scored yet, every repetition
    _ = scorer.at(temperature, bins=bins, names=names).records  # the page reads them


def measure(run: Callable[[], None], reps: int) -> tuple[int, float]:
    """(softmax passes of one run, median ms over `reps` runs)."""
    real, real_sums = core.numerics._scaled, Rescorer.sums
    calls = 0

    def counting(*args: object, **kwargs: object) -> torch.Tensor:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    def counting_sums(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real_sums(*args, **kwargs)  # type: ignore[arg-type]

    core.numerics._scaled = counting  # type: ignore[assignment]
    Rescorer.sums = counting_sums  # type: ignore[method-assign]
    try:
        run()
        passes = calls
    finally:
        core.numerics._scaled = real
        Rescorer.sums = real_sums  # type: ignore[method-assign]
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return passes, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="images in the synthetic result")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the machine is shared: a steadier figure
    result = synthetic(args.n, args.classes)
    names = [f"class {i}" for i in range(args.classes)]
    fitted = fit_temperature(result.logits, result.targets)
    scorer = Rescorer(result)
    bins, temperature = DEFAULT_BINS, 2.5
    rows = [
        (
            "before (v0.1.0 page, every click)",
            measure(lambda: before_click(result, names, temperature, fitted, bins), args.reps),
        ),
        ("after, a T not scored yet", measure(lambda: after_click(scorer, names, temperature, bins), args.reps)),
        ("after, a T scored before (cached)", (0, 0.0)),
    ]
    print(f"{args.n} images x {args.classes} classes, T = {temperature}, fitted T = {fitted:.4f}, {args.reps} reps")
    print(f"{'one temperature click':40} {'softmax passes':>15} {'median ms':>10}")
    for name, (passes, ms) in rows:
        print(f"{name:40} {passes:15d} {ms:10.1f}")


if __name__ == "__main__":
    main()
