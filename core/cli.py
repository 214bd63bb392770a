"""Command-line interface: `python -m core predict|softmax|evaluate|report|models ...` (a contract other tools call).

Bad arguments print one line on stderr and exit 2. `predict` goes on past a bad image, reports it,
and exits 1 if any image failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import torch

# Only what every command needs is imported here: `softmax` must not pay for torchvision, pandas or the
# dataset code. Each command imports the rest itself (see _heavy()).
from core.backends import BACKENDS, DEFAULT_BACKEND
from core.config import SETTINGS
from core.errors import InputError, LabelError, LogitscopeError
from core.labels import LABEL_LANGUAGES, label_of, read_label_file, validate_labels
from core.numerics import (
    as_logits,
    check_claims,
    check_temperature,
    entropy,
    log_softmax,
    softmax,
    top_k,
)

if TYPE_CHECKING:
    from core.backends import BackendInfo
    from core.datasets import ClassResolver, LabelledSet
    from core.evaluate import EvalResult, Progress
    from core.registry import LoadedModel, ModelSpec


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def _top_k_records(
    logits: torch.Tensor, labels: Sequence[str], *, k: int, temperature: float
) -> list[dict[str, object]]:
    z = as_logits(logits).reshape(-1).to(torch.float64)
    probs = softmax(z, temperature=temperature)
    best = top_k(z, k)  # the one stable ranking: on a tie the lower index first, as in every table
    return [
        {"rank": rank, "index": i, "label": label_of(labels, i), "logit": float(z[i]), "probability": float(probs[i])}
        for rank, i in enumerate(best.indices.tolist(), start=1)
    ]


def _model_labels(spec: ModelSpec, choice: str) -> list[str]:
    from core.registry import spec_labels

    if choice in LABEL_LANGUAGES:
        return spec_labels(spec, choice)
    labels = read_label_file(choice)
    validate_labels(labels, spec.num_classes, source=choice)
    return labels


def cmd_predict(args: argparse.Namespace) -> int:
    from core.backends import backend_info
    from core.checks import run_checks
    from core.images import read_image_file
    from core.inference import predict
    from core.registry import get_spec, load_model

    temperature = check_temperature(args.temperature)
    spec = get_spec(args.model)
    labels = _model_labels(spec, args.labels)
    model = load_model(spec, backend=args.backend)
    backend = backend_info(model)
    if not args.json:
        _say_backend(backend)
    results: list[dict[str, object]] = []
    failed = False
    for path in args.images:
        try:
            decoded = read_image_file(path)
            logits = predict(model, [decoded.image])[0]
        except LogitscopeError as exc:
            failed = True
            results.append({"image": path, "error": str(exc), **_backend_fields(backend)})
            if not args.json:
                print(f"{path}\n  error: {exc}", file=sys.stderr)
            continue
        top = _top_k_records(logits, labels, k=args.top_k, temperature=temperature)
        checks = run_checks(logits, labels=labels, num_classes=spec.num_classes, k=args.top_k, temperature=temperature)
        results.append(
            {
                "image": path,
                "model": spec.name,
                "temperature": temperature,
                "top_k": top,
                "checks": [c.to_dict() for c in checks],
                "notes": list(decoded.notes),
                **_backend_fields(backend),
                **_ood_scores_field(logits, temperature),
            }
        )
        if not args.json:
            print(path)
            for note in decoded.notes:
                print(f"  note: {note}")
            for row in top:
                print(f"  {row['rank']}. {row['label']} ({float(row['probability']):.1%})")  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return 1 if failed else 0


def _softmax_labels(spec: str | None, n: int) -> list[str]:
    if spec is None:
        return [str(i) for i in range(n)]
    labels = read_label_file(spec) if Path(spec).is_file() else [s.strip() for s in spec.split(",")]
    validate_labels(labels, n, source="--labels")
    return labels


def cmd_softmax(args: argparse.Namespace) -> int:
    temperature = check_temperature(args.temperature)
    logits = as_logits(torch.tensor(args.logits, dtype=torch.float64))
    if not bool(torch.isfinite(logits).all()):
        raise InputError("logits must be finite numbers (got NaN or inf)")
    labels = _softmax_labels(args.labels, logits.numel())
    probs = softmax(logits, temperature=temperature)
    out: dict[str, object] = {
        "temperature": temperature,
        "logits": logits.tolist(),
        "probabilities": probs.tolist(),
        "log_probabilities": log_softmax(logits, temperature=temperature).tolist(),
        "top_k": _top_k_records(logits, labels, k=args.top_k, temperature=temperature),
        "sum": float(probs.sum()),
        "entropy": float(entropy(probs)),
    }
    report = None
    if args.claimed is not None:
        report = check_claims(logits, torch.tensor(args.claimed, dtype=torch.float64), temperature=temperature)
        out["claims"] = [
            {"index": r.index, "claimed": r.claimed, "actual": r.actual, "difference": r.difference, "ok": r.ok}
            for r in report.rows
        ]
        out["claims_consistent"] = report.consistent
        out["verdict"] = report.verdict()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"softmax(z / {temperature:g}), sum {out['sum']:.6f}, entropy {out['entropy']:.4f} nats")
    for label, z, p in zip(labels, logits.tolist(), probs.tolist(), strict=True):
        print(f"  {label:>12}  logit {z:>10.4f}  p {p:.6f} ({p:.1%})")
    print("top-k:")
    for row in out["top_k"]:  # type: ignore[attr-defined]
        print(f"  {row['rank']}. {row['label']} ({row['probability']:.1%})")
    if report is not None:
        print("claims:")
        for r in report.rows:
            mark = "ok" if r.ok else "NOT OK"
            numbers = f"claimed {r.claimed:.4f}  actual {r.actual:.4f}  diff {r.difference:+.4f}"
            print(f"  {labels[r.index]:>12}  {numbers}  {mark}")
        print(report.verdict())
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from core.registry import get_spec, list_models

    rows = []
    for name in list_models():
        spec = get_spec(name)
        status = spec.availability()
        rows.append(
            {
                "name": name,
                "source": spec.source,
                "classes": spec.num_classes,
                "available": status.available,
                "reason": status.reason,
                "preprocessing": spec.preprocessing.describe(),
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            mark = "available" if row["available"] else f"unavailable: {row['reason']}"
            print(f"{row['name']:<28} {row['source']:<12} {mark}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from core.backends import backend_info
    from core.registry import get_spec, load_model, spec_labels
    from core.report import analyse_files, inspector_report

    temperature = check_temperature(args.temperature)
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"-o/--out must end in .html, got {out.name}")
    if not out.parent.is_dir():  # said before the model loads, not after every image was analysed
        raise InputError(f"{out}: cannot be written (no folder {out.parent})")
    spec = get_spec(args.model)
    model = load_model(spec, backend=args.backend)
    _say_backend(backend_info(model))
    labels = spec_labels(spec, args.lang)
    results = analyse_files(model, args.images)
    page = inspector_report(
        results,
        labels,
        model=spec.name,
        preprocessing=spec.preprocessing.describe(),
        temperature=temperature,
        k=args.top_k,
        num_classes=spec.num_classes,
        lang=args.lang,
    )
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{out}: cannot be written ({exc.strerror})") from None
    for result in results:
        if result.logits is None:
            print(f"{result.name}\n  error: {result.error}", file=sys.stderr)
        else:
            top = _top_k_records(result.logits, labels, k=1, temperature=temperature)[0]
            print(f"{result.name}: {top['label']} ({float(top['probability']):.1%})")  # type: ignore[arg-type]
    print(f"report written to {out} ({len(results)} images)")
    return 0 if all(r.ok for r in results) else 1


# ---------------------------------------------------------------- doubt: OOD scores, prediction sets, selective
# (issue 21; to move into core/cli/evaluate.py and core/cli/predict.py with the CLI split)
def _ood_scores_field(logits: torch.Tensor, temperature: float) -> dict[str, object]:
    """`predict --json`: each record's "ood_scores" {msp, max_logit, energy, entropy} at the record's T."""
    from core.uncertainty.ood import ood_scores_record

    return {"ood_scores": ood_scores_record(logits, temperature)}


def _add_uncertainty_arguments(e: argparse.ArgumentParser) -> None:
    e.add_argument("--conformal-alpha", type=float, default=0.1, help="sets promise coverage 1 - alpha (default 0.1)")
    e.add_argument("--conformal-method", choices=("lac", "aps"), default="lac", help="prediction sets (default lac)")
    e.add_argument(
        "--ood",
        metavar="OTHER",
        help="outside images: an unlabelled folder or zip (every image file in it) or a results file of this model",
    )
    e.add_argument("--temperature", type=float, default=1.0, help="T of the --ood scores (default 1)")


def _open_outside(args: argparse.Namespace, spec: ModelSpec) -> LabelledSet | EvalResult | None:
    """The arguments of doubt checked before the run: a bad --ood fails in seconds, not after the whole set."""
    from core.uncertainty.conformal import check_alpha
    from core.uncertainty.summary import open_outside

    check_alpha(args.conformal_alpha)
    check_temperature(args.temperature)
    return None if args.ood is None else open_outside(args.ood, model=spec.name, num_classes=spec.num_classes)


def _uncertainty_report(
    args: argparse.Namespace,
    result: EvalResult,
    fitted: float,
    outside: LabelledSet | EvalResult | None,
    load: Callable[[], LoadedModel],
) -> dict[str, object]:
    """The JSON's "selective", "conformal" and, with --ood, "ood" (unlabelled outside images run on `load()`)."""
    from core.uncertainty.summary import doubt_summary, outside_logits

    found = None if outside is None else outside_logits(outside, load, batch_size=args.batch_size)
    return doubt_summary(
        result.logits,
        result.targets,
        fitted_temperature=fitted,
        method=args.conformal_method,
        alpha=args.conformal_alpha,
        outside_logits=found,
        temperature=args.temperature,
    )


