"""`python -m core report IMAGE... -o report.html`: one self-contained HTML report of images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.common import BACKEND_HELP, add_model_arguments, model_spec, say_backend, top_k_records
from core.config import BACKENDS, DEFAULT_BACKEND, SETTINGS
from core.errors import InputError
from core.numerics import check_temperature


def cmd_report(args: argparse.Namespace) -> int:
    from core.analysis import analyse_files
    from core.backends.choose import backend_info, with_backend
    from core.models.labels import spec_labels
    from core.models.registry import load_model
    from core.report.inspector import inspector_report

    temperature = check_temperature(args.temperature)
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"-o/--out must end in .html, got {out.name}")
    if not out.parent.is_dir():  # said before the model loads, not after every image was analysed
        raise InputError(f"{out}: cannot be written (no folder {out.parent})")
    spec = model_spec(args)
    model = with_backend(load_model(spec), args.backend)
    say_backend(backend_info(model))
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
            top = top_k_records(result.logits, labels, k=1, temperature=temperature)[0]
            print(f"{result.name}: {top['label']} ({float(top['probability']):.1%})")  # type: ignore[arg-type]
    print(f"report written to {out} ({len(results)} images)")
    return 0 if all(r.ok for r in results) else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` command to the CLI's subparsers."""
    r = sub.add_parser("report", help="one self-contained HTML report of images (pictures, top-k, charts, checks)")
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("-o", "--out", required=True, help="the .html file to write")
    add_model_arguments(r)
    r.add_argument("--temperature", type=float, default=1.0)
    r.add_argument("--top-k", type=int, default=SETTINGS.default_top_k)
    r.add_argument("--lang", choices=("en", "zh"), default="en", help="report text and class names")
    r.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help=BACKEND_HELP)
    r.set_defaults(func=cmd_report)
