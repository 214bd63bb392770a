"""The client-side logits explorer in a real chromium: keys move T, k and top-p, and what the page shows (the table's
text, and the raw float64 numbers in its data-state attribute) equals torch's softmax at that T; the settings reach
Python; the exported report does the same offline with the network blocked.

The app is tests/browser/apps/explorer_app.py: EfficientNet-Lite0's logits for coffee.png, or 50,000 seeded ones.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from playwright.sync_api import expect

from core.analysis import analyse
from core.i18n import t
from core.labels import builtin_labels
from core.report.inspector import inspector_report
from tests.browser.apps.explorer_cases import HOSTILE, LARGE, large_labels
from tests.browser.conftest import ARTIFACTS, ROOT, screenshot
from tests.browser.explorer_checks import GRID, ONE, RTOL, check_view, press
from tests.browser.test_report_browser import _open_offline
from tests.server import serving


@pytest.fixture(scope="module")
def explorer_app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The explorer app's URL, and the folder where it saves the logits it gave the explorer."""
    dump = tmp_path_factory.mktemp("explorer")
    env = {**os.environ, "LOGITSCOPE_OFFLINE": "1", "LOGITSCOPE_EXPLORER_DUMP": str(dump)}
    app = "tests/browser/apps/explorer_app.py"
    with serving(ROOT, log_path=ARTIFACTS / "streamlit-explorer.log", env=env, script=app, timeout_s=90) as (url, _):
        yield url, dump


def _open(page, url: str, query: str):
    page.goto(f"{url}/?{query}")
    root = page.locator(".lx-root")
    root.locator("tbody tr").first.wait_for(timeout=180_000)
    return root


def test_app_explorer_by_keyboard_matches_torch_and_python_hears_it(explorer_app, page, lite0, sample) -> None:
    url, dump = explorer_app
    root = _open(page, url, "case=coffee")
    z = torch.load(dump / "coffee.pt")
    # the app's logits are Lite0's own for the espresso photo
    ours = analyse(lite0, "coffee.png", sample("coffee").read_bytes()).logits
    assert z.dtype == torch.float32 and int(z.argmax()) == 967 and torch.allclose(z, ours, atol=1e-4)
    labels = builtin_labels("imagenet")
    slider = page.get_by_role("slider", name="Temperature T")
    expect(slider).to_have_attribute("aria-valuetext", "T = 1")
    headers = root.get_by_role("columnheader").all_inner_texts()
    assert headers == ["Rank", "Label", "Logit", "Probability (T = 1)", "Cumulative"]
    check_view(root, z, labels, temperature=1.0, k=5)
    last = len(GRID) - 1
    for key, index in [
        ("ArrowRight", ONE + 1),
        ("ArrowUp", ONE + 2),
        ("PageUp", ONE + 7),
        ("End", last),
        ("ArrowRight", last),
        ("Home", 0),
        ("ArrowDown", 0),
        ("PageUp", 5),
        ("ArrowLeft", 4),
    ]:
        press(root, ".lx-t-range", key)
        check_view(root, z, labels, temperature=GRID[index], k=5)
    # a typed T off the grid is kept exactly; a bad one is refused with a message, T unchanged
    root.locator(".lx-t-typed").fill("0.7")
    root.locator(".lx-t-typed").press("Enter")
    check_view(root, z, labels, temperature=0.7, k=5)
    root.locator(".lx-t-typed").fill("abc")
    root.locator(".lx-t-typed").press("Enter")
    expect(root.get_by_role("alert")).to_have_text("T = 'abc' is not a temperature between 0.05 and 20.")
    press(root, ".lx-t-range", "ArrowRight")  # from 0.7 to the grid's next step
    check_view(root, z, labels, temperature=GRID[GRID.index(0.63) + 1], k=5)
    expect(page.get_by_text(f"python: T={GRID[GRID.index(0.63) + 1]!r} k=5 top_p=None")).to_be_visible()
    # k by keyboard: two more rows, and Python hears it too
    press(root, ".lx-k-input", "ArrowUp")
    press(root, ".lx-k-input", "ArrowUp")
    check_view(root, z, labels, temperature=0.79, k=7)
    expect(page.get_by_text("python: T=0.79 k=7 top_p=None")).to_be_visible()
    screenshot(page, "explorer-app")


def test_app_explorer_follows_a_new_value_from_python(explorer_app, page) -> None:
    url, dump = explorer_app
    root = _open(page, url, "case=coffee")
    z, labels = torch.load(dump / "coffee.pt"), builtin_labels("imagenet")
    press(root, ".lx-t-range", "ArrowRight")
    expect(page.get_by_text("python: T=1.3 k=5 top_p=None")).to_be_visible()
    page.get_by_role("button", name="Ask for T = 2").click()  # the page asks anew: it wins, in both places
    expect(page.get_by_text("python: T=2.0 k=5 top_p=None")).to_be_visible()
    check_view(root, z, labels, temperature=2.0, k=5)
    page.get_by_role("button", name="Ask for T = 2").click()  # the same ask again is no news: T stays
    expect(page.get_by_text("python: T=2.0 k=5 top_p=None")).to_be_visible()
    press(root, ".lx-t-range", "ArrowLeft")  # and the user's next move wins again, even to a value seen before
    press(root, ".lx-t-range", "ArrowLeft")
    check_view(root, z, labels, temperature=1.3, k=5)
    expect(page.get_by_text("python: T=1.3 k=5 top_p=None")).to_be_visible()


