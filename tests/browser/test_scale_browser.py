"""The Evaluation page at the user's scale in a real browser: a 50,000 x 1,000 results file (synthetic, seeded,
tests/synthetic.py) opened by its path on the server (under LOGITSCOPE_DATA_ROOTS) and uploaded, and T moved.

A server of its own: the data root set and the upload limit raised (the compact file is 170 MB, under the default
200 MB, but the test should not depend on the margin)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.evaluate.files import write_results
from core.evaluate.rescore import Rescorer
from tests.browser.conftest import ARTIFACTS, screenshot, wait_for_app
from tests.server import serving
from tests.synthetic import synthetic_result

TIMEOUT_MS = 600_000  # a 50,000-image file: upload, read and fit on 2 busy cores


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The 50k results file in a data root, and its top-1 accuracy as the page must show it."""
    root = tmp_path_factory.mktemp("data-root")
    result = synthetic_result(features=False).result
    path = root / "imagenet-val.parquet"
    write_results(result, path, fmt="parquet")
    top1 = Rescorer(result).metrics(1.0).top1
    assert np.isclose(top1, float((result.logits.argmax(1) == result.targets).double().mean()))
    return path, f"{top1:.2%}"


@pytest.fixture(scope="module")
def scale_url(big: tuple[Path, str]) -> Iterator[str]:
    env = {**os.environ, "LOGITSCOPE_OFFLINE": "1", "LOGITSCOPE_DATA_ROOTS": str(big[0].parent)}
    ARTIFACTS.mkdir(exist_ok=True)
    flags = ("--server.maxUploadSize=1000",)
    with serving(
        Path(__file__).resolve().parents[2], log_path=ARTIFACTS / "scale-server.log", env=env, flags=flags
    ) as (
        url,
        _proc,
    ):
        yield url


def open_results_source(page, url: str):
    page.goto(f"{url}/Dataset_Evaluation")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text("Load a results file", exact=True).click()
    wait_for_app(page)
    return main


def move_temperature_and_check(page, main, top1: str) -> None:
    top = main.locator("[data-testid=stMetric]").filter(has_text="Top-1 accuracy").first
    assert top1 in top.inner_text()
    slider = main.get_by_role("slider", name="Temperature T").first
    slider.focus()
    page.keyboard.press("ArrowRight")  # the next stop of the grid above T = 1
    main.get_by_text("(the slider)").first.wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    rows = main.locator("[data-testid=stMetric]").filter(has_text="Top-1 accuracy")
    assert rows.count() == 2 and top1 in rows.nth(1).inner_text()  # T never changes accuracy


def test_a_50k_results_file_opened_by_path_on_the_server(scale_url: str, big: tuple[Path, str], page) -> None:
    path, top1 = big
    main = open_results_source(page, scale_url)
    main.get_by_text("On the server (path)").click()
    wait_for_app(page)
    box = main.get_by_role("textbox", name="Path of a results file on the server (.parquet or .csv)")
    box.fill("../../etc/passwd")
    box.press("Enter")
    main.get_by_text("outside the folders this server allows").wait_for()
    box.fill(path.name)  # relative: from the first allowed folder
    box.press("Enter")
    main.get_by_text("Headline metrics").wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    move_temperature_and_check(page, main, top1)
    screenshot(page, "evaluate-50k-path")


def test_a_50k_results_file_uploaded(scale_url: str, big: tuple[Path, str], page) -> None:
    path, top1 = big
    main = open_results_source(page, scale_url)
    main.get_by_text("My computer (upload)").click()
    wait_for_app(page)
    assert "Files up to 1,000 MB" in main.inner_text()  # the limit, said on the page (this server raised it)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))
    main.get_by_text("Headline metrics").wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    move_temperature_and_check(page, main, top1)
    screenshot(page, "evaluate-50k-upload")
