"""core.lab (and the lab's figures in core.charts) against torch as the oracle; parsing good and bad input."""

from __future__ import annotations

import io
import json
import math
import re
import string
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.charts.lab import dim_softmax_figure, filters_figure, lab_headline_figure, lab_sweep_figure, sampling_figure
from core.charts.prediction import entropy_figure
from core.config import SETTINGS
from core.errors import InputError
from core.i18n import STRINGS, escape_markdown
from core.lab import steps
from core.lab.logit_table import MODES, LabInputError, LabTable, display_logits, make_table, table_from_frame
from core.lab.matrix import DEFAULT_MATRIX, dim_softmax, matrix_frame, matrix_from_frame, resize_matrix
from core.lab.parse import parse_csv, parse_json, parse_npy, parse_numbers, parse_pasted, parse_upload
from core.lab.presets import (
    PRESETS,
    RANDOM_CLASSES,
    TEN_LABELS,
    handoff_fingerprint,
    preset_table,
    table_from_inspector,
)
from core.lab.values import format_value
from core.lab.write import table_csv, table_json
from core.links.lab import (
    MAX_URL_CHARS,
    LabControls,
    decode_query,
    encode_query,
    has_lab_state,
    query_string,
    temperature_choices,
)
from core.numerics import T_MAX, T_MIN, TEMPERATURES

ROOT = Path(__file__).resolve().parent.parent
TEN = [2.1, -1.3, 5.8, 0.9, -3.2, 4.7, 1.0, -0.5, 6.2, -2.1]

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
logit_lists = st.lists(finite, min_size=2, max_size=40)
temperatures = st.floats(min_value=T_MIN, max_value=T_MAX)


