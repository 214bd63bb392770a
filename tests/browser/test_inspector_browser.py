"""The Image Inspector in a real browser: upload a photo, read the prediction, move the temperature slider."""

from __future__ import annotations

import re

from core.samples import sample_path
from tests.browser.conftest import screenshot, wait_for_app

CATS = ("tabby", "tiger cat", "Egyptian cat")
TALL = {"width": 1400, "height": 2600}  # Streamlit scrolls inside the page: a tall window shows all of it


def _lines(page) -> str:
    """The seed-style prediction lines ("1. tabby (40.1%)" ...): the code block that starts with "1. "."""
    block = page.locator("[data-testid=stCode]").filter(has_text=re.compile(r"^1\. ")).first
    block.wait_for()  # the first run may still be drawing
    return block.inner_text()


def _first_percent(lines: str) -> float:
    match = re.match(r"1\. .+ \(([\d.]+)%\)", lines)
    assert match, lines
    return float(match.group(1))


def test_upload_chelsea_see_a_cat_and_move_the_temperature(app_url, page) -> None:
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    assert page.get_by_role("heading", name="Image Inspector").is_visible()
    assert _lines(page).startswith("1. espresso")  # opens on a sample, so there is something to see

    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(sample_path("chelsea")))
    page.get_by_role("heading", name="chelsea.png").wait_for()
    wait_for_app(page)
    lines = _lines(page)
    assert lines.split(" (")[0] in {f"1. {cat}" for cat in CATS}, lines
    assert "espresso" not in lines  # the upload replaced the default sample
    before = _first_percent(lines)
    page.set_viewport_size(TALL)
    screenshot(page, "inspector-chelsea-t1")

    slider = page.get_by_role("slider", name="Temperature T")
    steps = ["1.3", "1.6", "2", "2.5", "3.2"]  # the log-scale stops right of T = 1
    for value in steps:
        slider.focus()  # a rerun may redraw the page; focus the thumb again before each key
        page.keyboard.press("ArrowRight")
        # one key at a time, each answered by the server, so no key lands on a widget that is being redrawn
        page.get_by_text(f"Top-5 at T = {value}", exact=True).wait_for()
        wait_for_app(page)
    assert slider.get_attribute("aria-valuetext") == "3.2"
    after_lines = _lines(page)
    assert after_lines.split(" (")[0] == lines.split(" (")[0]  # same class at rank 1: T never changes the ranking
    assert _first_percent(after_lines) < before  # a higher T flattens the distribution
    screenshot(page, "inspector-chelsea-t3.2")


def test_several_images_and_chinese(app_url, page) -> None:
    page.set_viewport_size(TALL)
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    page.get_by_text("中文", exact=True).click()
    wait_for_app(page)
    page.get_by_role("heading", name="图像检查器").wait_for()
    for name in ("猫咪", "摄影师"):
        page.get_by_text(name, exact=True).click()
        wait_for_app(page)
    page.get_by_role("heading", name="3 张图片概览").wait_for()
    assert _lines(page).startswith("1. espresso")  # label language is its own choice: still English
    page.get_by_role("tab", name="某个类别 X 呢？").click()
    wait_for_app(page)
    # the class picker searches English and Chinese names as you type
    page.locator("[data-testid=stSelectbox]").filter(has_text="类别 X").locator("input").fill("埃及猫")
    page.get_by_role("option", name="285 · Egyptian cat · 埃及猫").click()
    wait_for_app(page)
    page.get_by_text("“Egyptian cat”排名第").wait_for()
    page.get_by_text("显示 top-1 与 X 的 Grad-CAM").click()
    wait_for_app(page)
    page.get_by_text("Top-1: espresso").wait_for()
    screenshot(page, "inspector-zh-three-images")


def test_the_downloads_are_built_when_clicked(app_url, page) -> None:
    import csv
    import io
    import json
    from pathlib import Path

    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    assert _lines(page).startswith("1. espresso")
    main = page.locator("[data-testid=stMain]")
    with page.expect_download() as download:
        main.get_by_role("button", name="All logits (CSV)").click()
    assert download.value.suggested_filename == "coffee_efficientnet_lite0_logits.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 1000  # every class, built by the button's callable on the click
    best = max(rows, key=lambda r: float(r["logit"]))
    assert best["label"] == "espresso" and best["rank"] == "1"
    assert abs(sum(float(r["probability"]) for r in rows) - 1) < 1e-9
    with page.expect_download() as download:
        main.get_by_role("button", name="Prediction (JSON)").click()
    record = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert record["image"] == "coffee.png" and record["top_k"][0]["label"] == "espresso"
    assert len(record["top_k"]) == 5 and record["temperature"] == 1.0
