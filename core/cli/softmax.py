"""`python -m core softmax LOGIT...`: softmax of logits typed on the command line (loads torch only)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from core.cli.common import top_k_records
from core.config import SETTINGS
from core.errors import InputError
from core.labels import read_label_file, validate_labels
from core.numerics import as_logits, check_claims, check_temperature, entropy, log_softmax, softmax


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
        "top_k": top_k_records(logits, labels, k=args.top_k, temperature=temperature),
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `softmax` command to the CLI's subparsers."""
    s = sub.add_parser("softmax", help="softmax of logits typed on the command line")
    s.add_argument("logits", nargs="+", type=float, metavar="LOGIT")
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=int, default=SETTINGS.default_top_k)
    s.add_argument("--labels", help="names as a,b,c or a label file")
    s.add_argument("--claimed", nargs="+", type=float, metavar="P", help="claimed probabilities to check")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_softmax)
