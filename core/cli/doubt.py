"""What `evaluate` says about doubt (issue 21's CLI contract): the "selective", "conformal" and, with `--ood OTHER`,
"ood" sections of its JSON, their arguments, and the lines of its plain output (`core.uncertainty.summary`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.numerics import check_temperature

if TYPE_CHECKING:
    from core.datasets.sets import LabelledSet
    from core.evaluate.result import EvalResult
    from core.models.spec import LoadedModel


def add_arguments(e: argparse.ArgumentParser) -> None:
    """--conformal-alpha, --conformal-method and --ood (the OOD scores are at --temperature, 1 by default)."""
    e.add_argument("--conformal-alpha", type=float, default=0.1, help="sets promise coverage 1 - alpha (default 0.1)")
    e.add_argument("--conformal-method", choices=("lac", "aps"), default="lac", help="prediction sets (default lac)")
    e.add_argument(
        "--ood",
        metavar="OTHER",
        help="outside images: an unlabelled folder or zip (every image file in it) or a results file of this model; "
        "their scores are at --temperature",
    )


def outside_from_args(args: argparse.Namespace, *, model: str, num_classes: int) -> LabelledSet | EvalResult | None:
    """The arguments of doubt checked before the run: a bad --ood fails in seconds, not after the whole set."""
    from core.uncertainty.conformal import check_alpha

    check_alpha(args.conformal_alpha)
    check_temperature(args.temperature)
    if args.ood is None:
        return None
    from core.uncertainty.outside import open_outside  # the datasets and the runner: only with --ood

    return open_outside(args.ood, model=model, num_classes=num_classes)


def report(
    args: argparse.Namespace,
    result: EvalResult,
    fitted: float,
    outside: LabelledSet | EvalResult | None,
    load: Callable[[], LoadedModel],
) -> dict[str, object]:
    """The JSON's "selective", "conformal" and, with --ood, "ood" (unlabelled outside images run on `load()`)."""
    from core.uncertainty.summary import doubt_summary

    found = None
    if outside is not None:  # the outside images' code (datasets, the local runner) loads only with --ood
        from core.uncertainty.outside import outside_logits

        found = outside_logits(outside, load, batch_size=getattr(args, "batch_size", None))
    return doubt_summary(
        result.logits,
        result.targets,
        fitted_temperature=fitted,
        method=args.conformal_method,
        alpha=args.conformal_alpha,
        outside_logits=found,
        temperature=args.temperature,
    )


def print_lines(section: dict[str, object]) -> None:
    """The same numbers as text lines, under the run's summary."""
    from core.uncertainty.summary import doubt_lines

    for line in doubt_lines(section):
        print(f"  {line}")
