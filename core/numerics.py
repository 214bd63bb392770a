"""The numbers: softmax and friends, computed the stable way and checked against torch in the tests.

Every function takes a tensor of logits (1-D or 2-D, any float dtype) and works along `dim`.
Half-precision inputs are computed in float32 and returned in their own dtype, as torch does on CPU.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import torch
from torch import Tensor

from core.config import SETTINGS
from core.errors import InputError
from core.i18n import t


def as_logits(values: object, *, name: str = "logits") -> Tensor:
    """Turn a list, array or tensor into a float tensor, refusing empty input and non-numbers."""
    try:
        tensor = values if isinstance(values, Tensor) else torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"{name} must be numbers ({exc})") from None
    if not tensor.is_floating_point():
        if tensor.dtype == torch.bool or tensor.is_complex():
            raise InputError(f"{name} must be real numbers, got {tensor.dtype}")
        tensor = tensor.to(torch.float32)
    if tensor.numel() == 0:
        raise InputError(f"{name} are empty: give at least one number")
    return tensor


def check_temperature(temperature: float) -> float:
    """Return `temperature` as a float, or raise InputError when it is not a finite number > 0."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise InputError(f"temperature must be a number, got {temperature!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"temperature must be greater than 0, got {value:g}")
    return value


def _compute_dtype(x: Tensor) -> torch.dtype:
    # float16/bfloat16 lose too much in exp and sums; compute in float32 like torch's CPU kernels
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _scaled(logits: Tensor, temperature: float, dim: int) -> Tensor:
    """(z - max z) / T, the stable shifted logits: every entry <= 0, the max at exactly 0."""
    x = as_logits(logits)
    t_value = check_temperature(temperature)
    x = x.to(_compute_dtype(x))
    # subtract the max before dividing: (z - max)/T never overflows, even for T near 0 or z near 1e30
    shifted = x - x.amax(dim=dim, keepdim=True)
    return shifted / t_value


def softmax(logits: Tensor, *, temperature: float = 1.0, dim: int = -1) -> Tensor:
    """Probabilities softmax(z / T) along `dim`, stable for any finite logits and any T > 0.

    As T approaches 0 the result approaches one-hot on the largest logit (ties share it) without NaN.
    """
    x = as_logits(logits)
    scaled = _scaled(x, temperature, dim)
    exp = scaled.exp()  # every exponent <= 0, so exp is in (0, 1]: no overflow
    return (exp / exp.sum(dim=dim, keepdim=True)).to(x.dtype)


def log_softmax(logits: Tensor, *, temperature: float = 1.0, dim: int = -1) -> Tensor:
    """log softmax(z / T): (z - max)/T - log sum exp((z - max)/T), finite wherever p > 0 in float."""
    x = as_logits(logits)
    scaled = _scaled(x, temperature, dim)
    return (scaled - scaled.exp().sum(dim=dim, keepdim=True).log()).to(x.dtype)


def naive_softmax(logits: Tensor, *, temperature: float = 1.0, dim: int = -1) -> Tensor:
    """exp(z / T) / sum exp(z / T) with no max subtraction, kept ONLY to show how it overflows.

    For logits like [1000, 1001, 1002] exp overflows to inf and the result is NaN. Computed in the
    input's own dtype, so float16 overflows already near z = 11.
    """
    x = as_logits(logits)
    exp = (x / check_temperature(temperature)).exp()
    return exp / exp.sum(dim=dim, keepdim=True)


def sigmoid(logits: Tensor, *, temperature: float = 1.0) -> Tensor:
    """Independent per-class scores sigmoid(z / T): each in (0, 1), and they need not sum to 1."""
    x = as_logits(logits)
    t_value = check_temperature(temperature)
    return torch.sigmoid(x.to(_compute_dtype(x)) / t_value).to(x.dtype)


ScoreKind = Literal["softmax", "sigmoid"]
SCORE_KINDS: Final[tuple[ScoreKind, ...]] = ("softmax", "sigmoid")


