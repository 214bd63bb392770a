"""Evaluating a model on a labelled set: batched inference, metrics, calibration, temperature scaling.

`evaluate` runs the model once and keeps every image's full logits, so any temperature can be
re-scored later without the model. Decoding runs in a DataLoader worker beside the model.

Metrics follow the usual definitions:
- NLL: mean of -log softmax(z / T)[y] (equal to `torch.nn.functional.cross_entropy`);
- Brier: mean over images of sum over classes (p_c - 1[c = y])^2 (0 is perfect, 2 the worst);
- ECE: equal-width confidence bins (lo, hi]; sum over bins of (count / n) * |accuracy - mean confidence|;
  MCE: the largest such gap over the non-empty bins (Guo et al., 2017).
"""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from PIL import Image
from plotly.subplots import make_subplots
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from core.charts import REFERENCE_COLOUR, _layout, safe_text
from core.datasets import LabelledSet, Skipped
from core.errors import ImageError, InputError
from core.i18n import t
from core.images import decode_image
from core.inference import forward
from core.labels import label_of
from core.numerics import check_temperature, log_softmax, softmax, top_k
from core.registry import LoadedModel

ArrayLike = Tensor | np.ndarray | pd.Series
DEFAULT_BINS = 15
DEFAULT_BATCH_SIZE = 64
WORKER_TIMEOUT_S = 300
MIN_WORKER_SECONDS = 1.0
TOP_K = 5
LOGIT_PREFIX = "logit_"
CURVE_COLOURS = ("#636EFA", "#E4572E", "#00A88F")
RIGHT_COLOUR = "#4C9F70"
WRONG_COLOUR = "#E4572E"
_LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0.0)


# ---------------------------------------------------------------- the data path
class ImageFileDataset(Dataset[tuple[int, Tensor | None, str | None]]):
    """Item i of a labelled set as (i, model input or None, error or None): a bad image never stops a run."""

    def __init__(self, labelled: LabelledSet, transform: Callable[[object], Tensor]) -> None:
        self.labelled = labelled
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labelled)

    def __getitem__(self, index: int) -> tuple[int, Tensor | None, str | None]:
        name = self.labelled.files[index]
        try:
            decoded = decode_image(self.labelled.reader.read(name), name)
            return index, self.transform(decoded.image), None
        except (ImageError, InputError, OSError, KeyError) as exc:
            return index, None, str(exc)


