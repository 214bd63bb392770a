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
pyarrow's filesystems read (`s3://bucket/val`, `gs://...`, `file:///data/val`, see `open_uri`); a local
folder on a multi-machine cluster must be mounted at the same path on every node. A zip's bytes travel
with every decode task (its reader holds them): right for uploads; put a large set in a folder or a bucket.
The driver gathers every logit (n x classes float32: 5 GB for 1.28M ImageNet images), as the local runner.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch

from core.backends import backend_info
from core.datasets import (
    LIMITS,
    ClassResolver,
    Entry,
    LabelledSet,
    Limits,
    Reader,
    Skipped,
    human_size,
    labelled_set,
    plan_members,
)
from core.errors import InputError, LogitscopeError
from core.evaluate.run import EvalResult, ImageFileDataset, Progress, default_batch_size
from core.features import features_backend, forward_with_features
from core.inference import forward
from core.registry import LoadedModel, ModelSpec, load_model

CONNECT_TIMEOUT_S = 3.0
DECODE_BATCH = 32  # images per decode task: enough to amortise a task's start, small enough to stream
INSTALL_HINT = "pip install 'ray[data]'"
_QUIET_LOGGERS = ("ray", "ray.data", "ray.train", "ray.tune")


class RayUnavailableError(InputError):
    """Ray is not installed, or the cluster cannot be reached (the CLI exits 2 with this one line)."""


class RayRunError(LogitscopeError):
    """A Ray run failed part-way (a task or actor died); the message is the cause's first line."""


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster a run uses.

    Attributes:
        address: what was asked for ("" for a local Ray started for the run).
        local: whether this process started it (and shuts it down after).
        startup_seconds: how long connecting or starting took.
        cpus: logical CPUs in the cluster.
        gpus: GPUs in the cluster.
    """

    address: str
    local: bool
    startup_seconds: float
    cpus: int
    gpus: int

    def describe(self) -> str:
        where = "local Ray" if self.local else f"Ray cluster {self.address or '(already connected)'}"
        gpus = f", {self.gpus} GPUs" if self.gpus else ""
        return f"{where}: {self.cpus} CPUs{gpus}, ready in {self.startup_seconds:.1f} s"


def _ray() -> Any:
    """The `ray` module with Ray Data, or RayUnavailableError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RayUnavailableError(f"--runner ray needs Ray Data ({exc}); install it with {INSTALL_HINT}") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of "ray://host:10001" or "host:6379"; None for "auto" and other forms Ray resolves itself."""
    if address == "auto":
        return None
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    try:
        port = parsed.port
    except ValueError:
        raise RayUnavailableError(f"{address!r} is not a Ray address (auto, host:port or ray://host:port)") from None
    if not parsed.hostname or port is None:
        raise RayUnavailableError(f"{address!r} is not a Ray address (auto, host:port or ray://host:port)")
    return parsed.hostname, port


def check_reachable(address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise RayUnavailableError unless something accepts a TCP connection at `address` within `timeout_s`.

    `ray.init` retries a dead address for minutes; this answers in seconds.
    """
    target = _host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise RayUnavailableError(f"cannot reach a Ray cluster at {address}: {reason}") from None