def scores(logits: Tensor, *, kind: ScoreKind = "softmax", temperature: float = 1.0, dim: int = -1) -> Tensor:
    """softmax(z / T) (one distribution, sums to 1) or sigmoid(z / T) (independent per class), in float64.

    The one softmax/sigmoid switch of the tool: the Inspector, the Lab and the charts all call it.
    """
    z = as_logits(logits).to(torch.float64)
    if kind == "sigmoid":
        return sigmoid(z, temperature=temperature)
    if kind != "softmax":
        raise InputError(f"scores are 'softmax' or 'sigmoid', not {kind!r}")
    return softmax(z, temperature=temperature, dim=dim)


def entropy(probs: Tensor, *, dim: int = -1, base: float = math.e) -> Tensor:
    """Shannon entropy -sum p log p along `dim` (0 log 0 = 0), in nats by default or bits with base=2."""
    p = as_logits(probs, name="probabilities")
    p = p.to(_compute_dtype(p))
    h = -torch.special.xlogy(p, p).sum(dim=dim)
    return h / math.log(base)


class TopK(NamedTuple):
    """The k largest values along the last dim and their indices, largest first."""

    values: Tensor
    indices: Tensor


def top_k(scores: Tensor, k: int, *, dim: int = -1) -> TopK:
    """The k largest entries of `scores` (k clipped to 1..number of classes), largest first.

    Ties go to the lower index, as in `order` (the one stable ranking every table and query uses).
    Works the same on logits and on probabilities: softmax keeps the order.
    """
    x = as_logits(scores, name="scores")
    size = x.shape[dim]
    k = max(1, min(int(k), size))
    values, indices = torch.topk(x, k, dim=dim, largest=True, sorted=True)
    # torch.topk orders ties arbitrarily; keep everything above the k-th value, then the first equal ones
    rows = x.movedim(dim, -1).reshape(-1, size)
    kth = values.movedim(dim, -1).reshape(-1, k)[:, -1:]
    if bool(((rows >= kth).sum(dim=1) == k).all()):
        # no tie crosses the k-th place (the common case): torch's k are the ones, only their order is fixed below
        picked = indices.movedim(dim, -1).reshape(-1, k).sort(dim=1).values
    else:
        above, equal = rows > kth, rows == kth
        chosen = above | (equal & (equal.cumsum(dim=1) <= k - above.sum(dim=1, keepdim=True)))
        if not bool((chosen.sum(dim=1) == k).all()):  # NaN compares unequal to itself: keep torch's order
            return TopK(values, indices)
        picked = chosen.nonzero()[:, 1].reshape(-1, k)  # ascending index within each row
    stable_values, where = torch.sort(rows.gather(1, picked), dim=1, descending=True, stable=True)
    stable_indices = picked.gather(1, where)
    shape = (*x.movedim(dim, -1).shape[:-1], k)
    return TopK(
        stable_values.reshape(shape).movedim(-1, dim),
        stable_indices.reshape(shape).movedim(-1, dim),
    )


def order(scores: Tensor, *, dim: int = -1) -> Tensor:
    """Class indices from the largest score to the smallest; ties in index order (a stable sort).

    The one ranking of the tool: top-k tables, full exports, "what about class X?" and charts all use it.
    """
    return torch.argsort(as_logits(scores, name="scores"), dim=dim, descending=True, stable=True)


def ranks(scores: Tensor, *, dim: int = -1) -> Tensor:
    """Each class's rank by score, 1 = the largest, ties in index order (the inverse of `order`)."""
    indices = order(scores, dim=dim)
    positions = torch.arange(1, indices.shape[dim] + 1, device=indices.device)
    shape = [1] * indices.ndim
    shape[dim] = -1
    return torch.empty_like(indices).scatter_(dim, indices, positions.view(shape).expand_as(indices))


def top_k_mask(scores: Tensor, k: int, *, dim: int = -1) -> Tensor:
    """Boolean mask of the k largest entries (the classes top-k keeps), ties as in `top_k`."""
    x = as_logits(scores, name="scores")
    mask = torch.zeros_like(x, dtype=torch.bool)
    return mask.scatter(dim, top_k(x, k, dim=dim).indices, True)


