"""Ordinary files in a real browser (issue 22), the worst of the corpus: an iPhone's HEIC in the Inspector (its class
against the same photo as PNG through the CLI), an SVG (one line in the page, no red chip on the file), a 1 × 1
image (predicted, its note beside the picture); on the Evaluation page a one-class zip of phone photos (the tools
say why not, no exception box, the report says it in one line) and a GBK zip from a Chinese Windows (the accuracy of
its UTF-8 twin, its note on the page). The files are made by the corpus' own helpers."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from core.cli.main import main as cli_main
from tests.browser.conftest import screenshot, wait_for_app
from tests.test_page_real_world import ONE_CLASS, UNREADABLE
from tests.test_real_world_inputs import coffee, encode, heic
from tests.test_real_world_sets import ZH, held_out_digits, legacy_zip, phone_folder_zip, renamed, utf8_zip

TALL = {"width": 1400, "height": 2600}  # Streamlit scrolls inside the page: a tall window shows all of it


def _inspector(app_url, page):
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    return page.locator("[data-testid=stMain]")


def _upload(page, path: Path) -> None:
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(path))


def _top1(main) -> str:
    """The label of the prediction lines' first row ("1. espresso (95.7%)")."""
    block = main.locator("[data-testid=stCode]").filter(has_text=re.compile(r"^1\. ")).first
    block.wait_for()
    match = re.match(r"1\. (.+) \([\d.]+%\)", block.inner_text())
    assert match, block.inner_text()
    return match.group(1)


