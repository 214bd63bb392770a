"""`python -m core models`: the models the registry knows and whether each is available here."""

from __future__ import annotations

import argparse
import json


def cmd_models(args: argparse.Namespace) -> int:
    from core.models.registry import get_spec, list_models

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


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `models` command to the CLI's subparsers."""
    m = sub.add_parser("models", help="list the models and whether each is available here")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)
