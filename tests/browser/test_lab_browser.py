"""The Logits Lab in a real browser: edit a cell with clicks and keys, see the table and chart change, share it."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from tests.browser.conftest import ARTIFACTS, wait_for_app

# the values the data grids expose to assistive technology: one list of cell texts per table
CELLS = (
    "() => Array.from(document.querySelectorAll('[data-testid=stDataFrame]'))"
    ".map(d => Array.from(d.querySelectorAll('[role=gridcell]')).map(c => c.innerText))"
)
HEADLINE = "() => Array.from(document.querySelector('.js-plotly-plot').data).map(t => Array.from(t.y))"
ROW_PX, HEADER_PX = 35, 36


def shot(page, name: str) -> None:
    """A screenshot of the viewport under artifacts/ (a full-page capture resizes the page, which makes
    the data grid drop the next edit)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def softmax(values: list[float], temperature: float = 1.0) -> list[float]:
    top = max(values)
    exps = [math.exp((v - top) / temperature) for v in values]
    return [e / sum(exps) for e in exps]


def open_lab(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.wait_for_selector("[data-testid=stDataFrame] [role=gridcell]", state="attached")
    page.wait_for_function("() => document.querySelector('.js-plotly-plot') !== null")
    page.wait_for_timeout(800)  # the grid's canvas takes clicks once it has painted


def probabilities(page) -> dict[str, float]:
    """label -> p at the current T, from the results table (label, p, [p at T = 1], rank, top-k, top-p)."""
    table = page.locator("[data-testid=stDataFrame]").nth(1)
    table.locator("th").first.wait_for(state="attached")  # a rerun may be redrawing the grid: wait for its header
    cells = page.evaluate(CELLS)[1]
    width = table.locator("th").count()
    return {cells[i]: float(cells[i + 1]) for i in range(0, len(cells), width)}


def wait_for_probability(page, label: str, expected: float) -> None:
    page.wait_for_function(
        "([label, expected]) => { const d = document.querySelectorAll('[data-testid=stDataFrame]')[1];"
        " const c = Array.from(d.querySelectorAll('[role=gridcell]')).map(x => x.innerText);"
        " const i = c.indexOf(label); return i >= 0 && Math.abs(parseFloat(c[i + 1]) - expected) < 1e-9; }",
        arg=[label, expected],
    )
    wait_for_app(page)


def test_edit_a_cell_and_share_the_link(app_url, page, browser):
    open_lab(page, f"{app_url}/Logits_Lab")
    assert page.get_by_role("heading", name="Logits Lab").is_visible()
    before = probabilities(page)
    assert [round(before[k], 3) for k in ("news", "entertainment", "technology")] == [0.659, 0.242, 0.099]
    headline_before = page.evaluate(HEADLINE)
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
    expected = softmax([2.0, 1.0, 3.0])
    wait_for_probability(page, "technology", expected[2])

    after = probabilities(page)
    assert abs(after["news"] - expected[0]) < 1e-12 and abs(after["technology"] - expected[2]) < 1e-12
    cells = page.evaluate(CELLS)[1]
    assert cells[cells.index("technology") + 2] == "1"  # technology now ranks first (T = 1: no T = 1 column)
    headline = page.evaluate(HEADLINE)
    assert headline != headline_before
    assert headline[0] == [3.0, 2.0, 1.0]  # logits, largest first
    assert abs(headline[1][0] - expected[2]) < 1e-12
    assert page.get_by_text("Most likely: technology").is_visible()
    shot(page, "lab-after-edit")

    # T from 1 to 1.6 with the keyboard: two steps right on the log-scale slider (the one grid: 1, 1.3, 1.6)
    page.get_by_role("slider", name="Temperature T (log scale)").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_for_probability(page, "technology", softmax([2.0, 1.0, 3.0], 1.6)[2])
    shown = probabilities(page)
    # the knobs' fragment rerun keeps the address bar equal to the share link
    page.wait_for_function("() => new URLSearchParams(location.search).get('T') === '1.6'")
    assert page.evaluate("() => new URLSearchParams(location.search).get('logits')") == "2,1,3"

    # the copy-link affordance holds the share link; open it in a fresh browser context
    page.get_by_role("button", name="Share").click()
    link = page.locator("[data-testid=stPopoverBody] [data-testid=stCode] code").inner_text().strip()
    assert link.startswith(f"{app_url}/Logits_Lab?") and "T=1.6" in link and "logits=2,1,3" in link
    shot(page, "lab-share-popover")
    page.keyboard.press("Escape")

    # the CSV is built when its button is clicked, at the T the page shows
    page.get_by_role("button", name="Export").click()
    with page.expect_download() as download:
        page.get_by_test_id("stPopoverBody").get_by_role("button", name="CSV", exact=True).click()
    rows = {r["label"]: r for r in csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8")))}
    assert [float(rows[k]["logit"]) for k in ("news", "entertainment", "technology")] == [2.0, 1.0, 3.0]
    assert abs(float(rows["technology"]["probability"]) - softmax([2.0, 1.0, 3.0], 1.6)[2]) < 1e-9
    page.keyboard.press("Escape")

    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.set_default_timeout(60_000)
    try:
        open_lab(other, link)
        assert probabilities(other) == shown  # the same numbers, digit for digit
        assert other.get_by_text("p (T = 1.6)").count() + other.locator("th", has_text="p (T = 1.6)").count() >= 1
        assert other.locator("[data-testid=stSliderThumbValue]").first.inner_text() == "1.6"
        shot(other, "lab-opened-from-link")
    finally:
        other.context.close()


def test_overflow_example_and_a_huge_upload(app_url, page):
    open_lab(page, f"{app_url}/Logits_Lab")
    # load the overflow example from the selector
    page.get_by_role("combobox", name="Example").click()
    page.get_by_role("option", name="overflow").click()
    wait_for_probability(page, "class 2", softmax([1000.0, 1001.0, 1002.0])[2])
    page.get_by_role("tab", name="Step by step").click()
    wait_for_app(page)
    page.get_by_text("overflows here even in float32").wait_for()
    page.wait_for_function(f"() => ({CELLS})().some(t => t.includes('NaN'))")  # the grid is drawn
    tables = page.evaluate(CELLS)
    naive = next(t for t in tables if "NaN" in t)
    rows = [naive[i : i + 7] for i in range(0, len(naive), 7)]  # label, exp32, naive32, stable32, (same in 16)
    assert [row[1:3] for row in rows] == [["inf", "NaN"]] * 3  # the naive float32 columns overflow
    assert [row[3] for row in rows] == ["0.0900306", "0.244728", "0.665241"]  # the stable one does not
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
    assert set(probabilities(page)) == {"class 0", "class 1", "class 2"}
    shot(page, "lab-bad-upload")


def test_open_in_the_lab_from_the_image_inspector(app_url, page):
    # the handoff contract: the Inspector puts all 1000 classes in session state and switches page
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    page.get_by_role("button", name="Open in Logits Lab").click()
    page.wait_for_url("**/Logits_Lab**")
    wait_for_app(page)
    page.wait_for_function(f"() => (({CELLS})()[1] || []).includes('all other classes (990)')")
    wait_for_app(page)
    p = probabilities(page)
    assert len(p) == 11 and list(p)[-1] == "all other classes (990)"
    assert abs(sum(p.values()) - 1.0) < 1e-9  # ten editable classes + the other 990 as one mass
    assert list(p.values())[:10] == sorted(list(p.values())[:10], reverse=True)  # the top ten, largest first
    assert "logits=" in page.url and "rest=" in page.url  # shareable, the tail included
    shot(page, "lab-from-inspector")
