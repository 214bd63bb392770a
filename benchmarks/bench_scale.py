"""Issue 19 at the user's scale: an ImageNet-validation-sized results file (50,000 images x 1,000 classes, 1,280-d
features; synthetic, seeded, realistic: tests/synthetic.py) through today's code and the old code (39afb49), side by
side in one run.

Each side runs in a process of its own (so its peak RSS is its own): today's in this tree, the old one in the tree
of `git archive 39afb49` unpacked to a temporary folder (its own `core`, nothing copied into ours). Both time, on
the same data: reading the results file (each side's own format), one plain numpy log-softmax pass over the same
logits (the yardstick, in the same process), one re-score at a new T, fitting T, one image's look-alikes,
near-duplicate pairs (with the recall of the planted pairs), the PCA map, and the peak RSS. Today's side also
checks the look-alikes against scikit-learn's exact cosine neighbours (recall at k = 8) and times t-SNE on its sample.

Then whole processes, `--reps` pairs run in turn (the median of the pairs' ratios): `python -m core evaluate
RESULTS.parquet --temperature T --json` against a plain pandas + numpy script that reads the same file and computes
one log-softmax; and `--out` rewriting the file compact, its bytes against the raw float32 logits.

    .venv/bin/python benchmarks/bench_scale.py                    # 50,000 x 1,000 (about 15 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_scale.py --n 10000 --quick  # a quick look (old near-duplicates skipped)

The machine is shared: read ratios measured in the same run, not absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OLD_REF = "39afb49"
TEMPERATURE = 2.5

# steps both sides share: the data, the yardstick, a timer and the report line
COMMON = """
import json, os, resource, sys, time
import numpy as np, torch
DATA = sys.argv[1]
figures = {}
def timed(name, step):
    start = time.perf_counter()
    out = step()
    figures[name] = time.perf_counter() - start
    return out
def log_softmax_pass(z):  # the yardstick: one plain numpy log-softmax over the whole array
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
def planted_recall(pairs):
    planted = set(map(tuple, np.load(os.path.join(DATA, "pairs.npy")).tolist()))
    found = set(zip(pairs["a"].tolist(), pairs["b"].tolist()))
    figures["duplicates_recall"] = len(planted & found) / len(planted)
    figures["duplicates_found"] = len(found)