def test_app_explorer_in_chinese(explorer_app, page) -> None:
    url, dump = explorer_app
    root = _open(page, url, "case=coffee&lang=zh")
    labels = builtin_labels("imagenet", "zh")
    expect(page.get_by_role("slider", name=t("inspector.temperature", "zh"))).to_be_visible()
    headers = root.get_by_role("columnheader").all_inner_texts()
    assert headers == [t(f"inspector.col.{c}", "zh", temperature=1.0) for c in ("rank", "label", "logit")] + [
        t("inspector.col.probability", "zh", temperature=1.0),
        t("inspector.col.cumulative", "zh"),
    ]
    press(root, ".lx-t-range", "PageDown")
    check_view(root, torch.load(dump / "coffee.pt"), labels, temperature=GRID[ONE - 5], k=5)
    assert "比特" in root.locator(".lx-summary").inner_text()


def test_app_explorer_with_50000_classes(explorer_app, page) -> None:
    url, dump = explorer_app
    root = _open(page, url, "case=large")
    z = torch.load(dump / "large.pt")
    assert z.numel() == LARGE
    labels = large_labels()
    state = check_view(root, z, labels, temperature=1.0, k=10, top_p=0.5)
    assert state["indices"][:5] == [77, 4321, 49_999, 8, 9]  # the tied classes, lower index first
    for key, index in [("ArrowRight", ONE + 1), ("PageDown", ONE - 4), ("End", len(GRID) - 1), ("Home", 0)]:
        press(root, ".lx-t-range", key)
        check_view(root, z, labels, temperature=GRID[index], k=10, top_p=0.5)
    press(root, ".lx-t-range", "PageUp")
    press(root, ".lx-p-range", "ArrowRight")
    check_view(root, z, labels, temperature=GRID[5], k=10, top_p=0.51)
    root.locator(".lx-k-input").fill("20")
    root.locator(".lx-k-input").press("Tab")
    check_view(root, z, labels, temperature=GRID[5], k=20, top_p=0.51)
    expect(page.get_by_text(f"python: T={GRID[5]!r} k=20 top_p=0.51")).to_be_visible()
    # a label is text, never markup
    assert page.evaluate("() => window.__pwned") is None
    assert root.locator("svg title").first.text_content() == labels[77]


def test_report_explorer_offline_matches_torch(page, lite0, sample, tmp_path) -> None:
    results = [analyse(lite0, f"{name}.png", sample(name).read_bytes()) for name in ("coffee", "chelsea")]
    labels = list(builtin_labels("imagenet"))
    labels[967] = HOSTILE  # labels are user text: it must stay text in the JSON, the table and the chart
    path = tmp_path / "report.html"
    path.write_text(inspector_report(results, labels, model="efficientnet_lite0", temperature=2.0, k=3), "utf-8")
    outside, errors = _open_offline(page, path)
    boxes = page.locator(".lx-report")
    expect(boxes.nth(1)).to_be_visible()
    expect(page.locator(".lx-static").first).to_be_hidden()
    coffee, cat = page.locator(".lx-root").nth(0), page.locator(".lx-root").nth(1)
    check_view(coffee, results[0].logits, labels, temperature=2.0, k=3)
    check_view(cat, results[1].logits, labels, temperature=2.0, k=3)
    two = GRID.index(2.0)
    for key, index in [("ArrowLeft", two - 1), ("PageDown", two - 6), ("Home", 0), ("End", len(GRID) - 1)]:
        press(cat, ".lx-t-range", key)
        check_view(cat, results[1].logits, labels, temperature=GRID[index], k=3)
    press(cat, ".lx-k-input", "ArrowUp")
    check_view(cat, results[1].logits, labels, temperature=20.0, k=4)
    check_view(coffee, results[0].logits, labels, temperature=2.0, k=3)  # each image has its own
    # its temperature sweep and entropy charts follow the T the reader left; the coffee's stay at the report's
    plots = "[...document.querySelectorAll('section > .chart .js-plotly-plot')]"  # sweep, entropy; sweep, entropy
    page.wait_for_function(f"() => {plots}[2].layout.shapes[0].x0 === 20")
    sweeps = page.evaluate(
        f"() => {plots}.filter((_, i) => i % 2 === 0).map(p => [p.layout.shapes[0].x0, p.layout.annotations[0].text])"
    )
    points = page.evaluate(f"() => {plots}.filter((_, i) => i % 2 === 1).map(p => [p.data[1].x[0], p.data[1].y[0]])")
    entropy = float(torch.special.entr(torch.softmax(results[1].logits.double() / 20, 0)).sum()) / math.log(2)
    assert sweeps == [[2, "T = 2"], [20, "T = 20"]] and points[0][0] == 2
    assert points[1][0] == 20 and points[1][1] == pytest.approx(entropy, rel=RTOL)
    assert page.evaluate("() => window.__pwned") is None and outside == [] and errors == []
    # printed, it shows the T the reader left, and not the static copy at the report's T
    page.emulate_media(media="print")
    expect(cat.locator(".lx-t-value")).to_have_text("T = 20")
    expect(cat.locator(".lx-t-range")).to_be_hidden()
    expect(page.locator(".lx-static").nth(1)).to_be_hidden()
    assert re.search(r"Probability \(T = 20\)", cat.locator("thead").inner_text())
    (ARTIFACTS / "report-explorer.pdf").write_bytes(page.pdf(format="A4", print_background=True))