def _backend_fields(info: BackendInfo) -> dict[str, object]:
    """The JSON keys every record carries: what ran the model, and why torch when onnxruntime could not."""
    return {"backend": info.name, "backend_reason": info.reason}


def _say_backend(info: BackendInfo) -> None:
    """The backend on stderr (never mixed into the results), with the reason when it fell back to torch."""
    print(f"backend: {info.describe()}", file=sys.stderr)
    if info.reason:
        print(f"  onnxruntime not used: {info.reason}", file=sys.stderr)


def progress_text(progress: Progress, *, width: int = 24) -> str:
    """One progress-bar line: "[#####-----]  120/540 images · 85 img/s · ETA 0:05"."""
    share = progress.done / progress.total if progress.total else 1.0
    filled = round(share * width)
    rate = progress.images_per_second
    left = (progress.total - progress.done) / rate if rate > 0 else float("nan")
    eta = f"{int(left) // 60}:{int(left) % 60:02d}" if left == left else "?"  # NaN != NaN: no rate yet
    bar = "#" * filled + "-" * (width - filled)
    return f"[{bar}] {progress.done}/{progress.total} images · {rate:.0f} img/s · ETA {eta}"


def _progress_line(progress: Progress) -> None:
    end = "\n" if progress.done == progress.total else ""
    print(f"\r  {progress_text(progress)}", end=end, file=sys.stderr, flush=True)