def _quiet_logs() -> None:
    # Ray Data logs a failed task's whole stack before it raises; the caller gets the cause in one line
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextmanager
def ray_cluster(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[Cluster]:
    """Connect to Ray for the duration of the block.

    Args:
        address: None starts a local Ray (no dashboard, `num_cpus` logical CPUs, default the machine's cores)
            and shuts it down after; "auto", "host:port" or "ray://host:10001" joins an existing cluster and
            disconnects after. When this process is already connected (a test, a notebook), that connection
            is used as it is and left open (a given address is still checked for an answer).
        num_cpus: CPUs of a local Ray.

    Raises RayUnavailableError (one line) when Ray is missing or the cluster cannot be reached.
    """
    ray = _ray()
    start = time.perf_counter()
    if address is not None:
        check_reachable(address)
    if ray.is_initialized():
        yield _describe(ray, address or "", local=False, since=start)
        return
    _quiet_logs()
    options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address is None:
        options.update(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False)
    try:
        ray.init(address=address, **options)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, grpc errors... for a bad cluster
        where = f"a Ray cluster at {address}" if address else "a local Ray"
        raise RayUnavailableError(f"cannot start or join {where}: {_first_line(exc)}") from None
    try:
        data_context = ray.data.DataContext.get_current()
        data_context.enable_progress_bars = False  # our own progress line, not Ray's bars
        data_context.print_on_execution_start = False
        yield _describe(ray, address or "", local=address is None, since=start)
    finally:
        ray.shutdown()


def _describe(ray: Any, address: str, *, local: bool, since: float) -> Cluster:
    resources = ray.cluster_resources()
    return Cluster(
        address=address,
        local=local,
        startup_seconds=time.perf_counter() - since,
        cpus=int(resources.get("CPU", 0)),
        gpus=int(resources.get("GPU", 0)),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------- a folder behind a pyarrow filesystem URI
class ArrowReader:
    """Files under a folder of a pyarrow filesystem (S3, GCS, HDFS, local), read with a size cap.

    Picklable (pyarrow filesystems are), so Ray tasks on other machines read the files themselves.
    """

    def __init__(self, filesystem: Any, root: str, *, max_bytes: int = LIMITS.max_member_bytes) -> None:
        self.filesystem = filesystem
        self.root = root.rstrip("/")
        self.max_bytes = max_bytes

    def read(self, name: str) -> bytes:
        with self.filesystem.open_input_stream(f"{self.root}/{name}") as stream:
            data = stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise InputError(f"{name}: larger than the {human_size(self.max_bytes)} limit per image")
        return bytes(data)


def is_uri(source: str) -> bool:
    """Whether `source` names a filesystem URI (s3://, gs://, file://, ...) rather than a local path."""
    scheme = urlparse(source).scheme
    return len(scheme) > 1 and "://" in source  # "C:\\data" has a one-letter scheme


def _walk_order(path: str) -> tuple[tuple[int, str], ...]:
    """Sort key for `os.walk(topdown=True)` with sorted names: a folder's files before its sub-folders."""
    parts = path.split("/")
    return (*((1, p) for p in parts[:-1]), (0, parts[-1]))


def open_uri(uri: str, resolver: ClassResolver, *, limits: Limits = LIMITS) -> LabelledSet:
    """A labelled set from a folder URI that pyarrow reads (`s3://bucket/val`, `gs://...`, `file:///...`).

    The listing goes through `core.datasets`' planner, so layouts, limits and skip reasons are those of
    `open_folder`. Credentials come from the environment, as for pyarrow (e.g. AWS_* for S3).
    """
    import pyarrow
    import pyarrow.fs as pafs

    try:
        filesystem, root = pafs.FileSystem.from_uri(uri)
        infos = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        raise InputError(f"{uri}: cannot list the folder ({_first_line(exc)})") from None
    base = root.rstrip("/")
    files = sorted((i for i in infos if i.type == pafs.FileType.File), key=lambda i: _walk_order(i.path))
    if len(files) > limits.max_members:
        raise InputError(f"{uri}: more than {limits.max_members:,} files, over the limit")
    entries = [Entry(i.path[len(base) + 1 :], int(i.size or 0), int(i.size or 0)) for i in files]
    if not entries:
        raise InputError(f"{uri}: no files in the folder")

    def read_manifest(member: str) -> bytes:
        return ArrowReader(filesystem, base, max_bytes=limits.max_manifest_bytes).read(member)

    kept, skipped = plan_members(entries, resolver, read=read_manifest, source=uri, limits=limits)
    stamp = hashlib.sha256()
    for entry in entries:
        stamp.update(f"{entry.name}\0{entry.size}\0".encode())
    reader = ArrowReader(filesystem, base, max_bytes=limits.max_member_bytes)
    return labelled_set(kept, skipped, source=uri, reader=reader, digest=stamp.hexdigest())


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
        self.model = load_model(spec, backend=backend)
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
    """Run `spec` over every image of `labelled` on Ray Data; the same `EvalResult` as `core.evaluate.evaluate`.

    Args:
        spec: the model each actor builds (`core.registry.get_spec`; a checkpoint spec must be readable there).
        labelled: from `core.datasets` (open_path, open_zip, open_folder) or `open_uri`.
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
    ray = _ray()

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
    ray = _ray()
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
            raise InputError(_first_line(cause)) from None
        raise RayRunError(f"the Ray run failed: {_first_line(cause)}") from None
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
