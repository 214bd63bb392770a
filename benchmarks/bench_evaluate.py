"""Dataset evaluation throughput: `core.evaluate.evaluate` vs a plain one-image-at-a-time loop, same folder.

Two folders, each evaluated both ways in the same run:
- the 540 held-out digits (8x8 PNGs) with the bundled digits_cnn;
- 216 real-size photos (crops and flips of the shipped sample images, re-encoded as JPEG, 320-640 px) with
  EfficientNet-Lite0.

The plain loop is what a script without a DataLoader does: open, transform, forward one image, softmax.
Ours lists the folder and runs batches (of the size `core.evaluate.default_batch_size` picks: 256 digits,
16 photos at 224 x 224) through a DataLoader; by default the first batch's timings decide whether a
worker process decodes beside the model (`core.evaluate.choose_workers`); 0 and 1 worker are timed too.
Both must agree on every prediction; the script checks.

Run: `python benchmarks/bench_evaluate.py [--repeats 3] [--photos-per-sample 24]`.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")

from core.datasets import open_folder, resolver_for
from core.digits import write_digits_folder
from core.evaluate import default_batch_size, evaluate
from core.inference import predict
from core.registry import LoadedModel, load_model, spec_labels
from core.samples import sample_images


def write_photo_folder(root: Path, model: LoadedModel, *, per_sample: int, seed: int = 0) -> int:
    """Random crops (50-100% of the side), flips and sizes of each sample photo, as JPEGs in class folders.

    The class folder is the model's top-1 class for the whole original photo, so every file has a valid label.
    """
    rng = random.Random(seed)
    labels = spec_labels(model.spec)
    count = 0
    for sample in sample_images():
        with Image.open(sample.path) as opened:
            original = opened.convert("RGB")
        folder = root / labels[int(predict(model, [original])[0].argmax())]
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_sample):
            side = rng.uniform(0.5, 1.0)
            w, h = int(original.width * side), int(original.height * side)
            x, y = rng.randint(0, original.width - w), rng.randint(0, original.height - h)
            image = original.crop((x, y, x + w, y + h))
            if rng.random() < 0.5:
                image = ImageOps.mirror(image)
            image.thumbnail((rng.randint(320, 640),) * 2)
            image.save(folder / f"{sample.name}_{index:03d}.jpg", quality=90)
            count += 1
    return count


def plain_loop(model: LoadedModel, files: list[Path]) -> list[int]:
    """The baseline: for each file, open, transform, forward one image, softmax."""
    transform = model.spec.preprocessing.transform()
    predictions = []
    with torch.inference_mode():
        for path in files:
            with Image.open(path) as image:
                x = transform(image.convert("RGB"))
            probs = torch.softmax(model.module(x[None].to(model.device)), dim=1)
            predictions.append(int(probs.argmax()))
    return predictions


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the DataLoader workers), in seconds."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def bench(name: str, model: LoadedModel, root: Path, *, repeats: int) -> dict[str, float]:
    """Images per second of each way, best of `repeats` rounds, and CPU milliseconds per image.

    The ways take turns within a round, so a busy neighbour on a shared machine slows them alike; CPU time
    per image barely depends on such a neighbour, wall time does.
    """
    resolver = resolver_for(model.spec, spec_labels(model.spec))
    labelled = open_folder(root, resolver)
    files = [root / f for f in labelled.files]
    n = len(files)

    def ours(workers: int | None) -> Callable[[], list[int]]:
        def run() -> list[int]:
            listed = open_folder(root, resolver)  # listing the folder is part of our cost
            return evaluate(model, listed, num_workers=workers).logits.argmax(dim=1).tolist()

        return run

    batch = default_batch_size(model)
    ways: dict[str, Callable[[], list[int]]] = {
        "plain loop, one image at a time": lambda: plain_loop(model, files),
        f"evaluate (batches of {batch}, default)": ours(None),
        f"evaluate (batches of {batch}, 0 workers)": ours(0),
        f"evaluate (batches of {batch}, 1 worker)": ours(1),
    }
    plain_loop(model, files[:8])  # warm up: the first forward passes allocate
    best = dict.fromkeys(ways, float("inf"))
    cpu = dict.fromkeys(ways, float("inf"))
    answers: dict[str, list[int]] = {}
    for _ in range(repeats):
        for way, run in ways.items():
            start, start_cpu = time.perf_counter(), _cpu_seconds()
            answers[way] = run()
            best[way] = min(best[way], time.perf_counter() - start)
            cpu[way] = min(cpu[way], _cpu_seconds() - start_cpu)
    first = next(iter(answers.values()))
    assert all(a == first for a in answers.values()), "the ways disagree on some prediction"
    print(f"{name}: {n} images, model {model.spec.name}, best of {repeats}")
    for way, seconds in best.items():
        print(f"  {way:<38} {n / seconds:8.1f} images/s  ({seconds:6.2f} s, {1e3 * cpu[way] / n:6.2f} CPU ms/image)")
    plain, ours_s = best["plain loop, one image at a time"], best[f"evaluate (batches of {batch}, default)"]
    print(f"  {'ratio evaluate (default) / plain loop':<38} {plain / ours_s:8.2f}x")
    return {way: n / seconds for way, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of N timed runs per variant")
    parser.add_argument("--photos-per-sample", type=int, default=24)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        digits_root = write_digits_folder(Path(tmp) / "digits")
        bench("digits", load_model("digits_cnn"), digits_root, repeats=args.repeats)
        lite0 = load_model("efficientnet_lite0")
        photos = Path(tmp) / "photos"
        count = write_photo_folder(photos, lite0, per_sample=args.photos_per_sample)
        assert count >= 200, f"only {count} photos: need at least 200 (more sample images or --photos-per-sample)"
        bench("photos", lite0, photos, repeats=args.repeats)


if __name__ == "__main__":
    main()
