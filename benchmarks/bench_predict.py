"""Single-image predict, step by step, per backend: decode, preprocess, forward, softmax + top-k.

Prints the median and 90th percentile of each step over repeated runs on the real sample images, for
torch eager and for ONNX Runtime (fp32, verified against torch), the one-time model load and export, the
end-to-end sum, and what a temperature change costs (softmax + top-k only: the UI never re-runs the model
for it). Goal on a 2-core CPU: onnxruntime forward <= 10 ms, end to end <= 15 ms.

    python benchmarks/bench_predict.py [--model efficientnet_lite0] [--repeats 20] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")

from core.backends.cache import CACHE_ENV, cache_dir
from core.backends.choose import backend_info, with_backend
from core.images import decode_image
from core.models.registry import load_model
from core.models.spec import LoadedModel
from core.numerics import softmax, top_k
from core.samples import sample_images

STEPS = ("decode", "preprocess", "forward", "softmax+top-k")


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


def bench(model: LoadedModel, *, repeats: int, verbose: bool) -> dict[str, list[float]]:
    """Each step's milliseconds over every sample image, on `model`'s backend."""
    pre = model.spec.preprocessing
    backend = model.backend
    assert backend is not None
    totals: dict[str, list[float]] = {step: [] for step in STEPS}
    for sample in sample_images():
        data = sample.path.read_bytes()
        decoded = decode_image(data, sample.name)
        tensor = pre(decoded.image).unsqueeze(0)
        backend.logits(tensor)  # warm-up: the first pass allocates
        logits = backend.logits(tensor)[0]
        steps = {
            "decode": lambda data=data, name=sample.name: decode_image(data, name),
            "preprocess": lambda image=decoded.image: pre(image),
            "forward": lambda tensor=tensor: backend.logits(tensor),
            "softmax+top-k": lambda logits=logits: top_k(softmax(logits, temperature=0.7), 5),
        }
        if verbose:
            print(f"  {sample.name} ({decoded.image.size[0]}x{decoded.image.size[1]}, {len(data) / 1024:.0f} KiB)")
        for step, fn in steps.items():
            ms = timed(fn, repeats)
            totals[step] += ms
            if verbose:
                print(f"    {step:<14} {summary(ms)}")
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--per-image", action="store_true", help="also print every sample image's steps")
    parser.add_argument("--fresh-cache", action="store_true", help="export into an empty folder (times the export)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fresh_cache:
        os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="bench-onnx-")

    start = time.perf_counter()
    oracle = load_model(args.model)
    load_ms = (time.perf_counter() - start) * 1000
    print(f"model {args.model} on {oracle.device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"model load (once per process): {load_ms:.0f} ms; export cache {cache_dir()}")
    medians: dict[str, dict[str, float]] = {}
    for name in ("torch", "onnxruntime"):
        start = time.perf_counter()
        model = with_backend(oracle, name)
        info = backend_info(model)
        attach_ms = (time.perf_counter() - start) * 1000
        print(f"\n{name}: runs on {info.describe()}; attached in {attach_ms:.0f} ms (export + verify the first time)")
        if info.reason:
            print(f"  fell back to torch: {info.reason}")
        totals = bench(model, repeats=args.repeats, verbose=args.per_image)
        print(f"  all {len(sample_images())} sample images")
        for step, ms in totals.items():
            print(f"    {step:<14} {summary(ms)}")
        medians[name] = {step: statistics.median(ms) for step, ms in totals.items()}
        print(f"    {'end to end':<14} median sum {sum(medians[name].values()):8.2f} ms")
    torch_ms, ort_ms = medians["torch"], medians["onnxruntime"]
    print("\nside by side (medians)")
    for step in (*STEPS, "end to end"):
        a = sum(torch_ms.values()) if step == "end to end" else torch_ms[step]
        b = sum(ort_ms.values()) if step == "end to end" else ort_ms[step]
        print(f"  {step:<14} torch {a:8.2f} ms   onnxruntime {b:8.2f} ms   {a / b:5.2f}x")
    end_to_end = sum(ort_ms.values())
    print(f"  goal onnxruntime forward <= 10 ms: {ort_ms['forward']:.2f} ms")
    print(f"  goal onnxruntime end to end <= 15 ms: {end_to_end:.2f} ms")
    print(f"  a temperature change re-costs only softmax+top-k: {ort_ms['softmax+top-k']:.3f} ms")


if __name__ == "__main__":
    main()
