"""The Logits Lab in a real browser: edit a cell with clicks and keys, move T, k and top-p by keyboard on the
client-side explorer beside the editor (every number against torch: the displayed digits and the raw float64 values
to 1e-9), then the share link and the CSV at the T the user left."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest
import torch
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, wait_for_app
from tests.browser.explorer_checks import GRID, ONE, RTOL, press, view_state

# the values the data grids expose to assistive technology: one list of cell texts per table
CELLS = (
    "() => Array.from(document.querySelectorAll('[data-testid=stDataFrame]'))"
    ".map(d => Array.from(d.querySelectorAll('[role=gridcell]')).map(c => c.innerText))"
)
ROW_PX, HEADER_PX = 35, 36
HEADERS = ["Label", "p (T = {t})", "p (T = 1)", "Rank", "top-{k}", "top-p"]


def shot(page, name: str) -> None:
    """A screenshot of the viewport under artifacts/ (a full-page capture resizes the page, which makes
    the data grid drop the next edit)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_lab(page, url: str):
    """The page, settled; returns the explorer's root."""
    page.goto(url)
    wait_for_app(page)
    page.wait_for_selector("[data-testid=stDataFrame] [role=gridcell]", state="attached")
    root = page.locator(".lx-root")
    root.locator("tbody tr").first.wait_for()
    page.wait_for_timeout(800)  # the grid's canvas takes clicks once it has painted
    return root


def check_lab(root, z: list[float], labels: list[str], *, temperature: float, k: int, top_p: float, shown=None):
    """The Lab's table shows softmax(z / T) as torch computes it: each class in the editor's order (the classes past
    `shown` as one row), p at T and at T = 1, rank, the top-k and top-p ticks; the raw numbers to 1e-9."""
    root.page.wait_for_function(
        "([root, t]) => JSON.parse(root.dataset.state || '{}').temperature === t",
        arg=[root.element_handle(), temperature],
    )
    expect(root.locator(".lx-t-range")).to_have_attribute("aria-valuetext", f"T = {temperature:g}")
    state = view_state(root)
    x = torch.tensor(z, dtype=torch.float64)
    n, shown = len(z), shown or len(z)
    p, p1 = torch.softmax(x / temperature, 0), torch.softmax(x, 0)
    ranked = torch.sort(x, descending=True, stable=True).indices  # the one ranking: ties to the lower index
    rank = torch.empty(n, dtype=torch.long)
    rank[ranked] = torch.arange(n)
    by_p = torch.sort(p, descending=True, stable=True)
    nucleus = set(by_p.indices[(torch.cumsum(by_p.values, 0) - by_p.values) < top_p].tolist())  # top_p_mask
    assert (state["temperature"], state["k"], state["top_p"]) == (temperature, k, top_p)
    assert state["indices"] == list(range(shown)) and state["top_p_count"] == len(nucleus)
    torch.testing.assert_close(torch.tensor(state["probabilities"], dtype=torch.float64), p[:shown], rtol=RTOL, atol=0)
    if shown < n:
        assert state["rest_probability"] == pytest.approx(float(p[shown:].sum()), rel=RTOL)
    entropy = float(torch.special.entr(p).sum()) / math.log(2)
    assert state["entropy_bits"] == pytest.approx(entropy, rel=RTOL, abs=1e-12)
    headers = [h.format(t=f"{temperature:g}", k=k) for h in HEADERS]
    assert root.locator("thead th").all_text_contents() == headers
    # the rows in the page: every one, or for many classes a window of them (aria-rowindex: the header is row 1)
    rows = root.locator("tbody tr:not(.lx-spacer)").evaluate_all(
        "trs => trs.map(tr => [tr.getAttribute('aria-rowindex'), ...[...tr.cells].map(td => td.textContent)])"
    )
    rows, rest_row = (rows[:-1], rows[-1]) if shown < n else (rows, None)
    numbered = [(int(r[0]) - 2 if r[0] else i, r[1:]) for i, r in enumerate(rows)]
    assert [i for i, _ in numbered] == list(range(numbered[0][0], numbered[0][0] + len(numbered)))
    assert len(rows) == shown or (shown > 60 and len(rows) == 60)
    for i, (label, shown_p, shown_p1, shown_rank, in_k, in_p) in numbered:
        assert label == labels[i] and shown_rank == str(int(rank[i]) + 1)
        assert abs(float(shown_p) - float(p[i])) <= 0.5e-4 * (1 + 1e-9), (label, shown_p, float(p[i]))
        assert abs(float(shown_p1) - float(p1[i])) <= 0.5e-4 * (1 + 1e-9)
        assert in_k == ("✓" if rank[i] < k else "") and in_p == ("✓" if i in nucleus else "")
    if rest_row is not None:
        _, label, rest, *_ = rest_row
        assert label.startswith("all other classes") and abs(float(rest) - float(p[shown:].sum())) <= 0.5e-4
    # the chart: the top classes by logit, largest first
    assert state["chart_indices"] == ranked[: min(12, n)].tolist()
    return state


