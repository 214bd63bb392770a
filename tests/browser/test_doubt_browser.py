"""The doubt tools in a real browser, on the held-out digits evaluated on the Evaluation page (the stored logits read
back from the page's own Parquet download): a curve (the risk–coverage curves drawn), a threshold moved by keyboard
(the abstain slider, then the outside-images slider: the shares shown are core's at the stop reached), the
prediction sets and calibration depth readouts, and a readout on the Inspector (the image's scores and their
percentiles among the evaluated digits, with its prediction set), every number against core."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from core.backends.choose import with_backend
from core.datasets.unlabelled import open_unlabelled_zip
from core.evaluate.files import read_results
from core.evaluate.metrics import calibrate
from core.evaluate.result import EvalResult
from core.evaluate.run import evaluate
from core.models.registry import load_model
from core.report.doubt import score_text
from core.uncertainty.conformal import set_for_image, split_conformal
from core.uncertainty.ood import ood_scores, ood_scores_record, score_percentiles, separations, threshold_split
from core.uncertainty.selective import abstain, aurc, correct_predictions, risk_coverage, threshold_stops
from tests.browser.conftest import digits_evaluated, screenshot, wait_for_app
from tests.browser.explorer_checks import csv_logits

TALL = {"width": 1400, "height": 3000}  # Streamlit scrolls inside its own container: a tall window shows it all


def evaluate_digits(app_url: str, page) -> tuple[object, EvalResult]:
    """The Evaluation page after one click (digits_cnn on the held-out digits) and its logits as downloaded."""
    page.set_viewport_size(TALL)
    main = digits_evaluated(app_url, page)
    with page.expect_download() as download:
        main.get_by_role("button", name="Download Parquet").click()
    return main, read_results(Path(download.value.path()).read_bytes(), "results.parquet")


def pick(page, main, tool: str) -> None:
    main.get_by_role("radio", name=tool, exact=True).click()
    wait_for_app(page)


def metric(main, label: str) -> str:
    box = main.locator("[data-testid=stMetric]").filter(has=main.page.get_by_text(label, exact=True))
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def press_until_stop(page, slider, key: str, times: int) -> int:
    """Press `key` on a select slider `times` times, let the server rerun, and return the stop reached (its index)."""
    slider.focus()
    for _ in range(times):
        page.keyboard.press(key)
    page.wait_for_timeout(500)  # the slider reports its value after the keys
    wait_for_app(page)
    return int(slider.input_value())


def test_abstaining_curve_and_threshold_sets_depth_and_the_inspector_readout(app_url, page) -> None:
    main, result = evaluate_digits(app_url, page)
    z, y = result.logits, result.targets
    hit = correct_predictions(z, y)
    msp = ood_scores(z)["msp"]

    # a curve: the four risk-coverage curves and the threshold's point, drawn
    pick(page, main, "Abstaining")
    chart = main.locator("[data-testid=stPlotlyChart]").filter(has_text="Risk–coverage")
    chart.locator(".main-svg").first.wait_for()
    assert chart.locator(".scatterlayer .trace").count() == 5
    fitted = calibrate(z, y).temperature
    curves = {"msp": msp, "fitted": ood_scores(z, temperature=fitted)["msp"]}
    curves |= {name: ood_scores(z)[name] for name in ("max_logit", "energy")}
    names = ["max probability, T = 1", f"max probability, fitted T = {fitted:.4g}", "max logit", "energy, T = 1"]
    legend = chart.locator(".legendtext").all_text_contents()
    assert legend[:4] == [
        f"{name} (AURC {aurc(risk_coverage(values, hit)):.4g})"
        for name, values in zip(names, curves.values(), strict=True)
    ]

    # a threshold moved by keyboard: the shares shown are core's `abstain` at the stop reached
    stops = threshold_stops(msp)
    slider = main.get_by_role("slider", name="Abstain on images below this max probability, T = 1")
    start = int(slider.input_value())
    index = press_until_stop(page, slider, "ArrowLeft", 3)
    assert 0 <= index == start - 3
    found = abstain(msp, hit, float(stops[index]))
    assert metric(main, "Kept") == f"{found.kept:,} ({found.coverage:.1%})"
    assert metric(main, "Abstained on") == f"{found.abstained:,} ({1 - found.coverage:.1%})"
    assert metric(main, "Accuracy on the kept") == f"{found.accuracy:.2%}"
    marker = chart.locator(".legendtext").filter(has_text="threshold: keep")
    assert marker.text_content() == f"threshold: keep {found.kept}, abstain on {found.abstained}"
    screenshot(page, "doubt-abstaining")

    # prediction sets: the readout is core's split conformal at the page's T; kept for the Inspector
    pick(page, main, "Prediction sets")
    main.locator("[data-testid=stPlotlyChart]").filter(has_text="Coverage per class").locator(
        ".main-svg"
    ).first.wait_for()
    split = split_conformal(z, y, method="lac", alpha=0.1, seed=0)
    assert metric(main, "Threshold q̂") == f"{split.calibration.threshold:.6g}"
    assert metric(main, "Coverage measured") == f"{split.coverage:.2%}"
    assert metric(main, "Mean set size") == f"{split.mean_set_size:.2f}"
    screenshot(page, "doubt-sets")

    # calibration depth: its three ECEs and two reliability views
    pick(page, main, "Calibration depth")
    main.locator("[data-testid=stPlotlyChart]").filter(has_text="Classwise reliability").locator(
        ".main-svg"
    ).first.wait_for()
    assert metric(main, "ECE (equal width)").endswith("%") and metric(main, "Classwise ECE").endswith("%")
    screenshot(page, "doubt-depth")

    # a readout: the Inspector places its image among the 540 evaluated digits, and shows its 90% set
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Image Inspector").click()
    wait_for_app(page)
    box = page.locator(".st-key-inspector_doubt")
    box.wait_for()
    with page.expect_download() as download:
        page.locator("[data-testid=stMain]").get_by_role("button", name="All logits (CSV)").click()
    logits, labels, _ = csv_logits(Path(download.value.path()))
    record = ood_scores_record(logits, 1.0)
    found_at = score_percentiles(record, ood_scores(z))
    text = box.inner_text()
    for name, label in (("msp", "max softmax probability"), ("max_logit", "max logit"), ("energy", "energy")):
        expected = f"{score_text(name, record[name])} · percentile {found_at[name]:.1f}"
        assert re.search(rf"{re.escape(label)}[^:\n]*: {re.escape(expected)}", text), (name, text)
    assert "of the 540 images of digits (test)" in text
    members = set_for_image(split.calibration, logits, labels)
    shown = f"90% set: {{{', '.join(label for _, label, _ in members)}}} · size {len(members)}"
    assert page.get_by_text(shown, exact=True).count() == 1
    screenshot(page, "doubt-inspector")


def outside_zip(path: Path) -> Path:
    """Images the digits model never saw: noise and flat greys."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(24):
            pixels = rng.integers(0, 256, (8, 8), np.uint8) if i < 12 else np.full((8, 8), 10 * i, np.uint8)
            image = io.BytesIO()
            Image.fromarray(pixels, mode="L").resize((32, 32), Image.Resampling.NEAREST).save(image, format="PNG")
            archive.writestr(f"outside/img{i:02d}.png", image.getvalue())
    return path


