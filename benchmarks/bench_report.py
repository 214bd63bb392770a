"""How long the one-file HTML report takes and how big it is, and what one move of the home page's T costs
next to running the model again (the baseline a cache saves), in the same run.

    python benchmarks/bench_report.py [--model efficientnet_lite0] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.analysis import analyse
from core.charts.prediction import logits_vs_probs_figure
from core.models.labels import spec_labels
from core.models.registry import load_model
from core.prediction.tables import score_table
from core.report.inspector import inspector_report
from core.samples import sample_images


def _ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:8.1f} ms  (min {min(seconds) * 1000:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    model = load_model(args.model)
    labels = spec_labels(model.spec)
    samples = sample_images()
    results = [analyse(model, s.path.name, s.path.read_bytes()) for s in samples]
    print(f"model {args.model}, {len(samples)} sample photos, {args.repeats} repeats")

    for n in (1, 3, len(results)):
        times, size = [], 0
        for _ in range(args.repeats):
            start = time.perf_counter()
            page = inspector_report(results[:n], labels, model=args.model, temperature=2.0, k=5)
            times.append(time.perf_counter() - start)
            size = len(page.encode("utf-8"))
        print(f"report of {n:2d} image(s): {_ms(times)}   {size / 1e6:5.2f} MB (plotly.js ~4.7 MB once)")

    # the home page: one T move recomputes the table and the chart from cached logits ...
    logits, data = results[0].logits, samples[0].path.read_bytes()
    assert logits is not None
    slider, again = [], []
    for i in range(args.repeats * 4):
        temperature = (0.5, 1.0, 2.0, 5.0)[i % 4]
        start = time.perf_counter()
        score_table(logits, labels, k=5, temperature=temperature)
        logits_vs_probs_figure(logits, labels, temperature=temperature, top_n=5).to_json()
        slider.append(time.perf_counter() - start)
    # ... where without the cache it would decode and run the model again
    for _ in range(args.repeats):
        start = time.perf_counter()
        analyse(model, "coffee.png", data)
        again.append(time.perf_counter() - start)
    print(f"home T move (table + chart + JSON): {_ms(slider)}")
    print(f"baseline: analyse again (decode + forward): {_ms(again)}")
    print(f"cached logits save {statistics.median(again) / statistics.median(slider):.1f}x per slider move")


if __name__ == "__main__":
    main()