def test_a_thousand_classes_scroll_and_keep_up(app_url, page):
    root = open_lab(page, f"{app_url}/Logits_Lab")
    z = [round(math.sin(i * 7.3) * 6, 2) for i in range(1000)]  # ties too: the ranking puts the lower index first
    names = [f"class {i}" for i in range(1000)]
    rows = "label,logit\n" + "\n".join(f"{name},{value}" for name, value in zip(names, z, strict=True))
    page.get_by_role("button", name="Import").click()
    page.locator("[data-testid=stPopoverBody] [data-testid=stFileUploaderDropzoneInput]").set_input_files(
        files=[{"name": "thousand.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    page.get_by_text("Loaded 1000 classes").first.wait_for()
    page.keyboard.press("Escape")
    wait_for_app(page)
    expect(root.locator("table")).to_have_attribute("aria-rowcount", "1001")  # a window of the rows is in the page
    check_lab(root, z, names, temperature=1.0, k=3, top_p=0.9)
    press(root, ".lx-t-range", "PageUp")  # T = 3.2
    check_lab(root, z, names, temperature=GRID[ONE + 5], k=3, top_p=0.9)
    # scrolled to the end: the last rows come into the page with the numbers at the T the user left
    root.locator(".lx-scroll").evaluate("box => { box.scrollTop = box.scrollHeight; }")
    expect(root.locator("tbody tr[aria-rowindex='1001']")).to_have_count(1)
    check_lab(root, z, names, temperature=GRID[ONE + 5], k=3, top_p=0.9)
    press(root, ".lx-t-range", "Home")  # and a key there redraws them
    check_lab(root, z, names, temperature=GRID[0], k=3, top_p=0.9)
    shot(page, "lab-thousand-scrolled")


def test_edit_a_cell_move_t_by_keyboard_and_share_the_link(app_url, page, browser):
    root = open_lab(page, f"{app_url}/Logits_Lab")
    assert page.get_by_role("heading", name="Logits Lab").is_visible()
    labels = ["news", "entertainment", "technology"]
    state = check_lab(root, [2.0, 1.0, 0.1], labels, temperature=1.0, k=3, top_p=0.9)
    assert [round(v, 3) for v in state["probabilities"]] == [0.659, 0.242, 0.099]
    assert root.locator("tbody tr").first.locator("td").nth(1).inner_text() == "0.6590"  # as tutorials print it
    shot(page, "lab-before-edit")

    # click the logit cell of "technology" (third row) and type a new value, as a person would
    editor = page.locator("[data-testid=stDataFrame]").first
    box = editor.bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] * 0.85, box["y"] + HEADER_PX + 2 * ROW_PX + ROW_PX / 2)
    page.wait_for_selector("input.gdg-input")  # the cell editor is open
    # at human speed: keys sent faster than the grid's editor updates its state are sometimes dropped
    page.wait_for_timeout(200)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("3", delay=60)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('logits') === '2,1,3'")
    wait_for_app(page)
    z = [2.0, 1.0, 3.0]
    check_lab(root, z, labels, temperature=1.0, k=3, top_p=0.9)  # technology now ranks first, its bar first
    shot(page, "lab-after-edit")

    # T from 1 to 1.6 with the keyboard: two steps right on the log-scale slider (the one grid: 1, 1.3, 1.6), then
    # k and top-p; each key redraws the table and chart in the browser
    press(root, ".lx-t-range", "ArrowRight")
    check_lab(root, z, labels, temperature=GRID[ONE + 1], k=3, top_p=0.9)
    press(root, ".lx-t-range", "ArrowRight")
    check_lab(root, z, labels, temperature=1.6, k=3, top_p=0.9)
    press(root, ".lx-k-input", "ArrowDown")
    check_lab(root, z, labels, temperature=1.6, k=2, top_p=0.9)
    for _ in range(30):  # top-p 0.9 → 0.6: the nucleus shrinks to technology and news
        press(root, ".lx-p-range", "ArrowLeft")
    state = check_lab(root, z, labels, temperature=1.6, k=2, top_p=0.6)
    assert state["top_p_count"] == 2
    # the knobs' fragment rerun keeps the address bar equal to the share link
    page.wait_for_function("() => new URLSearchParams(location.search).get('top_p') === '0.6'")
    wait_for_app(page)
    query = page.evaluate("() => Object.fromEntries(new URLSearchParams(location.search))")
    assert (query["T"], query["k"], query["logits"]) == ("1.6", "2", "2,1,3")

    # the copy-link affordance holds the share link; open it in a fresh browser context
    page.get_by_role("button", name="Share").click()
    link = page.locator("[data-testid=stPopoverBody] [data-testid=stCode] code").inner_text().strip()
    assert link.startswith(f"{app_url}/Logits_Lab?") and "T=1.6" in link and "logits=2,1,3" in link
    shot(page, "lab-share-popover")
    page.keyboard.press("Escape")

    # the CSV is built when its button is clicked, at the T the user left
    page.get_by_role("button", name="Export").click()
    with page.expect_download() as download:
        page.get_by_test_id("stPopoverBody").get_by_role("button", name="CSV", exact=True).click()
    rows = {r["label"]: r for r in csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8")))}
    assert [float(rows[k]["logit"]) for k in labels] == z
    expected = torch.softmax(torch.tensor(z, dtype=torch.float64) / 1.6, 0)
    assert max(abs(float(rows[k]["probability"]) - float(expected[i])) for i, k in enumerate(labels)) < 1e-12
    page.keyboard.press("Escape")

    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.set_default_timeout(60_000)
    try:
        again = open_lab(other, link)
        restored = check_lab(again, z, labels, temperature=1.6, k=2, top_p=0.6)
        assert restored["probabilities"] == state["probabilities"]  # the same numbers, bit for bit
        shot(other, "lab-opened-from-link")
    finally:
        other.context.close()


def test_overflow_example_and_a_huge_upload(app_url, page):
    root = open_lab(page, f"{app_url}/Logits_Lab")
    # load the overflow example from the selector: softmax in the browser stays finite (it subtracts the max too)
    page.get_by_role("combobox", name="Example").click()
    page.get_by_role("option", name="overflow").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('logits') === '1000,1001,1002'")
    wait_for_app(page)
    check_lab(root, [1000.0, 1001.0, 1002.0], ["class 0", "class 1", "class 2"], temperature=1.0, k=3, top_p=0.9)
    press(root, ".lx-t-range", "Home")  # T = 0.05: exp(z / T) is far past float64's range, naively
    check_lab(root, [1000.0, 1001.0, 1002.0], ["class 0", "class 1", "class 2"], temperature=0.05, k=3, top_p=0.9)
    wait_for_app(page)
    page.get_by_role("tab", name="Step by step").click()
    wait_for_app(page)
    page.get_by_text("overflows here even in float32").wait_for()
    page.wait_for_function(f"() => ({CELLS})().some(t => t.includes('NaN'))")  # the grid is drawn
    tables = page.evaluate(CELLS)
    naive = next(t for t in tables if "NaN" in t)
    rows = [naive[i : i + 7] for i in range(0, len(naive), 7)]  # label, exp32, naive32, stable32, (same in 16)
    assert [row[1:3] for row in rows] == [["inf", "NaN"]] * 3  # the naive float32 columns overflow
    stable = torch.softmax(torch.tensor([1000.0, 1001.0, 1002.0]) / 0.05, 0).tolist()  # the stable one does not
    assert [float(row[3]) for row in rows] == pytest.approx(stable, rel=1e-5)
    shot(page, "lab-overflow-steps")

    # a CSV of 100 000 rows: refused with a message, the table stays as it was. (Pasting 100 000 lines into
    # a text area is slow in chromium itself, before the app sees them; the AppTest covers that path.)
    page.get_by_role("button", name="Import").click()
    rows = "label,logit\n" + "\n".join(f"c{i},{i % 7}" for i in range(100_000))
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
        files=[{"name": "huge.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    page.get_by_text("100,000 values").wait_for()
    wait_for_app(page)
    assert page.get_by_text("The table was not changed").is_visible()
    assert root.locator("tbody tr td:first-child").all_text_contents() == ["class 0", "class 1", "class 2"]
    shot(page, "lab-bad-upload")


def test_open_in_the_lab_from_the_image_inspector(app_url, page):
    # the handoff contract: the Inspector puts all 1000 classes in session state and switches page
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    with page.expect_download() as download:  # the oracle: the image's exact logits
        page.locator("[data-testid=stMain]").get_by_role("button", name="All logits (CSV)").click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    page.get_by_role("button", name="Open in Logits Lab").click()
    page.wait_for_url("**/Logits_Lab**")
    wait_for_app(page)
    root = page.locator(".lx-root")
    root.get_by_text("all other classes (990)").wait_for()
    wait_for_app(page)
    # ten editable classes (the top ten, largest first) and the other 990 as one row; softmax over all 1000
    by_logit = sorted(exported, key=lambda r: (-float(r["logit"]), int(r["index"])))
    z = [float(r["logit"]) for r in by_logit]
    names = [r["label"] for r in by_logit]
    state = check_lab(root, z, names, temperature=1.0, k=3, top_p=0.9, shown=10)
    assert abs(sum(state["probabilities"]) + state["rest_probability"] - 1.0) < 1e-9
    press(root, ".lx-t-range", "End")
    check_lab(root, z, names, temperature=20.0, k=3, top_p=0.9, shown=10)
    assert "logits=" in page.url and "rest=" in page.url  # shareable, the tail included
    shot(page, "lab-from-inspector")
