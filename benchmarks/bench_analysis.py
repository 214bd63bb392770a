"""One image path vs the old back-and-forth, same images, same run: what `core.analysis.analyse` saves.

Old (the first release): the page decoded each upload for the view, again for the logits, and again for
the preprocessing check (each time a fresh `v2.Compose`). New: `analyse` decodes once, builds the input
once (the transform is built once per spec), runs one forward pass, and the preprocessing check reuses
the decoded image and the logits it has (`normalisation_logits(..., own_logits=result.logits)`).

Also times the stable `core.numerics.top_k` against `torch.topk` on an evaluation-sized logits matrix
(the price of one ranking everywhere).

Run: `python benchmarks/bench_analysis.py [--repeats 5]`. Prints median milliseconds per image.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torchvision.transforms import v2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.analysis import analyse, image_view, normalisation_logits
from core.images import decode_image
from core.inference import predict
from core.models.registry import load_model
from core.numerics import top_k
from core.preprocess import _INTERPOLATION, Preprocessing, normalisation_variants
from core.samples import sample_images


def fresh_compose(pre: Preprocessing) -> v2.Compose:
    """The transform as the first release built it: a new Compose on every call."""
    steps: list[v2.Transform] = [v2.ToImage()]
    if pre.grayscale:
        steps.append(v2.Grayscale(num_output_channels=1))
    steps += [
        v2.Resize(pre.resize, interpolation=_INTERPOLATION[pre.interpolation], antialias=True),
        v2.CenterCrop(pre.crop),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(list(pre.mean), list(pre.std)),
    ]
    return v2.Compose(steps)


def old_path(model, name: str, data: bytes) -> None:
    pre = model.spec.preprocessing
    image_view(decode_image(data, name), pre)  # the view: decode 1
    predict(model, [fresh_compose(pre)(decode_image(data, name).image)])  # the logits: decode 2
    image = decode_image(data, name).image  # the preprocessing check: decode 3
    predict(model, [fresh_compose(p)(image) for p in normalisation_variants(pre).values()])


def new_path(model, name: str, data: bytes) -> None:
    result = analyse(model, name, data)
    normalisation_logits(model, result.image, own_logits=result.logits)


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = load_model("efficientnet_lite0")
    print(f"{'image':<22} {'old ms':>9} {'new ms':>9} {'saved':>7}")
    for sample in sample_images():
        data, name = sample.path.read_bytes(), sample.path.name
        old = median_ms(lambda d=data, n=name: old_path(model, n, d), args.repeats)
        new = median_ms(lambda d=data, n=name: new_path(model, n, d), args.repeats)
        print(f"{name:<22} {old:>9.1f} {new:>9.1f} {1 - new / old:>6.0%}")
    logits = torch.randn(20_000, 1000, generator=torch.Generator().manual_seed(0))
    plain = median_ms(lambda: torch.topk(logits, 5, dim=-1), args.repeats)
    stable = median_ms(lambda: top_k(logits, 5), args.repeats)
    print(f"top-5 of 20,000 x 1,000 logits: torch.topk {plain:.0f} ms, stable core.numerics.top_k {stable:.0f} ms")


if __name__ == "__main__":
    main()