def collate(
    items: list[tuple[int, Tensor | None, str | None]],
) -> tuple[list[int], Tensor | None, list[tuple[int, str]]]:
    """A batch: the indices that decoded, their stacked inputs, and (index, error) for those that did not."""
    good = [(i, x) for i, x, _ in items if x is not None]
    errors = [(i, e) for i, x, e in items if x is None and e is not None]
    batch = torch.stack([x for _, x in good]) if good else None
    return [i for i, _ in good], batch, errors


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
    the cores are free while the model runs: up to 4 workers decode ahead. On a CPU the model's threads
    already use every core, and a worker beside them slows each forward pass (the threads wait for the
    one it pre-empted), so workers only pay when decoding takes longer than the model (tiny models on
    small images); then the main process mostly waits, and one worker per core decodes.
    """
    cores = cpus if cpus is not None else os.cpu_count() or 1
    if decode_s * remaining_batches < MIN_WORKER_SECONDS or cores < 2:
        return 0
    if device.type == "cuda":
        return min(4, cores - 1)
    return min(4, cores) if decode_s > forward_s else 0


@dataclass(frozen=True)
class Progress:
    """How far a run is: images done of total, and the rate so far."""

    done: int
    total: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class EvalResult:
    """Everything a run produced; metrics at any T are computed from it without the model.

    Attributes:
        files: the evaluated images' names, in order.
        targets: their true class indices, int64 (n,).
        logits: their full logits, float32 (n, num_classes).
        errors: members skipped before the run and images that failed to decode, with reasons.
        model: the model's registry name.
        source: what was evaluated.
        seconds: wall time of the run (0 for results loaded from a file).
        attempted: images the run tried to decode (evaluated + failed).
    """

    files: tuple[str, ...]
    targets: Tensor
    logits: Tensor
    errors: tuple[Skipped, ...] = ()
    model: str = ""
    source: str = ""
    seconds: float = 0.0
    attempted: int = 0

    @property
    def n(self) -> int:
        return len(self.files)

    @property
    def num_classes(self) -> int:
        return int(self.logits.shape[1])

    @property
    def images_per_second(self) -> float:
        return self.attempted / self.seconds if self.seconds > 0 else 0.0


def evaluate(
    model: LoadedModel,
    labelled: LabelledSet,
    *,
    batch_size: int | None = None,
    num_workers: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> EvalResult:
    """Run `model` over every image of `labelled`, keeping the full logits.

    Args:
        model: from `core.registry.load_model`; used read-only.
        labelled: from `core.datasets` (open_zip, open_folder, digits_set).
        batch_size: images per forward pass; None picks `default_batch_size`.
        num_workers: decoding processes beside the model after the first batch; None lets `choose_workers`
            decide from the first batch's timings, 0 decodes inline.
        on_progress: called after each batch; an exception it raises stops the run (nothing is returned).
    """
    batch_size = default_batch_size(model) if batch_size is None else batch_size
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    if len(labelled) == 0:
        raise InputError(f"{labelled.source}: no images to evaluate")
    if num_workers is not None and num_workers < 0:
        raise InputError(f"num_workers must be 0 or more, got {num_workers}")
    dataset = ImageFileDataset(labelled, model.spec.preprocessing.transform())
    total = len(labelled)
    logits = torch.empty((total, model.spec.num_classes), dtype=torch.float32)
    ok = torch.zeros(total, dtype=torch.bool)
    failed: list[Skipped] = []
    done = 0

    def take(indices: list[int], batch: Tensor | None, errors: list[tuple[int, str]]) -> None:
        nonlocal done
        if batch is not None:
            out = forward(model, batch)
            if out.shape[1] != logits.shape[1]:
                raise InputError(f"{model.spec.name} returned {out.shape[1]} logits, expected {logits.shape[1]}")
            logits[indices] = out
            ok[indices] = True
        failed.extend(Skipped(labelled.files[i], error) for i, error in errors)
        done += len(indices) + len(errors)
        if on_progress is not None:
            on_progress(Progress(done, total, time.perf_counter() - start))

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
        loader = DataLoader(
            rest,
            batch_size=batch_size,
            shuffle=False,
            num_workers=workers if len(rest) else 0,
            collate_fn=collate,
            timeout=WORKER_TIMEOUT_S if workers and len(rest) else 0,  # a stuck worker: an error, never a hang
        )
        batches = iter(loader)
        try:
            for batch in batches:
                take(*batch)
        finally:
            del batches  # shuts the workers down at once, also when the run is stopped half-way
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
    )


# ---------------------------------------------------------------- metrics
def _check(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    if logits.ndim != 2 or targets.ndim != 1 or logits.shape[0] != targets.shape[0]:
        raise InputError(
            f"need logits (n, classes) and targets (n,), got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    if logits.shape[0] == 0:
        raise InputError("no evaluated images")
    if int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1]:
        raise InputError(f"targets must be class indices 0..{logits.shape[1] - 1}")
    return logits.to(torch.float64), targets.to(torch.int64)


def top_k_accuracy(logits: Tensor, targets: Tensor, *, k: int = 1) -> float:
    """Fraction of images whose true class is among the k largest logits (k clipped to the class count)."""
    z, y = _check(logits, targets)
    indices = top_k(z, k).indices
    return float((indices == y[:, None]).any(dim=1).double().mean())


def nll(logits: Tensor, targets: Tensor, *, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the true class under softmax(z / T), in nats."""
    z, y = _check(logits, targets)
    log_p = log_softmax(z, temperature=temperature)
    return float(-log_p.gather(1, y[:, None]).mean())


def brier_score(probs: Tensor, targets: Tensor) -> float:
    """Mean over images of the squared distance between the probabilities and the one-hot truth."""
    p, y = _check(probs, targets)
    one_hot = F.one_hot(y, p.shape[1]).to(p.dtype)
    return float(((p - one_hot) ** 2).sum(dim=1).mean())


