"""AppTest of the Evaluation page's doubt tools on the held-out digits (the shipped digits CNN): every number shown
equals core's function on the stored result's logits (abstaining, prediction sets, outside images, calibration
depth), knobs moved change them to core's new values, the calibration is kept for the Inspector, and a one-image
result says why a tool is unavailable instead of failing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.evaluate.files import results_bytes
from core.evaluate.result import EvalResult
from core.report.doubt import score_text
from core.uncertainty import selective
from core.uncertainty.calibration import (
    adaptive_calibration_table,
    adaptive_ece,
    classwise_calibration_table,
    classwise_ece,
)
from core.uncertainty.conformal import apply_sets, calibrate_sets, set_for_image, split_conformal
from core.uncertainty.ood import (
    most_fooling,
    ood_scores,
    ood_scores_record,
    ood_table,
    score_percentiles,
    separations,
    threshold_split,
)
from tests.explorer_state import explorer_data, given_logits, move
from ui.evaluation.view import precise_percent

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "3_Dataset_Evaluation.py")
APP = str(ROOT / "app.py")
EVALUATION, INSPECTOR = "pages/3_Dataset_Evaluation.py", "pages/1_Image_Inspector.py"
TIMEOUT = 120


@pytest.fixture(scope="module")
def evaluated() -> AppTest:
    """The page after evaluating the held-out digits (one click), shared by the tests of this module."""
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.button[0].click().run()  # "Switch to digits_cnn and evaluate"
    assert not at.exception
    return at


def stored(at: AppTest) -> tuple[EvalResult, float]:
    kept = at.session_state["eval_result"]
    return kept["result"], kept["fit"].temperature


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, (label, [m.label for m in at.metric])
    return found[0]


def frame(at: AppTest, column: str):
    """The one table shown with this column (a table without a selection has no key AppTest can find it by)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, column
    return found[0]


def pick(at: AppTest, tool: str) -> AppTest:
    at.segmented_control(key="doubt_tool").set_value(tool).run()
    assert not at.exception
    return at


def test_nothing_is_computed_until_a_tool_is_picked(evaluated: AppTest) -> None:
    at = evaluated
    assert "Doubt: out of distribution, prediction sets, abstaining" in [s.value for s in at.subheader]
    assert "doubt" not in at.session_state["eval_result"]  # no pass over the logits yet
    assert any("each computes only when picked" in c.value for c in at.caption)