def top_p_mask(probs: Tensor, p: float, *, dim: int = -1) -> Tensor:
    """Boolean mask of the nucleus: the fewest most-likely classes whose total probability >= p.

    The most likely class is always kept, so the mask is never empty.
    """
    if not 0 < p <= 1:
        raise InputError(f"top-p must be in (0, 1], got {p:g}")
    x = as_logits(probs, name="probabilities")
    sorted_p, by_p = torch.sort(x, dim=dim, descending=True, stable=True)  # ties in index order
    before = sorted_p.cumsum(dim=dim) - sorted_p  # mass strictly above each entry
    # p = 1 keeps every class with any mass; the rounded cumsum can reach 1.0 before a 1e-16 tail
    keep_sorted = sorted_p > 0 if p >= 1 else before < p
    mask = torch.zeros_like(keep_sorted)
    return mask.scatter(dim, by_p, keep_sorted)


def renormalise(probs: Tensor, mask: Tensor, *, dim: int = -1) -> Tensor:
    """Zero the entries outside `mask` and rescale the rest to sum to 1 (top-k / top-p sampling)."""
    kept = torch.where(mask, probs, torch.zeros_like(probs))
    return kept / kept.sum(dim=dim, keepdim=True)


def sample(probs: Tensor, n: int, *, seed: int = 0) -> Tensor:
    """Draw `n` class indices from a 1-D distribution with a seeded generator (reproducible)."""
    if n < 1:
        raise InputError(f"number of draws must be at least 1, got {n}")
    p = as_logits(probs, name="probabilities").to(torch.float64)
    if p.ndim != 1:
        raise InputError("sampling takes one distribution (a 1-D tensor)")
    if not bool(torch.isfinite(p).all()) or bool((p < 0).any()) or float(p.sum()) <= 0:
        raise InputError("probabilities to sample from must be finite, >= 0 and not all zero")
    generator = torch.Generator().manual_seed(int(seed))
    return torch.multinomial(p, n, replacement=True, generator=generator)


def inverse_softmax(probs: Tensor, *, dim: int = -1) -> Tensor:
    """Logits that give `probs` back under softmax: log p, centred to mean 0 along `dim`.

    Logits are only defined up to a constant shift; centring picks one. Zero probabilities are
    clamped to the smallest positive float so the result stays finite.
    """
    p = as_logits(probs, name="probabilities")
    if bool((p < 0).any()) or not bool(torch.isfinite(p).all()):
        raise InputError("probabilities must be finite and >= 0")
    work = p.to(_compute_dtype(p))
    log_p = work.clamp_min(torch.finfo(work.dtype).tiny).log()
    return (log_p - log_p.mean(dim=dim, keepdim=True)).to(p.dtype)


@dataclass(frozen=True)
class ClaimRow:
    """One claimed probability next to the true one."""

    index: int
    claimed: float
    actual: float
    difference: float
    ok: bool


@dataclass(frozen=True)
class ClaimsReport:
    """Verdict on a list of claimed probabilities for given logits.

    Attributes:
        rows: one entry per class, in class order.
        total: the sum of the claimed values.
        consistent: whether the claims could come from one softmax at all (in [0, 1], sum 1 +- 0.01).
        all_ok: consistent and every entry within tolerance of the true value.
        verdict_key: i18n key of the verdict sentence; `verdict(lang)` formats it.
    """

    rows: tuple[ClaimRow, ...]
    total: float
    consistent: bool
    all_ok: bool
    verdict_key: str

    def verdict(self, lang: str = "en") -> str:
        """The verdict as a sentence in `lang`."""
        wrong = sum(not row.ok for row in self.rows)
        return t(self.verdict_key, lang, percent=f"{self.total * 100:.1f}", wrong=wrong, n=len(self.rows))