def _cli_top1(path: Path) -> str:
    """`python -m core predict PATH --json --top-k 1`'s label (in process)."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", out)
        assert cli_main(["predict", str(path), "--json", "--top-k", "1"]) == 0
    (record,) = json.loads(out.getvalue())
    return str(record["top_k"][0]["label"])


def test_an_iphone_heic_is_predicted_as_its_png_twin(app_url, page, tmp_path) -> None:
    photo, twin = tmp_path / "IMG_0001.HEIC", tmp_path / "twin.png"
    photo.write_bytes(heic())
    twin.write_bytes(encode(coffee(), "PNG"))
    main = _inspector(app_url, page)
    _upload(page, photo)
    main.get_by_role("heading", name="IMG_0001.HEIC").wait_for()
    wait_for_app(page)
    assert page.locator("[data-testid=stFileChipIconError]").count() == 0  # the uploader took it
    assert main.locator("[data-testid=stAlert]").filter(has_text="IMG_0001").count() == 0
    assert _top1(main) == _cli_top1(twin) == "espresso"


def test_an_svg_is_one_line_in_the_page_and_the_sample_makes_way(app_url, page, tmp_path) -> None:
    main = _inspector(app_url, page)
    assert _top1(main) == "espresso"  # the default sample, to begin with
    data, line = UNREADABLE["logo.svg"]
    logo = tmp_path / "logo.svg"
    logo.write_bytes(data)
    _upload(page, logo)
    main.get_by_text(line, exact=True).wait_for()
    wait_for_app(page)
    assert page.locator("[data-testid=stFileChipIconError]").count() == 0  # not a red "!" with a hover text
    assert page.locator("[data-testid=stFileChipName]").filter(has_text="logo.svg").count() == 1
    assert main.locator("[data-testid=stAlert]").filter(has_text="logo.svg").count() == 1
    # nothing pretends to answer: no picture, no prediction, no explorer (the sample left with the upload)
    assert main.locator("[data-testid=stCode]").filter(has_text=re.compile(r"^1\. ")).count() == 0
    assert main.locator(".lx-root").count() == 0 and main.get_by_role("heading", name="coffee.png").count() == 0
    page.set_viewport_size(TALL)
    screenshot(page, "inspector-svg")


def test_a_one_pixel_image_is_predicted_with_its_note_beside_it(app_url, page, tmp_path) -> None:
    from PIL import Image

    dot = tmp_path / "dot.png"
    dot.write_bytes(encode(Image.new("RGB", (1, 1), (120, 80, 40)), "PNG"))
    main = _inspector(app_url, page)
    _upload(page, dot)
    main.get_by_role("heading", name="dot.png").wait_for()
    wait_for_app(page)
    assert _top1(main) == _cli_top1(dot)  # predicted, as the CLI predicts it
    note = main.get_by_text("upscaled 256× from 1 x 1 pixels", exact=False)
    assert note.count() == 1 and note.is_visible()
    # beside the picture: under the original (1 × 1) in its column, not in the model input's or the verdict's
    column = main.locator("[data-testid=stColumn]").filter(has_text="upscaled 256×").last
    assert "Original: 1 × 1 pixels" in column.inner_text() and "What the model sees" not in column.inner_text()
    assert column.locator("[data-testid=stImage]").count() == 1
    page.set_viewport_size(TALL)
    screenshot(page, "inspector-one-pixel")


def _evaluation_zip(app_url, page, *, digits_cnn: bool = False):
    """The Evaluation page with "Upload a zip" picked (and digits_cnn chosen first, by its one-click button)."""
    page.goto(f"{app_url}/Dataset_Evaluation")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    if digits_cnn:
        main.get_by_role("button", name="Switch to digits_cnn and evaluate").click()
        main.get_by_text("Headline metrics").wait_for()
        wait_for_app(page)
    main.get_by_text("Upload a zip", exact=True).click()
    wait_for_app(page)
    return main


def test_a_one_class_zip_says_what_it_cannot_do_without_an_exception_box(app_url, page, tmp_path) -> None:
    misses = tmp_path / "misses.zip"
    misses.write_bytes(phone_folder_zip())
    main = _evaluation_zip(app_url, page)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(misses))
    main.get_by_text("4 images in 1 classes ready to evaluate · skipped: 1.").wait_for()
    main.get_by_text("1 system file (macOS/Windows metadata) left out").wait_for()
    main.get_by_role("button", name="Evaluate 4 images with efficientnet_lite0").click()
    main.get_by_text("Headline metrics").wait_for(timeout=120_000)
    wait_for_app(page)
    top1 = main.locator("[data-testid=stMetric]").filter(has_text="Top-1 accuracy").first
    assert "75.00%" in top1.inner_text()  # the three photos right, the panorama (a 2.55% square of it seen) not
    assert main.get_by_text("the model sees only the centre 175 x 175 pixels", exact=False).first.is_visible()

    main.get_by_role("radio", name="Likely label errors").click()
    wait_for_app(page)
    main.get_by_text(f"Likely label errors cannot run on this result: {ONE_CLASS}.").wait_for()
    main.get_by_role("radio", name="Embedding map").click()
    wait_for_app(page)
    main.get_by_text(f"Likely label errors are not marked: {ONE_CLASS}.").wait_for()
    main.locator("[data-testid=stPlotlyChart]").filter(has_text="Embedding map").locator(".main-svg").first.wait_for()
    main.get_by_role("radio", name="Look-alikes").click()
    wait_for_app(page)
    assert page.locator("[data-testid=stException]").count() == 0

    with page.expect_download(timeout=120_000) as download:
        main.get_by_role("button", name="Download report (HTML)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"Likely label errors: not looked for ({ONE_CLASS})." in report
    page.set_viewport_size(TALL)
    screenshot(page, "evaluate-one-class")


def test_a_gbk_zip_gets_the_accuracy_of_its_utf8_twin_and_says_how_it_was_read(app_url, page, tmp_path) -> None:
    members = renamed(held_out_digits(), ZH)
    main = _evaluation_zip(app_url, page, digits_cnn=True)
    page.locator("[data-testid=stSidebar]").get_by_text("Chinese", exact=True).click()  # the folders' names: 数字0 …
    wait_for_app(page)
    note = "file names are not marked as UTF-8 in the zip; they were read as GBK (Chinese Windows)"
    top1 = {}
    for name, data in (("utf8.zip", utf8_zip(members)), ("gbk.zip", legacy_zip(members, "gbk"))):
        path = tmp_path / name
        path.write_bytes(data)
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))
        run = main.get_by_role("button", name="Evaluate 50 images with digits_cnn")
        run.wait_for()  # this zip listed (after the first run the button read "Evaluate again")
        wait_for_app(page)
        assert main.get_by_text("50 images in 10 classes ready to evaluate · skipped: 0.").count() == 1
        assert main.get_by_text(note).count() == (name == "gbk.zip")  # said before the run
        run.click()
        main.get_by_text(f"50 images · model digits_cnn · {name}", exact=False).wait_for()
        wait_for_app(page)
        assert main.get_by_text(note).count() == (name == "gbk.zip")  # and after it, beside the skipped files
        metric = main.locator("[data-testid=stMetric]").filter(has_text="Top-1 accuracy").first
        top1[name] = metric.locator("[data-testid=stMetricValue]").inner_text()
        assert page.locator("[data-testid=stException]").count() == 0
    assert top1["gbk.zip"] == top1["utf8.zip"] and float(top1["utf8.zip"].rstrip("%")) > 90
    page.set_viewport_size(TALL)
    screenshot(page, "evaluate-gbk-zip")
