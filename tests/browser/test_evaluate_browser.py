"""The Dataset Evaluation page in a real browser: upload a zip of real photos, see accuracy and calibration."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from core.evaluate.files import read_results
from tests.browser.conftest import digits_evaluated, screenshot, wait_for_app


def tall_screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its own container, so grow the window to the content first."""
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 100, 8000)})
    page.wait_for_timeout(1500)  # charts re-layout to the new size and finish their transitions
    return screenshot(page, name)


def make_zip(path: Path, sample) -> Path:
    """ImageFolder layout with ImageNet class names as folders, plus a file that is not an image."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(sample("coffee"), "espresso/coffee.png")
        archive.write(sample("chelsea"), "tabby/chelsea.png")
        archive.write(sample("camera"), "tripod/camera.png")
        archive.writestr("tripod/notes.txt", "not an image")
    return path


def upload_photos_zip(app_url, page, sample, tmp_path):
    """Open the Evaluation page, pick "Upload a zip" and upload `make_zip`'s photos; returns the page's main area."""
    page.goto(f"{app_url}/Dataset_Evaluation")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text("Upload a zip", exact=True).click()
    wait_for_app(page)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(make_zip(tmp_path / "photos.zip", sample))
    return main


def test_upload_a_zip_and_see_accuracy_and_the_reliability_diagram(app_url, page, sample, tmp_path) -> None:
    main = upload_photos_zip(app_url, page, sample, tmp_path)
    main.get_by_text("3 images in 3 classes ready to evaluate · skipped: 1.").wait_for()
    main.get_by_role("button", name="Evaluate 3 images with efficientnet_lite0").click()
    main.get_by_text("Headline metrics").wait_for()
    wait_for_app(page)

    top1 = main.locator("[data-testid=stMetric]").filter(has_text="Top-1 accuracy").first
    # espresso and tripod right; Chelsea is an "Egyptian cat" to this model (tabby is its third guess)
    assert "66.67%" in top1.inner_text()
    top5 = main.locator("[data-testid=stMetric]").filter(has_text="Top-5 accuracy").first
    assert "100.00%" in top5.inner_text()

    reliability = main.locator("[data-testid=stPlotlyChart]").filter(has_text="Reliability diagram")
    reliability.locator(".main-svg").first.wait_for()
    assert reliability.count() == 1
    assert reliability.locator(".scatterlayer .trace").count() >= 2  # the diagonal and the T = 1 curve
    assert main.get_by_text("true: tabby").first.is_visible()  # the mistake in the gallery
    tall_screenshot(page, "evaluate-zip")


def test_digits_in_one_click(app_url, page) -> None:
    main = digits_evaluated(app_url, page)
    top1 = main.locator("[data-testid=stMetric]").filter(has_text="Top-1 accuracy").first
    assert float(top1.inner_text().split("\n")[-1].rstrip("%")) >= 95.0
    main.locator("[data-testid=stPlotlyChart] .main-svg").first.wait_for()

    # the per-image results download, read back as a results file
    with page.expect_download() as download:
        main.get_by_role("button", name="Download Parquet").click()
    back = read_results(Path(download.value.path()).read_bytes(), "results.parquet")
    assert back.n == 540 and back.model == "digits_cnn"

    # the confused pairs table: clicking its first row's checkbox shows that pair's images
    pairs = main.locator("[data-testid=stDataFrame]").first
    pairs.scroll_into_view_if_needed()
    box = pairs.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # header row is 35 px high, rows too
    main.get_by_text("images of the selected pair").wait_for()
    wait_for_app(page)

    main.get_by_role("button", name="Open", exact=True).first.click()
    main.get_by_text("Selected image").wait_for()
    wait_for_app(page)
    tall_screenshot(page, "evaluate-digits")


def test_open_a_mistake_in_the_image_inspector(app_url, page) -> None:
    main = digits_evaluated(app_url, page)
    main.get_by_text("Mistakes and doubts").wait_for()
    # the first card of the "most confident mistakes" gallery
    main.get_by_role("button", name="Open", exact=True).first.click()
    main.get_by_text("Selected image").wait_for()
    wait_for_app(page)
    # the innermost block holding the whole view: its title, the file name and the card text
    selected = (
        main.locator("[data-testid=stVerticalBlock]")
        .filter(has_text="Selected image")
        .filter(has_text="predicted: ")
        .last
    )
    texts = selected.locator("[data-testid=stText]").all_inner_texts()
    name = texts[0]  # e.g. "9/0171.png": the true class is the folder
    predicted = next(t for t in texts if t.startswith("true: ")).split("predicted: ")[1].strip()
    assert name.endswith(".png") and not name.startswith(predicted + "/")  # a mistake

    main.get_by_role("button", name="Open in the Image Inspector").click()
    page.get_by_role("heading", name="Image Inspector").wait_for()
    page.get_by_role("heading", name=name).wait_for()  # that file's details, not the default sample
    wait_for_app(page)
    assert page.url.split("?")[0].endswith("/Image_Inspector")  # the view itself may follow in the query
    block = page.locator("[data-testid=stCode]").filter(has_text=re.compile(r"^1\. ")).first
    assert block.inner_text().startswith(f"1. {predicted} (")  # the same top-1 as the Evaluation page's
    screenshot(page, "evaluate-to-inspector")