def test_outside_images_roc_and_threshold_by_keyboard(app_url, page, tmp_path) -> None:
    main, result = evaluate_digits(app_url, page)
    pick(page, main, "Outside images")
    zipped = outside_zip(tmp_path / "out.zip")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").last.set_input_files(zipped)
    main.get_by_text("24 outside images found", exact=False).wait_for()
    wait_for_app(page)
    main.get_by_role("button", name="Run 24 outside images through digits_cnn").click()
    roc = main.locator("[data-testid=stPlotlyChart]").filter(has_text="ROC: inside")
    roc.locator(".main-svg").first.wait_for()
    wait_for_app(page)
    assert roc.locator(".scatterlayer .trace").count() == 1 + 2 * 4  # chance, then each score's curve and point

    # the same 24 images through the same model and backend as the page's ("auto": ONNX Runtime for digits_cnn)
    model = with_backend(load_model("digits_cnn"), "auto")
    outside = evaluate(model, open_unlabelled_zip(zipped.read_bytes(), name="out.zip"), num_workers=0).logits
    inside_scores, outside_scores = ood_scores(result.logits), ood_scores(outside)
    found = separations(inside_scores, outside_scores)
    legend = roc.locator(".legendtext").all_text_contents()
    assert [re.search(r"AUROC ([\d.]+)", text).group(1) for text in legend[1:]] == [  # type: ignore[union-attr]
        f"{found[name].auroc:.3f}" for name in found
    ]

    # the threshold starts at energy's 95% TPR point; the keys move it stop by stop, the shares follow core
    both = np.concatenate([inside_scores["energy"], outside_scores["energy"]])
    stops = np.unique(np.append(threshold_stops(both), found["energy"].threshold95))
    slider = main.get_by_role("slider", name="Outside when the energy is below")
    start = int(slider.input_value())
    assert stops[start] == found["energy"].threshold95
    index = press_until_stop(page, slider, "ArrowRight", 4)
    assert index == start + 4
    split = threshold_split("energy", inside_scores["energy"], outside_scores["energy"], float(stops[index]))
    assert metric(main, "Outside images caught") == f"{split.caught:.1%}"
    assert metric(main, "Inside images lost") == f"{split.lost:.1%}"
    caught, lost = round(split.caught * 24), round(split.lost * result.n)
    main.get_by_text(
        f"This threshold catches {caught} of 24 outside images and wrongly calls {lost} of", exact=False
    ).wait_for()
    # the outside images that fool the model most, with their pictures
    assert main.locator("[data-testid=stImage]").count() >= 12
    screenshot(page, "doubt-outside")
