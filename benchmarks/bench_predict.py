"""Single-image predict, step by step: decode, preprocess, forward, softmax + top-k.

Prints the median and 90th percentile of each step over repeated runs on the real sample images,
plus the one-time model load, and what a temperature change costs (softmax + top-k only: the UI
never re-runs the model for it).

    python benchmarks/bench_predict.py [--model efficientnet_lite0] [--repeats 20] [--threads N]
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

from core.images import decode_image
from core.numerics import softmax, top_k
from core.registry import load_model
from core.samples import sample_images


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Milliseconds per call of `fn`, one entry per repeat."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> str:
    ordered = sorted(ms)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"median {statistics.median(ms):8.2f} ms   p90 {p90:8.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    start = time.perf_counter()
    model = load_model(args.model)
    load_ms = (time.perf_counter() - start) * 1000
    pre = model.spec.preprocessing
    print(f"model {args.model} on {model.device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"model load (once per process): {load_ms:.0f} ms\n")

    totals: dict[str, list[float]] = {"decode": [], "preprocess": [], "forward": [], "softmax+top-k": []}
    for sample in sample_images():
        data = sample.path.read_bytes()
        decoded = decode_image(data, sample.name)
        tensor = pre(decoded.image).unsqueeze(0).to(model.device)
        with torch.inference_mode():
            model.module(tensor)  # warm-up
            logits = model.module(tensor)[0].float().cpu()
            steps = {
                "decode": lambda data=data, name=sample.name: decode_image(data, name),
                "preprocess": lambda image=decoded.image: pre(image),
                "forward": lambda tensor=tensor: model.module(tensor),
                "softmax+top-k": lambda logits=logits: top_k(softmax(logits, temperature=0.7), 5),
            }
            print(f"{sample.name} ({decoded.image.size[0]}x{decoded.image.size[1]}, {len(data) / 1024:.0f} KiB)")
            for step, fn in steps.items():
                ms = timed(fn, args.repeats)
                totals[step] += ms
                print(f"  {step:<14} {summary(ms)}")
    print("\nall images")
    for step, ms in totals.items():
        print(f"  {step:<14} {summary(ms)}")
    end_to_end = sum(statistics.median(ms) for ms in totals.values())
    print(f"  {'end to end':<14} median sum {end_to_end:8.2f} ms")
    print(f"  a temperature change re-costs only softmax+top-k: {statistics.median(totals['softmax+top-k']):.3f} ms")


if __name__ == "__main__":
    main()