def calibration_table(confidence: Tensor, correct: Tensor, *, n_bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """Equal-width confidence bins (lo, hi] (the first also holds 0).

    Columns: bin, lower, upper, count, accuracy, confidence (mean in the bin), gap (accuracy - confidence);
    accuracy, confidence and gap are NaN for an empty bin.
    """
    if n_bins < 1:
        raise InputError(f"the number of bins must be at least 1, got {n_bins}")
    conf = confidence.to(torch.float64).reshape(-1)
    hit = correct.to(torch.float64).reshape(-1)
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    # bucketize(right=False) puts x in bin i when edges[i] < x <= edges[i + 1]
    which = torch.bucketize(conf, edges[1:-1], right=False)
    count = torch.bincount(which, minlength=n_bins).to(torch.float64)
    sum_conf = torch.bincount(which, weights=conf, minlength=n_bins)
    sum_hit = torch.bincount(which, weights=hit, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = (sum_hit / count).numpy()
        mean_conf = (sum_conf / count).numpy()
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": edges[:-1].numpy(),
            "upper": edges[1:].numpy(),
            "count": count.numpy().astype(np.int64),
            "accuracy": accuracy,
            "confidence": mean_conf,
            "gap": accuracy - mean_conf,
        }
    )


def expected_calibration_error(table: pd.DataFrame) -> float:
    """ECE of a `calibration_table`: the count-weighted mean |accuracy - confidence|."""
    filled = table[table["count"] > 0]
    total = filled["count"].sum()
    return float((filled["count"] * filled["gap"].abs()).sum() / total) if total else 0.0


def max_calibration_error(table: pd.DataFrame) -> float:
    """MCE of a `calibration_table`: the largest |accuracy - confidence| of a non-empty bin."""
    filled = table[table["count"] > 0]
    return float(filled["gap"].abs().max()) if len(filled) else 0.0


def confidence_and_correct(logits: Tensor, targets: Tensor, *, temperature: float = 1.0) -> tuple[Tensor, Tensor]:
    """Each image's top probability at T and whether its top class is the true one."""
    z, y = _check(logits, targets)
    probs = softmax(z, temperature=temperature)
    confidence, predicted = probs.max(dim=1)
    return confidence, predicted == y


@dataclass(frozen=True)
class Metrics:
    """Headline metrics of a set at one temperature (accuracies do not depend on T)."""

    n: int
    temperature: float
    top1: float
    top5: float
    nll: float
    brier: float
    ece: float
    mce: float


def compute_metrics(
    logits: Tensor, targets: Tensor, *, temperature: float = 1.0, n_bins: int = DEFAULT_BINS
) -> Metrics:
    """Top-1/top-5 accuracy, NLL, Brier, ECE and MCE of softmax(logits / T)."""
    t = check_temperature(temperature)
    z, y = _check(logits, targets)
    probs = softmax(z, temperature=t)
    confidence, predicted = probs.max(dim=1)
    table = calibration_table(confidence, predicted == y, n_bins=n_bins)
    return Metrics(
        n=int(y.numel()),
        temperature=t,
        top1=float((predicted == y).double().mean()),
        top5=top_k_accuracy(z, y, k=TOP_K),
        nll=nll(z, y, temperature=t),
        brier=brier_score(probs, y),
        ece=expected_calibration_error(table),
        mce=max_calibration_error(table),
    )


