"""What the Image Inspector computes: per-image results, score tables, the preprocessing check,
"what about class X?", the summary of many images, exports and the Logits Lab handoff.

Everything here is pure (tensors, PIL images, DataFrames, dicts in and out) so the page only lays
results out. The functions that need the model (`normalisation_logits`) take a `LoadedModel` and never
change it; the page caches what they return.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
import torch
from PIL import Image
from torch import Tensor

from core.analysis import DISPLAY_MIN_SIDE as DISPLAY_MIN_SIDE  # re-exported: the view moved to core.analysis
from core.analysis import MIN_SIDE as MIN_SIDE
from core.analysis import PREVIEW_SIDE as PREVIEW_SIDE
from core.analysis import ImageView, digest, error_message, image_view
from core.charts import class_sweep_figure as class_sweep_figure  # re-exported: figures live in core.charts
from core.charts import prediction_figures as prediction_figures
from core.checks import Check, run_checks, worst_status
from core.errors import LogitscopeError
from core.images import decode_image
from core.images import image_bytes as image_bytes  # re-exported: one thumbnail, in core.images
from core.images import thumbnail as thumbnail
from core.inference import predict
from core.labels import label_of
from core.numerics import as_logits, check_temperature, sigmoid, softmax
from core.preprocess import Preprocessing, normalisation_variants
from core.registry import LoadedModel
from core.tables import full_table, prediction_lines, top_k_table

Scores = Literal["softmax", "sigmoid"]

# the three normalisations compared, in the order of core.preprocess.normalisation_variants
VARIANT_IDS = ("own", "imagenet", "none")


# ---------------------------------------------------------------- controls
def temperature_options(*, low: float = 0.05, high: float = 20.0, steps_per_decade: int = 10) -> list[float]:
    """Log-spaced temperatures from `low` to `high`, rounded to 2 significant digits, always including 1.

    With 10 steps per decade the values are 1, 1.3, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 7.9, 10, ... so a slider over
    them moves on a log scale, the way temperature acts.
    """
    check_temperature(low)
    if high <= low:
        raise LogitscopeError(f"high ({high:g}) must be above low ({low:g})")
    first = math.ceil(round(math.log10(low) * steps_per_decade, 6))
    last = math.floor(round(math.log10(high) * steps_per_decade, 6))
    values = {float(f"{10 ** (i / steps_per_decade):.2g}") for i in range(first, last + 1)}
    values |= {low, high, 1.0} if low <= 1.0 <= high else {low, high}
    return sorted(v for v in values if low <= v <= high)


# ---------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageResult:
    """One image's outcome: its view and logits, or the message saying why it could not be analysed.

    Attributes:
        name: the file name.
        data: the file's bytes (the cache key of everything computed from it).
        view: the image as shown, None on error.
        logits: the model's raw output (1-D), None on error.
        error: a sentence for the user, None on success.
    """

    name: str
    data: bytes = field(repr=False)
    view: ImageView | None = None
    logits: Tensor | None = field(default=None, repr=False)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def key(self) -> str:
        return digest(self.data)


def inspect_images(
    items: Sequence[tuple[str, bytes]],
    *,
    view_of: Callable[[str, bytes], ImageView],
    logits_of: Callable[[str, bytes], Tensor],
    on_progress: Callable[[int, int, str], None] | None = None,
) -> list[ImageResult]:
    """Analyse each (name, bytes) on its own: a bad file becomes a result with `error`, the others go on.

    Args:
        items: the files to analyse, in display order.
        view_of: decodes one file into its `ImageView` (raises a LogitscopeError for a bad file).
        logits_of: the model's logits for one file (the page passes its cached loader).
        on_progress: called after each image with (done, total, name), e.g. to move a progress bar.
    """
    results = []
    for done, (name, data) in enumerate(items, start=1):
        try:
            view = view_of(name, data)
            logits = as_logits(logits_of(name, data)).reshape(-1)
            results.append(ImageResult(name, data, view, logits))
        except Exception as exc:  # one bad image must never take down the others or the page
            results.append(ImageResult(name, data, error=error_message(name, exc)))
        if on_progress is not None:
            on_progress(done, len(items), name)
    return results


def direct_inspect(model: LoadedModel, items: Sequence[tuple[str, bytes]]) -> list[ImageResult]:
    """`inspect_images` with no cache: decode and run `model` directly (tests, scripts)."""

    def view_of(name: str, data: bytes) -> ImageView:
        return image_view(decode_image(data, name), model.spec.preprocessing)

    def logits_of(name: str, data: bytes) -> Tensor:
        return predict(model, [decode_image(data, name).image])[0]

    return inspect_images(items, view_of=view_of, logits_of=logits_of)


# ---------------------------------------------------------------- tables
def scores_of(logits: Tensor, *, temperature: float = 1.0, scores: Scores = "softmax") -> Tensor:
    """softmax(z / T) (one distribution, sums to 1) or sigmoid(z / T) (independent per class), float64."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    if scores == "sigmoid":
        return sigmoid(z, temperature=temperature)
    return softmax(z, temperature=temperature)


