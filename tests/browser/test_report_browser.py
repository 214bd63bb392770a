"""The one-file HTML report in a real chromium with the network blocked: it draws every chart from what is
inside the file, asks for nothing outside it, and prints one image per A4 page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.evaluate.result import EvalResult
from core.labels import builtin_labels
from core.report.evaluation import evaluation_report
from tests.browser.conftest import ARTIFACTS, ROOT, wait_for_app

CHARTS_PER_IMAGE = 3  # logits vs probabilities, temperature sweep, entropy vs T


def _open_offline(page, path: Path) -> tuple[list[str], list[str]]:
    """Open `path` with every non-file request aborted; return the requests attempted and console errors."""
    outside: list[str] = []
    errors: list[str] = []

    def block(route) -> None:
        if route.request.url.startswith(("file://", "data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", block)
    page.on("request", lambda r: None if r.url.startswith(("file://", "data:", "blob:")) else outside.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return outside, errors


# an evaluation report's figures: the reliability diagram and the confusion matrix, then its doubt sections'
# (risk-coverage; set sizes and coverage per class; adaptive and classwise reliability)
EVALUATION_CHARTS = 7
DOUBT_SECTIONS = ["Abstaining", "Prediction sets", "Calibration depth"]


def _wait_for_charts(page, n: int) -> None:
    page.wait_for_function(
        f"() => [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.querySelector('svg.main-svg'))"
        f".length === {n}",
        timeout=60_000,
    )


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory, sample) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    images = [str(sample("coffee")), str(sample("chelsea"))]
    run = subprocess.run(
        [sys.executable, "-m", "core", "report", *images, "-o", str(out), "--temperature", "2", "--top-k", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "LOGITSCOPE_OFFLINE": "1"},
    )
    assert run.returncode == 0, run.stderr
    return out, run.stdout


def test_cli_report_opens_offline_with_its_charts_drawn(page, cli_report) -> None:
    path, _ = cli_report
    outside, errors = _open_offline(page, path)
    _wait_for_charts(page, 2 * CHARTS_PER_IMAGE)
    plots = page.locator(".js-plotly-plot")
    assert plots.count() == 2 * CHARTS_PER_IMAGE
    # drawn, not empty divs: every chart has trace shapes (bars, lines) with real geometry in its svg
    drawn = page.eval_on_selector_all(
        ".js-plotly-plot",
        "plots => plots.map(p => [...p.querySelectorAll('svg.main-svg .trace path')]"
        ".filter(e => (e.getAttribute('d') || '').length > 8).length)",
    )
    assert len(drawn) == 2 * CHARTS_PER_IMAGE and min(drawn) > 0, drawn
    # both pictures and both model inputs are inside the file
    sources = page.eval_on_selector_all("img", "els => els.map(e => e.src)")
    assert len(sources) == 4 and all(s.startswith("data:image/") for s in sources)
    assert page.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert outside == [], f"the report asked for {outside}"
    assert errors == [], errors
    text = page.inner_text("body")
    assert "espresso" in text and re.search(r"tabby|tiger cat|Egyptian cat", text)
    # each image's live explorer (tests/browser/test_explorer_browser.py) stands in for its static table and bars
    # chart, which stay in the file for a reader without JavaScript
    assert page.locator(".lx-report:visible").count() == 2 and page.locator(".lx-static:visible").count() == 0
    # interactive: hovering a bar of the static chart (shown again here) shows its tooltip
    page.evaluate("() => document.querySelectorAll('section.lx-on').forEach(s => s.classList.remove('lx-on'))")
    bar = page.locator(".js-plotly-plot").first.locator(".trace.bars path").first
    bar.hover(force=True)
    page.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


def test_cli_report_prints_one_image_per_a4_page(page, cli_report) -> None:
    path, _ = cli_report
    _open_offline(page, path)
    _wait_for_charts(page, 2 * CHARTS_PER_IMAGE)
    page.emulate_media(media="print")
    # each image section starts a page; charts fit the printable width of A4 (210 mm - 2 x 12 mm at 96 dpi)
    breaks = page.eval_on_selector_all("section.page", "els => els.map(e => getComputedStyle(e).breakBefore)")
    assert breaks[1:] == ["page"] * (len(breaks) - 1) and len(breaks) == 2
    widths = page.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and max(widths) <= (210 - 24) / 25.4 * 96
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 2
    (ARTIFACTS / "report.pdf").write_bytes(pdf)


def test_evaluation_report_opens_offline(page, tmp_path) -> None:
    labels = builtin_labels("imagenet")
    generator = torch.Generator().manual_seed(0)
    targets = torch.tensor([967, 967, 281, 281, 285, 872, 872, 967])
    logits = torch.randn(len(targets), 1000, generator=generator)
    logits[torch.arange(len(targets)), targets] += torch.tensor([6.0, 5.0, 6.0, 0.0, 5.0, 6.0, 0.0, 4.0])
    result = EvalResult(tuple(f"img_{i}.png" for i in range(len(targets))), targets, logits, model="m", source="s")
    path = tmp_path / "evaluation.html"
    path.write_text(evaluation_report(result, labels, temperature=1.5), encoding="utf-8")
    outside, errors = _open_offline(page, path)
    _wait_for_charts(page, EVALUATION_CHARTS)
    assert outside == [] and errors == []
    assert [h.strip() for h in page.locator("h2").all_inner_texts()][-3:] == DOUBT_SECTIONS
    assert page.locator(".js-plotly-plot .heatmaplayer, .js-plotly-plot .hm").count() >= 1


def test_inspector_link_and_its_report_download(app_url, page, tmp_path) -> None:
    # a shared link opens exactly its view in a fresh browser...
    page.goto(f"{app_url}/Image_Inspector?samples=chelsea&T=2&k=3")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text("Top-3 at T = 2", exact=True).first.wait_for(timeout=120_000)  # the explorer and the lines
    assert "samples=chelsea" in page.url and "T=2" in page.url and "k=3" in page.url
    # ... and the report the person downloads from it is that view, offline
    with page.expect_download() as download:
        main.get_by_role("button", name="Download report (HTML)").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".html" and "chelsea" in saved.name
    report = page.context.new_page()
    outside, errors = _open_offline(report, saved)
    _wait_for_charts(report, CHARTS_PER_IMAGE)
    assert outside == [] and errors == []
    text = report.inner_text("body")
    assert "T = 2, top-3, softmax" in text and re.search(r"tabby|tiger cat|Egyptian cat", text)
    report.close()


def test_evaluation_report_download(app_url, page, sample, tmp_path) -> None:
    from tests.browser.test_evaluate_browser import upload_photos_zip

    main = upload_photos_zip(app_url, page, sample, tmp_path)
    main.get_by_role("button", name="Evaluate 3 images with efficientnet_lite0").click()
    main.get_by_text("Headline metrics").wait_for(timeout=120_000)
    wait_for_app(page)
    with page.expect_download(timeout=120_000) as download:
        main.get_by_role("button", name="Download report (HTML)").click()
    saved = tmp_path / "evaluation.html"
    download.value.save_as(saved)
    report = page.context.new_page()
    outside, errors = _open_offline(report, saved)
    _wait_for_charts(report, EVALUATION_CHARTS)
    assert outside == [] and errors == []
    text = report.inner_text("body")
    assert "66.67%" in text  # top-1: espresso and tripod right, Chelsea an Egyptian cat
    assert "chelsea.png" in text  # the one mistake, with its picture
    assert report.locator("section.mistakes img").count() == 1
    report.close()
