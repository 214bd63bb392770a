"""Dataset evaluation on Ray Data vs the local runner: the same >= 200-photo folder, the same predictions.

The folder is bench_evaluate's: crops, flips and sizes (320-640 px) of the shipped sample photos as JPEGs in
class folders, run through EfficientNet-Lite0 (torch backend on both sides, so the numbers are comparable).

Printed, all from this one run:
- the local runner (`core.evaluate.run.evaluate`, default batch and workers): images/s;
- Ray: the seconds to start a local Ray (`ray.init`), then a run on 1 and on 2 actors (one CPU and one torch
  thread each): end-to-end images/s, split into a run's fixed seconds (timed on a tiny subset: actors start
  and build the model, Ray plans) and the marginal images/s beyond them;
- the per-image cost of each stage in one process on one thread (read + decode + preprocess; the model at
  the runner's batch size), which is what a cluster pays per image and per core;
- with --install: the disk that `ray[data]` (ray + pyarrow) takes in this environment.
Every way must give the same top-1 for every photo; the script checks.

Run: `python benchmarks/bench_ray.py [--repeats 1] [--photos-per-sample 24] [--install]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")

from bench_evaluate import write_photo_folder

from core.datasets.classes import resolver_for
from core.datasets.sets import LabelledSet
from core.datasets.sources import open_folder
from core.evaluate.ray import DECODE_BATCH, RayOptions, evaluate_on_ray
from core.evaluate.ray_cluster import ray_cluster
from core.evaluate.result import EvalResult
from core.evaluate.run import ImageFileDataset, default_batch_size, evaluate
from core.inference import forward
from core.models.labels import spec_labels
from core.models.registry import load_model
from core.models.spec import LoadedModel


def subset(labelled: LabelledSet, count: int) -> LabelledSet:
    """The first `count` images of a set (same reader), for timing a run's fixed cost."""
    return replace(labelled, files=labelled.files[:count], targets=labelled.targets[:count])


def ray_costs(
    model: LoadedModel, labelled: LabelledSet, *, actors: int, repeats: int
) -> tuple[EvalResult, float, float]:
    """A full Ray run (best of `repeats`), the fixed seconds of a run (a tiny one: actors start and build the
    model, Ray plans), and the marginal images/s ((n - tiny) / (full - fixed))."""
    options = RayOptions(actors=actors)
    tiny = subset(labelled, actors * DECODE_BATCH)  # one decode block per actor
    fixed = min(evaluate_on_ray(model.spec, tiny, options=options).seconds for _ in range(repeats))
    full = min(
        (evaluate_on_ray(model.spec, labelled, options=options) for _ in range(repeats)), key=lambda r: r.seconds
    )
    marginal = (len(labelled) - len(tiny)) / max(full.seconds - fixed, 1e-9)
    return full, fixed, marginal


def stage_costs(model: LoadedModel, labelled: LabelledSet) -> tuple[float, float]:
    """Milliseconds per image, one process, one thread: read + decode + preprocess, and the model's forward."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        dataset = ImageFileDataset(labelled, model.spec.preprocessing.transform())
        start = time.perf_counter()
        inputs = [dataset[i][1] for i in range(len(dataset))]
        decode_ms = 1e3 * (time.perf_counter() - start) / len(dataset)
        batch = default_batch_size(model)
        stacked = torch.stack([x for x in inputs if x is not None])
        with torch.inference_mode():
            forward(model, stacked[:batch])  # warm up
            start = time.perf_counter()
            for lo in range(0, len(stacked), batch):
                forward(model, stacked[lo : lo + batch])
        model_ms = 1e3 * (time.perf_counter() - start) / len(stacked)
    finally:
        torch.set_num_threads(threads)
    return decode_ms, model_ms


def installed_size() -> None:
    """Disk taken by the packages `ray[data]` brings (ray and pyarrow are the big ones)."""
    total = 0
    for name in ("ray", "pyarrow"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            print(f"  {name}: not installed")
            continue
        folder = Path(next(iter(spec.submodule_search_locations)))
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        total += size
        print(f"  {name:<8} {size / 2**20:8.0f} MB  ({folder})")
    print(f"  {'total':<8} {total / 2**20:8.0f} MB on disk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="best of N timed runs per way")
    parser.add_argument("--photos-per-sample", type=int, default=24)
    parser.add_argument("--install", action="store_true", help="also print the disk ray + pyarrow take")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cores} cores")
    model = load_model("efficientnet_lite0")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "photos"
        count = write_photo_folder(root, model, per_sample=args.photos_per_sample)
        assert count >= 200, f"only {count} photos: need at least 200"
        labelled = open_folder(root, resolver_for(model.spec, spec_labels(model.spec)))
        n = len(labelled)
        evaluate(model, labelled)  # warm up the local side (first forward passes allocate)
        local = min((evaluate(model, labelled) for _ in range(args.repeats)), key=lambda r: r.seconds)
        print(f"photos: {n} images, model {model.spec.name} (torch), best of {args.repeats}")
        way = "local runner (default batch/workers)"
        print(f"  {way:<40} {n / local.seconds:7.1f} images/s  ({local.seconds:6.2f} s)")
        start = time.perf_counter()
        with ray_cluster(num_cpus=cores) as cluster:
            startup = time.perf_counter() - start
            print(f"  {'Ray start-up (local, ray.init)':<40} {startup:7.1f} s  ({cluster.cpus} CPUs)")
            for actors in (1, 2):
                result, fixed, marginal = ray_costs(model, labelled, actors=actors, repeats=args.repeats)
                same = result.files == local.files and torch.equal(
                    result.logits.argmax(dim=1), local.logits.argmax(dim=1)
                )
                assert same, f"Ray with {actors} actor(s) disagrees with the local runner on some prediction"
                gap = float((result.logits - local.logits).abs().max())
                label = f"Ray, {actors} actor{'s' if actors > 1 else ''} x 1 CPU"
                print(
                    f"  {label:<40} {n / result.seconds:7.1f} images/s  ({result.seconds:6.2f} s = {fixed:4.1f} s "
                    f"fixed + {marginal:5.1f} images/s; max |dlogit| {gap:.1e})"
                )
        decode_ms, model_ms = stage_costs(model, labelled)
        batch = default_batch_size(model)
        per_core = decode_ms + model_ms
        print(
            f"  per image, one thread: read+decode+preprocess {decode_ms:6.2f} ms, "
            f"model (batch {batch}) {model_ms:6.2f} ms"
        )
        print(f"  per image and core, decode + model: {per_core:6.2f} ms -> {1e3 / per_core:5.1f} images/s per core")
    if args.install:
        print("ray[data] on disk:")
        installed_size()


if __name__ == "__main__":
    main()
