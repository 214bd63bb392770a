"""`python -m core predict IMAGE...`: classify images and print (or --json) the top-k of each."""

from __future__ import annotations

import argparse
import json
import sys

from core.cli.common import (
    BACKEND_HELP,
    add_model_arguments,
    backend_fields,
    model_labels,
    model_spec,
    say_backend,
    top_k_records,
)
from core.config import BACKENDS, DEFAULT_BACKEND, SETTINGS
from core.errors import LogitscopeError
from core.numerics import check_temperature


def cmd_predict(args: argparse.Namespace) -> int:
    from core.backends.choose import backend_info, with_backend
    from core.checks import run_checks
    from core.images import read_image_file
    from core.inference import predict
    from core.models.registry import load_model
    from core.preprocess import input_notes
    from core.uncertainty.ood import ood_scores_record

    temperature = check_temperature(args.temperature)
    spec = model_spec(args)
    labels = model_labels(spec, args.labels)
    model = with_backend(load_model(spec), args.backend)
    backend = backend_info(model)
    if not args.json:
        say_backend(backend)
    results: list[dict[str, object]] = []
    failed = False
    for path in args.images:
        try:
            decoded = read_image_file(path)
            logits = predict(model, [decoded.image])[0]
            notes = (*decoded.notes, *input_notes(decoded.image.size, spec.preprocessing))  # as the Inspector says
        except LogitscopeError as exc:
            failed = True
            results.append({"image": path, "error": str(exc), **backend_fields(backend)})
            if not args.json:
                print(f"{path}\n  error: {exc}", file=sys.stderr)
            continue
        top = top_k_records(logits, labels, k=args.top_k, temperature=temperature)
        checks = run_checks(logits, labels=labels, num_classes=spec.num_classes, k=args.top_k, temperature=temperature)
        results.append(
            {
                "image": path,
                "model": spec.name,
                "temperature": temperature,
                "top_k": top,
                "checks": [c.to_dict() for c in checks],
                "notes": list(notes),
                **backend_fields(backend),
                "ood_scores": ood_scores_record(logits, temperature),  # is this like what the model knows?
            }
        )
        if not args.json:
            print(path)
            for note in notes:
                print(f"  note: {note}")
            for row in top:
                print(f"  {row['rank']}. {row['label']} ({float(row['probability']):.1%})")  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `predict` command to the CLI's subparsers."""
    p = sub.add_parser("predict", help="classify images and print the top-k")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    add_model_arguments(p)
    p.add_argument("--top-k", type=int, default=SETTINGS.default_top_k)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--labels", default="en", help="en, zh, or a label file (.txt/.json/.csv)")
    p.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help=BACKEND_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)
