"""The command line: `python -m core predict|softmax|evaluate|report|models ...` (a contract other tools call).

Bad arguments print one line on stderr and exit 2. `predict` goes on past a bad image, reports it, and exits 1
if any image failed. Each command lives in its own module with its `register` (arguments) and its `cmd_*`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from core.cli import evaluate, models, predict, report, softmax
from core.errors import InputError, LabelError, LogitscopeError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m core", description="logitscope: logits, softmax, top-k, temperature.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (predict, softmax, evaluate, models, report):
        command.register(sub)
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
