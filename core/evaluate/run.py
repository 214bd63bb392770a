"""Evaluating a model on a labelled set: the data path (decoding overlapped with batched forward passes).

`evaluate` runs the model once and keeps every image's full logits in an `EvalResult`, so any
temperature can be re-scored later without the model (`core.evaluate.metrics`).
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from core.backends.choose import backend_info
from core.datasets.sets import LabelledSet, Skipped
from core.errors import ImageError, InputError
from core.evaluate.result import EvalResult, Progress
from core.features import features_backend, forward_with_features
from core.images import decode_image
from core.inference import forward
from core.models.spec import LoadedModel
from core.preprocess import Preprocessing, input_notes

DEFAULT_BATCH_SIZE = 64
WORKER_TIMEOUT_S = 300
MIN_WORKER_SECONDS = 1.0
WORKER_DECODE_RATIO = 3.0  # on a CPU, worker processes only when decoding takes this many times the model
PREFETCH_DEPTH = 2  # batches decoded ahead of the model: enough to hide a slow image, little memory


Item = tuple[int, Tensor | None, str | None, tuple[str, ...]]


class ImageFileDataset(Dataset[Item]):
    """Item i of a labelled set as (i, model input or None, error or None, notes): a bad image never stops a run.

    The notes are the decoder's (EXIF, CMYK, first frame, ...) and, given the model's `preprocessing`, what it does
    to the image (`core.preprocess.input_notes`: enlarged many times, little of it seen), as the Inspector says.
    """

    def __init__(
        self,
        labelled: LabelledSet,
        transform: Callable[[Image.Image], Tensor],
        *,
        preprocessing: Preprocessing | None = None,
    ) -> None:
        self.labelled = labelled
        self.transform = transform
        self.preprocessing = preprocessing

    def __len__(self) -> int:
        return len(self.labelled)

    def __getitem__(self, index: int) -> Item:
        name = self.labelled.files[index]
        try:
            decoded = decode_image(self.labelled.reader.read(name), name)
            tensor = self.transform(decoded.image)
        except (ImageError, InputError, OSError, KeyError) as exc:
            return index, None, str(exc), ()
        seen = input_notes(decoded.image.size, self.preprocessing) if self.preprocessing is not None else ()
        return index, tensor, None, (*decoded.notes, *seen)


Batch = tuple[list[int], Tensor | None, list[tuple[int, str]], list[tuple[int, tuple[str, ...]]]]


def collate(items: list[Item]) -> Batch:
    """A batch: the indices that decoded, their stacked inputs, (index, error) for those that did not, and
    (index, notes) for the images with notes."""
    good = [(i, x) for i, x, _, _ in items if x is not None]
    errors = [(i, e) for i, x, e, _ in items if x is None and e is not None]
    notes = [(i, n) for i, _, _, n in items if n]
    batch = torch.stack([x for _, x in good]) if good else None
    return [i for i, _ in good], batch, errors, notes


def default_batch_size(model: LoadedModel) -> int:
    """Images per forward pass: 64 on a GPU; on a CPU about 250k input pixels a batch (4 at 224 x 224,
    128 for the 8 x 8 digits), a power of two.

    Large batches of large images are slower per image on a CPU, their activations no longer fit the
    caches: on 2 cores EfficientNet-Lite0 takes 22 ms an image at batch 1, 15 at 4, 27 at 16, 46 at 32.
    """
    if model.device.type == "cuda":
        return DEFAULT_BATCH_SIZE
    crop = max(1, model.spec.preprocessing.crop)
    budget = max(1, min(128, 2**18 // (crop * crop)))
    return 1 << (budget.bit_length() - 1)


def choose_workers(
    decode_s: float,
    forward_s: float,
    *,
    remaining_batches: int,
    device: torch.device,
    cpus: int | None = None,
) -> int:
    """DataLoader workers for the rest of a run, from how long the first batch took to decode and to run.

    None when the rest decodes in under `MIN_WORKER_SECONDS` (starting a process costs more). On a GPU
    the cores are free while the model runs: up to 4 workers decode ahead. On a CPU with 0 workers a
    thread already decodes the next batch while the model runs, so a run takes about max(decode, model);
    worker processes beside the model's threads slow each forward pass (the threads wait for the one
    they pre-empted), and only pay when decoding takes several times longer than the model (tiny models
    on small images); then one worker per core decodes. Measured on 2 busy cores, EfficientNet-Lite0 on
    onnxruntime over real-size photos: 32 images/s with the thread, 15 with 1 worker, 11 with 2.
    """
    cores = cpus if cpus is not None else os.cpu_count() or 1
    if decode_s * remaining_batches < MIN_WORKER_SECONDS or cores < 2:
        return 0
    if device.type == "cuda":
        return min(4, cores - 1)
    return min(4, cores) if decode_s > WORKER_DECODE_RATIO * forward_s else 0


def overlaps_decoding(model: LoadedModel) -> bool:
    """Whether a thread should decode the next batch while the model runs: yes on ONNX Runtime (its idle
    threads sleep) and on a GPU; not for torch on the CPU, whose OpenMP threads spin between kernels and
    fight the decoding thread for the cores. Measured on 2 cores, EfficientNet-Lite0 over 216 real-size
    photos: onnxruntime 198 images/s with the thread, 154 without; torch 42 with it, 58 without.
    """
    return backend_info(model).name != "torch" or model.device.type == "cuda"


T = TypeVar("T")


def _batches(dataset: ImageFileDataset, indices: range, batch_size: int) -> Iterator[Batch]:
    for begin in range(indices.start, indices.stop, batch_size):
        yield collate([dataset[i] for i in range(begin, min(begin + batch_size, indices.stop))])


def prefetch(items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """The items of `items`, made by a background thread up to `depth` ahead of the consumer.

    An exception in the producer is raised here, in the consumer. Closing the generator (or dropping it)
    stops the producer at its next item, so a run stopped half-way leaves no thread decoding.
    """
    if depth < 1:
        raise InputError(f"prefetch depth must be at least 1, got {depth}")
    ready: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                ready.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(("error", exc))
            return
        put(("end", None))

    producer = threading.Thread(target=produce, name="logitscope-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        producer.join(timeout=WORKER_TIMEOUT_S)


def evaluate(
    model: LoadedModel,
    labelled: LabelledSet,
    *,
    batch_size: int | None = None,
    num_workers: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    features: bool = False,
) -> EvalResult:
    """Run `model` over every image of `labelled`, keeping the full logits.

    Args:
        model: from `core.models.registry.load_model`; used read-only.
        labelled: from `core.datasets` (open_zip, open_folder, digits_set).
        batch_size: images per forward pass; None picks `default_batch_size`.
        num_workers: decoding processes beside the model after the first batch; None lets `choose_workers`
            decide from the first batch's timings, 0 decodes in a thread that overlaps the model (inline for
            torch on the CPU, see `overlaps_decoding`).
        on_progress: called after each batch; an exception it raises stops the run (nothing is returned).
        features: also keep each image's penultimate-layer features: from the backend's verified export with
            features on ONNX Runtime (made before the clock starts, once per machine), else from torch.
    """
    batch_size = default_batch_size(model) if batch_size is None else batch_size
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    if len(labelled) == 0:
        raise InputError(f"{labelled.source}: no images to evaluate")
    if num_workers is not None and num_workers < 0:
        raise InputError(f"num_workers must be 0 or more, got {num_workers}")
    dataset = ImageFileDataset(labelled, model.spec.preprocessing.transform(), preprocessing=model.spec.preprocessing)
    total = len(labelled)
    logits = torch.empty((total, model.spec.num_classes), dtype=torch.float32)
    ok = torch.zeros(total, dtype=torch.bool)
    store: Tensor | None = None  # features (total, dim), allocated once the first batch says dim
    failed: list[Skipped] = []
    noted: dict[int, tuple[str, ...]] = {}
    done = 0

    def take(
        indices: list[int],
        batch: Tensor | None,
        errors: list[tuple[int, str]],
        notes: list[tuple[int, tuple[str, ...]]],
    ) -> None:
        nonlocal done, store
        noted.update(notes)
        if batch is not None:
            if features:
                out, feats = forward_with_features(model, batch)
                if store is None:
                    store = torch.zeros((total, feats.shape[1]), dtype=feats.dtype)
                store[indices] = feats
            else:
                out = forward(model, batch)
            if out.shape[1] != logits.shape[1]:
                raise InputError(f"{model.spec.name} returned {out.shape[1]} logits, expected {logits.shape[1]}")
            logits[indices] = out
            ok[indices] = True
        failed.extend(Skipped(labelled.files[i], error) for i, error in errors)
        done += len(indices) + len(errors)
        if on_progress is not None:
            on_progress(Progress(done, total, time.perf_counter() - start))

    if features:
        features_backend(model)  # export and verify now, not inside the first batch's timing
    start = time.perf_counter()
    with torch.inference_mode():
        # the first batch runs inline and is timed: decoding vs the model decides the workers for the rest
        head = min(batch_size, total)
        first = collate([dataset[i] for i in range(head)])
        decoded = time.perf_counter()
        take(*first)
        forward_s = time.perf_counter() - decoded
        rest = Subset(dataset, range(head, total))
        workers = num_workers
        if workers is None:
            remaining = math.ceil(len(rest) / batch_size)
            workers = choose_workers(decoded - start, forward_s, remaining_batches=remaining, device=model.device)
        if workers:
            loader = DataLoader(
                rest,
                batch_size=batch_size,
                shuffle=False,
                num_workers=workers,
                collate_fn=collate,
                timeout=WORKER_TIMEOUT_S,  # a stuck worker: an error, never a hang
            )
            batches: Iterator[Batch] = iter(loader)
        elif overlaps_decoding(model):
            # a thread decodes and preprocesses the next batches while this one runs the model (the model
            # and PIL's decoders release the GIL); measured faster than a worker process on 2 cores
            batches = prefetch(_batches(dataset, range(head, total), batch_size), depth=PREFETCH_DEPTH)
        else:
            batches = _batches(dataset, range(head, total), batch_size)
        try:
            for batch in batches:
                take(*batch)
        finally:
            del batches  # stops the decoding thread or workers at once, also when the run is stopped half-way
    seconds = time.perf_counter() - start
    keep = ok.nonzero().flatten()
    return EvalResult(
        files=tuple(labelled.files[i] for i in keep.tolist()),
        targets=torch.tensor(labelled.targets, dtype=torch.int64)[keep],
        logits=logits[keep],
        errors=labelled.skipped + tuple(failed),
        model=model.spec.name,
        source=labelled.source,
        seconds=seconds,
        attempted=done,
        features=store[keep] if store is not None else None,
        backend=backend_info(model).name,
        notes=labelled.notes,
        file_notes={labelled.files[i]: notes for i, notes in sorted(noted.items()) if ok[i]},
    )
