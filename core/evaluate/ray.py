"""Evaluating a labelled set on Ray Data: the same inputs, the same `EvalResult`, on one machine or a cluster.

The pipeline is Ray Data's batch-inference recipe:
1. a dataset of the planned items (index and file name in the `LabelledSet` that `core.datasets` planned,
   so the skipped list and its reasons are the local runner's; unsafe and bomb members are never listed);
2. `map_batches(decode)` in CPU tasks: read, decode and preprocess each item with the local runner's
   `ImageFileDataset` (the same bytes, the same transform, the same error text for a bad image);
3. `map_batches(_Classifier)` in a fixed actor pool: each actor builds the model once in `__init__`
   (`num_gpus=1` per actor when the cluster has GPUs, else one CPU each);
4. the logits come back to the driver and are put in the planner's order, so metrics, calibration,
   results files and the Evaluation page are the local runner's.

On a CPU-only cluster Ray Data fuses steps 2 and 3 (same resources), so each actor decodes its own
batches; with GPUs they stay apart and decoding scales on the CPUs. A folder may also be a URI that
pyarrow's filesystems read (`s3://bucket/val`, `gs://...`, `file:///data/val`, see `core.datasets.uri`); a local
folder on a multi-machine cluster must be mounted at the same path on every node. A zip's bytes travel
with every decode task (its reader holds them): right for uploads; put a large set in a folder or a bucket.
The driver gathers every logit (n x classes float32: 5 GB for 1.28M ImageNet images), as the local runner.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.backends.choose import backend_info, with_backend
from core.datasets.sets import LabelledSet, Reader, Skipped
from core.errors import InputError, first_line
from core.evaluate.ray_cluster import Cluster, RayRunError, ray_cluster, ray_module
from core.evaluate.result import EvalResult, Progress
from core.evaluate.run import ImageFileDataset, default_batch_size
from core.features import features_backend, forward_with_features
from core.inference import forward
from core.models.registry import load_model
from core.models.spec import LoadedModel, ModelSpec

DECODE_BATCH = 32  # images per decode task: enough to amortise a task's start, small enough to stream


# ---------------------------------------------------------------- the pipeline's two steps
def decode_batch(batch: dict[str, np.ndarray], *, reader: Reader, spec: ModelSpec) -> dict[str, np.ndarray]:
    """Ray task: read, decode and preprocess the rows' files exactly as the local runner does (its
    `ImageFileDataset` item, over this batch's files); a bad image becomes a row with an error and a zero input.

    The rows carry their file names, so a task receives only the reader (a folder's root, a filesystem), not
    the whole set's listing.
    """
    files = tuple(str(f) for f in batch["file"])
    chunk = LabelledSet(source="", files=files, targets=(0,) * len(files), skipped=(), reader=reader)
    pre = spec.preprocessing
    dataset = ImageFileDataset(chunk, pre.transform(), preprocessing=pre)
    blank = np.zeros((1 if pre.grayscale else 3, pre.crop, pre.crop), np.float32)  # a failed image's placeholder
    inputs: list[np.ndarray] = []
    errors: list[str] = []
    notes: list[str] = []
    for position in range(len(files)):
        _, tensor, error, noted = dataset[position]
        inputs.append(tensor.numpy() if tensor is not None else blank)
        errors.append(error or "")
        notes.append("\n".join(noted))  # one string per row (Arrow-friendly); notes hold no newline
    return {
        "index": np.asarray(batch["index"], dtype=np.int64),
        "input": np.stack(inputs).astype(np.float32, copy=False),
        "error": np.asarray(errors, dtype=object),
        "notes": np.asarray(notes, dtype=object),
    }


class _Classifier:
    """Ray actor: builds the model once, then turns decoded batches into logits (and features when asked).

    Rows whose image failed carry a zero input; they run with the batch (cheaper than splitting it, and the
    columns keep one shape) and the driver drops them.
    """

    def __init__(self, spec: ModelSpec, *, backend: str, threads: int, features: bool) -> None:
        torch.set_num_threads(threads)
        os.environ.setdefault("LOGITSCOPE_ORT_THREADS", str(threads))  # ONNX Runtime: this actor's share only
        self.model = with_backend(load_model(spec), backend)
        self.features = features
        if features:
            features_backend(self.model)  # the export with features, made (or read from the cache) before any batch

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        inputs = torch.from_numpy(np.ascontiguousarray(batch["input"]))
        out: dict[str, np.ndarray] = {"index": batch["index"], "error": batch["error"], "notes": batch["notes"]}
        with torch.inference_mode():
            if self.features:
                logits, feats = forward_with_features(self.model, inputs)
                out["features"] = feats.numpy()
            else:
                logits = forward(self.model, inputs)
        classes = self.model.spec.num_classes
        if logits.shape[1] != classes:
            raise InputError(f"{self.model.spec.name} returned {logits.shape[1]} logits, expected {classes}")
        out["logits"] = logits.numpy()
        out["backend"] = np.full(len(logits), backend_info(self.model).name, dtype=object)  # what ran, per row
        return out


def default_actors(cluster: Cluster) -> int:
    """One actor per GPU; on a CPU-only cluster one per CPU (each decodes its own batches, one thread)."""
    return cluster.gpus if cluster.gpus else max(1, cluster.cpus)


def model_batch_size(spec: ModelSpec, *, gpu: bool) -> int:
    """The local runner's batch size rule (`default_batch_size`) for `spec` on the actors' device."""
    device = torch.device("cuda" if gpu else "cpu")
    return default_batch_size(LoadedModel(spec, torch.nn.Identity(), device))  # only spec and device are read


@dataclass(frozen=True)
class RayOptions:
    """How a Ray run is laid out.

    Attributes:
        actors: model replicas; None: `default_actors`.
        batch_size: images per forward pass; None: the local runner's rule for the actors' device.
        backend: what runs the model in each actor ("torch", "onnxruntime", "auto").
        cpus_per_actor: CPUs (and torch threads) each actor reserves on a CPU-only cluster.
        features: also keep each image's penultimate-layer features, as the local runner's `features=True`.
    """

    actors: int | None = None
    batch_size: int | None = None
    backend: str = "torch"
    cpus_per_actor: int = 1
    features: bool = False


def evaluate_on_ray(
    spec: ModelSpec,
    labelled: LabelledSet,
    *,
    address: str | None = None,
    options: RayOptions = RayOptions(),
    on_progress: Callable[[Progress], None] | None = None,
) -> EvalResult:
    """Run `spec` over every image of `labelled` on Ray Data; the same `EvalResult` as `core.evaluate.run.evaluate`.

    Args:
        spec: the model each actor builds (`core.models.registry.get_spec`; a checkpoint spec must be readable there).
        labelled: from `core.datasets.sources` (open_path, open_zip, open_folder) or `core.datasets.uri.open_uri`.
        address: see `ray_cluster` (None: a local Ray for this run, unless this process is connected already).
        options: actors, batch size, backend, features.
        on_progress: called as results arrive; an exception it raises stops the run.
    """
    if len(labelled) == 0:
        raise InputError(f"{labelled.source}: no images to evaluate")
    for name, value in (
        ("actors", options.actors),
        ("batch size", options.batch_size),
        ("CPUs per actor", options.cpus_per_actor),
    ):
        if value is not None and value < 1:
            raise InputError(f"{name} must be at least 1, got {value}")
    status = spec.availability()
    if not status.available and spec.source != "torchvision":
        raise InputError(f"{spec.name}: {status.reason}")  # say it here, not as a dead actor on every node
    with ray_cluster(address) as cluster:
        return _run(spec, labelled, cluster, options, on_progress)


def _pipeline(spec: ModelSpec, labelled: LabelledSet, cluster: Cluster, options: RayOptions) -> Any:
    """The lazy Ray Dataset: planned items -> decode tasks -> the model's actor pool."""
    ray = ray_module()

    pool = options.actors or default_actors(cluster)
    gpu = cluster.gpus > 0
    per_actor = options.cpus_per_actor
    if gpu and pool > cluster.gpus:
        raise InputError(f"{pool} actors need one GPU each; the cluster has {cluster.gpus}")
    if not gpu and pool * per_actor > cluster.cpus:
        raise InputError(
            f"{pool} actors x {per_actor} CPUs need {pool * per_actor} CPUs; the cluster has {cluster.cpus}"
        )
    total = len(labelled)
    rows = [{"index": i, "file": name} for i, name in enumerate(labelled.files)]
    items = ray.data.from_items(rows, override_num_blocks=max(1, -(-total // DECODE_BATCH)))
    decoded = items.map_batches(
        decode_batch, batch_size=DECODE_BATCH, fn_kwargs={"reader": labelled.reader, "spec": spec}, num_cpus=1
    )
    resources: dict[str, Any] = {"num_gpus": 1} if gpu else {"num_cpus": per_actor}
    return decoded.map_batches(
        _Classifier,
        fn_constructor_kwargs={
            "spec": spec,
            "backend": options.backend,
            "threads": 1 if gpu else per_actor,
            "features": options.features,
        },
        compute=ray.data.ActorPoolStrategy(size=pool),
        batch_size=options.batch_size or model_batch_size(spec, gpu=gpu),
        **resources,
    )


def _run(
    spec: ModelSpec,
    labelled: LabelledSet,
    cluster: Cluster,
    options: RayOptions,
    on_progress: Callable[[Progress], None] | None,
) -> EvalResult:
    ray = ray_module()
    scored = _pipeline(spec, labelled, cluster, options)
    parts: list[dict[str, np.ndarray]] = []
    total = len(labelled)
    start = time.perf_counter()
    done = 0
    try:
        for part in scored.iter_batches(batch_size=None, batch_format="numpy"):
            parts.append(part)
            done += len(part["index"])
            if on_progress is not None:
                on_progress(Progress(done, total, time.perf_counter() - start))
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None) or exc
        if isinstance(cause, InputError):  # e.g. a model that returns the wrong number of logits
            raise InputError(first_line(cause)) from None
        raise RayRunError(f"the Ray run failed: {first_line(cause)}") from None
    return _gather(spec, labelled, parts, seconds=time.perf_counter() - start)


def _gather(
    spec: ModelSpec, labelled: LabelledSet, parts: list[dict[str, np.ndarray]], *, seconds: float
) -> EvalResult:
    """The rows back in the planner's order (Ray returns them as they finish), as the local runner's result."""
    columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.argsort(columns["index"], kind="stable")
    index, error = columns["index"][order], columns["error"][order]
    ok = error == ""
    kept = index[ok].tolist()
    failed = tuple(Skipped(labelled.files[i], str(e)) for i, e in zip(index[~ok].tolist(), error[~ok], strict=True))
    features = columns.get("features")
    backend = ", ".join(sorted(set(columns["backend"].tolist()))) if "backend" in columns else ""
    noted = columns["notes"][order] if "notes" in columns else np.full(len(index), "", dtype=object)
    file_notes = {labelled.files[i]: tuple(str(n).split("\n")) for i, n in zip(kept, noted[ok], strict=True) if n}
    return EvalResult(
        files=tuple(labelled.files[i] for i in kept),
        targets=torch.tensor(labelled.targets, dtype=torch.int64)[torch.tensor(kept, dtype=torch.int64)],
        logits=torch.from_numpy(np.ascontiguousarray(columns["logits"][order][ok])),
        errors=labelled.skipped + failed,
        model=spec.name,
        source=labelled.source,
        seconds=seconds,
        attempted=len(index),
        features=torch.from_numpy(np.ascontiguousarray(features[order][ok])) if features is not None else None,
        backend=backend,
        notes=labelled.notes,
        file_notes=file_notes,
    )