def check_claims(
    logits: Tensor,
    claimed: Tensor,
    *,
    temperature: float = 1.0,
    tolerance: float = SETTINGS.claims_tolerance,
    sum_tolerance: float = SETTINGS.claims_sum_tolerance,
) -> ClaimsReport:
    """Compare claimed probabilities with softmax(logits / T), entry by entry.

    Args:
        logits: one 1-D vector of logits.
        claimed: the probabilities someone says those logits give, same length.
        temperature: the T the claims were made at.
        tolerance: absolute difference that still counts as right.
        sum_tolerance: how far from 1 a set of probabilities from one softmax may sum (rounding).
    """
    z = as_logits(logits)
    c = as_logits(claimed, name="claimed probabilities").to(torch.float64)
    if z.ndim != 1 or c.ndim != 1:
        raise InputError("claims are checked on one vector of logits at a time")
    if z.numel() != c.numel():
        raise InputError(f"{c.numel()} claimed probabilities for {z.numel()} logits: give one per logit")
    if not bool(torch.isfinite(c).all()):
        raise InputError("claimed probabilities must be finite numbers")
    actual = softmax(z.to(torch.float64), temperature=temperature)
    rows = tuple(
        ClaimRow(i, float(ci), float(ai), float(ci - ai), abs(float(ci - ai)) <= tolerance)
        for i, (ci, ai) in enumerate(zip(c, actual, strict=True))
    )
    total = float(c.sum())
    in_range = bool(((c >= 0) & (c <= 1)).all())
    consistent = in_range and abs(total - 1.0) <= sum_tolerance
    all_ok = consistent and all(row.ok for row in rows)
    if not in_range:
        key = "claims.out_of_range"
    elif total > 1.0 + sum_tolerance:
        key = "claims.sum_above"
    elif total < 1.0 - sum_tolerance:
        key = "claims.sum_below"
    elif all_ok:
        key = "claims.all_ok"
    else:
        key = "claims.wrong_values"
    return ClaimsReport(rows, total, consistent, all_ok, key)


T_MIN: Final = 0.05
T_MAX: Final = 20.0


def temperature_options(
    *,
    low: float = T_MIN,
    high: float = T_MAX,
    steps_per_decade: int = 10,
    include: Iterable[float] = (),
) -> list[float]:
    """The one temperature grid of every slider: log-spaced from `low` to `high`, 2 significant digits, with 1.

    With 10 steps per decade the values are 1, 1.3, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 7.9, 10, ... so a slider over
    them moves on a log scale, the way temperature acts. Each value of `include` inside [low, high] (a
    fitted T, one from a shared link) is added exactly as given, so it is shown unrounded.
    """
    check_temperature(low)
    if high <= low:
        raise InputError(f"high ({high:g}) must be above low ({low:g})")
    first = math.ceil(round(math.log10(low) * steps_per_decade, 6))
    last = math.floor(round(math.log10(high) * steps_per_decade, 6))
    values = {float(f"{10 ** (i / steps_per_decade):.2g}") for i in range(first, last + 1)}
    values |= {low, high, 1.0} if low <= 1.0 <= high else {low, high}
    values |= {float(v) for v in include if math.isfinite(float(v)) and low <= float(v) <= high}
    return sorted(v for v in values if low <= v <= high)


TEMPERATURES: Final[tuple[float, ...]] = tuple(temperature_options())


def temperature_grid(low: float = 0.05, high: float = 20.0, *, steps: int = 121) -> Tensor:
    """Log-spaced temperatures from `low` to `high` (for sweeps and charts)."""
    return torch.logspace(math.log10(low), math.log10(high), steps, dtype=torch.float64)


def softmax_sweep(logits: Tensor, temperatures: Tensor) -> Tensor:
    """softmax(z / T) for every T in `temperatures`: shape (len(temperatures), num_classes)."""
    z = as_logits(logits).to(torch.float64).reshape(-1)
    temps = as_logits(temperatures, name="temperatures").to(torch.float64).reshape(-1, 1)
    if not bool(torch.isfinite(temps).all()) or bool((temps <= 0).any()):
        raise InputError("every temperature must be a finite number greater than 0")
    shifted = (z - z.max()) / temps  # one row per T, stable as in softmax()
    exp = shifted.exp()
    return exp / exp.sum(dim=-1, keepdim=True)