def test_abstaining_readouts_and_threshold_equal_core(evaluated: AppTest) -> None:
    at = pick(evaluated, "selective")
    result, fitted = stored(at)
    z, y = result.logits, result.targets
    hit = selective.correct_predictions(z, y)
    at_one, at_fit = ood_scores(z), ood_scores(z, temperature=fitted)
    scores = {"msp": at_one["msp"], "msp_fitted": at_fit["msp"], "max_logit": at_one["max_logit"]}
    scores["energy"] = at_one["energy"]
    curves = {name: selective.risk_coverage(values, hit) for name, values in scores.items()}
    table = frame(at, "aurc")
    assert table["aurc"].tolist() == [selective.aurc(c) for c in curves.values()]
    assert table["accuracy"].tolist() == [selective.accuracy_at_coverage(c, 0.9) * 100 for c in curves.values()]
    assert table["coverage"].tolist() == [selective.coverage_at_accuracy(c, 0.99) * 100 for c in curves.values()]
    at.number_input(key="doubt_at_coverage").set_value(0.5).run()
    table = frame(at, "aurc")
    assert table["accuracy"].tolist() == [selective.accuracy_at_coverage(c, 0.5) * 100 for c in curves.values()]

    # the abstain threshold: its stops are core's, and what it keeps and drops is core's `abstain`
    stops = selective.threshold_stops(scores["msp"])
    slider = at.select_slider(key="doubt_abstain_msp")
    assert slider.options == [precise_percent(v) for v in stops]
    for threshold in (float(slider.value), float(stops[len(stops) // 2])):
        at.select_slider(key="doubt_abstain_msp").set_value(threshold).run()
        assert not at.exception
        found = selective.abstain(scores["msp"], hit, threshold)
        assert metric(at, "Kept") == f"{found.kept:,} ({found.coverage:.1%})"
        assert metric(at, "Abstained on") == f"{found.abstained:,} ({1 - found.coverage:.1%})"
        assert metric(at, "Accuracy on the kept") == f"{found.accuracy:.2%}"
        dropped = selective.abstained_images(scores["msp"], threshold)
        cards = [b.key for b in at.button if (b.key or "").startswith("eval_open_abstain_")]
        assert cards == [f"eval_open_abstain_{result.files[i]}" for i in dropped[:12]]
    chart = at.get("plotly_chart")[-1].proto.spec
    assert '"keep ' + str(found.kept) in chart or f"keep {found.kept}" in chart  # the threshold on the curve
    # abstaining by energy: its own stops and shares
    at.segmented_control(key="doubt_abstain_score").set_value("energy").run()
    threshold = float(at.select_slider(key="doubt_abstain_energy").value)
    found = selective.abstain(scores["energy"], hit, threshold)
    assert metric(at, "Kept") == f"{found.kept:,} ({found.coverage:.1%})"


def test_prediction_sets_equal_core_and_are_kept_for_the_inspector(evaluated: AppTest, tmp_path: Path) -> None:
    at = pick(evaluated, "conformal")
    result, _ = stored(at)
    z, y = result.logits, result.targets
    split = split_conformal(z, y, method="lac", alpha=0.1, temperature=1.0, seed=0)
    assert metric(at, "Threshold q̂") == f"{split.calibration.threshold:.6g}"
    assert metric(at, "Coverage measured") == f"{split.coverage:.2%}"
    assert metric(at, "Mean set size") == f"{split.mean_set_size:.2f}"
    assert at.session_state["doubt_calibration"]["calibration"] == split.calibration
    assert any("p ≥ 1 − q̂" in i.value for i in at.info)
    # APS, not randomized, on this over-confident model: the page says why its sets are large
    at.segmented_control(key="doubt_method").set_value("aps").run()
    at.select_slider(key="doubt_coverage").set_value(0.8).run()
    assert not at.exception
    aps = split_conformal(z, y, method="aps", alpha=0.2, temperature=1.0, seed=0)
    assert metric(at, "Mean set size") == f"{aps.mean_set_size:.2f}"
    assert at.session_state["doubt_calibration"]["calibration"] == aps.calibration
    assert any("over-confident model" in c.value for c in at.caption) == (aps.calibration.threshold >= 0.999)
    assert len([c for c in at.get("plotly_chart") if "across temperature" in c.proto.spec]) == 1
    # calibrate on this result, apply to a second results file (here the same images, written and read back)
    at.radio(key="doubt_sets_how").set_value("file").run()
    at.file_uploader(key="doubt_other_file").upload("other.parquet", results_bytes(result, fmt="parquet")).run()
    assert not at.exception
    calibration = calibrate_sets(z, y, method="aps", alpha=0.2, temperature=1.0, seed=0)
    covered = apply_sets(calibration, z).gather(1, y[:, None]).double().mean()
    assert metric(at, "Coverage measured") == f"{float(covered):.2%}"
    assert at.session_state["doubt_calibration"]["calibration"] == calibration
    at.radio(key="doubt_sets_how").set_value("split").run()


def outside_zip() -> bytes:
    """Images the digits model never saw: noise and flat colours, in folders, with a file that is no image."""
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(16):
            pixels = rng.integers(0, 256, (8, 8), np.uint8) if i < 8 else np.full((8, 8), 16 * i, np.uint8)
            image = io.BytesIO()
            Image.fromarray(pixels, mode="L").save(image, format="PNG")
            archive.writestr(f"{'noise' if i < 8 else 'flat'}/img{i}.png", image.getvalue())
        archive.writestr("readme.txt", "not an image")
    return buffer.getvalue()


def test_outside_images_separation_and_threshold_equal_core(evaluated: AppTest) -> None:
    at = pick(evaluated, "ood")
    assert any("No outside images yet" in c.value for c in at.caption)
    at.file_uploader(key="doubt_outside_zip").upload("outside.zip", outside_zip()).run()
    assert any("16 outside images found · skipped: 1." in c.value for c in at.caption)
    at.button(key="doubt_outside_run").click().run()
    assert not at.exception
    result, _ = stored(at)
    outside = at.session_state["doubt_outside"]["result"]
    assert outside.n == 16 and outside.model == "digits_cnn"
    inside_scores, outside_scores = ood_scores(result.logits), ood_scores(outside.logits)
    found = separations(inside_scores, outside_scores)
    table = frame(at, "fpr95")
    assert table["auroc"].tolist() == [found[name].auroc for name in found]
    assert table["fpr95"].tolist() == [found[name].fpr95 * 100 for name in found]
    # the threshold starts at energy's 95% TPR point; the shares shown are core's threshold_split
    slider = at.select_slider(key="doubt_ood_threshold_energy")
    assert float(slider.value) == found["energy"].threshold95
    both = np.concatenate([inside_scores["energy"], outside_scores["energy"]])
    stops = np.unique(np.append(selective.threshold_stops(both), found["energy"].threshold95))
    assert slider.options == [f"{v:.6g}" for v in stops]  # each stop about 1% of all the images further
    for threshold in (found["energy"].threshold95, float(stops[5])):
        at.select_slider(key="doubt_ood_threshold_energy").set_value(threshold).run()
        split = threshold_split("energy", inside_scores["energy"], outside_scores["energy"], threshold)
        assert metric(at, "Outside images caught") == f"{split.caught:.1%}"
        assert metric(at, "Inside images lost") == f"{split.lost:.1%}"
    # entropy is turned: its threshold calls images outside ABOVE it
    at.segmented_control(key="doubt_ood_score").set_value("entropy").run()
    threshold = float(at.select_slider(key="doubt_ood_threshold_entropy").value)
    split = threshold_split("entropy", inside_scores["entropy"], outside_scores["entropy"], threshold)
    assert threshold == found["entropy"].threshold95 and metric(at, "Inside images lost") == f"{split.lost:.1%}"
    # the most fooling outside images by entropy (the lowest first), with their pictures
    table = ood_table(outside.logits, outside.files, [str(i) for i in range(10)])
    names = [x.value for x in at.text if x.value.endswith(".png")]
    assert names == [Path(f).name for f in most_fooling(table, score="entropy", n=12)["file"]]
    assert len(at.get("image")) >= 12
    # a new T rescored the outside images, without running the model again
    at.select_slider(key="eval_temperature").set_value(2.5).run()
    again = separations(ood_scores(result.logits, temperature=2.5), ood_scores(outside.logits, temperature=2.5))
    assert frame(at, "fpr95")["auroc"].tolist() == [again[n].auroc for n in again]
    at.select_slider(key="eval_temperature").set_value(1.0).run()


def test_calibration_depth_equals_core(evaluated: AppTest) -> None:
    at = pick(evaluated, "depth")
    result, _ = stored(at)
    now = at.session_state["eval_result"]["scorer"].at(1.0)
    adaptive = adaptive_calibration_table(now.confidence, now.correct, n_bins=15)
    classwise = classwise_calibration_table(result.logits, result.targets, n_bins=15)
    assert metric(at, "Adaptive ECE (equal count)") == f"{adaptive_ece(adaptive):.2%}"
    assert metric(at, "Classwise ECE") == f"{classwise_ece(classwise):.3%}"
    assert metric(at, "ECE (equal width)") == f"{now.metrics.ece:.2%}"


def test_a_one_image_result_says_which_tools_are_unavailable() -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    one = EvalResult(files=("a.png",), targets=torch.tensor([3]), logits=torch.randn(1, 10), model="digits_cnn")
    at.segmented_control(key="eval_source").set_value("results").run()
    at.file_uploader(key="eval_results_file").upload("one.parquet", results_bytes(one, fmt="parquet")).run()
    assert not at.exception
    for tool in ("conformal", "selective"):
        pick(at, tool)
        assert any("unavailable: needs at least 2 images" in i.value for i in at.info), tool
    pick(at, "depth")  # one image is enough for these
    assert not at.exception and not at.error


def test_the_inspector_places_an_image_among_the_evaluated_digits_and_shows_its_set() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["model"] = "digits_cnn"
    at.run()
    at.switch_page(INSPECTOR).run()
    assert not at.exception
    readout = [c.value for c in at.caption if "No reference yet" in c.value]
    assert readout and "evaluate a labelled set of digits_cnn" in readout[0]
    assert not [m for m in at.markdown if "set: {" in m.value]  # no calibrated sets yet
    # evaluate the digits and calibrate prediction sets on the Evaluation page, then come back
    at.switch_page(EVALUATION).run()
    at.button[0].click().run()  # "Evaluate 540 images with digits_cnn" (the model is already chosen)
    pick(at, "conformal")
    at.switch_page(INSPECTOR).run()
    assert not at.exception
    result = at.session_state["eval_result"]["result"]
    logits = given_logits(explorer_data(at, "inspector_explorer"))  # the shown image's (coffee.png's) logits
    record = ood_scores_record(logits, 1.0)
    found = score_percentiles(record, ood_scores(result.logits))
    lines = [m.value for m in at.markdown if m.value.startswith("max softmax probability:")]
    assert len(lines) == 1
    for name in ("msp", "max_logit", "energy", "entropy"):
        assert f"**{score_text(name, record[name])}** · percentile {found[name]:.1f}" in lines[0], name
    assert any("of the 540 images of digits" in c.value for c in at.caption)
    calibration = at.session_state["doubt_calibration"]["calibration"]
    members = set_for_image(calibration, logits, [str(i) for i in range(10)])
    shown = f"**90% set: {{{', '.join(label for _, label, _ in members)}}} · size {len(members)}**"
    assert shown in [m.value for m in at.markdown]
    # at another T every score but the max logit moves, and so do their percentiles
    move(at, "inspector_explorer", temperature=2.5, k=5)
    record = ood_scores_record(logits, 2.5)
    found = score_percentiles(record, ood_scores(result.logits, temperature=2.5))
    line = next(m.value for m in at.markdown if m.value.startswith("max softmax probability:"))
    assert f"**{score_text('energy', record['energy'])}** · percentile {found['energy']:.1f}" in line
