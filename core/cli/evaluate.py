"""`python -m core evaluate PATH`: a labelled folder or zip through a model (here or on Ray): accuracy,
calibration, the fitted T, label issues, per class; --out writes the results file.

`python -m core evaluate RESULTS.parquet|.csv [--temperature T]`: a results file re-scored without any model (the
twin of the Evaluation page's "Load a results file"): every summary figure at T and at the fitted T; --out rewrites
it in the compact format, --diagnose adds the label issues and the per-class report."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli import doubt
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
    from core.evaluate.metrics import TemperatureFit
    from core.evaluate.result import EvalResult, Progress
    from core.models.spec import BackendInfo, LoadedModel, ModelSpec


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


RESULTS_SUFFIXES = (".csv", ".parquet")


def _out_path(args: argparse.Namespace) -> Path | None:
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in RESULTS_SUFFIXES:
        raise InputError(f"--out must end in .csv or .parquet, got {out.name}")
    return out


def cmd_evaluate(args: argparse.Namespace) -> int:
    from core.numerics import check_temperature

    check_temperature(args.temperature)
    if Path(args.path).suffix.lower() in RESULTS_SUFFIXES and "://" not in args.path:
        return _rescore_file(args)
    return _evaluate_set(args)


def _rescore_file(args: argparse.Namespace) -> int:
    """A results file re-scored at --temperature without any model: the same JSON keys as a run."""
    from core.evaluate.files import read_results, write_results
    from core.evaluate.rescore import Rescorer
    from core.evaluate.summary import summary

    if args.runner != "local":
        raise InputError("a results file is re-scored here: --runner ray runs a model over a folder")
    out = _out_path(args)
    result = read_results(args.path, features=args.features)  # the features only when --out keeps them
    outside = doubt.outside_from_args(args, model=result.model, num_classes=result.num_classes)
    fit = Rescorer(result).calibrate(temperature=args.temperature)
    labels = _file_labels(args, result.num_classes)

    def load() -> LoadedModel:  # only for unlabelled --ood images: the file's own model, by name
        from core.backends.choose import with_backend
        from core.models.registry import load_model

        return with_backend(load_model(result.model or args.model), args.backend)

    report = {**summary(result, fit), **doubt.report(args, result, fit.temperature, outside, load)}
    if args.diagnose:
        from core.diagnose.summary import diagnosis

        report |= diagnosis(result, labels)
    if out is not None:
        write_results(result, out, fmt=out.suffix.lower().lstrip("."), labels=labels, features=args.features)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"{result.source}: {result.n} images, model {result.model or '?'} (re-scored from the file, no model run)")
    _print_fit(fit)
    doubt.print_lines(report)
    if out is not None:
        print(f"  results written to {out}")
    return 0


def _file_labels(args: argparse.Namespace, num_classes: int) -> list[str]:
    """--labels FILE when given, else "class i" (a results file does not say which label set it used)."""
    from core.labels import LABEL_LANGUAGES, index_labels, read_label_file, validate_labels

    if args.labels in LABEL_LANGUAGES:
        return index_labels(num_classes)
    labels = read_label_file(args.labels)
    validate_labels(labels, num_classes, source=args.labels)
    return labels


def _print_fit(fit: TemperatureFit) -> None:
    before, after = fit.before, fit.after
    print(f"  top-1 {before.top1:.2%}  top-5 {before.top5:.2%}")
    at = f"T = {before.temperature:g}:"
    print(f"  {at:<10} NLL {before.nll:.4f}  ECE {before.ece:.2%}  MCE {before.mce:.2%}  Brier {before.brier:.4f}")
    print(
        f"  T = {fit.temperature:<6.3f} NLL {after.nll:.4f}  ECE {after.ece:.2%}  MCE {after.mce:.2%}  "
        f"Brier {after.brier:.4f}  (fitted)"
    )
    if fit.probabilities_warning:
        print("  warning: these outputs look like probabilities, not logits; temperature scaling cannot help them")


def _evaluate_set(args: argparse.Namespace) -> int:
    """A labelled folder or zip through the model."""
    from core.backends.choose import backend_info, with_backend
    from core.datasets.classes import resolver_for
    from core.datasets.sources import open_path
    from core.diagnose.summary import diagnosis
    from core.evaluate.files import write_results
    from core.evaluate.rescore import Rescorer
    from core.evaluate.run import evaluate
    from core.evaluate.summary import summary
    from core.models.registry import load_model

    if args.batch_size is not None and args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {args.batch_size}")
    out = _out_path(args)
    spec = model_spec(args)
    labels = model_labels(spec, args.labels)
    outside = doubt.outside_from_args(args, model=spec.name, num_classes=spec.num_classes)  # before the run: fails fast
    if args.runner == "local" and (args.address is not None or args.actors is not None):
        raise InputError("--address and --actors need --runner ray")
    # a live progress bar only where a person watches: never into a log, nor beside --json piped to a tool
    watched = sys.stderr.isatty() and not (args.json and not sys.stdout.isatty())
    progress = progress_line if watched else None
    model: LoadedModel | None = None  # the local runner's, reused for the --ood images
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
    fit = Rescorer(result).calibrate(temperature=args.temperature)
    if out is not None:
        write_results(result, out, fmt=out.suffix.lower().lstrip("."), labels=labels, features=args.features)
    diagnosed = diagnosis(result, labels)
    section = doubt.report(
        args, result, fit.temperature, outside, lambda: model or with_backend(load_model(spec), args.backend)
    )
    report = {**summary(result, fit), **diagnosed, **backend_fields(backend), **section}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(
        f"{result.source}: {result.n} images, model {spec.name} on {backend.name}, "
        f"{result.images_per_second:.0f} images/s"
    )
    _print_fit(fit)
    doubt.print_lines(section)
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
    e = sub.add_parser(
        "evaluate",
        help="evaluate a labelled folder or zip (or re-score a results file): accuracy, calibration, fitted T",
    )
    e.add_argument(
        "path",
        metavar="PATH",
        help="ImageFolder folder or zip (class/image.png), a zip with labels.csv, or a results file (.parquet, .csv) "
        "to re-score without any model",
    )
    e.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="score at this T (default 1); the fitted T is reported beside it",
    )
    add_model_arguments(e)
    e.add_argument("--labels", default="en", help="en, zh, or a label file (.txt/.json/.csv)")
    e.add_argument("--batch-size", type=int, help="images per forward pass (default: chosen from the input size)")
    e.add_argument(
        "--out",
        help="write per-image results with logits to a .parquet (compact) or .csv file; for a results file: rewrite it",
    )
    e.add_argument(
        "--diagnose",
        action="store_true",
        help="for a results file: also the label issues and the per-class report (a run always has them)",
    )
    e.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help=BACKEND_HELP)
    e.add_argument(
        "--features",
        action="store_true",
        help="also keep each image's penultimate-layer features (float16) and write them to --out (for a results "
        "file: keep its features in --out)",
    )
    e.add_argument("--runner", choices=("local", "ray"), default="local", help=RUNNER_HELP)
    e.add_argument("--address", help="with --runner ray: auto, host:port or ray://host:10001 (default: a local Ray)")
    e.add_argument("--actors", type=int, help="with --runner ray: model replicas (default: one per GPU, else per CPU)")
    doubt.add_arguments(e)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)
