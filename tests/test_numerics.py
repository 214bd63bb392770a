"""core.numerics against torch as the oracle, plus property tests (hypothesis) of what softmax guarantees."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.errors import InputError, LogitscopeError
from core.numerics import (
    check_claims,
    entropy,
    inverse_softmax,
    log_softmax,
    naive_softmax,
    renormalise,
    sample,
    sigmoid,
    softmax,
    softmax_sweep,
    temperature_grid,
    top_k,
    top_p_mask,
)

FLOAT_DTYPES = [torch.float16, torch.float32, torch.float64]
# absolute tolerance of each dtype against the float32/float64 oracle
ATOL = {torch.float16: 2e-3, torch.float32: 1e-6, torch.float64: 1e-12}
TEMPERATURES = [0.05, 0.5, 1.0, 2.0, 10.0]

LOGITS_1D = torch.tensor([2.0, -1.0, 0.5, 3.25, 0.0, -4.0], dtype=torch.float64)
LOGITS_2D = torch.tensor(
    [[1.0, 2.0, 3.0, -1.0], [0.5, 0.5, -2.0, 4.0], [-3.0, 7.0, 1.5, 0.25]],
    dtype=torch.float64,
)
CASES = [(LOGITS_1D, 0), (LOGITS_1D, -1), (LOGITS_2D, 0), (LOGITS_2D, 1), (LOGITS_2D, -1), (LOGITS_2D, -2)]
CASE_IDS = ["1d-dim0", "1d-dim-1", "2d-dim0", "2d-dim1", "2d-dim-1", "2d-dim-2"]

FAST = settings(max_examples=60, deadline=None)


def oracle_input(x: torch.Tensor) -> torch.Tensor:
    """What torch should see: the same (already rounded) numbers, in float32 for half and float64 otherwise."""
    return x.to(torch.float64) if x.dtype == torch.float64 else x.to(torch.float32)


def assert_close_to(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype) -> None:
    assert actual.dtype == dtype
    assert actual.shape == expected.shape
    torch.testing.assert_close(
        actual.to(expected.dtype), expected, atol=ATOL[dtype], rtol=1e-3 if dtype == torch.float16 else 1e-6
    )


# ---------------------------------------------------------------- against torch, every dtype and dim
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize(("logits", "dim"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_softmax_matches_torch(logits: torch.Tensor, dim: int, dtype: torch.dtype, temperature: float) -> None:
    x = logits.to(dtype)
    expected = torch.softmax(oracle_input(x) / temperature, dim=dim)
    assert_close_to(softmax(x, temperature=temperature, dim=dim), expected, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize(("logits", "dim"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_log_softmax_matches_torch(logits: torch.Tensor, dim: int, dtype: torch.dtype, temperature: float) -> None:
    x = logits.to(dtype)
    expected = torch.log_softmax(oracle_input(x) / temperature, dim=dim)
    actual = log_softmax(x, temperature=temperature, dim=dim)
    assert actual.dtype == dtype
    # log-probabilities reach about -140 at T = 0.05: compare relatively in half precision
    atol = 2e-2 if dtype == torch.float16 else ATOL[dtype] * 10
    torch.testing.assert_close(
        actual.to(expected.dtype), expected, atol=atol, rtol=2e-3 if dtype == torch.float16 else 1e-6
    )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize(("logits", "dim"), CASES, ids=CASE_IDS)
def test_default_temperature_is_one(logits: torch.Tensor, dim: int, dtype: torch.dtype) -> None:
    x = logits.to(dtype)
    assert_close_to(softmax(x, dim=dim), torch.softmax(oracle_input(x), dim=dim), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_sigmoid_matches_torch(dtype: torch.dtype, temperature: float) -> None:
    for logits in (LOGITS_1D, LOGITS_2D):
        x = logits.to(dtype)
        expected = torch.sigmoid(oracle_input(x) / temperature)
        assert_close_to(sigmoid(x, temperature=temperature), expected, dtype)


def test_sigmoid_scores_are_independent_and_need_not_sum_to_one() -> None:
    scores = sigmoid(torch.tensor([4.0, 4.0, 4.0]))
    assert float(scores.sum()) == pytest.approx(3 * float(torch.sigmoid(torch.tensor(4.0))))
    assert float(scores.sum()) > 2.9


@pytest.mark.parametrize(("logits", "dim"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_entropy_matches_categorical(logits: torch.Tensor, dim: int, dtype: torch.dtype) -> None:
    probs = torch.softmax(logits, dim=dim).to(dtype)
    # Categorical wants the distribution along the last dim
    expected = torch.distributions.Categorical(probs=probs.movedim(dim, -1).double()).entropy()
    torch.testing.assert_close(entropy(probs, dim=dim).double(), expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(entropy(probs, dim=dim, base=2).double(), expected / math.log(2), atol=1e-6, rtol=1e-6)


def test_entropy_limits_one_hot_and_uniform() -> None:
    assert float(entropy(torch.tensor([0.0, 1.0, 0.0]))) == 0.0  # 0 log 0 counts as 0, not NaN
    assert float(entropy(torch.full((8,), 1 / 8), base=2)) == pytest.approx(3.0)
    assert float(entropy(torch.full((1000,), 1e-3))) == pytest.approx(math.log(1000))


@pytest.mark.parametrize(("logits", "dim"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_matches_torch_topk(logits: torch.Tensor, dim: int, k: int) -> None:
    values, indices = top_k(logits, k, dim=dim)
    expected = torch.topk(logits, k, dim=dim, largest=True, sorted=True)
    assert torch.equal(values, expected.values)
    # torch.topk orders tied values arbitrarily (row [0.5, 0.5, -2, 4] of LOGITS_2D); ours is the stable
    # order, ties by index, as a stable descending torch.sort gives it
    stable = torch.sort(logits, dim=dim, descending=True, stable=True).indices.narrow(dim, 0, indices.shape[dim])
    assert torch.equal(indices, stable)
    along = logits.movedim(dim, -1)
    if (along.unsqueeze(-1) == along.unsqueeze(-2)).sum() == along.numel():  # no ties: torch's order too
        assert torch.equal(indices, expected.indices)


def test_top_k_on_logits_equals_top_k_on_probabilities() -> None:
    for temperature in TEMPERATURES:
        assert torch.equal(top_k(LOGITS_1D, 4).indices, top_k(softmax(LOGITS_1D, temperature=temperature), 4).indices)


def test_top_k_clips_k_to_the_number_of_classes() -> None:
    assert top_k(LOGITS_1D, 100).indices.tolist() == torch.argsort(LOGITS_1D, descending=True).tolist()
    assert top_k(LOGITS_2D, 100, dim=0).values.shape == (3, 4)
    assert top_k(LOGITS_1D, 0).indices.tolist() == [3]  # at least one
    assert top_k(LOGITS_1D, -5).indices.tolist() == [3]


# ---------------------------------------------------------------- numerical stability
def test_large_logits_stay_finite_and_match_torch() -> None:
    z = torch.tensor([1000.0, 1001.0, 1002.0])
    p = softmax(z)
    assert torch.isfinite(p).all()
    torch.testing.assert_close(p, torch.softmax(z, dim=-1))
    torch.testing.assert_close(p, torch.softmax(torch.tensor([0.0, 1.0, 2.0]), dim=-1))
    torch.testing.assert_close(log_softmax(z), torch.log_softmax(z, dim=-1))
    assert torch.isfinite(log_softmax(z)).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_huge_logits_1e30(dtype: torch.dtype) -> None:
    z = torch.tensor([1e30, 0.0, -1e30], dtype=dtype)
    assert softmax(z).tolist() == [1.0, 0.0, 0.0]
    assert softmax(torch.tensor([1e30, 1e30, -1e30], dtype=dtype)).tolist() == [0.5, 0.5, 0.0]
    assert softmax(torch.full((4,), -1e30, dtype=dtype)).tolist() == [0.25] * 4
    assert softmax(torch.tensor([-1e30, 0.0], dtype=dtype)).tolist() == [0.0, 1.0]
    logp = log_softmax(z)
    assert not torch.isnan(logp).any()
    assert float(logp[0]) == 0.0
    torch.testing.assert_close(softmax(z), torch.softmax(z, dim=-1))


def test_temperature_near_zero_is_one_hot_without_nan() -> None:
    p = softmax(torch.tensor([1.0, 2.0, 3.0]), temperature=1e-30)
    assert p.tolist() == [0.0, 0.0, 1.0]
    ties = softmax(torch.tensor([3.0, 1.0, 3.0, -2.0]), temperature=1e-30)
    assert ties.tolist() == [0.5, 0.0, 0.5, 0.0]  # tied maxima share the mass
    for dtype in FLOAT_DTYPES:
        q = softmax(torch.tensor([[0.1, 0.2], [5.0, -5.0]], dtype=dtype), temperature=1e-30, dim=1)
        assert not torch.isnan(q).any()
        assert q.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    logp = log_softmax(torch.tensor([3.0, 1.0, 3.0]), temperature=1e-30)
    assert not torch.isnan(logp).any()
    assert logp[0].item() == pytest.approx(math.log(0.5)) and logp[2].item() == pytest.approx(math.log(0.5))


def test_huge_temperature_is_nearly_uniform() -> None:
    p = softmax(torch.tensor([1.0, 2.0, 3.0, 50.0]), temperature=1e6)
    torch.testing.assert_close(p, torch.full((4,), 0.25), atol=1e-5, rtol=0)
    assert p[3] > p[0]  # still ranked


def test_naive_softmax_overflows_where_the_stable_one_does_not() -> None:
    z = torch.tensor([1000.0, 1001.0, 1002.0])
    assert torch.isnan(naive_softmax(z)).all()
    assert torch.isfinite(softmax(z)).all()
    # float16 overflows much earlier: exp(12) > 65504
    assert torch.isnan(naive_softmax(torch.tensor([12.0, 13.0], dtype=torch.float16))).all()


@pytest.mark.parametrize(("logits", "dim"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
def test_naive_softmax_matches_torch_on_small_logits(logits: torch.Tensor, dim: int, temperature: float) -> None:
    expected = torch.softmax(logits / temperature, dim=dim)
    torch.testing.assert_close(naive_softmax(logits, temperature=temperature, dim=dim), expected)


# ---------------------------------------------------------------- bad input
BAD_TEMPERATURES = [0.0, -1.0, -1e-9, float("nan"), float("inf"), float("-inf"), "warm", None]


@pytest.mark.parametrize("temperature", BAD_TEMPERATURES, ids=repr)
@pytest.mark.parametrize("fn", [softmax, log_softmax, naive_softmax, sigmoid], ids=lambda f: f.__name__)
def test_bad_temperature_is_an_input_error(fn, temperature: object) -> None:
    with pytest.raises(InputError, match="temperature"):
        fn(torch.tensor([1.0, 2.0]), temperature=temperature)


@pytest.mark.parametrize("temperature", [0.0, -2.0, float("nan"), float("inf")], ids=repr)
def test_bad_temperature_in_claims_and_sweep(temperature: float) -> None:
    with pytest.raises(InputError, match="temperature"):
        check_claims(torch.tensor([1.0, 2.0]), torch.tensor([0.3, 0.7]), temperature=temperature)
    with pytest.raises(InputError, match="temperature"):
        softmax_sweep(torch.tensor([1.0, 2.0]), torch.tensor([1.0, temperature]))


@pytest.mark.parametrize(
    "fn",
    [
        softmax,
        log_softmax,
        naive_softmax,
        sigmoid,
        entropy,
        inverse_softmax,
        lambda x: top_k(x, 3),
        lambda x: top_p_mask(x, 0.9),
        lambda x: sample(x, 3),
        lambda x: softmax_sweep(x, torch.tensor([1.0])),
    ],
    ids=["softmax", "log_softmax", "naive", "sigmoid", "entropy", "inverse", "top_k", "top_p", "sample", "sweep"],
)
@pytest.mark.parametrize(
    "empty", [torch.tensor([]), torch.empty(0, 5), [], np.array([])], ids=["1d", "2d", "list", "np"]
)
def test_empty_input_is_an_input_error(fn, empty: object) -> None:
    with pytest.raises(InputError, match="empty"):
        fn(empty)


@pytest.mark.parametrize("values", [["a", "b"], [True, False], [1 + 2j]], ids=["str", "bool", "complex"])
def test_non_numbers_are_input_errors(values: list[object]) -> None:
    with pytest.raises(InputError):
        softmax(values)


def test_lists_and_integers_are_accepted() -> None:
    torch.testing.assert_close(softmax([1, 2, 3]), torch.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=-1))


def test_empty_temperature_grid_in_sweep_is_refused() -> None:
    with pytest.raises(InputError):
        softmax_sweep(torch.tensor([1.0, 2.0]), torch.tensor([]))


def test_errors_are_logitscope_errors() -> None:
    assert issubclass(InputError, LogitscopeError)


# ---------------------------------------------------------------- top-p, renormalise, sampling, inverse
def test_top_p_mask_examples() -> None:
    p = torch.tensor([0.1, 0.5, 0.3, 0.1])
    assert top_p_mask(p, 0.5).tolist() == [False, True, False, False]
    assert top_p_mask(p, 0.51).tolist() == [False, True, True, False]
    assert top_p_mask(p, 0.8).tolist() == [False, True, True, False]  # 0.5 + 0.3 reaches 0.8 exactly
    assert top_p_mask(p, 0.01).tolist() == [False, True, False, False]  # never empty
    assert top_p_mask(p, 1.0).tolist() == [True, True, True, True]
    rows = torch.tensor([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]])
    # column 0: 0.7 + 0.2 reaches 0.75; column 1: 0.5 + 0.3 does
    assert top_p_mask(rows, 0.75, dim=0).tolist() == [[True, False], [True, True], [False, True]]


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, float("nan")], ids=repr)
def test_top_p_outside_unit_interval_is_an_input_error(p: float) -> None:
    with pytest.raises(InputError, match="top-p"):
        top_p_mask(torch.tensor([0.5, 0.5]), p)


def test_renormalise_equals_softmax_of_masked_logits() -> None:
    # torch oracle: softmax over the kept logits only (the rest set to -inf)
    for k in (1, 2, 4):
        probs = torch.softmax(LOGITS_1D, dim=-1)
        mask = torch.zeros_like(LOGITS_1D, dtype=torch.bool)
        mask[torch.topk(LOGITS_1D, k).indices] = True
        expected = torch.softmax(LOGITS_1D.masked_fill(~mask, float("-inf")), dim=-1)
        torch.testing.assert_close(renormalise(probs, mask), expected)
    probs2 = torch.softmax(LOGITS_2D, dim=0)
    mask2 = top_p_mask(probs2, 0.9, dim=0)
    expected2 = torch.softmax(LOGITS_2D.masked_fill(~mask2, float("-inf")), dim=0)
    torch.testing.assert_close(renormalise(probs2, mask2, dim=0), expected2)


def test_sample_is_seeded_and_follows_the_distribution() -> None:
    p = torch.tensor([0.1, 0.0, 0.2, 0.7])
    draws = sample(p, 20_000, seed=7)
    assert draws.shape == (20_000,)
    assert torch.equal(draws, sample(p, 20_000, seed=7))  # same seed, same draws
    assert not torch.equal(draws, sample(p, 20_000, seed=8))
    counts = torch.bincount(draws, minlength=4).double() / 20_000
    assert counts[1] == 0  # a zero-probability class is never drawn
    # 4 standard errors of a binomial proportion at n = 20000 is at most 0.0142
    torch.testing.assert_close(counts, p.double(), atol=0.015, rtol=0)


@pytest.mark.parametrize(
    ("probs", "n", "match"),
    [
        (torch.tensor([0.5, 0.5]), 0, "at least 1"),
        (torch.tensor([[0.5, 0.5]]), 3, "1-D"),
        (torch.tensor([-0.1, 1.1]), 3, "probabilit"),
        (torch.tensor([0.0, 0.0]), 3, "probabilit"),
        (torch.tensor([float("nan"), 1.0]), 3, "probabilit"),
        (torch.tensor([float("inf"), 1.0]), 3, "probabilit"),
    ],
    ids=["n0", "2d", "negative", "all-zero", "nan", "inf"],
)
def test_sample_bad_input_is_an_input_error(probs: torch.Tensor, n: int, match: str) -> None:
    with pytest.raises(InputError, match=match):
        sample(probs, n)


def test_inverse_softmax_examples() -> None:
    p = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64)
    z = inverse_softmax(p)
    assert float(z.sum()) == pytest.approx(0.0, abs=1e-12)  # centred
    torch.testing.assert_close(z, torch.log(p) - torch.log(p).mean())
    torch.testing.assert_close(torch.softmax(z, dim=-1), p)
    zero = inverse_softmax(torch.tensor([1.0, 0.0]))
    assert torch.isfinite(zero).all() and zero[0] > zero[1]
    with pytest.raises(InputError):
        inverse_softmax(torch.tensor([0.5, -0.5]))
    with pytest.raises(InputError):
        inverse_softmax(torch.tensor([0.5, float("nan")]))


# ---------------------------------------------------------------- sweep and grid
def test_softmax_sweep_matches_torch_at_every_temperature() -> None:
    temps = temperature_grid(steps=25)
    sweep = softmax_sweep(LOGITS_1D, temps)
    assert sweep.shape == (25, LOGITS_1D.numel())
    for row, temperature in zip(sweep, temps.tolist(), strict=True):
        torch.testing.assert_close(row, torch.softmax(LOGITS_1D / temperature, dim=-1))
    big = softmax_sweep(torch.tensor([1000.0, 1001.0, 1002.0]), torch.tensor([1e-30, 1.0, 1e6]))
    assert torch.isfinite(big).all()
    assert big[0].tolist() == [0.0, 0.0, 1.0]


def test_temperature_grid_is_log_spaced_between_the_ends() -> None:
    grid = temperature_grid(0.05, 20.0, steps=121)
    assert grid.numel() == 121
    assert float(grid[0]) == pytest.approx(0.05) and float(grid[-1]) == pytest.approx(20.0)
    ratios = grid[1:] / grid[:-1]
    torch.testing.assert_close(ratios, torch.full_like(ratios, float(ratios[0])))


# ---------------------------------------------------------------- claims checker
def test_claims_from_the_issue_sum_to_463_percent() -> None:
    logits = torch.tensor([4.0, 3.0, 2.2, 2.2, 2.2])
    report = check_claims(logits, torch.tensor([0.98, 0.95, 0.90, 0.90, 0.90]))
    assert report.total == pytest.approx(4.63)
    assert not report.consistent and not report.all_ok
    verdict = report.verdict()
    assert "463" in verdict and "sigmoid" in verdict and "not one softmax" in verdict
    # they are in fact the sigmoid scores of these logits, rounded
    torch.testing.assert_close(torch.sigmoid(logits), torch.tensor([0.98, 0.95, 0.90, 0.90, 0.90]), atol=5e-3, rtol=0)


def test_claims_that_are_right() -> None:
    logits = torch.tensor([2.0, 1.0, 0.1])
    truth = torch.softmax(logits.double(), dim=-1)
    claimed = torch.round(truth * 1000) / 1000  # rounded to 0.1 %, as people quote them
    report = check_claims(logits, claimed)
    assert report.consistent and report.all_ok
    assert [row.ok for row in report.rows] == [True, True, True]
    for row, actual in zip(report.rows, truth.tolist(), strict=True):
        assert row.actual == pytest.approx(actual, abs=1e-12)
        assert row.difference == pytest.approx(row.claimed - actual, abs=1e-12)
    assert [row.index for row in report.rows] == [0, 1, 2]
    assert "3" in report.verdict() and "match" in report.verdict()


def test_claims_at_a_temperature() -> None:
    logits = torch.tensor([2.0, 1.0, 0.1])
    at_2 = torch.softmax(logits / 2, dim=-1)
    assert check_claims(logits, at_2, temperature=2.0).all_ok
    assert not check_claims(logits, at_2).all_ok


def test_claims_that_sum_to_one_but_are_wrong() -> None:
    report = check_claims(torch.tensor([2.0, 1.0, 0.1]), torch.tensor([0.5, 0.3, 0.2]))
    assert report.consistent and not report.all_ok
    assert report.total == pytest.approx(1.0)
    assert [row.ok for row in report.rows] == [False, False, False]
    assert "3 of 3" in report.verdict()


def test_claims_out_of_range_and_sum_below() -> None:
    out = check_claims(torch.tensor([1.0, 2.0]), torch.tensor([-0.2, 1.2]))
    assert not out.consistent and "[0, 1]" in out.verdict()
    below = check_claims(torch.tensor([3.0, 2.0, 1.0, 0.0]), torch.tensor([0.5, 0.2, 0.1, 0.0]))
    assert not below.consistent and "80.0%" in below.verdict()


def test_claims_tolerance_boundaries() -> None:
    logits = torch.tensor([1.0, 0.0], dtype=torch.float64)
    truth = torch.softmax(logits, dim=-1)
    inside = check_claims(logits, truth + torch.tensor([0.0049, -0.0049], dtype=torch.float64))
    outside = check_claims(logits, truth + torch.tensor([0.0051, -0.0051], dtype=torch.float64))
    assert inside.all_ok and [r.ok for r in inside.rows] == [True, True]
    assert outside.consistent and not outside.all_ok and [r.ok for r in outside.rows] == [False, False]
    # the sum may be off by rounding (1 +- 0.01) and still come from one softmax
    uniform = torch.tensor([0.0, 0.0, 0.0, 0.0])
    assert check_claims(uniform, torch.full((4,), 0.252)).consistent  # sums to 1.008
    assert not check_claims(uniform, torch.full((4,), 0.2535)).consistent  # sums to 1.014
    assert check_claims(uniform, torch.full((4,), 0.248)).consistent  # sums to 0.992
    assert not check_claims(uniform, torch.full((4,), 0.2465)).consistent  # sums to 0.986
    # the tolerance is a parameter
    assert check_claims(logits, truth + torch.tensor([0.02, -0.02], dtype=torch.float64), tolerance=0.03).all_ok


@pytest.mark.parametrize(
    ("logits", "claimed"),
    [
        ([1.0, 2.0, 3.0], [0.5, 0.5]),
        ([[1.0, 2.0]], [[0.5, 0.5]]),
        ([1.0, 2.0], [0.5, float("nan")]),
        ([], []),
    ],
    ids=["length", "2d", "nan", "empty"],
)
def test_claims_bad_input_is_an_input_error(logits: list[object], claimed: list[object]) -> None:
    with pytest.raises(InputError):
        check_claims(torch.tensor(logits), torch.tensor(claimed))


def test_claims_length_mismatch_message_gives_both_counts() -> None:
    with pytest.raises(InputError, match=r"2 claimed probabilities for 3 logits"):
        check_claims(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.5, 0.5]))


def test_claims_verdict_in_chinese() -> None:
    cjk = {chr(c) for c in range(0x4E00, 0xA000)}
    reports = [
        check_claims(torch.tensor([4.0, 3.0]), torch.tensor([0.98, 0.95])),
        check_claims(torch.tensor([1.0, 0.0]), torch.softmax(torch.tensor([1.0, 0.0]), dim=-1)),
        check_claims(torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5])),
        check_claims(torch.tensor([1.0, 0.0]), torch.tensor([0.1, 0.1])),
        check_claims(torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 2.0])),
    ]
    keys = {r.verdict_key for r in reports}
    assert len(keys) == 5  # every verdict is covered
    for report in reports:
        zh, en = report.verdict("zh"), report.verdict("en")
        assert zh != en
        assert sum(ch in cjk for ch in zh) >= 5, zh
    assert "sigmoid" in reports[0].verdict("zh") and "193.0%" in reports[0].verdict("zh")


# ---------------------------------------------------------------- properties (hypothesis)
finite = st.floats(min_value=-30, max_value=30, allow_nan=False, allow_infinity=False, width=64)
vectors = arrays(np.float64, st.integers(2, 12), elements=finite)
matrices = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 8)), elements=finite)
temperatures = st.floats(min_value=0.05, max_value=50.0)


def distinct(values: np.ndarray, gap: float = 1e-3) -> bool:
    s = np.sort(values.ravel())
    return bool(np.all(np.diff(s) > gap))


@FAST
@given(
    z=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)), elements=st.floats(-1e4, 1e4)),
    dim=st.sampled_from([0, 1, -1]),
    t=st.floats(min_value=1e-3, max_value=1e3),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_property_rows_sum_to_one(z: np.ndarray, dim: int, t: float, dtype: torch.dtype) -> None:
    p = softmax(torch.tensor(z, dtype=dtype), temperature=t, dim=dim)
    assert torch.isfinite(p).all() and (p >= 0).all()
    sums = p.double().sum(dim=dim)
    torch.testing.assert_close(sums, torch.ones_like(sums), atol=1e-5, rtol=0)


@FAST
@given(z=vectors, t=st.floats(min_value=0.1, max_value=100.0))
def test_property_ranking_unchanged_by_softmax_at_any_temperature(z: np.ndarray, t: float) -> None:
    assume(distinct(z))
    x = torch.tensor(z)
    p = softmax(x, temperature=t)
    # logits in [-30, 30] and T >= 0.1 keep every p above float64's smallest normal: no ties appear
    assert torch.equal(torch.argsort(p, descending=True), torch.argsort(x, descending=True))
    assert torch.equal(top_k(p, 3).indices, top_k(x, 3).indices)


@FAST
@given(z=matrices, t=temperatures, dim=st.sampled_from([0, 1]))
def test_property_ranking_never_inverts_in_float32(z: np.ndarray, t: float, dim: int) -> None:
    # in float32 tiny probabilities may round to the same value, so check weak order: z_i > z_j => p_i >= p_j
    x = torch.tensor(z, dtype=torch.float32)
    p = softmax(x, temperature=t, dim=dim).movedim(dim, -1)
    xs = x.movedim(dim, -1)
    higher = xs.unsqueeze(-1) > xs.unsqueeze(-2)
    assert not (higher & (p.unsqueeze(-1) < p.unsqueeze(-2))).any()
    # the largest logit has the largest probability
    assert torch.equal(p.gather(-1, xs.argmax(-1, keepdim=True)).squeeze(-1), p.amax(-1))


@FAST
@given(z=vectors, t=st.floats(min_value=1e-30, max_value=1e-6))
def test_property_temperature_to_zero_is_one_hot(z: np.ndarray, t: float) -> None:
    x = torch.tensor(z)
    top = x.max()
    runner_up = x[x < top].max() if bool((x < top).any()) else None
    assume(runner_up is None or float(top - runner_up) > 1e-3)
    p = softmax(x, temperature=t)
    winners = (x == top).double()
    assert not torch.isnan(p).any()
    torch.testing.assert_close(p, winners / winners.sum(), atol=0, rtol=0)


@FAST
@given(z=matrices, c=st.floats(min_value=-1e3, max_value=1e3), t=temperatures, dim=st.sampled_from([0, 1]))
def test_property_shift_invariance(z: np.ndarray, c: float, t: float, dim: int) -> None:
    x = torch.tensor(z)
    torch.testing.assert_close(
        softmax(x + c, temperature=t, dim=dim), softmax(x, temperature=t, dim=dim), atol=1e-9, rtol=1e-6
    )
    torch.testing.assert_close(softmax(x, temperature=t, dim=dim), torch.softmax(x / t, dim=dim))


@FAST
@given(z=matrices, dim=st.sampled_from([0, 1]))
def test_property_inverse_softmax_recovers_centred_logits(z: np.ndarray, dim: int) -> None:
    x = torch.tensor(z)
    recovered = inverse_softmax(torch.softmax(x, dim=dim), dim=dim)
    torch.testing.assert_close(recovered, x - x.mean(dim=dim, keepdim=True), atol=1e-8, rtol=1e-8)


@FAST
@given(z=vectors, p=st.floats(min_value=1e-6, max_value=1.0))
def test_property_top_p_keeps_the_fewest_classes_reaching_p(z: np.ndarray, p: float) -> None:
    probs = torch.softmax(torch.tensor(z), dim=-1)
    mask = top_p_mask(probs, p)
    kept, dropped = probs[mask], probs[~mask]
    assert mask.sum() >= 1
    if dropped.numel():
        assert kept.min() >= dropped.max()  # the nucleus is a top set
    eps = 1e-9
    assert float(kept.sum()) >= p - eps  # reaches p ...
    assert float(kept.sum() - kept.min()) < p + eps  # ... and one class fewer would not


@FAST
@given(z=vectors, t=temperatures)
def test_property_log_softmax_is_log_of_softmax(z: np.ndarray, t: float) -> None:
    x = torch.tensor(z)
    torch.testing.assert_close(log_softmax(x, temperature=t).exp(), softmax(x, temperature=t))
    torch.testing.assert_close(log_softmax(x, temperature=t), torch.log_softmax(x / t, dim=-1))


def test_top_p_one_keeps_every_class_with_mass_even_a_rounded_away_tail():
    # found by hypothesis: at T = 0.0547 the class with logit -1 has p ~ 1.3e-16, and the float cumsum of
    # the classes above it already rounds to exactly 1.0
    z = torch.tensor([0.0, 0.0, 0.0, -1.0, 1.0], dtype=torch.float64)
    probs = softmax(z, temperature=0.0546875)
    assert 0 < float(probs[3]) < 1e-15
    assert top_p_mask(probs, 1.0).tolist() == [True] * 5
    assert top_p_mask(torch.tensor([0.5, 0.5, 0.0]), 1.0).tolist() == [True, True, False]  # no mass, not kept


# ---------------------------------------------------------------- one ranking, one switch, one grid
@given(arrays(np.float64, st.integers(1, 40), elements=st.integers(-3, 3).map(float)))
@settings(max_examples=60)
def test_order_ranks_and_top_k_are_torchs_stable_sort(values: np.ndarray) -> None:
    from core.numerics import order, ranks, top_k_mask

    z = torch.from_numpy(values)  # small integers: plenty of ties
    oracle = torch.sort(z, descending=True, stable=True).indices
    assert torch.equal(order(z), oracle)
    assert torch.equal(ranks(z)[oracle], torch.arange(1, z.numel() + 1))
    for k in (1, 2, 5):
        assert torch.equal(top_k(z, k).indices, oracle[: min(k, z.numel())])
        mask = top_k_mask(z, k)
        assert int(mask.sum()) == min(k, z.numel()) and bool(mask[oracle[: min(k, z.numel())]].all())


def test_scores_switch_matches_torch() -> None:
    from core.numerics import scores

    z = LOGITS_2D
    torch.testing.assert_close(scores(z, kind="softmax", temperature=2.0), torch.softmax(z / 2.0, dim=-1))
    torch.testing.assert_close(scores(z, kind="sigmoid", temperature=2.0), torch.sigmoid(z / 2.0))
    assert scores(z.float()).dtype == torch.float64
    with pytest.raises(InputError):
        scores(z, kind="relu")  # type: ignore[arg-type]


def test_the_one_temperature_grid_takes_an_exact_extra_value() -> None:
    from core.numerics import T_MAX, T_MIN, TEMPERATURES, temperature_options

    assert TEMPERATURES[0] == T_MIN == 0.05 and TEMPERATURES[-1] == T_MAX == 20.0 and 1.0 in TEMPERATURES
    fitted = 1.2345678901234
    grid = temperature_options(include=(fitted,))
    assert fitted in grid and grid == sorted(grid) and set(grid) - {fitted} == set(TEMPERATURES)
    assert temperature_options(include=(30.0, float("nan"))) == list(TEMPERATURES)  # outside or not a number