# ---------------------------------------------------------------- temperature scaling
def looks_like_probabilities(logits: Tensor) -> bool:
    """True when most rows are in [0, 1] and sum to 1: softmax outputs passed where logits belong.

    Temperature scaling of probabilities (a double softmax) cannot calibrate and often makes ECE worse.
    """
    z = logits.to(torch.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        return False
    rows = ((z >= 0) & (z <= 1)).all(dim=1) & ((z.sum(dim=1) - 1).abs() <= 0.01)
    return bool(rows.double().mean() > 0.9)


def fit_temperature(logits: Tensor, targets: Tensor, *, max_iter: int = 100) -> float:
    """The T > 0 minimising the NLL of softmax(logits / T), found by LBFGS on log T (so T stays positive)."""
    z, y = _check(logits, targets)
    z = z.detach()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimiser.zero_grad()
        loss = F.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    with torch.enable_grad():  # also when called under inference_mode
        optimiser.step(closure)
    value = float(log_t.detach().exp())
    if not math.isfinite(value) or value <= 0:
        raise InputError("temperature fitting did not converge (are the logits finite?)")
    return value


@dataclass(frozen=True)
class TemperatureFit:
    """A fitted temperature and the metrics before (T = 1) and after it.

    Attributes:
        temperature: the fitted T.
        before: metrics at T = 1.
        after: metrics at the fitted T.
        probabilities_warning: the inputs look like probabilities, not logits.
    """

    temperature: float
    before: Metrics
    after: Metrics
    probabilities_warning: bool


def calibrate(logits: Tensor, targets: Tensor, *, n_bins: int = DEFAULT_BINS) -> TemperatureFit:
    """Fit T on these logits and report the metrics at T = 1 and at T."""
    temperature = fit_temperature(logits, targets)
    return TemperatureFit(
        temperature=temperature,
        before=compute_metrics(logits, targets, n_bins=n_bins),
        after=compute_metrics(logits, targets, temperature=temperature, n_bins=n_bins),
        probabilities_warning=looks_like_probabilities(logits),
    )


# ---------------------------------------------------------------- per image, per class, confusion
def records_table(result: EvalResult, labels: Sequence[str], *, temperature: float = 1.0) -> pd.DataFrame:
    """One row per image at T: file, target, target_label, prediction, prediction_label, confidence,
    margin (top-1 minus top-2 probability), target_probability, correct."""
    z, y = _check(result.logits, result.targets)
    probs = softmax(z, temperature=temperature)
    values, indices = top_k(probs, 2)
    second = values[:, 1] if values.shape[1] > 1 else torch.zeros_like(values[:, 0])
    predicted = indices[:, 0]
    return pd.DataFrame(
        {
            "file": list(result.files),
            "target": y.numpy(),
            "target_label": [label_of(labels, i) for i in y.tolist()],
            "prediction": predicted.numpy(),
            "prediction_label": [label_of(labels, i) for i in predicted.tolist()],
            "confidence": values[:, 0].numpy(),
            "margin": (values[:, 0] - second).numpy(),
            "target_probability": probs.gather(1, y[:, None]).flatten().numpy(),
            "correct": (predicted == y).numpy(),
        }
    )


def most_confident_mistakes(records: pd.DataFrame, *, n: int = 12) -> pd.DataFrame:
    """The n wrong predictions made with the highest confidence."""
    return records[~records["correct"]].sort_values(["confidence", "file"], ascending=[False, True]).head(n)


def least_confident_correct(records: pd.DataFrame, *, n: int = 12) -> pd.DataFrame:
    """The n right predictions made with the lowest confidence."""
    return records[records["correct"]].sort_values(["confidence", "file"], ascending=[True, True]).head(n)


def _as_index(values: ArrayLike) -> Tensor:
    array = values.to_numpy() if isinstance(values, pd.Series) else values
    return torch.tensor(np.asarray(array), dtype=torch.int64).reshape(-1)


def confusion_matrix(targets: ArrayLike, predictions: ArrayLike, *, num_classes: int) -> Tensor:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    flat = _as_index(targets) * num_classes + _as_index(predictions)
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def shown_classes(records: pd.DataFrame) -> list[int]:
    """The classes that occur as a target or a prediction, sorted: the rows/columns worth drawing."""
    return sorted(set(records["target"].tolist()) | set(records["prediction"].tolist()))


def confused_pairs(records: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """Wrong (true -> predicted) pairs with their counts, most frequent first.

    Columns: target, target_label, prediction, prediction_label, count.
    """
    wrong = records[~records["correct"]]
    columns = ["target", "target_label", "prediction", "prediction_label"]
    pairs = wrong.groupby(columns, sort=False).size().reset_index(name="count")
    pairs = pairs.sort_values(["count", "target", "prediction"], ascending=[False, True, True]).reset_index(drop=True)
    return pairs if top is None else pairs.head(top)


def per_class_table(records: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """One row per true class present: index, label, count, correct, accuracy, mean_confidence,
    predicted (how often the class was predicted), most_confused_with (label of the top wrong prediction)."""
    grouped = records.groupby("target")
    table = pd.DataFrame(
        {
            "count": grouped.size(),
            "correct": grouped["correct"].sum().astype(np.int64),
            "mean_confidence": grouped["confidence"].mean(),
        }
    )
    table["accuracy"] = table["correct"] / table["count"]
    table["predicted"] = records["prediction"].value_counts().reindex(table.index, fill_value=0).astype(np.int64)
    wrong = records[~records["correct"]]
    top_wrong = wrong.groupby("target")["prediction_label"].agg(lambda s: s.value_counts().index[0])
    table["most_confused_with"] = top_wrong.reindex(table.index).fillna("")
    table.insert(0, "label", [label_of(labels, int(i)) for i in table.index])
    table.index.name = "index"
    table = table.reset_index()
    ordered = ["index", "label", "count", "correct", "accuracy", "mean_confidence", "predicted", "most_confused_with"]
    return table[ordered].sort_values(["accuracy", "index"]).reset_index(drop=True)


# ---------------------------------------------------------------- results files
def results_frame(result: EvalResult, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Per-image results for export: file, target, prediction, confidence, correct, top5 indices and
    probabilities (";"-joined), target/prediction labels when `labels` is given, model, and every logit
    as columns logit_0 .. logit_{C-1} (enough to recompute everything at any T)."""
    z = result.logits
    probs = softmax(z.to(torch.float64))
    values, indices = top_k(probs, TOP_K)
    predicted = indices[:, 0]
    frame = pd.DataFrame(
        {
            "file": list(result.files),
            "target": result.targets.numpy(),
            "prediction": predicted.numpy(),
            "confidence": values[:, 0].numpy(),
            "correct": (predicted == result.targets).numpy(),
            "top5_indices": [";".join(str(i) for i in row) for row in indices.tolist()],
            "top5_probabilities": [";".join(f"{p:.6g}" for p in row) for row in values.tolist()],
        }
    )
    if labels is not None:
        frame.insert(2, "target_label", [label_of(labels, i) for i in result.targets.tolist()])
        frame.insert(4, "prediction_label", [label_of(labels, i) for i in predicted.tolist()])
    frame["model"] = result.model
    logit_columns = pd.DataFrame(z.numpy(), columns=[f"{LOGIT_PREFIX}{i}" for i in range(z.shape[1])])
    return pd.concat([frame, logit_columns], axis=1)


def results_bytes(result: EvalResult, *, fmt: str, labels: Sequence[str] | None = None) -> bytes:
    """The results file as bytes: fmt "csv" (UTF-8) or "parquet"."""
    frame = results_frame(result, labels)
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise InputError(f"results format must be csv or parquet, not {fmt!r}")


def read_results(data: bytes, name: str = "results.csv", *, max_rows: int = 1_000_000) -> EvalResult:
    """Load a results file written by `results_bytes` (CSV or Parquet; never unpickles anything).

    Raises InputError when it is not such a file (missing columns, non-finite logits, bad targets).
    """
    is_parquet = data[:4] == b"PAR1" or name.lower().endswith(".parquet")
    try:
        frame = pd.read_parquet(io.BytesIO(data)) if is_parquet else pd.read_csv(io.BytesIO(data), low_memory=False)
    except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
        kind = "Parquet" if is_parquet else "CSV"
        raise InputError(f"{name}: not a readable {kind} results file ({type(exc).__name__}: {exc})") from None
    logit_columns = [c for c in frame.columns if str(c).startswith(LOGIT_PREFIX)]
    try:
        order = sorted(logit_columns, key=lambda c: int(str(c)[len(LOGIT_PREFIX) :]))
    except ValueError:
        raise InputError(f"{name}: logit columns must be named logit_0, logit_1, ...") from None
    if [f"{LOGIT_PREFIX}{i}" for i in range(len(order))] != order or len(order) < 2:
        raise InputError(
            f"{name}: needs logit columns logit_0 .. logit_(C-1) for at least 2 classes (a results file from this tool)"
        )
    missing = [c for c in ("file", "target") if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)}")
    if len(frame) == 0:
        raise InputError(f"{name}: the results file has no rows")
    if len(frame) > max_rows:
        raise InputError(f"{name}: {len(frame):,} rows, over the limit of {max_rows:,}")
    try:
        logits = torch.tensor(frame[order].to_numpy(dtype=np.float32))
        targets = torch.tensor(frame["target"].to_numpy(dtype=np.int64))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: logits and targets must be numbers ({exc})") from None
    if not bool(torch.isfinite(logits).all()):
        raise InputError(f"{name}: some logits are NaN or infinite")
    if int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1]:
        raise InputError(f"{name}: targets must be class indices 0..{logits.shape[1] - 1}")
    model = str(frame["model"].iloc[0]) if "model" in frame.columns else ""
    files = tuple(str(f) for f in frame["file"].tolist())
    return EvalResult(files, targets, logits, model=model, source=name, attempted=len(files))


# ---------------------------------------------------------------- the CLI's summary
def summary(result: EvalResult, fit: TemperatureFit) -> dict[str, object]:
    """The JSON the CLI prints: n, top1, top5, ece, nll, fitted_temperature, ece_after, nll_after,
    images_per_second, errors [{file, error}] (plus brier and mce before/after, model, seconds)."""
    return {
        "n": result.n,
        "top1": fit.before.top1,
        "top5": fit.before.top5,
        "ece": fit.before.ece,
        "nll": fit.before.nll,
        "fitted_temperature": fit.temperature,
        "ece_after": fit.after.ece,
        "nll_after": fit.after.nll,
        "images_per_second": result.images_per_second,
        "errors": [{"file": e.name, "error": e.reason} for e in result.errors],
        "brier": fit.before.brier,
        "brier_after": fit.after.brier,
        "mce": fit.before.mce,
        "mce_after": fit.after.mce,
        "model": result.model,
        "seconds": result.seconds,
        "probabilities_warning": fit.probabilities_warning,
    }


# ---------------------------------------------------------------- figures and thumbnails
def _chart_text(key: str, lang: str, **params: object) -> str:
    return t(f"eval.chart.{key}", lang, **params)


def _count_axis(counts: Sequence[int]) -> dict[str, object]:
    """A log axis (decades only) when non-zero counts span more than 20x, else a linear one."""
    filled = [c for c in counts if c > 0]
    if filled and max(filled) >= 20 * min(filled):
        return dict(type="log", dtick=1)
    return dict(type="linear", rangemode="tozero")


def reliability_figure(
    curves: Sequence[tuple[str, pd.DataFrame]], *, lang: str = "en", title: str | None = None
) -> go.Figure:
    """Reliability diagram: accuracy vs mean confidence per bin for each (name, calibration_table), the
    diagonal of perfect calibration, and below it the bin counts (log scale) of each curve."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06)
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=_chart_text("perfect", lang),
        line=dict(color=REFERENCE_COLOUR, dash="dash"),
        hoverinfo="skip",
        row=1,
        col=1,
    )
    for number, (name, table) in enumerate(curves):
        colour = CURVE_COLOURS[number % len(CURVE_COLOURS)]
        filled = table[table["count"] > 0]
        hover = _chart_text("bin_hover", lang)
        custom = filled[["lower", "upper", "count", "gap"]].to_numpy()
        # marker area follows the bin's share of images: a 1-image bin far off the diagonal looks small
        share = (filled["count"] / max(int(filled["count"].max()), 1)) ** 0.5 if len(filled) else filled["count"]
        fig.add_scatter(
            x=filled["confidence"].tolist(),
            y=filled["accuracy"].tolist(),
            mode="lines+markers",
            name=safe_text(name),
            legendgroup=name,
            line=dict(color=colour, width=1.5),
            marker=dict(size=(5 + 13 * share).tolist(), line=dict(width=1, color="white")),
            customdata=custom,
            hovertemplate=hover,
            row=1,
            col=1,
        )
        centres = ((table["lower"] + table["upper"]) / 2).tolist()
        fig.add_bar(
            x=centres,
            y=table["count"].tolist(),
            name=safe_text(name),
            legendgroup=name,
            showlegend=False,
            marker_color=colour,
            width=float(table["upper"].iloc[0] - table["lower"].iloc[0]) / max(len(curves), 1),
            offsetgroup=str(number),
            hovertemplate=_chart_text("count_hover", lang),
            row=2,
            col=1,
        )
    fig.update_layout(barmode="group", bargap=0.05)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=_chart_text("confidence", lang), row=2, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text=_chart_text("accuracy", lang), row=1, col=1)
    counts = [int(c) for _, table in curves for c in table["count"]]
    fig.update_yaxes(title_text=_chart_text("images", lang), **_count_axis(counts), row=2, col=1)
    _layout(fig, title or _chart_text("reliability", lang), height=560)
    fig.update_layout(legend=_LEGEND_BELOW, margin=dict(b=110))
    return fig


def confidence_histogram_figure(
    confidence: Tensor, correct: Tensor, *, n_bins: int = 20, lang: str = "en", title: str | None = None
) -> go.Figure:
    """How many images got each top-1 confidence, stacked: right predictions and wrong ones."""
    conf = confidence.to(torch.float64).reshape(-1)
    hit = correct.reshape(-1).to(torch.bool)
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    which = torch.bucketize(conf, edges[1:-1], right=False)
    right = torch.bincount(which[hit], minlength=n_bins).tolist()
    wrong = torch.bincount(which[~hit], minlength=n_bins).tolist()
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    fig = go.Figure()
    hover = _chart_text("histogram_hover", lang)
    fig.add_bar(x=centres, y=right, name=_chart_text("right", lang), marker_color=RIGHT_COLOUR, hovertemplate=hover)
    fig.add_bar(x=centres, y=wrong, name=_chart_text("wrong", lang), marker_color=WRONG_COLOUR, hovertemplate=hover)
    # side by side, on a log scale when counts differ a lot: the few wrong images of a good model stay visible
    fig.update_layout(
        barmode="group",
        bargap=0.1,
        xaxis=dict(range=[0, 1], tickformat=".0%", title=_chart_text("confidence", lang)),
        yaxis=dict(title=_chart_text("images", lang), **_count_axis(right + wrong)),
    )
    _layout(fig, title or _chart_text("histogram", lang), height=560)
    fig.update_layout(legend=_LEGEND_BELOW, margin=dict(b=110))
    return fig


def _unique_names(labels: Sequence[str], classes: Sequence[int]) -> list[str]:
    names = [label_of(labels, i) for i in classes]
    # a heatmap axis merges equal names (ImageNet has two "cardigan"s): tell them apart by index
    return [safe_text(n if names.count(n) == 1 else f"{n} (#{i})") for n, i in zip(names, classes, strict=True)]


def confusion_matrix_figure(
    matrix: Tensor,
    labels: Sequence[str],
    *,
    classes: Sequence[int] | None = None,
    lang: str = "en",
    title: str | None = None,
) -> go.Figure:
    """Heatmap of a confusion matrix (rows = true class, columns = predicted), coloured by the share of
    the row and annotated with counts; `classes` picks the rows/columns to draw (default: all)."""
    chosen = list(classes) if classes is not None else list(range(matrix.shape[0]))
    index = torch.tensor(chosen, dtype=torch.int64)
    counts = matrix.to(torch.int64)[index][:, index]
    rows = matrix.to(torch.float64)[index].sum(dim=1, keepdim=True).clamp(min=1)
    share = counts.to(torch.float64) / rows
    names = _unique_names(labels, chosen)
    text = [[str(v) if v else "" for v in row] for row in counts.tolist()]
    fig = go.Figure(
        go.Heatmap(
            z=share.tolist(),
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            customdata=counts.tolist(),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar=dict(title=dict(text=_chart_text("row_share", lang))),
            hovertemplate=_chart_text("cell_hover", lang),
            xgap=1,
            ygap=1,
        )
    )
    side = len(chosen)
    fig.update_layout(
        xaxis=dict(title=_chart_text("predicted", lang), tickangle=-45 if side > 8 else 0, type="category"),
        yaxis=dict(title=_chart_text("true", lang), autorange="reversed", type="category"),
    )
    return _layout(fig, title or _chart_text("confusion", lang), height=min(900, max(360, 160 + 26 * side)))


def thumbnail(data: bytes, name: str, *, size: int = 160) -> bytes:
    """A PNG at most `size` pixels on a side for a gallery; tiny images (8x8 digits) are enlarged with
    sharp pixels rather than blurred."""
    image = decode_image(data, name).image
    scale = size / max(image.size)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
    buffer = io.BytesIO()
    image.resize(target, resample).save(buffer, format="PNG")
    return buffer.getvalue()
