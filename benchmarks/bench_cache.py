"""The Inspector's analysis cache over many large uploads: bounded by count (the first release's 256 entries,
`st.cache_resource(max_entries=256)`) vs bounded by memory (`ui.cache`, `SETTINGS.analysis_cache_bytes`).

Each "upload" is a distinct 12-megapixel JPEG (4000 x 3000, what a phone takes); both caches see the same
ones, each in a fresh process. Prints the resident memory each cache leaves and what it
holds (`core.analysis.result_nbytes`). Memory figures, not timings: run it anywhere.

    python benchmarks/bench_cache.py [--uploads 60] [--side 4000x3000]
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")

from core.analysis import ImageResult, analyse, result_nbytes
from core.config import SETTINGS
from core.models.registry import load_model
from core.models.spec import LoadedModel
from ui.cache import _Analyses


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def photo(index: int, width: int, height: int) -> bytes:
    """A distinct photo-sized JPEG (smooth noise, so it compresses like a photo, not like a flat colour)."""
    rng = np.random.default_rng(index)
    small = (rng.random((height // 50, width // 50, 3)) * 255).astype("uint8")
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


class CountBounded:
    """The first release's policy: the 256 most recent results, whatever their size."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.results: OrderedDict[str, ImageResult] = OrderedDict()

    def __call__(self, model: LoadedModel, name: str, data: bytes) -> None:
        self.results[name] = analyse(model, name, data)
        while len(self.results) > self.entries:
            self.results.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(result_nbytes(r) for r in self.results.values())


def run(policy: str, uploads: int, width: int, height: int) -> None:
    """One policy in this process: analyse every upload through it, print what it keeps and the RSS it adds."""
    model = load_model("efficientnet_lite0")
    files = [(f"phone-{i:03d}.jpg", photo(i, width, height)) for i in range(uploads)]
    analyse(model, "warm-up", files[0][1])
    gc.collect()
    base = rss_mb()
    if policy == "count":
        old = CountBounded(256)
        for name, data in files:
            old(model, name, data)
        kept, held, title = len(old.results), old.nbytes, "count-bounded (256 entries)"
    else:
        new = _Analyses(SETTINGS.analysis_cache_bytes)
        for name, data in files:
            new("lite0", name, name, model, data)
        kept, held = len(new), new.nbytes
        title = f"memory-bounded ({SETTINGS.analysis_cache_bytes / 2**20:.0f} MB)"
    gc.collect()
    print(
        f"  {title:<28} keeps {kept:3d}, holds {held / 2**20:6.0f} MB, RSS {base:.0f} -> {rss_mb():.0f} MB", flush=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=60)
    parser.add_argument("--side", default="4000x3000", help="width x height of each upload")
    parser.add_argument(
        "--policy", choices=("count", "memory"), help="run one policy here (the default: both, each in its own process)"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.side.split("x"))
    if args.policy:
        run(args.policy, args.uploads, width, height)
        return
    print(f"{args.uploads} distinct {width}x{height} JPEGs through each cache, each in a fresh process")
    for policy in ("count", "memory"):
        command = [sys.executable, __file__, "--policy", policy, "--uploads", str(args.uploads), "--side", args.side]
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