def finish():
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("FIGURES " + json.dumps(figures), flush=True)
"""

NEW_SIDE = """
from core.diagnose.embedding import FeatureIndex, pca_map, tsne_map, tsne_rows
from core.evaluate.files import read_results
from core.evaluate.rescore import Rescorer
result = timed("read", lambda: read_results(os.path.join(DATA, "new.parquet")))
figures["rss_after_read_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
z = result.logits.numpy()
timed("numpy_pass", lambda: log_softmax_pass(z))
scorer = timed("prepare", lambda: Rescorer(result))
timed("rescore", lambda: scorer.at(TEMPERATURE))
fitted = timed("fit", lambda: scorer.fit_temperature())
figures["fitted_t"] = fitted
index = timed("index", lambda: FeatureIndex(result.features))
timed("lookalikes", lambda: index.neighbours([123], k=8))  # the first query makes the bfloat16 sketch
timed("lookalikes_next", lambda: index.neighbours([4567], k=8))
# recall at k = 8 against scikit-learn's exact cosine neighbours, 20 queries
from sklearn.neighbors import NearestNeighbors
queries = np.random.default_rng(1).choice(result.n, 20, replace=False)
ours, _ = index.neighbours(queries, k=8)
features = result.features.float().numpy()
exact = NearestNeighbors(n_neighbors=9, metric="cosine", algorithm="brute").fit(features)
_, theirs = exact.kneighbors(features[queries])
del features
hits = [len(set(a) & set(b[1:])) / 8 for a, b in zip(ours.tolist(), theirs.tolist())]
figures["lookalikes_recall"] = float(np.mean(hits))
pairs = timed("duplicates", lambda: index.duplicates())
planted_recall(pairs)
timed("pca", lambda: pca_map(result.features))
rows = tsne_rows(result.n)
figures["tsne_points"] = len(rows)
if TSNE:
    timed("tsne", lambda: tsne_map(result.features[torch.from_numpy(rows)]))
finish()
"""

OLD_SIDE = """
from core.diagnose import embedding
from core.evaluate.files import read_results
from core.evaluate.metrics import fit_temperature
from core.evaluate.rescore import score_at
result = timed("read", lambda: read_results(open(os.path.join(DATA, "old.parquet"), "rb").read(), "old.parquet"))
figures["rss_after_read_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
z = result.logits.numpy()
timed("numpy_pass", lambda: log_softmax_pass(z))
names = [f"class {i}" for i in range(result.num_classes)]
timed("rescore", lambda: score_at(result, names, temperature=TEMPERATURE, bins=15))
figures["fitted_t"] = timed("fit", lambda: fit_temperature(result.logits, result.targets))
unit = timed("index", lambda: embedding.unit_rows(result.features))
timed("lookalikes", lambda: embedding.nearest_neighbours(unit, [123], k=8))
timed("lookalikes_next", lambda: embedding.nearest_neighbours(unit, [4567], k=8))
if DUPLICATES:
    planted_recall(timed("duplicates", lambda: embedding.near_duplicates(unit)))
timed("pca", lambda: embedding.pca_map(result.features))
finish()
"""

OLD_WRITE = """
import time, numpy as np, torch
from core.evaluate.files import results_bytes
from core.evaluate.run import EvalResult
data = sys.argv[1]
files = tuple(open(os.path.join(data, "files.txt")).read().split("\\n"))
result = EvalResult(files, torch.from_numpy(np.load(os.path.join(data, "targets.npy"))),
                    torch.from_numpy(np.load(os.path.join(data, "logits.npy"))), model="synthetic",
                    features=torch.from_numpy(np.load(os.path.join(data, "features.npy"))))
start = time.perf_counter()
blob = results_bytes(result, fmt="parquet", features=True)
open(os.path.join(data, "old.parquet"), "wb").write(blob)
print("FIGURES " + json.dumps({"write": time.perf_counter() - start}))
"""

BASELINE_SCRIPT = """
import sys
import numpy as np
import pandas as pd
frame = pd.read_parquet(sys.argv[1], columns=["target", "logits"])
z = np.stack(frame["logits"].to_numpy())
shifted = z - z.max(axis=1, keepdims=True)
log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
print(float(-log_p[np.arange(len(z)), frame["target"].to_numpy()].mean()))
"""


def run_side(code: str, cwd: Path, data: Path, **constants: object) -> dict[str, float]:
    """Run `code` (after COMMON) in a fresh Python in `cwd`; the figures it printed."""
    head = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    script = head + textwrap.dedent(COMMON) + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(data)], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("FIGURES ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"side in {cwd} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(line[len("FIGURES ") :])


def wall(command: list[str], reps: int) -> tuple[float, list[float]]:
    """Median wall time of `reps` runs of a whole process (and all of them)."""
    times = [_once(command) for _ in range(reps)]
    return statistics.median(times), times


def _once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def paired(a: list[str], b: list[str], reps: int) -> tuple[list[float], list[float], float]:
    """`reps` pairs of whole processes run in turn (A B A B ...): both lists of wall times and the median of the
    pairs' ratios A / B. Pairing keeps the ratio fair when the machine's speed drifts: a results file's first read
    and the kernel's page zeroing (0.3 to 2.8 s of system time for the plain script's 1.4 GB) move both sides."""
    times_a, times_b = [], []
    for _ in range(reps):
        times_a.append(_once(a))
        times_b.append(_once(b))
    return times_a, times_b, statistics.median(x / y for x, y in zip(times_a, times_b, strict=True))


def unpack(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def row(name: str, new: object, old: object, note: str = "") -> None:
    print(f"  {name:<44}{new!s:>18}{old!s:>18}  {note}")


def seconds(figures: dict[str, float], key: str) -> str:
    return f"{figures[key]:.2f} s" if key in figures else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--classes", type=int, default=1_000)
    parser.add_argument("--dim", type=int, default=1_280)
    parser.add_argument("--reps", type=int, default=5, help="pairs of whole processes (CLI, then the plain script)")
    parser.add_argument("--old", default=OLD_REF, help="git ref of the old code (default: 39afb49)")
    parser.add_argument("--quick", action="store_true", help="skip the old near-duplicates (minutes) and t-SNE")
    args = parser.parse_args()

    from core.evaluate.files import write_results
    from tests.synthetic import synthetic_result

    with tempfile.TemporaryDirectory(prefix="logitscope-scale-") as tmp:
        data = Path(tmp)
        start = time.perf_counter()
        made = synthetic_result(args.n, args.classes, args.dim)
        result = made.result
        print(
            f"{args.n:,} images x {args.classes:,} classes, {args.dim}-d float16 features (synthetic, seed 0; made in "
            f"{time.perf_counter() - start:.0f} s); T = {TEMPERATURE}; old code: {args.old}; 2 shared, busy cores: "
            "compare the ratios of one run, not the seconds",
            flush=True,
        )
        raw_logits = result.logits.numel() * 4
        raw_features = result.features.numel() * 4 if result.features is not None else 0
        start = time.perf_counter()
        write_results(result, data / "new.parquet", fmt="parquet", features=True)
        new_write = time.perf_counter() - start
        np.save(data / "pairs.npy", made.pairs)
        np.save(data / "logits.npy", result.logits.numpy())
        np.save(data / "targets.npy", result.targets.numpy())
        if result.features is not None:
            np.save(data / "features.npy", result.features.numpy())
        (data / "files.txt").write_text("\n".join(result.files))
        del made, result
        old_tree = unpack(args.old, Path(tempfile.mkdtemp(prefix="logitscope-old-", dir=tmp)))
        print("  writing the old format with the old code …", flush=True)
        old_write = run_side(OLD_WRITE, old_tree, data)["write"]
        print("  today's side …", flush=True)
        new = run_side(NEW_SIDE, ROOT, data, TEMPERATURE=TEMPERATURE, TSNE=not args.quick)
        print("  the old side …", flush=True)
        old = run_side(OLD_SIDE, old_tree, data, TEMPERATURE=TEMPERATURE, DUPLICATES=not args.quick)

        print("  whole processes …", flush=True)
        cli = [sys.executable, "-m", "core", "evaluate", str(data / "new.parquet"), "--temperature", str(TEMPERATURE)]
        plain = [sys.executable, "-c", BASELINE_SCRIPT, str(data / "new.parquet")]
        cli_all, base_all, cli_ratio = paired([*cli, "--json"], plain, args.reps)
        cli_s, base_s = statistics.median(cli_all), statistics.median(base_all)
        out_s, _ = wall([*cli, "--out", str(data / "out.parquet")], 1)
        out_bytes = (data / "out.parquet").stat().st_size

        new_size, old_size = (data / "new.parquet").stat().st_size, (data / "old.parquet").stat().st_size
        mb = 1024 * 1024
        print()
        print(f"  {'':<44}{'today':>18}{'old (' + args.old + ')':>18}")
        row("results file with features, MB", f"{new_size / mb:.0f}", f"{old_size / mb:.0f}")
        row("  raw float32 logits + features, MB", f"{(raw_logits + raw_features) / mb:.0f}", "")
        row("  write, s", f"{new_write:.1f}", f"{old_write:.1f}")
        row("read the results file", seconds(new, "read"), seconds(old, "read"))
        row("one plain numpy log-softmax pass (yardstick)", seconds(new, "numpy_pass"), seconds(old, "numpy_pass"))
        row("prepare (once per file: max, runner-up, ranks)", seconds(new, "prepare"), "—")
        row("one re-score at a new T", seconds(new, "rescore"), seconds(old, "rescore"))
        ratio_new = new["rescore"] / new["numpy_pass"]
        ratio_old = old["rescore"] / old["numpy_pass"]
        row("  re-score / numpy pass (goal <= 3)", f"{ratio_new:.2f}x", f"{ratio_old:.2f}x")
        row("fit T", seconds(new, "fit"), seconds(old, "fit"))
        row(
            "  fitted T",
            f"{new['fitted_t']:.9f}",
            f"{old['fitted_t']:.9f}",
            f"|diff| {abs(new['fitted_t'] - old['fitted_t']):.1e}",
        )
        row("features index (norms / unit rows)", seconds(new, "index"), seconds(old, "index"))
        row("one image's 8 look-alikes (first query)", seconds(new, "lookalikes"), seconds(old, "lookalikes"))
        row("  another image's (a later query)", seconds(new, "lookalikes_next"), seconds(old, "lookalikes_next"))
        row("  recall at 8 vs scikit-learn exact", f"{new['lookalikes_recall']:.3f}", "")
        row("near-duplicate pairs >= 0.98", seconds(new, "duplicates"), seconds(old, "duplicates"))
        recall_old = f"{old['duplicates_recall']:.3f}" if "duplicates_recall" in old else "—"
        row("  recall of the planted pairs", f"{new['duplicates_recall']:.3f}", recall_old)
        row("PCA map", seconds(new, "pca"), seconds(old, "pca"))
        row(f"t-SNE of {new['tsne_points']:,} images (sample)", seconds(new, "tsne"), "—")
        row("peak RSS of the side's process, MB", f"{new['peak_rss_mb']:.0f}", f"{old['peak_rss_mb']:.0f}")
        row("  RSS after reading, MB", f"{new['rss_after_read_mb']:.0f}", f"{old['rss_after_read_mb']:.0f}")
        print()
        print(
            f"  whole processes, {args.reps} pairs run in turn (all: CLI {', '.join(f'{x:.1f}' for x in cli_all)} s; "
            f"plain {', '.join(f'{x:.1f}' for x in base_all)} s)"
        )
        print(f"  python -m core evaluate RESULTS.parquet --temperature {TEMPERATURE} --json  {cli_s:8.1f} s")
        print(f"  plain pandas + numpy: read it, one log-softmax            {base_s:8.1f} s")
        print(f"  CLI / plain, median of the pairs' ratios (goal <= 3)       {cli_ratio:8.2f}x")
        print(
            f"  --out (compact, logits only): {out_bytes / mb:.0f} MB in {out_s:.1f} s; raw float32 logits "
            f"{raw_logits / mb:.0f} MB ({out_bytes / raw_logits:.2f}x)"
        )


if __name__ == "__main__":
    main()
