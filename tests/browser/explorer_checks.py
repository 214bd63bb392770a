"""What the client-side explorer shows, checked against torch in a real browser: shared by the explorer's own tests
and the pages that use it (Home, the Inspector, the Logits Lab)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
import torch
from playwright.sync_api import expect

from core.numerics import TEMPERATURES

GRID = list(TEMPERATURES)
ONE = GRID.index(1.0)
RTOL = 1e-9  # the raw numbers: float64 in the browser against float64 in torch


def shown_matches(text: str, value: float) -> bool:
    """Whether `text` ("95.664%" or "3.10e-09", core.query.format_probability's forms) is `value` to its digits."""
    if text.endswith("%"):
        digits = len(text[:-1].split(".")[1]) + 2
        return abs(float(text[:-1]) / 100 - value) <= 0.5 * 10**-digits * (1 + 1e-9)
    mantissa, exponent = text.split("e")
    return abs(float(text) - value) <= 0.5 * 10 ** (int(exponent) - len(mantissa.split(".")[1])) * (1 + 1e-9)


def check_view(root, z: torch.Tensor, labels: list[str], *, temperature: float, k: int, top_p: float | None = None):
    """The explorer under `root` shows softmax(z / T) as torch computes it: its ranking, table and raw numbers."""
    slider = root.locator(".lx-t-range")
    expect(slider).to_have_attribute("aria-valuetext", f"T = {temperature:g}")
    state = json.loads(root.get_attribute("data-state"))
    z64 = z.double()
    p = torch.softmax(z64 / temperature, dim=0)
    ranked = torch.sort(z64, descending=True, stable=True).indices  # ties: the lower index first
    top = ranked[:k]
    assert state["temperature"] == temperature and state["k"] == k
    assert state["indices"] == top.tolist()
    torch.testing.assert_close(torch.tensor(state["probabilities"], dtype=torch.float64), p[top], rtol=RTOL, atol=0)
    cumulative = torch.cumsum(p[top], 0)
    torch.testing.assert_close(torch.tensor(state["cumulative"], dtype=torch.float64), cumulative, rtol=RTOL, atol=0)
    entropy = float(torch.special.entr(p).sum()) / math.log(2)
    assert state["entropy_bits"] == pytest.approx(entropy, rel=RTOL, abs=1e-12)
    if top_p is not None:
        before = torch.cumsum(p[ranked], 0) - p[ranked]  # core.numerics.top_p_mask: the mass above each class
        assert state["top_p"] == top_p and state["top_p_count"] == int((before < top_p).sum())
    # what a person (and a screen reader) reads: real text in the order rank, label, logit, probability, cumulative
    rows = root.locator("tbody tr").evaluate_all("trs => trs.map(tr => [...tr.cells].map(td => td.textContent))")
    assert len(rows) == k
    for n, (row, index) in enumerate(zip(rows, top.tolist(), strict=True)):
        rank, label, logit, probability, running = row
        assert rank == str(n + 1) and label == labels[index]
        assert abs(float(logit) - float(z64[index])) <= 5e-5 * (1 + 1e-9)
        assert shown_matches(probability, float(p[index])), (probability, float(p[index]))
        assert shown_matches(running, float(cumulative[n])), (running, float(cumulative[n]))
    return state


def press(root, control: str, key: str) -> None:
    root.locator(control).focus()
    root.page.keyboard.press(key)


def view_state(root) -> dict:
    """The raw float64 numbers the explorer under `root` shows now (its data-state attribute)."""
    return json.loads(root.get_attribute("data-state"))


def csv_logits(path: Path) -> tuple[torch.Tensor, list[str], dict[int, float]]:
    """An "All logits (CSV)" download: every logit (written exactly, so it reads back equal), every label, and each
    class's probability at the T it was built at."""
    rows = sorted(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))), key=lambda r: int(r["index"]))
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    z = torch.tensor([float(r["logit"]) for r in rows], dtype=torch.float64)
    return z, [r["label"] for r in rows], {int(r["index"]): float(r["probability"]) for r in rows}
