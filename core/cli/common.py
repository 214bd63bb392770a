"""What the commands share: top-k records, the label choice, the backend line and the progress bar.

Imports only what every command needs (torch and the light foundation): `softmax` must not pay for torchvision,
pandas or the dataset code, so each command imports the rest inside itself.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from core.labels import LABEL_LANGUAGES, label_of, read_label_file, validate_labels
from core.numerics import as_logits, softmax, top_k

if TYPE_CHECKING:
    from core.evaluate.run import Progress
    from core.models.spec import BackendInfo, ModelSpec

BACKEND_HELP = (
    "what runs the model: torch (eager), onnxruntime (fp32, verified against torch), or auto (default: "
    "onnxruntime on a CPU where the export is verified, else torch)"
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


def progress_line(progress: Progress) -> None:
    end = "\n" if progress.done == progress.total else ""
    print(f"\r  {progress_text(progress)}", end=end, file=sys.stderr, flush=True)
