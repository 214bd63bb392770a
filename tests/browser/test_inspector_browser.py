"""The Image Inspector in a real browser: upload a photo, read the prediction, move T and k by keyboard on the
client-side explorer (its table against torch on the server's own logits, from the page's CSV), then the share link
and the downloads at the T the user left; several images follow one T."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
from playwright.sync_api import expect

from core.samples import sample_path
from tests.browser.conftest import screenshot, wait_for_app
from tests.browser.explorer_checks import GRID, ONE, check_view, csv_logits, press

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


def _csv(page) -> tuple[torch.Tensor, list[str], dict[int, float]]:
    """The shown image's "All logits (CSV)", downloaded as a person does: every exact logit, and p at the page's T."""
    with page.expect_download() as download:
        page.locator("[data-testid=stMain]").get_by_role("button", name="All logits (CSV)").click()
    return csv_logits(Path(download.value.path()))


def _heard(page, temperature: str) -> None:
    """The server has heard the T the user left (the address bar is the share link) and finished its rerun."""
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('T') === '{temperature}'")
    wait_for_app(page)


def test_upload_chelsea_move_t_by_keyboard_then_share_and_download(app_url, page) -> None:
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
    z, labels, at_one = _csv(page)  # the oracle: the server's own logits, exactly
    assert labels[int(z.argmax())] in CATS
    root = page.locator(".lx-root")
    check_view(root, z, labels, temperature=1.0, k=5)
    page.set_viewport_size(TALL)
    screenshot(page, "inspector-chelsea-t1")

    # T by keyboard on the explorer's slider: each key redraws the table and chart in the browser, no rerun
    for steps, value in enumerate(["1.3", "1.6", "2", "2.5", "3.2"], start=1):
        press(root, ".lx-t-range", "ArrowRight")
        check_view(root, z, labels, temperature=GRID[ONE + steps], k=5)
        assert float(value) == GRID[ONE + steps]
    press(root, ".lx-k-input", "ArrowUp")  # and k: top-6
    check_view(root, z, labels, temperature=3.2, k=6)
    # the server hears where the user left it: the lines, the checks and the link follow
    _heard(page, "3.2")
    assert page.get_by_text("Top-6 at T = 3.2", exact=True).count() >= 1
    after = _lines(page)
    assert after.split(" (")[0] == lines.split(" (")[0]  # same class at rank 1: T never changes the ranking
    assert len(after.splitlines()) == 6
    screenshot(page, "inspector-chelsea-t3.2")

    page.get_by_role("button", name="Share link").click()
    link = page.locator("[data-testid=stPopoverBody] [data-testid=stCode] code").inner_text().strip()
    assert "T=3.2" in link and "k=6" in link and "samples=" in link
    page.keyboard.press("Escape")
    # the downloads are built at the T the user left: the CSV's probabilities are torch's at T = 3.2
    z_again, _, probabilities = _csv(page)
    assert torch.equal(z_again, z)
    expected = torch.softmax(z / 3.2, 0)
    assert max(abs(probabilities[i] - float(expected[i])) for i in range(len(z))) < 1e-12
    assert max(abs(at_one[i] - float(torch.softmax(z, 0)[i])) for i in range(len(z))) < 1e-12
    with page.expect_download() as download:
        page.locator("[data-testid=stMain]").get_by_role("button", name="Prediction (JSON)").click()
    record = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert record["temperature"] == 3.2 and len(record["top_k"]) == 6
    assert record["top_k"][0]["probability"] == pytest.approx(float(expected.max()), rel=1e-12)
    # and the report's own live explorer opens at that T and k
    with page.expect_download() as download:
        page.locator("[data-testid=stMain]").get_by_role("button", name="Download report (HTML)").first.click()
    html = Path(download.value.path()).read_text(encoding="utf-8")
    (block,) = re.findall(r'class="lx-data">(.*?)</script>', html)
    assert (json.loads(block)["temperature"], json.loads(block)["k"]) == (3.2, 6)


def test_several_images_follow_one_t(app_url, page) -> None:
    page.set_viewport_size(TALL)
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    for name in ("Chelsea", "camera"):
        page.get_by_text(name, exact=True).click()
        wait_for_app(page)
    page.get_by_role("heading", name="Summary of 3 images").wait_for()
    coffee, labels, _ = _csv(page)
    root = page.locator(".lx-root")
    check_view(root, coffee, labels, temperature=1.0, k=5)
    press(root, ".lx-t-range", "PageDown")  # half a decade down: T = 0.32
    press(root, ".lx-t-range", "ArrowLeft")
    check_view(root, coffee, labels, temperature=GRID[ONE - 6], k=5)
    _heard(page, f"{GRID[ONE - 6]:g}")
    # another image's details: the same explorer, its logits, the T the user left
    page.locator("[data-testid=stSelectbox]").filter(has_text="Details for").locator("input").click()
    page.get_by_role("option", name="chelsea.png").click()
    page.get_by_role("heading", name="chelsea.png").wait_for()
    wait_for_app(page)
    cat, labels, probabilities = _csv(page)
    assert labels[int(cat.argmax())] in CATS and not torch.equal(cat, coffee)
    check_view(root, cat, labels, temperature=GRID[ONE - 6], k=5)
    expected = torch.softmax(cat / GRID[ONE - 6], 0)  # and its CSV is at that T too
    assert max(abs(probabilities[i] - float(expected[i])) for i in range(len(cat))) < 1e-12
    press(root, ".lx-t-range", "End")
    check_view(root, cat, labels, temperature=GRID[-1], k=5)
    screenshot(page, "inspector-three-images-t20")


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
    picker = page.locator("[data-testid=stSelectbox]").filter(has_text="类别 X").locator("input")
    picker.scroll_into_view_if_needed()  # the picker sits at the page's foot: its list needs room to open
    picker.click()
    picker.fill("埃及猫")
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


@pytest.fixture(scope="module")
def checkpoint_50k(tmp_path_factory) -> Path:
    """A resnet18 with 50,000 outputs (seeded random weights, float16: 74 MB) as safetensors, as a user uploads one."""
    import torchvision
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=50_000).half()
    path = tmp_path_factory.mktemp("checkpoint") / "resnet18_50k.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path


def test_a_50000_class_checkpoint_moves_t_in_the_browser(app_url, page, checkpoint_50k) -> None:
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text("torch", exact=True).click()  # torch runs it at once (ONNX Runtime would export it first)
    wait_for_app(page)
    model = sidebar.locator("[data-testid=stSelectbox]").filter(has_text="Model").first.locator("input")
    model.fill("Your own model")  # the option is last of a long list: type to find it
    page.get_by_role("option", name="Your own model…").first.click()
    wait_for_app(page)
    sidebar.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(checkpoint_50k))
    root = page.locator(".lx-root")
    # the default model's explorer is on the page already: wait for the one over 50,000 classes (its entropy bound,
    # log2 50,000 = 15.610 bits), not merely for a table
    expect(root.locator(".lx-summary")).to_contain_text(f"at most {math.log2(50_000):.3f}", timeout=300_000)
    wait_for_app(page, timeout_ms=300_000)
    z, labels, _ = _csv(page)  # the oracle: the server's 50,000 logits, exactly
    assert len(z) == 50_000
    check_view(root, z, labels, temperature=1.0, k=5)
    for key, index in [("ArrowRight", ONE + 1), ("PageDown", ONE - 4), ("Home", 0), ("End", len(GRID) - 1)]:
        press(root, ".lx-t-range", key)
        check_view(root, z, labels, temperature=GRID[index], k=5)
    root.locator(".lx-k-input").fill("20")
    root.locator(".lx-k-input").press("Tab")
    check_view(root, z, labels, temperature=20.0, k=20)
    # the server hears it (the verdict's header joins the explorer's caption); a checkpoint cannot travel in a link,
    # but the CSV follows the T the user left
    expect(page.get_by_text("Top-20 at T = 20", exact=True)).to_have_count(2, timeout=120_000)
    wait_for_app(page)
    assert page.evaluate("() => location.search") == ""
    _, _, probabilities = _csv(page)
    expected = torch.softmax(z / 20, 0)
    assert max(abs(probabilities[i] - float(expected[i])) for i in range(len(z))) < 1e-12