def f64(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def table_of(values, labels=None, **kwargs) -> LabTable:
    return make_table(values, labels, **kwargs)


def raises(key: str, *fragments: str):
    """Context manager: a LabInputError with i18n `key` whose English message holds every fragment."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(LabInputError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            error = self.info.value
            assert error.key == key, (error.key, str(error))
            assert isinstance(error, InputError)
            for fragment in fragments:
                assert fragment in str(error), (fragment, str(error))
            assert error.message("zh") != str(error)  # translated, not the English text again
            return handled

    return _Check()


# --- presets and the Inspector handoff ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "logits"),
    [
        ("news", [2.0, 1.0, 0.1]),
        ("pets", [2.0, 1.0, 0.5]),
        ("four", [2.0, 1.0, 0.1, 0.5]),
        ("ten", TEN),
        ("near_tie", [12.1, 11.9, 11.8]),
        ("overflow", [1000.0, 1001.0, 1002.0]),
    ],
)
def test_presets_hold_the_issue_numbers(name, logits):
    table = preset_table(name)
    assert list(table.logits) == logits
    assert len(table.labels) == len(logits) and not table.rest_logits


def test_preset_labels():
    assert preset_table("news").labels == ("news", "entertainment", "technology")
    assert preset_table("news", lang="zh").labels == ("新闻", "娱乐", "科技")
    assert preset_table("pets").labels == ("cat", "dog", "bird")
    # the ten-class example is labelled in Chinese whatever the UI language
    assert preset_table("ten", lang="en").labels == (
        "猫", "狗", "笔记本电脑", "椅子", "天空", "办公室工作场景", "咖啡杯", "窗台", "白领女性", "楼梯",
    )  # fmt: skip
    uniform = preset_table("uniform")
    assert len(set(uniform.logits)) == 1 and uniform.size >= 2


def test_random_preset_is_seeded():
    a, b, c = preset_table("random", seed=3), preset_table("random", seed=3), preset_table("random", seed=4)
    assert a.logits == b.logits and a.logits != c.logits
    assert a.size == RANDOM_CLASSES
    assert all(round(x, 2) == x for x in a.logits)  # short, exact in a link
    assert "seed 3" in a.source


def test_unknown_preset():
    with raises("lab.err.preset", "bogus"):
        preset_table("bogus")


def _handoff(n=1000, seed=0):
    generator = torch.Generator().manual_seed(seed)
    logits = (torch.randn(n, generator=generator) * 3).tolist()  # float32 values, as a model gives
    return {"labels": [f"name {i}" for i in range(n)], "logits": logits, "source": "cat.jpg"}, logits


def test_inspector_handoff_keeps_every_class():
    payload, logits = _handoff()
    table = table_from_inspector(payload, editable=10)
    assert table.shown == 10 and len(table.rest_logits) == 990 and table.source == "cat.jpg"
    z = torch.tensor(logits, dtype=torch.float64)
    order = torch.argsort(z, descending=True)
    # the 10 editable rows are the 10 highest logits, largest first, with their own names
    assert list(table.logits) == z[order[:10]].tolist()
    assert list(table.labels) == [f"name {int(i)}" for i in order[:10]]
    # nothing is lost: the full distribution is the image's, class by class
    expected = torch.softmax(z, dim=0)
    got = torch.softmax(table.all_logits(), dim=0)
    by_name = dict(zip(table.all_labels(), got.tolist(), strict=True))
    for i in range(0, 1000, 97):
        assert by_name[f"name {i}"] == pytest.approx(float(expected[i]), rel=1e-12)


def test_inspector_nothing_handed_over_and_bad_payloads():
    with raises("lab.err.no_handoff", "Image Inspector"):
        table_from_inspector(None)
    with raises("lab.err.bad_handoff", "labels"):
        table_from_inspector(["not", "a", "dict"])
    with raises("lab.err.bad_handoff", "NaN"):
        table_from_inspector({"labels": ["a", "b"], "logits": [1.0, float("nan")]})
    with raises("lab.err.bad_handoff"):
        table_from_inspector({"labels": ["a", "b"], "logits": ["x", "y"]})


def test_handoff_fingerprint_changes_with_the_image():
    a, _ = _handoff(seed=0)
    b, _ = _handoff(seed=1)
    assert handoff_fingerprint(a) == handoff_fingerprint(dict(a))
    assert handoff_fingerprint(a) != handoff_fingerprint(b)


@settings(max_examples=60, deadline=None)
@given(head=logit_lists, tail=st.lists(finite, min_size=1, max_size=30), temperature=temperatures)
def test_display_logits_carry_the_tail_exactly(head, tail, temperature):
    tail = np.asarray(tail, dtype=np.float32).astype(np.float64).tolist()
    table = table_of(head, rest_logits=tail)
    full = torch.softmax(table.all_logits() / temperature, dim=0)
    shown = torch.softmax(display_logits(table, temperature=temperature) / temperature, dim=0)
    expected = torch.cat([full[: len(head)], full[len(head) :].sum().reshape(1)])
    torch.testing.assert_close(shown, expected, rtol=1e-9, atol=1e-12)


# --- tables of the math against torch ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(values=logit_lists, temperature=temperatures, k=st.integers(1, 50), top_p=st.floats(0.01, 1.0))
@example(values=[0.0, 0.0, 0.0, 0.0], temperature=1.0, k=1, top_p=1.0)  # ties: the lower index is kept
def test_class_table_matches_torch(values, temperature, k, top_p):
    table = table_of(values)
    z = torch.tensor(values, dtype=torch.float64)
    frame = steps.class_table(table, temperature=temperature, k=k, top_p=top_p)
    torch.testing.assert_close(f64(frame["score"].tolist()), torch.softmax(z / temperature, 0), atol=1e-12, rtol=1e-9)
    torch.testing.assert_close(f64(frame["score_t1"].tolist()), torch.softmax(z, 0), atol=1e-12, rtol=1e-9)
    # torch.topk breaks ties as it likes; the product's one ranking puts the lower index first (a stable sort)
    kept = set(torch.sort(z, descending=True, stable=True).indices[: min(k, len(values))].tolist())
    assert {i for i, keep in enumerate(frame["top_k"]) if keep} == kept
    # top-p reference: sort, keep while the mass strictly before an entry is < p
    p = torch.softmax(z / temperature, 0)
    values_sorted, order = torch.sort(p, descending=True)
    before = torch.cumsum(values_sorted, 0) - values_sorted
    # at p = 1 the exact rule is "every class with mass": a rounded cumsum can reach 1.0 before a 1e-17 tail
    expected = {
        int(order[i]) for i in range(len(values)) if (values_sorted[i] > 0 if top_p >= 1 else before[i] < top_p)
    }
    assert expected == {i for i, keep in enumerate(frame["top_p"]) if keep}
    assert sorted(frame["rank"].tolist()) == list(range(1, len(values) + 1))
    assert int(frame["rank"][int(torch.argmax(z))]) == 1


def test_class_table_sigmoid_and_tail_row():
    table = table_of([2.0, 1.0], rest_logits=[0.5, -1.0, 3.0], rest_labels=["x", "y", "z"])
    frame = steps.class_table(table, temperature=2.0, mode="sigmoid", rest_label="all other classes (3)")
    z = torch.tensor([2.0, 1.0, 0.5, -1.0, 3.0], dtype=torch.float64)
    sig = torch.sigmoid(z / 2)
    assert frame["label"].tolist() == ["class 0", "class 1", "all other classes (3)"]
    assert frame["score"].tolist()[:2] == pytest.approx(sig[:2].tolist())
    assert frame["score"].iloc[2] == pytest.approx(float(sig[2:].sum()))
    assert pd.isna(frame["rank"].iloc[2]) and pd.isna(frame["top_k"].iloc[2])
    with raises("lab.err.mode", "relu"):
        steps.scores(z, mode="relu")  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(values=logit_lists, temperature=temperatures)
def test_step_table_matches_torch(values, temperature):
    z = torch.tensor(values, dtype=torch.float64)
    worked = steps.step_table(table_of(values), temperature=temperature)
    frame = worked.table
    assert worked.max_logit == float(z.max())
    assert frame["shifted"].tolist() == (z - z.max()).tolist()
    assert max(frame["scaled"]) == 0.0  # the max entry is exactly 0: exp never overflows
    assert worked.total == pytest.approx(float(torch.exp((z - z.max()) / temperature).sum()), rel=1e-12)
    torch.testing.assert_close(f64(frame["p"].tolist()), torch.softmax(z / temperature, 0), atol=1e-12, rtol=1e-9)
    torch.testing.assert_close(
        f64(frame["log_p"].tolist()), torch.log_softmax(z / temperature, 0), atol=1e-9, rtol=1e-9
    )


def test_step_table_with_a_tail_sums_it():
    table = table_of([1.0, 2.0], rest_logits=[0.0, 3.0])
    worked = steps.step_table(table, temperature=1.0, rest_label="rest")
    p = torch.softmax(torch.tensor([1.0, 2.0, 0.0, 3.0], dtype=torch.float64), 0)
    assert worked.table["label"].tolist() == ["class 0", "class 1", "rest"]
    assert worked.table["p"].iloc[2] == pytest.approx(float(p[2:].sum()))
    assert worked.table["log_p"].iloc[2] == pytest.approx(math.log(float(p[2:].sum())))
    assert worked.table["p"].sum() == pytest.approx(1.0)


def test_overflow_table_shows_nan_only_in_the_naive_columns():
    frame = steps.overflow_table(preset_table("overflow"))
    assert frame["exp32"].tolist() == ["inf", "inf", "inf"]
    assert frame["naive32"].tolist() == ["NaN", "NaN", "NaN"]
    stable = torch.softmax(torch.tensor([1000.0, 1001.0, 1002.0]), 0).tolist()
    assert frame["stable32"].tolist() == [format_value(v) for v in stable]
    assert frame["stable32"].tolist() == ["0.0900306", "0.244728", "0.665241"]
    assert steps.overflows(preset_table("overflow"), dtype=torch.float32)


def test_float16_overflows_before_float32():
    table = preset_table("near_tie")  # exp(12.1) > 65504, the largest float16
    frame = steps.overflow_table(table)
    assert "inf" in frame["exp16"].tolist() and "NaN" in frame["naive16"].tolist()
    assert "NaN" not in frame["naive32"].tolist()
    expected16 = torch.softmax(torch.tensor([12.1, 11.9, 11.8]).half().float(), 0).half().double().tolist()
    assert frame["stable16"].tolist() == [format_value(v) for v in expected16]
    assert steps.overflows(table, dtype=torch.float16) and not steps.overflows(table, dtype=torch.float32)


def test_top_two_ratio_is_the_probability_ratio():
    table = preset_table("ten")
    ratio = steps.top_two_ratio(table, temperature=2.0)
    p = torch.softmax(torch.tensor(TEN, dtype=torch.float64) / 2.0, 0)
    assert (ratio.first, ratio.second) == ("白领女性", "笔记本电脑")
    assert ratio.at_t == pytest.approx(float(p[8] / p[2]))
    assert ratio.gap == pytest.approx(0.4)


@settings(max_examples=40, deadline=None)
@given(values=logit_lists, temperature=temperatures, k=st.integers(1, 50), top_p=st.floats(0.01, 1.0))
def test_filter_table_renormalises_the_survivors(values, temperature, k, top_p):
    frame = steps.filter_table(table_of(values), temperature=temperature, k=k, top_p=top_p)
    assert frame["p"].is_monotonic_decreasing
    for keep, column in (("top_k", "p_top_k"), ("top_p", "p_top_p")):
        kept = frame[frame[keep]]
        assert frame.loc[~frame[keep], column].eq(0).all()
        assert kept[column].sum() == pytest.approx(1.0)
        # renormalising keeps the ratios between survivors
        expected = kept["p"] / kept["p"].sum()
        assert kept[column].tolist() == pytest.approx(expected.tolist(), rel=1e-9, abs=1e-300)
    assert int(frame["top_k"].sum()) == min(k, len(values))
    assert frame["cumulative"].iloc[-1] == pytest.approx(1.0)


def test_sampling_is_seeded_and_converges():
    table = preset_table("four")
    probs = steps.filtered_probs(table, which="full")
    a = steps.sampling_counts(probs, n=5000, seed=7)
    assert torch.equal(a, steps.sampling_counts(probs, n=5000, seed=7))
    assert not torch.equal(a, steps.sampling_counts(probs, n=5000, seed=8))
    assert int(a.sum()) == 5000 and a.numel() == 4
    big = steps.sampling_counts(probs, n=400_000, seed=0)
    assert steps.sampling_error(probs, big) < 0.004  # ~ 1/sqrt(N) = 0.0016
    top1 = steps.filtered_probs(table, k=1, which="top_k")
    assert top1.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert steps.sampling_counts(top1, n=100, seed=0).tolist() == [100, 0, 0, 0]
    with raises("lab.err.draws", "0"):
        steps.sampling_counts(probs, n=0)
    with raises("lab.err.filter", "nope"):
        steps.filtered_probs(table, which="nope")


def test_dim_softmax_matches_torch():
    x = torch.tensor(DEFAULT_MATRIX, dtype=torch.float64)
    p0, p1 = dim_softmax(x)
    torch.testing.assert_close(p0, torch.softmax(x, dim=0))
    torch.testing.assert_close(p1, torch.softmax(x, dim=1))
    torch.testing.assert_close(p0.sum(0), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(p1.sum(1), torch.ones(2, dtype=torch.float64))
    assert matrix_from_frame(matrix_frame()).tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_resize_matrix_pads_and_truncates():
    frame = matrix_frame()
    assert resize_matrix(frame, 6).to_numpy().tolist() == [[1, 2, 3, 4, 0, 0], [5, 6, 7, 8, 0, 0]]
    assert resize_matrix(frame, 2).to_numpy().tolist() == [[1, 2], [5, 6]]
    assert list(resize_matrix(frame, 3).columns) == ["0", "1", "2"]


def test_matrix_editor_refuses_bad_cells():
    frame = matrix_frame()
    frame.iloc[1, 2] = float("nan")
    with raises("lab.err.matrix_cell", "row 2", "column 3"):
        matrix_from_frame(frame)
    with raises("lab.err.matrix_empty"):
        matrix_from_frame(frame.iloc[:0])
    with raises("lab.err.matrix_large", "21"):
        matrix_from_frame(pd.DataFrame(np.zeros((21, 2))))


def test_sigmoid_softmax_table_matches_torch():
    frame = steps.sigmoid_softmax_table(preset_table("ten"), temperature=0.5)
    z = torch.tensor(TEN, dtype=torch.float64)
    assert frame["softmax"].tolist() == pytest.approx(torch.softmax(z / 0.5, 0).tolist())
    assert frame["sigmoid"].tolist() == pytest.approx(torch.sigmoid(z / 0.5).tolist())
    assert frame["sigmoid"].sum() > 1.5  # independent scores: no reason to sum to 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=2, max_size=30), st.floats(0.1, 10.0))
def test_invert_gives_logits_whose_softmax_is_p(probs, scale):
    inverse = steps.invert([p * scale for p in probs])  # unnormalised input: same logits after centring
    target = torch.tensor(probs, dtype=torch.float64)
    target = target / target.sum()
    torch.testing.assert_close(torch.softmax(f64(inverse.logits), 0), target, rtol=1e-9, atol=1e-12)
    assert sum(inverse.logits) == pytest.approx(0.0, abs=1e-9)
    assert inverse.total == pytest.approx(sum(probs) * scale)
    assert inverse.roundtrip_error < 1e-12


def test_invert_bad_and_edge_input():
    with_zero = steps.invert([0.7, 0.2, 0.1, 0.0])
    assert with_zero.zeros == 1
    # the zero becomes 1e-12: the other logits stay readable (log ratios), not shifted by a -745
    assert with_zero.logits[0] - with_zero.logits[1] == pytest.approx(math.log(0.7 / 0.2))
    assert max(abs(v) for v in with_zero.logits) < 25
    assert with_zero.roundtrip_error < 1e-11
    frame = steps.inverse_frame(with_zero, ["a", "b", "c", "d"])
    assert frame["label"].tolist() == ["a", "b", "c", "d"] and frame["p"].tolist()[3] == 0.0
    assert steps.inverse_frame(with_zero, ["a"])["label"].tolist()[0] == "class 0"
    with raises("lab.err.negative_prob"):
        steps.invert([0.5, -0.1])
    with raises("lab.err.zero_probs"):
        steps.invert([0.0, 0.0])
    with raises("lab.err.too_few", "1"):
        steps.invert([1.0])


# --- parsing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2.0, 1.0, 0.1",
        "2.0 1.0 0.1",
        "2.0\n1.0\n0.1\n",
        "2.0\t1.0;0.1",
        "2.0，1.0，0.1",  # Chinese comma
        "[2.0, 1.0, 0.1]",
        "tensor([[2.0000, 1.0000, 0.1000]])",
        "array([2. , 1. , 0.1], dtype=float32)",
    ],
)
def test_parse_numbers_accepts_what_people_paste(text):
    assert parse_numbers(text) == [2.0, 1.0, 0.1]


def test_parse_numbers_unicode_minus_percent_and_exponent():
    assert parse_numbers("−1.5, 1e3, -2") == [-1.5, 1000.0, -2.0]
    assert parse_numbers("65.9% 24.2%", allow_percent=True) == pytest.approx([0.659, 0.242])


def test_parse_numbers_refuses_bad_input():
    with raises("lab.err.nothing_pasted"):
        parse_numbers("  \n ")
    with raises("lab.err.not_a_number", "Value 2", "'abc'"):
        parse_numbers("1, abc, 3")
    with raises("lab.err.not_finite", "Value 2", "NaN"):
        parse_numbers("1, nan, 3")
    with raises("lab.err.not_finite", "inf"):
        parse_numbers("1 -inf")
    with raises("lab.err.not_a_number", "'50%'"):
        parse_numbers("50%")  # percentages only where they make sense (claims, inverse)


def test_hundred_thousand_rows_pasted_are_capped_with_a_message():
    text = "\n".join(str(i % 7) for i in range(100_000))
    with raises("lab.err.too_many", "100,000", f"{SETTINGS.max_logits:,}"):
        parse_numbers(text)
    with raises("lab.err.too_many", "100,000"):
        parse_pasted(text)


@settings(max_examples=80, deadline=None)
@given(logit_lists)
def test_parse_numbers_round_trips_repr(values):
    assert parse_numbers(", ".join(repr(v) for v in values)) == values


def test_parse_pasted_labelled_lines_and_header():
    table = parse_pasted("label,logit\ncat, 2.0\ndog\t1.0\ncoffee mug: −0.5\n")
    assert table.labels == ("cat", "dog", "coffee mug")
    assert table.logits == (2.0, 1.0, -0.5)
    plain = parse_pasted("3 2 1")
    assert plain.labels == ("class 0", "class 1", "class 2") and plain.logits == (3.0, 2.0, 1.0)
    with raises("lab.err.too_few", "1"):
        parse_pasted("42")


def test_parse_csv_layouts():
    assert parse_csv(b"logit\n2\n1\n0.1\n").logits == (2.0, 1.0, 0.1)
    two = parse_csv(b"cat,2\ndog,1\n")
    assert two.labels == ("cat", "dog") and two.logits == (2.0, 1.0)
    named = parse_csv(b'index,logit,label\n0,2,"a, b"\n1,1,c\n')
    assert named.labels == ("a, b", "c") and named.logits == (2.0, 1.0)
    assert parse_csv(b"2,1,0.1\n").logits == (2.0, 1.0, 0.1)
    assert parse_csv("\ufefflabel;logit\n猫;2,5\n狗;1\n".replace(",5", ".5").encode()).labels == ("猫", "狗")


@settings(max_examples=30, deadline=None)
@given(
    values=logit_lists,
    names=st.lists(st.text(string.ascii_letters + ',"; 猫-', min_size=1, max_size=12), min_size=40, max_size=40),
)
def test_csv_and_json_exports_read_back_exactly(values, names):
    labels = [n.strip() or "x" for n in names[: len(values)]]
    table = table_of(values, labels)
    for data, parse in ((table_csv(table), parse_csv), (table_json(table), parse_json)):
        back = parse(data)
        assert back.logits == table.logits
        assert back.labels == table.labels


def test_parse_csv_refuses_bad_files():
    with raises("lab.err.file_empty", "t.csv"):
        parse_csv(b"\n\n", file_name="t.csv")
    with raises("lab.err.csv_ragged", "row 3", "3 cells"):
        parse_csv(b"a,1\nb,2\nc,3,4\n")
    with raises("lab.err.csv_cell", "row 3", "column 2", "'two'"):  # row 3 of the file, header included
        parse_csv(b"label,logit\na,1\nb,two\n")
    with raises("lab.err.csv_columns", "3 columns"):
        parse_csv(b"a,1,2\nb,3,4\n")
    with raises("lab.err.not_utf8", "byte"):
        parse_csv(b"a,1\n\xff\xfe,2\n")
    with raises("lab.err.csv_not_finite", "inf"):
        parse_csv(b"a,1\nb,inf\n")


def test_parse_json_layouts():
    assert parse_json(b"[2, 1, 0.1]").logits == (2.0, 1.0, 0.1)
    doc = parse_json(json.dumps({"labels": ["a", "b"], "logits": [1, 2]}).encode())
    assert doc.labels == ("a", "b") and doc.logits == (1.0, 2.0)
    mapping = parse_json('{"猫": 2.1, "狗": -1.3}'.encode())
    assert mapping.labels == ("猫", "狗") and mapping.logits == (2.1, -1.3)
    records = parse_json(b'[{"label": "a", "logit": 1}, {"label": "b", "logit": 3}]')
    assert records.labels == ("a", "b") and records.logits == (1.0, 3.0)


def test_parse_json_refuses_bad_files():
    with raises("lab.err.json", "line 1", "column"):
        parse_json(b"[1, 2,")
    with raises("lab.err.json_item", "logit 2", '"x"'):
        parse_json(b'[1, "x"]')
    with raises("lab.err.json_item", "true"):
        parse_json(b"[1, true]")
    with raises("lab.err.json_item", "[2, 3]"):
        parse_json(b"[1, [2, 3]]")
    with raises("lab.err.json_labels"):
        parse_json(b'{"labels": [1, 2], "logits": [1, 2]}')
    with raises("lab.err.not_finite", "NaN"):
        parse_json(b"[1, NaN]")
    with raises("lab.err.json_layout"):
        parse_json(b'"just a string"')
    with raises("lab.err.label_count", "3 labels for 2 logits"):
        parse_json(b'{"labels": ["a", "b", "c"], "logits": [1, 2]}')


def _npy(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def test_parse_npy_good_files():
    assert parse_npy(_npy(np.array([2.0, 1.0, 0.1], dtype=np.float32))).logits == tuple(
        float(v) for v in np.array([2.0, 1.0, 0.1], dtype=np.float32)
    )
    assert parse_npy(_npy(np.array([[3, 1, 2]], dtype=np.int64))).logits == (3.0, 1.0, 2.0)
    assert parse_npy(_npy(np.array([[1.5], [0.5]], dtype=np.float16))).logits == (1.5, 0.5)


def test_parse_npy_refuses_bad_files_without_unpickling():
    with raises("lab.err.npy_object", "pickles"):
        parse_npy(_npy(np.array([{"a": 1}, 2], dtype=object), allow_pickle=True))
    with raises("lab.err.npy_shape", "(3, 4)"):
        parse_npy(_npy(np.zeros((3, 4))))
    with raises("lab.err.npy_dtype", "bool"):
        parse_npy(_npy(np.array([True, False])))
    with raises("lab.err.npy_dtype", "complex"):
        parse_npy(_npy(np.array([1 + 2j, 3j])))
    with raises("lab.err.npy", "logits.npy"):
        parse_npy(b"not a numpy file at all")
    with raises("lab.err.npy"):
        parse_npy(_npy(np.arange(100, dtype=np.float64))[:-40])  # truncated
    with raises("lab.err.not_finite", "inf"):
        parse_npy(_npy(np.array([1.0, np.inf])))


def test_parse_npy_checks_the_size_before_reading_the_data():
    # a header that claims 10^9 floats and no data: refused from the header alone, no 8 GB allocation
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    with raises("lab.err.too_many", "1,000,000,000"):
        parse_npy(header.getvalue())


def test_parse_upload_dispatches_and_refuses():
    assert parse_upload("x.csv", b"1\n2\n").logits == (1.0, 2.0)
    assert parse_upload("x.json", b"[1, 2]").logits == (1.0, 2.0)
    assert parse_upload("x.npy", _npy(np.array([1.0, 2.0]))).logits == (1.0, 2.0)
    assert parse_upload("x.TXT", b"a 1\nb 2").labels == ("a", "b")
    with raises("lab.err.file_type", "x.png"):
        parse_upload("x.png", b"\x89PNG")
    with raises("lab.err.file_large", "big.csv"):
        parse_upload("big.csv", b"1\n" * 10, max_bytes=5)


# --- the editor's rows ---------------------------------------------------------------------------------


def test_table_from_frame_reads_the_editor():
    base = preset_table("news")
    frame = base.frame()
    frame.loc[1, "logit"] = 3.5
    frame.loc[3] = [None, 0.25]  # a row added with no label
    table = table_from_frame(frame, base)
    assert table.logits == (2.0, 3.5, 0.1, 0.25)
    assert table.labels == ("news", "entertainment", "technology", "class 3")


def test_table_from_frame_refuses_bad_rows_with_row_and_label():
    base = preset_table("news")
    empty_cell = base.frame()
    empty_cell.loc[1, "logit"] = float("nan")  # what the grid sends for text typed in a number cell
    with raises("lab.err.cell_empty", "Row 2", "entertainment"):
        table_from_frame(empty_cell, base)
    text_cell = base.frame().astype({"logit": object})
    text_cell.loc[2, "logit"] = "abc"
    with raises("lab.err.cell_text", "Row 3", "'abc'"):
        table_from_frame(text_cell, base)
    inf_cell = base.frame()
    inf_cell.loc[0, "logit"] = float("inf")
    with raises("lab.err.cell_not_finite", "Row 1", "inf"):
        table_from_frame(inf_cell, base)
    with raises("lab.err.empty"):
        table_from_frame(base.frame().iloc[:0], base)
    with raises("lab.err.too_few", "1"):
        table_from_frame(base.frame().iloc[:1], base)
    big = pd.DataFrame({"label": ["x"] * 10_001, "logit": [0.0] * 10_001})
    with raises("lab.err.too_many", "10,001", "10,000"):
        table_from_frame(big, base)


def test_table_from_frame_keeps_the_tail():
    payload, _ = _handoff(n=50)
    base = table_from_inspector(payload, editable=5)
    frame = base.frame()
    frame.loc[0, "logit"] = -20.0
    table = table_from_frame(frame, base)
    assert table.logits[0] == -20.0 and table.rest_logits == base.rest_logits and table.size == 50


def test_make_table_checks():
    with raises("lab.err.label_count", "1 labels for 2 logits"):
        table_of([1, 2], ["a"])
    with raises("lab.err.label_long", "row 2", "201"):
        table_of([1, 2], ["a", "b" * 201])
    assert table_of([1, 2], ["  ", None]).labels == ("class 0", "class 1")


# --- share: URL round trip ------------------------------------------------------------------------------


def _through_the_browser(query):
    """Encode as the address bar would, and parse it back as Streamlit does (key -> all values)."""
    return parse_qs(query_string(query), keep_blank_values=True)


label_text = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=15).filter(
    lambda s: s.strip() == s and s
)


@settings(max_examples=80, deadline=None)
@given(
    values=logit_lists,
    data=st.data(),
    temperature=temperatures,
    top_p=st.floats(0.01, 1.0),
    mode=st.sampled_from(MODES),
)
def test_url_round_trip_is_exact(values, data, temperature, top_p, mode):
    labels = data.draw(st.lists(label_text, min_size=len(values), max_size=len(values)))
    k = data.draw(st.integers(1, len(values)))
    table = table_of(values, labels)
    controls = LabControls(temperature, k, top_p, mode)
    link = decode_query(_through_the_browser(encode_query(table, controls)))
    assert link.problems == []
    assert link.table is not None
    assert link.table.logits == table.logits  # bit for bit
    assert link.table.labels == table.labels
    assert link.controls == controls


def test_url_round_trip_with_the_inspector_tail():
    payload, _ = _handoff(n=1000)
    table = table_from_inspector(payload)
    query = encode_query(table, LabControls(0.5, 7, 0.8, "softmax"))
    assert len(query_string(query)) < MAX_URL_CHARS  # 990 float32 in base64: ~5 300 characters
    link = decode_query(_through_the_browser(query))
    assert link.problems == [] and link.table is not None
    assert link.table.logits == table.logits and link.table.rest_logits == table.rest_logits
    assert link.controls.k == 7


def test_a_readable_hand_written_link():
    link = decode_query({"logits": ["2,1,0.1"], "labels": ["a", "b", "c"], "T": ["0.5"], "mode": ["sigmoid"]})
    assert link.table.logits == (2.0, 1.0, 0.1) and link.table.labels == ("a", "b", "c")
    assert link.controls == LabControls(temperature=0.5, mode="sigmoid")
    assert has_lab_state({"T": ["1"]}) and not has_lab_state({"other": ["1"]})


@pytest.mark.parametrize(
    ("params", "key", "fragment"),
    [
        ({"logits": ["1,abc"]}, "lab.err.link_logits", "'abc'"),
        ({"logits": ["5"]}, "lab.err.link_logits", "at least 2"),
        ({"logits": ["1,nan"]}, "lab.err.link_logits", "NaN"),
        ({"logits": [",".join(["1"] * 10_001)]}, "lab.err.link_logits", "10,001"),
        ({"logits": ["1,2"], "labels": ["a"]}, "lab.err.link_labels", "1 labels for 2"),
        ({"labels": ["a", "b"]}, "lab.err.link_no_logits", "no logits"),
        ({"T": ["hot"]}, "lab.err.link_t", "'hot'"),
        ({"T": ["0"]}, "lab.err.link_t", "0.05"),
        ({"T": ["100"]}, "lab.err.link_t", "20"),
        ({"k": ["0"]}, "lab.err.link_k", "'0'"),
        ({"k": ["2.5"]}, "lab.err.link_k", "'2.5'"),
        ({"logits": ["1,2,3"], "k": ["9"]}, "lab.err.link_k_large", "k = 3"),
        ({"top_p": ["1.5"]}, "lab.err.link_top_p", "'1.5'"),
        ({"mode": ["relu"]}, "lab.err.link_mode", "'relu'"),
        ({"logits": ["1,2"], "rest": ["!!!"]}, "lab.err.link_rest", "cannot be read"),
        ({"logits": ["1,2"], "rest": ["AAA"]}, "lab.err.link_rest", "cannot be read"),
    ],
)
def test_broken_link_parameters_fall_back_with_a_message(params, key, fragment):
    link = decode_query(params)
    assert [p.key for p in link.problems] == [key]
    assert fragment in str(link.problems[0])
    assert link.problems[0].message("zh") != str(link.problems[0])
    defaults = LabControls()
    if key == "lab.err.link_t":
        assert link.controls.temperature == defaults.temperature
    if key == "lab.err.link_labels":
        assert link.table.labels == ("class 0", "class 1") and link.table.logits == (1.0, 2.0)
    if key == "lab.err.link_k_large":
        assert link.controls.k == 3
    if key == "lab.err.link_rest":
        assert link.table is not None and link.table.rest_logits == ()


def test_temperature_choices_are_log_spaced_and_take_a_linked_value():
    assert TEMPERATURES[0] == 0.05 and TEMPERATURES[-1] == 20.0
    assert list(TEMPERATURES) == sorted(TEMPERATURES)
    ratios = np.diff(np.log(TEMPERATURES))
    assert ratios.max() < 0.45  # no big jumps on the log scale
    assert 0.73 in temperature_choices(0.73)
    assert 30.0 not in temperature_choices(30.0)


# --- claims, text safety ---------------------------------------------------------------------------------


def test_parse_claims_needs_one_per_class():
    assert steps.parse_claims("65.9% 24.2% 9.9%", count=3) == pytest.approx([0.659, 0.242, 0.099])
    with raises("lab.err.claims_count", "2 claimed values for 3 classes"):
        steps.parse_claims("0.5 0.5", count=3)


def test_claims_frame_names_the_rows():
    from core.numerics import check_claims

    z = torch.tensor([2.0, 1.0, 0.1])
    report = check_claims(z, torch.tensor([0.659, 0.242, 0.099]))
    frame = steps.claims_frame(["a", "b", "c"], report.rows)
    assert frame["label"].tolist() == ["a", "b", "c"] and frame["ok"].all()
    assert frame["actual"].tolist() == pytest.approx(torch.softmax(z.double(), 0).tolist())


def test_escape_markdown_leaves_no_live_syntax():
    raw = "**bold** _it_ [x](javascript:alert(1)) <img src=x onerror=alert(1)> $x^2$ :red[r] `c` # h"
    escaped = escape_markdown(raw)
    # every ASCII punctuation mark is preceded by a backslash
    assert re.search(r"[!-/:-@\[-`{-~]", re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)) is None
    assert escaped.replace("\\", "") == raw
    assert escape_markdown("猫\n狗") == "猫 狗"


# --- figures ---------------------------------------------------------------------------------------------


def test_headline_figure_in_both_modes():
    z = torch.tensor(TEN, dtype=torch.float64)
    labels = list(TEN_LABELS)
    soft = lab_headline_figure(z, labels, temperature=2.0)
    # the probability axis has round ticks of its own, not positions synced to the logit axis
    assert list(soft.layout.yaxis2.tickvals) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert list(soft.data[1].y) == pytest.approx(torch.softmax(z / 2, 0)[torch.argsort(z, descending=True)].tolist())
    sig = lab_headline_figure(z, labels, mode="sigmoid", temperature=2.0)
    order = torch.argsort(z, descending=True)
    assert list(sig.data[1].y) == pytest.approx(torch.sigmoid(z / 2)[order].tolist())
    assert list(sig.data[2].y) == pytest.approx(torch.sigmoid(z)[order].tolist())  # the T = 1 reference
    assert len(lab_headline_figure(z, labels, mode="sigmoid", temperature=1.0).data) == 2


def test_filters_figure_values():
    z = torch.tensor(TEN, dtype=torch.float64)
    fig = filters_figure(z, [f"<b>{i}</b>" for i in range(10)], temperature=1.0, k=3, top_p=0.9, top_n=5)
    p = torch.softmax(z, 0)
    order = torch.argsort(z, descending=True)
    assert list(fig.data[0].y)[:5] == pytest.approx(p[order[:5]].tolist())
    assert fig.data[0].y[5] == pytest.approx(float(p[order[5:]].sum()))  # "other 5"
    kept = p[order[:3]] / p[order[:3]].sum()
    assert list(fig.data[1].y)[:3] == pytest.approx(kept.tolist()) and fig.data[1].y[3] == 0
    assert sum(fig.data[2].y) == pytest.approx(1.0)
    assert fig.data[0].x[0] == "&lt;b&gt;8&lt;/b&gt;"  # labels are escaped
    assert fig.data[3].y[-1] == pytest.approx(1.0)  # the cumulative line ends at 100%


def test_sampling_figure_values():
    probs = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    counts = torch.tensor([48, 33, 19])
    fig = sampling_figure(probs, counts, ["a", "b", "c"])
    assert list(fig.data[0].y) == pytest.approx([0.5, 0.3, 0.2])
    assert list(fig.data[1].y) == pytest.approx([0.48, 0.33, 0.19])
    assert list(fig.data[1].customdata) == [48, 33, 19]


def test_dim_figure_values_and_sums():
    x = torch.tensor(DEFAULT_MATRIX, dtype=torch.float64)
    fig = dim_softmax_figure(x)
    torch.testing.assert_close(f64(fig.data[0].z), torch.softmax(x, dim=0))
    torch.testing.assert_close(f64(fig.data[1].z), torch.softmax(x, dim=1))
    assert all("Σ=1.00" in tick for tick in fig.layout.xaxis.ticktext)
    assert [a.text for a in fig.layout.annotations if "Σ" in a.text] == ["<b>Σ = 1.00</b>"] * 2


def test_temperature_figures_use_round_ticks_and_speak_chinese():
    z = torch.tensor([2.0, 1.0, 0.1])
    for fig in (lab_sweep_figure(z, ["a", "b", "c"], current_temperature=0.5, lang="zh"), entropy_figure(z, lang="zh")):
        assert list(fig.layout.xaxis.tickvals) == [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20]
        assert fig.layout.xaxis.title.text == "温度 T"


# --- the summary line, the sampling noise scale, the inverse's "already summed to 1" -------------------


@pytest.mark.parametrize("mode", ["softmax", "sigmoid"])
@pytest.mark.parametrize("temperature", [0.3, 1.0, 4.0])
def test_summary_of_a_table_with_a_tail_against_torch(mode, temperature):
    generator = torch.Generator().manual_seed(3)
    logits = (torch.randn(1000, generator=generator, dtype=torch.float64) * 3).tolist()
    payload = {"labels": [f"c{i}" for i in range(1000)], "logits": logits, "source": "x"}
    table = table_from_inspector(payload, editable=10)
    got = steps.summary(table, temperature=temperature, mode=mode)
    z = torch.tensor(logits, dtype=torch.float64)
    p = torch.softmax(z / temperature, dim=0)
    assert got.top_label == f"c{int(torch.argmax(z))}"
    assert got.top_probability == pytest.approx(float(p.max()), rel=1e-6)  # the tail is kept as float32
    bits = float(torch.distributions.Categorical(probs=p).entropy()) / math.log(2)
    assert got.entropy_bits == pytest.approx(bits, rel=1e-6)
    assert got.max_entropy_bits == pytest.approx(math.log2(1000))
    expected_total = 1.0 if mode == "softmax" else float(torch.sigmoid(z / temperature).sum())
    assert got.total_score == pytest.approx(expected_total, rel=1e-6)
    # the same sum as the results table's score column (tail row included)
    frame = steps.class_table(table, temperature=temperature, mode=mode)
    assert got.total_score == pytest.approx(float(frame["score"].sum()), rel=1e-9)


def test_summary_on_a_tie_names_the_first_class():
    table = make_table([2.0, 5.0, 5.0], ["a", "b", "c"])
    got = steps.summary(table)
    assert got.top_label == "b"
    assert got.top_probability == pytest.approx(float(torch.softmax(torch.tensor([2.0, 5.0, 5.0]), 0)[1]))


def test_sampling_noise_is_one_over_root_n_and_bounds_the_error():
    assert steps.sampling_noise(10_000) == pytest.approx(0.01)
    probs = torch.softmax(torch.tensor([2.0, 1.0, 0.1], dtype=torch.float64), 0)
    counts = steps.sampling_counts(probs, n=10_000, seed=0)
    assert steps.sampling_error(probs, counts) < 3 * steps.sampling_noise(10_000)


def test_inverse_says_whether_the_input_summed_to_one():
    assert steps.invert([0.7, 0.2, 0.1]).sums_to_one
    assert not steps.invert([70, 20, 10]).sums_to_one
    assert not steps.invert([0.5, 0.4]).sums_to_one


# --- every lab string exists in both languages with the same placeholders ------------------------------


def _used_keys() -> set[str]:
    keys: set[str] = set()
    patterns = ("core/lab/*.py", "core/charts*.py", "core/charts/*.py", "pages/2_Logits_Lab.py", "ui/lab/*.py")
    for path in sorted({p for pattern in patterns for p in ROOT.glob(pattern)}):
        text = path.read_text("utf-8")
        keys |= set(re.findall(r"[\"'](lab\.[a-z0-9_.]+)[\"']", text))
        keys |= {f"lab.chart.{k}" for k in re.findall(r"_lab_text\(\s*\"([a-z0-9_]+)\"", text)}
    keys |= {f"lab.preset.{name}" for name in PRESETS}
    keys |= {f"lab.preset.{name}.labels" for name in ("news", "pets", "four", "near_tie")}
    keys |= {f"lab.tab.{name}" for name in ("temperature", "filters", "steps", "dim", "sigmoid", "claims", "inverse")}
    keys |= {f"lab.sampling.from.{w}" for w in ("full", "top_k", "top_p")}
    return keys


def test_every_lab_string_is_translated():
    missing = sorted(k for k in _used_keys() if k not in STRINGS)
    assert missing == []
    for key, entry in STRINGS.items():
        if not key.startswith("lab."):
            continue
        assert entry.get("en") and entry.get("zh"), key
        fields = [set(re.findall(r"{(\w+)", entry[lang].replace("{{", ""))) for lang in ("en", "zh")]
        assert fields[0] == fields[1], key
