"""Your own model in a real browser: upload a zip of a tiny timm model in the sidebar, read the Inspector's top-1
against timm's own pipeline, then evaluate a labelled zip with it on the Evaluation page."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from core.images import read_image_file
from core.numerics import softmax
from core.samples import sample_path
from tests import own_models
from tests.browser.conftest import screenshot, wait_for_app

PHOTOS = {"espresso": "coffee", "tabby": "chelsea", "tripod": "camera"}  # class folder -> sample photo


@pytest.fixture(scope="module")
def timm_zip(tmp_path_factory) -> tuple[Path, own_models.Oracle]:
    root = tmp_path_factory.mktemp("browser-own")
    oracle = own_models.timm_resnet(root / "tiny-timm", arch="resnet10t")
    return own_models.zip_folder(oracle.path, root / "tiny-timm.zip"), oracle


def _choose_own_model(page) -> None:
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.locator("[data-testid=stSelectbox]").first.locator("input").fill("Your own")
    page.get_by_role("option", name="Your own model…").click()
    wait_for_app(page)


def test_upload_a_timm_zip_then_inspect_and_evaluate(app_url, page, timm_zip, tmp_path) -> None:
    path, oracle = timm_zip
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    _choose_own_model(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))
    sidebar.get_by_text("What was found: tiny-timm").wait_for(timeout=180_000)
    wait_for_app(page)

    # the Inspector opens on the coffee sample: its top-1 is timm's own
    logits = oracle.logits([read_image_file(sample_path("coffee")).image])[0]
    best = int(logits.argmax())
    expected = f"1. {oracle.names[best]} ({float(softmax(logits.double())[best]):.1%})"
    block = page.locator("[data-testid=stCode]").filter(has_text=re.compile(r"^1\. ")).first
    block.wait_for()
    assert block.inner_text().split("\n")[0] == expected
    pipeline = page.locator("[data-testid=stMain]").get_by_text("timm create_transform (crop_pct").first
    assert pipeline.is_visible()  # timm's own pipeline, as the Inspector shows it
    screenshot(page, "own-model-inspector")

    # the Evaluation page, the same model (the sidebar keeps it)
    set_path = tmp_path / "photos.zip"
    with zipfile.ZipFile(set_path, "w") as archive:
        for folder, photo in PHOTOS.items():
            archive.write(sample_path(photo), f"{folder}/{photo}.png")
    page.locator("[data-testid=stSidebarNav]").get_by_text("Dataset Evaluation").click()  # the same session
    page.get_by_role("heading", name="Dataset Evaluation").wait_for()
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text("Upload a zip", exact=True).click()
    wait_for_app(page)
    main.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(set_path))
    main.get_by_text("3 images in 3 classes ready to evaluate").wait_for()
    main.get_by_role("button", name=re.compile(r"^Evaluate 3 images with timm:tiny-timm:")).click()
    main.get_by_text("Headline metrics").wait_for(timeout=180_000)
    wait_for_app(page)
    images = [read_image_file(sample_path(photo)).image for photo in PHOTOS.values()]
    predicted = oracle.logits(images).argmax(1).tolist()
    truth = [oracle.names.index(folder) for folder in PHOTOS]
    top1 = sum(p == t for p, t in zip(predicted, truth, strict=True)) / 3
    metric = main.locator("[data-testid=stMetric]").filter(has_text="Top-1 accuracy").first
    assert f"{top1:.2%}" in metric.inner_text()
    screenshot(page, "own-model-evaluation")
