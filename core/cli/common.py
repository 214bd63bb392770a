"""What the commands share: top-k records, the label choice, the backend line and the progress bar.

Imports only what every command needs (torch and the light foundation): `softmax` must not pay for torchvision,
pandas or the dataset code, so each command imports the rest inside itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from core.config import SETTINGS
from core.labels import LABEL_LANGUAGES, label_of, read_label_file, validate_labels
from core.numerics import as_logits, softmax, top_k

if TYPE_CHECKING:
    from core.evaluate.result import Progress
    from core.models.spec import BackendInfo, ModelSpec

BACKEND_HELP = (
    "what runs the model: torch (eager), onnxruntime (fp32, verified against torch), or auto (default: "
    "onnxruntime on a CPU where the export is verified, else torch)"
)


MODEL_HELP = (
    "a registry name (see `models`), or a PATH to your own model: a transformers or timm folder, a .zip of one, an "
    ".onnx file, or a weights file (.safetensors/.pt/.pth/.bin) with --arch"
)
ARCH_HELP = "a bare weights file's architecture: a torchvision name (resnet18), efficientnet_lite0, or timm:NAME"
NORMALIZE_HELP = (
    "an ONNX file's normalisation (it carries none): imagenet (default), minus-one-one (pixels to [-1, 1]), "
    "zero-one ([0, 1]), or MEAN,MEAN,MEAN/STD,STD,STD (pixels in [0, 1])"
)


RUNNER_HELP = (
    "local (default): this process; ray: Ray Data (decode in tasks, the model in an actor pool), same results; "
    "PATH may then also be a folder URI pyarrow reads (s3://, gs://, file://)"
)


def top_k_records(
    logits: torch.Tensor, labels: Sequence[str], *, k: int, temperature: float
) -> list[dict[str, object]]:
    z = as_logits(logits).reshape(-1).to(torch.float64)
    probs = softmax(z, temperature=temperature)
    best = top_k(z, k)  # the one stable ranking: on a tie the lower index first, as in every table
    return [
        {"rank": rank, "index": i, "label": label_of(labels, i), "logit": float(z[i]), "probability": float(probs[i])}
        for rank, i in enumerate(best.indices.tolist(), start=1)
    ]


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model NAME|PATH, --arch, --normalize: one way to name a model in every command."""
    parser.add_argument("--model", default=SETTINGS.default_model, metavar="NAME|PATH", help=MODEL_HELP)
    parser.add_argument("--arch", metavar="NAME", help=ARCH_HELP)
    parser.add_argument("--normalize", metavar="PRESET", help=NORMALIZE_HELP)


def model_spec(args: argparse.Namespace) -> ModelSpec:
    """The spec `--model`, `--arch` and `--normalize` name (a registry name or a model's files)."""
    from core.models.reference import resolve_model

    return resolve_model(args.model, arch=args.arch, normalize=args.normalize)


def model_labels(spec: ModelSpec, choice: str) -> list[str]:
    from core.models.labels import spec_labels

    if choice in LABEL_LANGUAGES:
        return spec_labels(spec, choice)
    labels = read_label_file(choice)
    validate_labels(labels, spec.num_classes, source=choice)
    return labels


def backend_fields(info: BackendInfo) -> dict[str, object]:
    """The JSON keys every record carries: what ran the model, and why torch when onnxruntime could not."""
    return {"backend": info.name, "backend_reason": info.reason}


def say_backend(info: BackendInfo) -> None:
    """The backend on stderr (never mixed into the results), with the reason when it fell back to torch."""
    print(f"backend: {info.describe()}", file=sys.stderr)
    if info.reason:
        print(f"  {'onnxruntime not used' if info.name == 'torch' else 'note'}: {info.reason}", file=sys.stderr)


def progress_text(progress: Progress, *, width: int = 24) -> str:
    """One progress-bar line: "[#####-----]  120/540 images · 85 img/s · ETA 0:05"."""
    share = progress.done / progress.total if progress.total else 1.0
    filled = round(share * width)
    rate = progress.images_per_second
    left = (progress.total - progress.done) / rate if rate > 0 else float("nan")
    eta = f"{int(left) // 60}:{int(left) % 60:02d}" if left == left else "?"  # NaN != NaN: no rate yet
    bar = "#" * filled + "-" * (width - filled)
    return f"[{bar}] {progress.done}/{progress.total} images · {rate:.0f} img/s · ETA {eta}"


def progress_line(progress: Progress) -> None:
    end = "\n" if progress.done == progress.total else ""
    print(f"\r  {progress_text(progress)}", end=end, file=sys.stderr, flush=True)