def _evaluate_on_ray(
    args: argparse.Namespace, spec: ModelSpec, resolver: ClassResolver, *, progress: Callable[[Progress], None] | None
) -> tuple[EvalResult, BackendInfo]:
    """`evaluate --runner ray`: the same planning and result as the local runner, the model in Ray actors."""
    from core.backends import BackendInfo
    from core.datasets import open_path
    from core.evaluate.ray import RayOptions, evaluate_on_ray, is_uri, open_uri, ray_cluster

    options = RayOptions(actors=args.actors, batch_size=args.batch_size, backend=args.backend, features=args.features)
    with ray_cluster(args.address) as cluster:  # first: a cluster that cannot be reached fails in seconds
        if not args.json:
            print(f"runner: {cluster.describe()}", file=sys.stderr)
        labelled = open_uri(args.path, resolver) if is_uri(args.path) else open_path(args.path, resolver)
        result = evaluate_on_ray(spec, labelled, options=options, on_progress=progress)
    reason = "" if args.backend != "auto" else "auto: each Ray actor picks its backend"
    return result, BackendInfo(name=args.backend, requested=args.backend, reason=reason)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from core.backends import backend_info
    from core.datasets import open_path, resolver_for
    from core.diagnose.summary import diagnosis
    from core.evaluate import calibrate, evaluate, results_bytes, summary
    from core.registry import get_spec, load_model

    if args.batch_size is not None and args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {args.batch_size}")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--out must end in .csv or .parquet, got {out.name}")
    spec = get_spec(args.model)
    labels = _model_labels(spec, args.labels)
    outside = _open_outside(args, spec)  # before the run: a bad --ood fails in seconds, not after it
    if args.runner == "local" and (args.address is not None or args.actors is not None):
        raise InputError("--address and --actors need --runner ray")
    # a live progress bar only where a person watches: never into a log, nor beside --json piped to a tool
    watched = sys.stderr.isatty() and not (args.json and not sys.stdout.isatty())
    progress = _progress_line if watched else None
    model: LoadedModel | None = None  # the local runner's, reused for the --ood images
    if args.runner == "ray":
        result, backend = _evaluate_on_ray(args, spec, resolver_for(spec, labels), progress=progress)
    else:
        if "://" in args.path:
            raise InputError(f"{args.path}: a folder URI is read with --runner ray (pyarrow filesystems)")
        labelled = open_path(args.path, resolver_for(spec, labels))
        model = load_model(spec, backend=args.backend)
        backend = backend_info(model)
        if not args.json:
            _say_backend(backend)
        result = evaluate(model, labelled, batch_size=args.batch_size, on_progress=progress, features=args.features)
    if result.n == 0:
        raise InputError(f"{args.path}: no image could be decoded ({len(result.errors)} errors)")
    fit = calibrate(result.logits, result.targets)
    if out is not None:
        fmt = out.suffix.lower().lstrip(".")
        out.write_bytes(results_bytes(result, fmt=fmt, labels=labels, features=args.features))
    diagnosed = diagnosis(result, labels)
    doubt = _uncertainty_report(
        args, result, fit.temperature, outside, lambda: model or load_model(spec, backend=args.backend)
    )
    report = {**summary(result, fit), **diagnosed, **_backend_fields(backend), **doubt}
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
    from core.uncertainty.summary import doubt_lines

    for line in doubt_lines(doubt):
        print(f"  {line}")
    issues = diagnosed["label_issues"]
    assert isinstance(issues, list)
    if issues:
        # only meaningful on images the model was not trained on (held-out predictions)
        print(f"  likely label errors: {len(issues)} (if the model never trained on these images), most likely first:")
        for issue in issues[:5]:
            given, said = label_of(labels, int(issue["given"])), label_of(labels, int(issue["suggested"]))
            print(f"    {issue['file']}: given {given}, the model says {said}")
    if result.errors:
        print(f"  skipped {len(result.errors)}:")
        for error in result.errors[:10]:
            print(f"    {error.name}: {error.reason}")
        if len(result.errors) > 10:
            print(f"    ... and {len(result.errors) - 10} more (see --json)")
    if out is not None:
        print(f"  results written to {out}")
    return 0


