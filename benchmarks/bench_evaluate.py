"""Dataset evaluation throughput: a plain one-image-at-a-time loop vs `core.evaluate.run.evaluate` on torch and
on ONNX Runtime, on the same folder, in one run.

The folder: >= 200 real-size photos made from the shipped sample photos (random crops of 60-100% of the side,
flips, rotations of up to 15 degrees, scaled back to the original's size, JPEG quality 90), in class folders
named by WordNet id (the torch model's top-1 class of the whole original photo, so every label is valid).

- plain loop: what a script without a DataLoader does: PIL open, transforms, eager forward of one image, softmax;
- evaluate (torch): batches through the pipelined runner on torch eager;
- evaluate (onnxruntime): the same on the verified ONNX Runtime export;
- ... with features: what the Evaluation page runs (it keeps each image's penultimate-layer features for the
  embedding map and look-alikes), on torch (a hook) and on ONNX Runtime (the export with features).

Each way prints images/s (best of --repeats, taking turns so a busy neighbour slows them alike), its ratio to
the plain loop and its max |Δlogit| against the plain loop's torch logits; all must agree on every prediction.
Goal on a 2-core CPU: evaluate on onnxruntime >= 3x the plain loop.

    python benchmarks/bench_evaluate.py [--repeats 3] [--photos-per-sample 24] [--model efficientnet_lite0]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image, ImageOps
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")

from core.backends.choose import backend_info, with_backend
from core.datasets.classes import imagenet_wnids, resolver_for
from core.datasets.sources import open_folder
from core.digits import write_digits_folder
from core.evaluate.run import default_batch_size, evaluate
from core.models.labels import spec_labels
from core.models.registry import load_model
from core.models.spec import LoadedModel
from core.samples import sample_images


def write_photo_folder(root: Path, model: LoadedModel, *, per_sample: int, seed: int = 0) -> int:
    """Augmented real-size copies of each sample photo as JPEGs, in class folders named by WordNet id."""
    rng = random.Random(seed)
    wnids = imagenet_wnids() if model.spec.label_set == "imagenet" else spec_labels(model.spec)
    transform = model.spec.preprocessing.transform()
    count = 0
    for sample in sample_images():
        with Image.open(sample.path) as opened:
            original = opened.convert("RGB")
        with torch.inference_mode():
            top1 = int(model.module(transform(original)[None]).argmax())
        folder = root / wnids[top1]
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_sample):
            side = rng.uniform(0.6, 1.0)
            w, h = int(original.width * side), int(original.height * side)
            x, y = rng.randint(0, original.width - w), rng.randint(0, original.height - h)
            image = original.crop((x, y, x + w, y + h))
            if rng.random() < 0.5:
                image = ImageOps.mirror(image)
            image = image.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)
            image = image.resize(original.size, Image.Resampling.BICUBIC)  # real size again
            image.save(folder / f"{sample.name}_{index:03d}.jpg", quality=90)
            count += 1
    return count


def plain_loop(model: LoadedModel, files: list[Path]) -> Tensor:
    """The baseline: for each file, PIL open, transform, eager forward of one image, softmax; its logits."""
    transform = model.spec.preprocessing.transform()
    rows = []
    with torch.inference_mode():
        for path in files:
            with Image.open(path) as image:
                x = transform(image.convert("RGB"))
            logits = model.module(x[None])
            torch.softmax(logits, dim=1)  # what the loop would show
            rows.append(logits[0].float())
    return torch.stack(rows)


def bench(
    name: str,
    oracle: LoadedModel,
    root: Path,
    *,
    repeats: int,
    compare_workers: tuple[int, ...] = (),
    batch_sizes: tuple[int, ...] = (),
) -> dict[str, float]:
    """Images/s of each way on the folder at `root`, best of `repeats` rounds taken in turns."""
    resolver = resolver_for(oracle.spec, spec_labels(oracle.spec))
    files = [root / f for f in open_folder(root, resolver).files]
    n = len(files)
    on_ort = with_backend(oracle, "onnxruntime")
    if backend_info(on_ort).name != "onnxruntime":
        raise SystemExit(f"onnxruntime is not used for {oracle.spec.name}: {backend_info(on_ort).reason}")
    on_torch = with_backend(oracle, "torch")

    def ours(model: LoadedModel, features: bool = False, **knobs: int) -> Callable[[], Tensor]:
        def run() -> Tensor:
            listed = open_folder(root, resolver)  # listing the folder is part of our cost
            result = evaluate(model, listed, features=features, **knobs)  # type: ignore[arg-type]
            assert result.n == n, f"{n - result.n} images failed"
            assert (result.features is not None) == features
            return result.logits

        return run

    batch = default_batch_size(oracle)
    ways: dict[str, Callable[[], Tensor]] = {
        "plain loop (PIL, transforms, eager, softmax)": lambda: plain_loop(oracle, files),
        f"evaluate on torch (batches of {batch})": ours(on_torch),
        f"evaluate on onnxruntime (batches of {batch})": ours(on_ort),
        "  with features on torch": ours(on_torch, features=True),
        "  with features on onnxruntime (the page)": ours(on_ort, features=True),
    }
    for workers in compare_workers:  # decoding in a thread (0) vs worker processes
        ways[f"  onnxruntime, {workers} worker processes" if workers else "  onnxruntime, decoding thread"] = ours(
            on_ort, num_workers=workers
        )
    for size in batch_sizes:
        ways[f"  onnxruntime, batches of {size}"] = ours(on_ort, batch_size=size)
    plain_loop(oracle, files[:4])  # warm up: the first forward passes allocate
    ours(on_ort)()
    ours(on_ort, features=True)()  # and the export with features is made (cached) before the clock
    best = dict.fromkeys(ways, float("inf"))
    logits: dict[str, Tensor] = {}
    for _ in range(repeats):
        for way, run in ways.items():
            start = time.perf_counter()
            logits[way] = run()
            best[way] = min(best[way], time.perf_counter() - start)
    reference = next(iter(logits.values()))
    print(f"{name}: {n} images, model {oracle.spec.name}, {torch.get_num_threads()} torch threads, best of {repeats}")
    plain_s = next(iter(best.values()))
    for way, seconds in best.items():
        delta = float((logits[way] - reference).abs().max())
        print(
            f"  {way:<48} {n / seconds:7.1f} images/s  {plain_s / seconds:5.2f}x the plain loop  "
            f"max |Δlogit| vs torch {delta:.1e}"
        )
    predictions = {way: z.argmax(dim=1) for way, z in logits.items()}
    agree = all(torch.equal(p, predictions[next(iter(predictions))]) for p in predictions.values())
    print(f"  every prediction agrees across all {len(predictions)}: {agree}")
    assert agree, "the ways disagree on some prediction"
    return {way: n / seconds for way, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of N timed runs per way")
    parser.add_argument("--photos-per-sample", type=int, default=24)
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--digits", action="store_true", help="also the 540 held-out digits with digits_cnn")
    parser.add_argument("--workers", default="", help="also time onnxruntime with these workers, e.g. 0,1,2")
    parser.add_argument("--batch-sizes", default="", help="also time onnxruntime at these batch sizes, e.g. 4,8,16")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        model = load_model(args.model)
        photos = Path(tmp) / "photos"
        count = write_photo_folder(photos, model, per_sample=args.photos_per_sample)
        assert count >= 200, f"only {count} photos: need at least 200 (more sample images or --photos-per-sample)"
        workers = tuple(int(w) for w in args.workers.split(",") if w)
        sizes = tuple(int(b) for b in args.batch_sizes.split(",") if b)
        rates = bench("photos", model, photos, repeats=args.repeats, compare_workers=workers, batch_sizes=sizes)
        plain, ort = next(iter(rates.values())), list(rates.values())[2]
        print(f"  goal evaluate on onnxruntime >= 3x the plain loop: {ort / plain:.2f}x")
        if args.digits:
            digits = write_digits_folder(Path(tmp) / "digits")
            bench("digits", load_model("digits_cnn"), digits, repeats=args.repeats, compare_workers=workers)


if __name__ == "__main__":
    main()