def score_table(
    logits: Tensor,
    labels: Sequence[str],
    *,
    k: int = 5,
    temperature: float = 1.0,
    scores: Scores = "softmax",
    other_labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The top-k table in the chosen view.

    softmax: `core.tables.top_k_table` (rank, index, label, [label_2], logit, probability, probability_t1,
    cumulative). sigmoid: rank, index, label, [label_2], logit, score, score_t1; no cumulative column, since
    independent scores do not add up to anything.
    """
    if scores == "softmax":
        return top_k_table(logits, labels, k=k, temperature=temperature, other_labels=other_labels)
    z = as_logits(logits).reshape(-1).to(torch.float64)
    now, at_one = sigmoid(z, temperature=temperature), sigmoid(z)
    table = top_k_table(z, labels, k=k, other_labels=other_labels)
    indices = table["index"].tolist()
    table = table.drop(columns=["probability", "probability_t1", "cumulative"])
    table["score"] = [float(now[i]) for i in indices]
    table["score_t1"] = [float(at_one[i]) for i in indices]
    return table


def score_lines(table: pd.DataFrame) -> list[str]:
    """The seed-style lines "1. espresso (95.7%)" for either view of `score_table`."""
    if "probability" in table.columns:
        return prediction_lines(table)
    return [f"{row.rank}. {row.label} ({row.score:.1%})" for row in table.itertuples()]


def summary_table(
    results: Sequence[ImageResult],
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    scores: Scores = "softmax",
    num_classes: int | None = None,
) -> pd.DataFrame:
    """One row per image: file, top1 (label), index, score (at T), status (worst check, or "error"), message."""
    rows: list[dict[str, object]] = []
    for result in results:
        if result.logits is None:
            rows.append(
                {
                    "file": result.name,
                    "top1": "",
                    "index": None,
                    "score": None,
                    "status": "error",
                    "message": result.error or "",
                }
            )
            continue
        values = scores_of(result.logits, temperature=temperature, scores=scores)
        best = int(torch.argmax(result.logits))
        checks = run_checks(result.logits, labels=labels, num_classes=num_classes, temperature=temperature)
        failing = [c.message for c in checks if c.status != "pass"]
        rows.append(
            {
                "file": result.name,
                "top1": label_of(labels, best),
                "index": best,
                "score": float(values[best]),
                "status": worst_status(checks),
                "message": " ".join(failing),
            }
        )
    return pd.DataFrame(rows, columns=["file", "top1", "index", "score", "status", "message"])


# ---------------------------------------------------------------- preprocessing check
def normalisation_logits(
    model: LoadedModel, image: Image.Image, *, own_input: Tensor | None = None
) -> dict[str, Tensor]:
    """The model's logits for one image under its own normalisation, ImageNet mean/std, and none.

    Keys are VARIANT_IDS ("own", "imagenet", "none"); one batched forward pass, the model unchanged.
    `image` is the decoded RGB image (`ImageResult.image`); `own_input`, when given, is its input under the
    model's own preprocessing (`ImageResult.input`), used as is instead of being built again.
    """
    variants = list(normalisation_variants(model.spec.preprocessing).values())
    own = variants[0](image) if own_input is None else own_input
    tensors = [own, *(pre(image) for pre in variants[1:])]
    logits = predict(model, tensors)
    return dict(zip(VARIANT_IDS, logits, strict=True))


@dataclass(frozen=True)
class VariantResult:
    """The top-k under one normalisation.

    Attributes:
        id: "own", "imagenet" or "none".
        description: how pixels were scaled, e.g. "scale to [-1, 1]".
        table: rank, index, label, logit, probability.
        top1: index of the top class.
        changed: whether top-1 differs from the model's own normalisation.
    """

    id: str
    description: str
    table: pd.DataFrame
    top1: int
    changed: bool


def compare_preprocessing(
    logits_by_variant: dict[str, Tensor],
    labels: Sequence[str],
    pre: Preprocessing,
    *,
    k: int = 5,
    temperature: float = 1.0,
) -> list[VariantResult]:
    """Top-k tables side by side for the outputs of `normalisation_logits`, flagging a changed top-1."""
    descriptions = [p.normalisation_text() for p in normalisation_variants(pre).values()]
    own_top = int(torch.argmax(logits_by_variant["own"]))
    results = []
    for variant, description in zip(VARIANT_IDS, descriptions, strict=True):
        z = logits_by_variant[variant]
        table = top_k_table(z, labels, k=k, temperature=temperature)[["rank", "index", "label", "logit", "probability"]]
        top1 = int(torch.argmax(z))
        results.append(VariantResult(variant, description, table, top1, top1 != own_top))
    return results


# ---------------------------------------------------------------- what about class X?
@dataclass(frozen=True)
class ClassQuery:
    """Where one class stands.

    Attributes:
        index: the class asked about.
        rank: its rank by logit (1 = top); ties are broken as torch.argsort does.
        logit: its logit.
        score: its probability (softmax) or score (sigmoid) at T.
        top1: index of the top class.
        top1_score: the top class's probability or score at T.
        margin: logit of top-1 minus this class's logit (>= 0).
        odds: p(top-1) / p(X) under softmax at T, exp(margin / T) (inf if it overflows).
        num_classes: how many classes there are.
    """

    index: int
    rank: int
    logit: float
    score: float
    top1: int
    top1_score: float
    margin: float
    odds: float
    num_classes: int


def query_class(logits: Tensor, index: int, *, temperature: float = 1.0, scores: Scores = "softmax") -> ClassQuery:
    """Rank, logit, score and margin to top-1 of class `index`. No T > 0 changes the rank or the margin."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    if not 0 <= index < z.numel():
        raise LogitscopeError(f"class {index} does not exist: the model has {z.numel()} classes (0 to {z.numel() - 1})")
    values = scores_of(z, temperature=temperature, scores=scores)
    order = torch.argsort(z, descending=True, stable=True)
    rank = int((order == index).nonzero()[0, 0]) + 1
    top1 = int(order[0])
    margin = float(z[top1] - z[index])
    ratio = margin / check_temperature(temperature)
    return ClassQuery(
        index=index,
        rank=rank,
        logit=float(z[index]),
        score=float(values[index]),
        top1=top1,
        top1_score=float(values[top1]),
        margin=margin,
        odds=math.exp(ratio) if ratio < 700 else math.inf,
        num_classes=z.numel(),
    )


def format_probability(p: float) -> str:
    """A probability for people: "95.66%", "0.012%", or "3.1e-09" when a percentage would read 0.000%."""
    return f"{p:.3%}" if p >= 1e-5 or p == 0 else f"{p:.2e}"


def format_ratio(ratio: float) -> str:
    """How many times more likely: "1.02", "69.3", "280,000", or "1.2e+12" (and "∞" past float range)."""
    if math.isinf(ratio):
        return "∞"
    if ratio < 1000:
        return f"{ratio:.3g}"
    return f"{ratio:,.0f}" if ratio < 1e9 else f"{ratio:.2g}"


def class_option_text(index: int, *label_lists: Sequence[str] | None) -> str:
    """The picker's text for a class: "967 · espresso · 浓咖啡" (each distinct name once)."""
    names: list[str] = []
    for labels in label_lists:
        if labels is not None and index < len(labels) and labels[index] not in names:
            names.append(labels[index])
    return " · ".join([str(index), *names])


def _normalise(text: str) -> str:
    return re.sub(r"[\s_\-·,]+", " ", text.casefold()).strip()


def search_labels(query: str, *label_lists: Sequence[str] | None, limit: int = 20) -> list[int]:
    """Class indices whose name (in any of `label_lists`) matches `query`, best first.

    A number matches that index; otherwise exact names come first, then names starting with the query,
    then names containing it, then names containing every word of it. Case and separators are ignored.
    """
    q = _normalise(query)
    if not q:
        return []
    size = max((len(labels) for labels in label_lists if labels is not None), default=0)
    if q.isdigit():
        return [int(q)] if int(q) < size else []
    words = q.split()
    best: dict[int, int] = {}
    for labels in label_lists:
        for index, name in enumerate(labels or ()):
            n = _normalise(name)
            if n == q:
                tier = 0
            elif n.startswith(q):
                tier = 1
            elif q in n:
                tier = 2
            elif all(w in n for w in words):
                tier = 3
            else:
                continue
            best[index] = min(tier, best.get(index, tier))
    return sorted(best, key=lambda i: (best[i], i))[:limit]


# ---------------------------------------------------------------- comparing two models
def compare_models(
    first: tuple[str, Tensor, Sequence[str]],
    second: tuple[str, Tensor, Sequence[str]],
    *,
    k: int = 5,
    temperature: float = 1.0,
) -> pd.DataFrame:
    """Top-k of two models on the same image, side by side: rank, then label and probability of each.

    Each tuple is (model name, logits, labels). Columns: rank, <name>, <name> p, ... for both.
    """
    columns: dict[str, list[object]] = {}
    for name, logits, labels in (first, second):
        table = top_k_table(logits, labels, k=k, temperature=temperature)
        columns.setdefault("rank", table["rank"].tolist())
        columns[name] = table["label"].tolist()
        columns[f"{name} p"] = table["probability"].tolist()
    size = min(len(v) for v in columns.values())
    return pd.DataFrame({key: values[:size] for key, values in columns.items()})


# ---------------------------------------------------------------- figures


# ---------------------------------------------------------------- exports and the Logits Lab handoff
def export_stem(image_name: str, model_name: str) -> str:
    """A safe file-name stem for downloads, e.g. "coffee_efficientnet_lite0"."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", image_name)
    text = f"{stem}_{model_name}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:120] or "prediction"


def export_table(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    other_labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every class: index, label, [label_2], logit, probability (at T), log_probability, rank,
    probability_t1 and sigmoid (at T)."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    table = full_table(z, labels, temperature=temperature)
    if other_labels is not None:
        table.insert(2, "label_2", [label_of(other_labels, i) for i in range(z.numel())])
    table["probability_t1"] = softmax(z).tolist()
    table["sigmoid"] = sigmoid(z, temperature=temperature).tolist()
    return table


def export_csv(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float = 1.0,
    other_labels: Sequence[str] | None = None,
) -> str:
    """The full logits/probabilities as CSV text (floats written exactly, so they read back equal)."""
    return export_table(logits, labels, temperature=temperature, other_labels=other_labels).to_csv(index=False)


def prediction_record(
    *,
    image: str,
    model: str,
    logits: Tensor,
    labels: Sequence[str],
    k: int = 5,
    temperature: float = 1.0,
    checks: Sequence[Check] = (),
    notes: Sequence[str] = (),
    preprocessing: str | None = None,
    other_labels: Sequence[str] | None = None,
) -> dict[str, object]:
    """The prediction as JSON-ready data, in the shape of `python -m core predict --json`.

    Each top-k entry has rank, index, label, [label_2], logit, probability (at T), probability_t1 and
    sigmoid (at T).
    """
    z = as_logits(logits).reshape(-1).to(torch.float64)
    table = top_k_table(z, labels, k=k, temperature=temperature, other_labels=other_labels)
    sig = sigmoid(z, temperature=temperature)
    top = []
    for row in table.to_dict(orient="records"):
        entry: dict[str, object] = {
            str(key): row[key]
            for key in ("rank", "index", "label", "label_2", "logit", "probability", "probability_t1")
            if key in row
        }
        entry["sigmoid"] = float(sig[int(row["index"])])
        top.append({key: (v.item() if hasattr(v, "item") else v) for key, v in entry.items()})
    record: dict[str, object] = {
        "image": image,
        "model": model,
        "temperature": temperature,
        "num_classes": z.numel(),
        "top_k": top,
        "checks": [c.to_dict() for c in checks],
        "notes": list(notes),
    }
    if preprocessing is not None:
        record["preprocessing"] = preprocessing
    return record


def export_json(record: dict[str, object]) -> str:
    """A `prediction_record` as pretty JSON text (UTF-8 names kept readable)."""
    return json.dumps(record, ensure_ascii=False, indent=2)


def lab_payload(logits: Tensor, labels: Sequence[str], *, source: str) -> dict[str, object]:
    """What "Open in Logits Lab" hands over: {"labels": [...], "logits": [...], "source": "..."}, all classes."""
    z = as_logits(logits).reshape(-1).to(torch.float64)
    names = [label_of(labels, i) for i in range(z.numel())]
    return {"labels": names, "logits": [float(v) for v in z.tolist()], "source": source}