_BACKEND_HELP = (
    "what runs the model: torch (eager), onnxruntime (fp32, verified against torch), or auto (default: "
    "onnxruntime on a CPU where the export is verified, else torch)"
)


_RUNNER_HELP = (
    "local (default): this process; ray: Ray Data (decode in tasks, the model in an actor pool), same results; "
    "PATH may then also be a folder URI pyarrow reads (s3://, gs://, file://)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m core", description="logitscope: logits, softmax, top-k, temperature.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("predict", help="classify images and print the top-k")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--model", default=SETTINGS.default_model)
    p.add_argument("--top-k", type=int, default=SETTINGS.default_top_k)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--labels", default="en", help="en, zh, or a label file (.txt/.json/.csv)")
    p.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help=_BACKEND_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)

    s = sub.add_parser("softmax", help="softmax of logits typed on the command line")
    s.add_argument("logits", nargs="+", type=float, metavar="LOGIT")
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=int, default=SETTINGS.default_top_k)
    s.add_argument("--labels", help="names as a,b,c or a label file")
    s.add_argument("--claimed", nargs="+", type=float, metavar="P", help="claimed probabilities to check")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_softmax)

    e = sub.add_parser("evaluate", help="evaluate a labelled folder or zip: accuracy, calibration, fitted T")
    e.add_argument("path", metavar="PATH", help="ImageFolder folder or zip (class/image.png), or a zip with labels.csv")
    e.add_argument("--model", default=SETTINGS.default_model)
    e.add_argument("--labels", default="en", help="en, zh, or a label file (.txt/.json/.csv)")
    e.add_argument("--batch-size", type=int, help="images per forward pass (default: chosen from the input size)")
    e.add_argument("--out", help="write per-image results with logits to a .parquet or .csv file")
    e.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help=_BACKEND_HELP)
    e.add_argument(
        "--features",
        action="store_true",
        help="also keep each image's penultimate-layer features (float16) and write them to --out",
    )
    e.add_argument("--runner", choices=("local", "ray"), default="local", help=_RUNNER_HELP)
    e.add_argument("--address", help="with --runner ray: auto, host:port or ray://host:10001 (default: a local Ray)")
    e.add_argument("--actors", type=int, help="with --runner ray: model replicas (default: one per GPU, else per CPU)")
    _add_uncertainty_arguments(e)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    m = sub.add_parser("models", help="list the models and whether each is available here")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)

    r = sub.add_parser("report", help="one self-contained HTML report of images (pictures, top-k, charts, checks)")
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("-o", "--out", required=True, help="the .html file to write")
    r.add_argument("--model", default=SETTINGS.default_model)
    r.add_argument("--temperature", type=float, default=1.0)
    r.add_argument("--top-k", type=int, default=SETTINGS.default_top_k)
    r.add_argument("--lang", choices=("en", "zh"), default="en", help="report text and class names")
    r.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help=_BACKEND_HELP)
    r.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "top_k", 1) < 1:
        parser.error("--top-k must be at least 1")
    try:
        return int(args.func(args))
    except (InputError, LabelError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except LogitscopeError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
