"""`python -m core evaluate PATH`: a labelled folder or zip through a model (here or on Ray): accuracy,
calibration, the fitted T, label issues, per class; --out writes the results file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli.common import (
    BACKEND_HELP,
    RUNNER_HELP,
    add_model_arguments,
    backend_fields,
    model_labels,
    model_spec,
    progress_line,
    say_backend,
)
from core.config import BACKENDS, DEFAULT_BACKEND
from core.errors import InputError
from core.labels import label_of

if TYPE_CHECKING:
    from core.datasets.classes import ClassResolver
    from core.evaluate.run import EvalResult, Progress
    from core.models.spec import BackendInfo, ModelSpec


def _evaluate_on_ray(
    args: argparse.Namespace, spec: ModelSpec, resolver: ClassResolver, *, progress: Callable[[Progress], None] | None
) -> tuple[EvalResult, BackendInfo]:
    """`evaluate --runner ray`: the same planning and result as the local runner, the model in Ray actors."""
    from core.datasets.sources import open_path
    from core.datasets.uri import is_uri, open_uri
    from core.evaluate.ray import RayOptions, evaluate_on_ray
    from core.evaluate.ray_cluster import ray_cluster
    from core.models.spec import BackendInfo

    options = RayOptions(actors=args.actors, batch_size=args.batch_size, backend=args.backend, features=args.features)
    with ray_cluster(args.address) as cluster:  # first: a cluster that cannot be reached fails in seconds
        if not args.json:
            print(f"runner: {cluster.describe()}", file=sys.stderr)
        labelled = open_uri(args.path, resolver) if is_uri(args.path) else open_path(args.path, resolver)
        result = evaluate_on_ray(spec, labelled, options=options, on_progress=progress)
    reason = "" if args.backend != "auto" else "auto: each Ray actor picks its backend"
    return result, BackendInfo(name=args.backend, requested=args.backend, reason=reason)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from core.backends.choose import backend_info, with_backend
    from core.datasets.classes import resolver_for
    from core.datasets.sources import open_path
    from core.diagnose.summary import diagnosis
    from core.evaluate.files import results_bytes
    from core.evaluate.metrics import calibrate
    from core.evaluate.run import evaluate
    from core.evaluate.summary import summary
    from core.models.registry import load_model

    if args.batch_size is not None and args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {args.batch_size}")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--out must end in .csv or .parquet, got {out.name}")
    spec = model_spec(args)
    labels = model_labels(spec, args.labels)
    if args.runner == "local" and (args.address is not None or args.actors is not None):
        raise InputError("--address and --actors need --runner ray")
    # a live progress bar only where a person watches: never into a log, nor beside --json piped to a tool
    watched = sys.stderr.isatty() and not (args.json and not sys.stdout.isatty())
    progress = progress_line if watched else None
    if args.runner == "ray":
        result, backend = _evaluate_on_ray(args, spec, resolver_for(spec, labels), progress=progress)
    else:
        if "://" in args.path:
            raise InputError(f"{args.path}: a folder URI is read with --runner ray (pyarrow filesystems)")
        labelled = open_path(args.path, resolver_for(spec, labels))
        model = with_backend(load_model(spec), args.backend)
        backend = backend_info(model)
        if not args.json:
            say_backend(backend)
        result = evaluate(model, labelled, batch_size=args.batch_size, on_progress=progress, features=args.features)
    if result.n == 0:
        raise InputError(f"{args.path}: no image could be decoded ({len(result.errors)} errors)")
    fit = calibrate(result.logits, result.targets)
    if out is not None:
        fmt = out.suffix.lower().lstrip(".")
        out.write_bytes(results_bytes(result, fmt=fmt, labels=labels, features=args.features))
    diagnosed = diagnosis(result, labels)
    report = {**summary(result, fit), **diagnosed, **backend_fields(backend)}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    before, after = fit.before, fit.after
    print(
        f"{result.source}: {result.n} images, model {spec.name} on {backend.name}, "
        f"{result.images_per_second:.0f} images/s"
    )
    print(f"  top-1 {before.top1:.2%}  top-5 {before.top5:.2%}")
    print(f"  T = 1:     NLL {before.nll:.4f}  ECE {before.ece:.2%}  MCE {before.mce:.2%}  Brier {before.brier:.4f}")
    print(
        f"  T = {fit.temperature:<6.3f} NLL {after.nll:.4f}  ECE {after.ece:.2%}  MCE {after.mce:.2%}  "
        f"Brier {after.brier:.4f}  (fitted)"
    )
    if fit.probabilities_warning:
        print("  warning: these outputs look like probabilities, not logits; temperature scaling cannot help them")
    for note in result.notes:
        print(f"  note: {note}")
    issues, unavailable = diagnosed["label_issues"], diagnosed["unavailable"]
    assert isinstance(issues, list) and isinstance(unavailable, dict)
    if "label_issues" in unavailable:
        print(f"  likely label errors: not looked for ({unavailable['label_issues']})")
    elif issues:
        # only meaningful on images the model was not trained on (held-out predictions)
        print(f"  likely label errors: {len(issues)} (if the model never trained on these images), most likely first:")
        for issue in issues[:5]:
            given, said = label_of(labels, int(issue["given"])), label_of(labels, int(issue["suggested"]))
            print(f"    {issue['file']}: given {given}, the model says {said}")
    if result.file_notes:
        print(f"  notes on {len(result.file_notes)} images:")
        for file, notes in list(result.file_notes.items())[:5]:
            print(f"    {file}: {'; '.join(notes)}")
        if len(result.file_notes) > 5:
            print(f"    ... and {len(result.file_notes) - 5} more (see --json)")
    if result.errors:
        print(f"  skipped {len(result.errors)}:")
        for error in result.errors[:10]:
            print(f"    {error.name}: {error.reason}")
        if len(result.errors) > 10:
            print(f"    ... and {len(result.errors) - 10} more (see --json)")
    if out is not None:
        print(f"  results written to {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `evaluate` command to the CLI's subparsers."""
    e = sub.add_parser("evaluate", help="evaluate a labelled folder or zip: accuracy, calibration, fitted T")
    e.add_argument("path", metavar="PATH", help="ImageFolder folder or zip (class/image.png), or a zip with labels.csv")
    add_model_arguments(e)
    e.add_argument("--labels", default="en", help="en, zh, or a label file (.txt/.json/.csv)")
    e.add_argument("--batch-size", type=int, help="images per forward pass (default: chosen from the input size)")
    e.add_argument("--out", help="write per-image results with logits to a .parquet or .csv file")
    e.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help=BACKEND_HELP)
    e.add_argument(
        "--features",
        action="store_true",
        help="also keep each image's penultimate-layer features (float16) and write them to --out",
    )
    e.add_argument("--runner", choices=("local", "ray"), default="local", help=RUNNER_HELP)
    e.add_argument("--address", help="with --runner ray: auto, host:port or ray://host:10001 (default: a local Ray)")
    e.add_argument("--actors", type=int, help="with --runner ray: model replicas (default: one per GPU, else per CPU)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)
