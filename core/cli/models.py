"""`python -m core models`: the models the registry knows and whether each is available here; `--describe NAME|PATH`:
what one model is (a registry name or your own model's files): kind, architecture, classes, input, labels."""

from __future__ import annotations

import argparse
import json

from core.cli.common import ARCH_HELP, NORMALIZE_HELP
from core.errors import InputError


def cmd_models(args: argparse.Namespace) -> int:
    from core.models.registry import get_spec, list_models

    if args.describe is not None:
        return _describe(args)
    if args.arch or args.normalize:
        raise InputError("--arch and --normalize go with --describe PATH")
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


def _describe(args: argparse.Namespace) -> int:
    """What was found: the same description the sidebar shows for an uploaded model."""
    from core.models.reference import describe_model, resolve_model

    described = describe_model(resolve_model(args.describe, arch=args.arch, normalize=args.normalize))
    if args.json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return 0
    for key in ("model", "kind", "architecture", "runtime", "classes", "input_size", "normalisation"):
        print(f"{key + ':':<15} {described[key]}")
    print(f"{'labels:':<15} {described['labels_source']}")
    print(f"{'preprocessing:':<15} {described['preprocessing']}")
    details = described["details"]
    assert isinstance(details, dict)
    for key, value in details.items():
        print(f"{key + ':':<15} {value}")
    for note in described["notes"]:  # type: ignore[attr-defined]
        print(f"note: {note}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `models` command to the CLI's subparsers."""
    m = sub.add_parser("models", help="list the models, or --describe one (a name or your own model's PATH)")
    m.add_argument(
        "--describe", metavar="NAME|PATH", help="what a model is: kind, architecture, classes, input, labels"
    )
    m.add_argument("--arch", metavar="NAME", help=ARCH_HELP)
    m.add_argument("--normalize", metavar="PRESET", help=NORMALIZE_HELP)
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)
