"""The worst bad inputs in a real browser: names that are Markdown make no request, the pages keep answering.

A file or member named like a Markdown image (`![t](track.png)`) would make the browser fetch that URL
if any widget rendered the name as Markdown (a tracking pixel). Every request the page makes is recorded
by a Playwright listener; none may point at the names' URLs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image

from tests.browser.conftest import wait_for_app

TRACKER = "127.0.0.1:9"  # nothing listens there; a request to it can only come from rendered markup


def tracked(requests: list[str]) -> list[str]:
    return [url for url in requests if "track" in url or TRACKER in url]


def record_requests(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def markup_zip(path: Path, sample) -> Path:
    """Real photos under names that are Markdown images and HTML, plus a skipped and a broken member."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(sample("coffee"), "espresso/![t](track-correct.png).png")
        archive.write(sample("chelsea"), "tabby/![t](track-mistake.png) <img src=track-html.png>.png")
        archive.write(sample("camera"), "tripod/camera.png")
        archive.writestr(f"![t](http://{TRACKER}/track.png)", b"skipped: not an image file")
        archive.writestr("tripod/![t](track-broken.png).png", b"\x89PNG broken")
    return path


def test_markdown_names_in_the_evaluation_page_make_no_request(app_url, page, sample, tmp_path) -> None:
    requests = record_requests(page)
    page.goto(f"{app_url}/Dataset_Evaluation")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text("Upload a zip", exact=True).click()
    wait_for_app(page)
    upload = markup_zip(tmp_path / "![t](track-source.png).zip", sample)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(upload)
    main.get_by_text("4 images in 3 classes ready to evaluate · skipped: 1.").wait_for()
    main.get_by_role("button", name="Evaluate 4 images with efficientnet_lite0").click()
    main.get_by_text("Headline metrics").wait_for()
    wait_for_app(page)
    # the skipped-files table lists both bad members by their literal names
    main.get_by_text("Skipped or failed: 2").click()
    wait_for_app(page)
    # the gallery of mistakes shows Chelsea's card; open it (the single-image view shows its name)
    main.get_by_text("true: tabby").first.wait_for()
    main.get_by_role("button", name="Open", exact=True).first.click()  # the most confident mistake: Chelsea
    main.get_by_text("Selected image").wait_for()
    wait_for_app(page)
    main.get_by_text("![t](track-mistake.png) <img src=track-html.png>", exact=False).first.wait_for()
    page.wait_for_timeout(1000)  # give any image a rendered name would load the time to be requested
    assert tracked(requests) == []
    # the names really were on the page, as text
    assert main.get_by_text("![t](track-mistake.png)", exact=False).count() >= 1
    images = page.locator("img").evaluate_all("nodes => nodes.map(n => n.getAttribute('src') || '')")
    assert not [src for src in images if "track" in src]


def test_markdown_image_names_in_the_inspector_make_no_request(app_url, page, sample, tmp_path) -> None:
    requests = record_requests(page)
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    good = tmp_path / "![t](track-inspector.png).png"
    good.write_bytes(sample("coffee").read_bytes())
    bad = tmp_path / f"![t](http:{TRACKER}track-bad.png).png"
    bad.write_bytes(b"%PDF-1.7 not an image")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files([good, bad])
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_role("heading", name="![t](track-inspector.png).png").first.wait_for()  # the name, as text
    wait_for_app(page)
    page.wait_for_timeout(1000)
    assert tracked(requests) == []


def strip_png(path: Path, width: int, height: int) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 60, 30)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_20000_px_strip_is_classified_with_a_note(app_url, page, tmp_path) -> None:
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    upload = strip_png(tmp_path / "strip.png", 20_000, 20)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(upload)
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text("sees only the centre 18 x 18 pixels", exact=False).first.wait_for()


def test_lab_survives_deep_json_a_huge_number_and_a_k_superscript_link(app_url, page, tmp_path) -> None:
    requests = record_requests(page)
    page.goto(f"{app_url}/Logits_Lab?logits=1,2,3&labels=a&labels=b&labels=c&k=%C2%B2")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text("k = '²' is not a whole number", exact=False).first.wait_for()
    assert main.locator("[data-testid=stException]").count() == 0
    for name, data, message in [
        ("deep.json", b"[" * 5000 + b"]" * 5000, "nested more than 32 levels"),
        ("huge.json", b"[1" + b"0" * 400 + b", 1]", "a number with 401 characters"),
        ("![t](track-lab.png).json", b"[1, ", "not valid JSON"),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        main.get_by_role("button", name="Import").click()
        page.locator("[data-testid=stPopoverBody] [data-testid=stFileUploaderDropzoneInput]").set_input_files(path)
        main.get_by_text(message, exact=False).first.wait_for()
        wait_for_app(page)
        page.keyboard.press("Escape")  # close the popover
        assert main.locator("[data-testid=stException]").count() == 0
    page.wait_for_timeout(1000)
    assert tracked(requests) == []
    # the table from the link is still the one shown, and the page still answers a knob
    assert "logits=1%2C2%2C3" in page.url or "logits=1,2,3" in page.url
