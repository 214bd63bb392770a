"""AppTest of the Dataset Evaluation page: the digits set in one click, T re-scoring without the model,
the single-image view, zip and results-file uploads, Chinese, and a run stopped half-way."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.testing.v1 import AppTest

import core.evaluate.rescore as rescore
import ui.evaluation.inputs as evaluation_inputs
from core.datasets.sources import digits_set
from core.evaluate import run
from core.evaluate.files import results_bytes
from core.evaluate.metrics import compute_metrics
from core.evaluate.records import records_table
from core.evaluate.result import Progress
from core.evaluate.run import evaluate
from core.models.registry import load_model
from tests.explorer_state import explorer_data, top_label

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "3_Dataset_Evaluation.py")
TIMEOUT = 120


def metric(at: AppTest, label: str, row: int = 0) -> str:
    return [m.value for m in at.metric if m.label == label][row]


@pytest.fixture
def evaluated() -> AppTest:
    """The page after the one click the default experience needs (switch to digits_cnn and evaluate)."""
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert at.session_state["model"] == "efficientnet_lite0"  # the sidebar's default
    at.button[0].click().run()  # "Switch to digits_cnn and evaluate"
    assert not at.exception
    return at


def test_digits_in_one_click_shows_accuracy_and_calibration(evaluated: AppTest) -> None:
    at = evaluated
    assert at.session_state["model"] == "digits_cnn"
    top1 = float(metric(at, "Top-1 accuracy").rstrip("%"))
    assert top1 >= 95.0
    assert metric(at, "Top-5 accuracy") == "100.00%"
    assert [s.value for s in at.subheader][:4] == [
        "Headline metrics",
        "Calibration",
        "Confusion",
        "Mistakes and doubts",
    ]
    stored = at.session_state["eval_result"]
    assert stored["result"].n == 540 and stored["key"][0] == "digits_cnn"
    assert any("Temperature scaling fitted T" in info.value for info in at.info)
    assert len([b for b in at.button if b.label == "Open"]) == 9  # the 9 mistakes of the shipped model
    # the sidebar's default backend ("auto") ran it on ONNX Runtime, features (for the embedding map) included
    result = stored["result"]
    assert result.backend == "onnxruntime" and result.features is not None and result.features.shape[0] == 540
    assert any("images/s · on onnxruntime" in c.value for c in at.caption)


def test_temperature_slider_rescores_without_running_the_model(
    evaluated: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = evaluated
    ece_at_one = metric(at, "ECE")

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model must not run again for a temperature change")

    monkeypatch.setattr(evaluation_inputs, "evaluate", no_model)
    at.select_slider(key="eval_temperature").set_value(2.5).run()
    assert not at.exception
    assert metric(at, "ECE", row=0) == ece_at_one  # T = 1 row unchanged
    assert metric(at, "ECE", row=1) != ece_at_one  # the slider's row re-scored
    assert metric(at, "Top-1 accuracy", row=1) == metric(at, "Top-1 accuracy", row=0)  # T never changes accuracy
    fitted = next(b for b in at.button if b.label.startswith("Use the fitted T"))
    fitted.click().run()
    assert at.session_state["eval_temperature"] == pytest.approx(
        at.session_state["eval_result"]["fit"].temperature, abs=0.01
    )


def test_open_a_mistake_shows_its_single_image_view(evaluated: AppTest) -> None:
    at = evaluated
    first = next(b for b in at.button if b.label == "Open")
    first.click().run()
    assert not at.exception
    name = at.session_state["eval_selected"]
    assert name is not None and name in [t.value for t in at.text]
    assert any("Top-5 at T" in c.value for c in at.caption)
    assert "Open in the Image Inspector" in [b.label for b in at.button]
    next(b for b in at.button if b.label == "Close").click().run()
    assert at.session_state["eval_selected"] is None


def test_results_file_round_trip_through_the_page(evaluated: AppTest) -> None:
    result = evaluated.session_state["eval_result"]["result"]
    top1 = metric(evaluated, "Top-1 accuracy")
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)  # a fresh session: nothing evaluated
    at.run()
    at.segmented_control(key="eval_source").set_value("results").run()
    at.file_uploader(key="eval_results_file").upload("results.parquet", results_bytes(result, fmt="parquet")).run()
    assert not at.exception
    assert metric(at, "Top-1 accuracy") == top1
    assert at.session_state["eval_result"]["result"].n == 540


def test_zip_upload_with_junk_lists_what_was_skipped(sample) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("espresso/coffee.png", sample("coffee").read_bytes())
        archive.writestr("n02123045/chelsea.png", sample("chelsea").read_bytes())  # tabby, by WordNet id
        archive.writestr("espresso/notes.txt", b"not an image")
        archive.writestr("../../escape.png", b"x")
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.segmented_control(key="eval_source").set_value("zip").run()
    at.file_uploader(key="eval_zip").upload("set.zip", buffer.getvalue(), "application/zip").run()
    assert not at.exception
    assert any("2 images in 2 classes" in m.value and "skipped: 2" in m.value for m in at.markdown)
    next(b for b in at.button if b.label.startswith("Evaluate 2 images")).click().run()
    assert not at.exception
    # EfficientNet-Lite0 calls Chelsea an Egyptian cat (tabby third): a real, confident-ish mistake
    assert metric(at, "Top-1 accuracy") == "50.00%"
    assert metric(at, "Top-5 accuracy") == "100.00%"
    assert any("Skipped or failed: 2" in e.label for e in at.expander)
    assert "true: tabby\npredicted: Egyptian cat" in [t.value for t in at.text]


def test_page_speaks_chinese() -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception
    assert at.title[0].value == "数据集评估"
    assert at.button[0].label == "切换到 digits_cnn 并开始评估"


def test_a_run_stopped_half_way_stores_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = evaluate

    def interrupted(model, labelled, *, on_progress=None, **kwargs):
        def stop_after_first_batch(progress: Progress) -> None:
            on_progress(progress)
            raise StopException  # what Streamlit raises inside a run when the user stops it or leaves

        return real(model, labelled, on_progress=stop_after_first_batch, **kwargs)

    monkeypatch.setattr(evaluation_inputs, "evaluate", interrupted)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.button[0].click().run()
    assert at.session_state["eval_result"] is None  # no half result was kept
    assert not at.metric
    monkeypatch.setattr(evaluation_inputs, "evaluate", real)
    next(b for b in at.button if b.label.startswith("Evaluate 540 images")).click().run()  # a new run completes
    assert not at.exception and at.session_state["eval_result"]["result"].n == 540


def test_a_decoding_worker_runs_inside_the_streamlit_script_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # the page's own default picks no worker for 540 tiny digits; force one to check that forking from
    # Streamlit's script thread works and gives the same result
    monkeypatch.setattr(run, "choose_workers", lambda *args, **kwargs: 1)  # where evaluate() looks it up
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.button[0].click().run()
    assert not at.exception
    result = at.session_state["eval_result"]["result"]
    inline = evaluate(load_model("digits_cnn"), digits_set("test"), num_workers=0)
    assert result.files == inline.files
    assert torch.equal(result.logits, inline.logits)


def test_the_fitted_temperature_is_a_stop_of_the_one_grid_and_used_exactly(evaluated: AppTest) -> None:
    from core.numerics import temperature_options

    at = evaluated
    fitted = at.session_state["eval_result"]["fit"].temperature
    slider = at.select_slider(key="eval_temperature")
    grid = [f"{v:g}" for v in temperature_options()]  # the app's one grid (also the Inspector's)
    assert len(slider.options) == len(grid) + 1 and set(grid) <= set(slider.options)
    assert f"{fitted:.3f} (fitted)" in slider.options  # shown with its digits, not clamped or rounded to a stop
    next(b for b in at.button if b.label.startswith("Use the fitted T")).click().run()
    assert at.session_state["eval_temperature"] == fitted  # exactly the fitted value
    assert any(m.value == f"**At T = {fitted:g} (the slider)**" for m in at.markdown)
    at_fit = [m.value for m in at.metric if m.label == "NLL"][1]
    assert at_fit == f"{compute_metrics(*_logits_targets(at), temperature=fitted).nll:.4f}"


def _logits_targets(at: AppTest):
    result = at.session_state["eval_result"]["result"]
    return result.logits, result.targets


def test_metrics_are_computed_once_per_temperature(evaluated: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    real = rescore.Rescorer.per_image

    def counting(self, temperature):
        calls.append(temperature)
        return real(self, temperature)

    monkeypatch.setattr(rescore.Rescorer, "per_image", counting)
    at = evaluated
    at.select_slider(key="eval_temperature").set_value(2.5).run()
    assert calls == [2.5]  # T = 1 and the fitted T were scored when the result was stored; the slider's T once
    at.select_slider(key="eval_temperature").set_value(1.0).run()
    at.select_slider(key="eval_temperature").set_value(2.5).run()
    assert not at.exception
    assert calls == [2.5]  # back and forth: every T was already scored


def test_open_in_the_inspector_shows_that_image_there() -> None:
    from core.i18n import escape_markdown

    at = AppTest.from_file(str(Path(PAGE).parent.parent / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/3_Dataset_Evaluation.py").run()
    next(b for b in at.button if b.label == "Switch to digits_cnn and evaluate").click().run()
    next(b for b in at.button if b.label == "Open").click().run()
    name = at.session_state["eval_selected"]
    records = records_table(at.session_state["eval_result"]["result"], [str(i) for i in range(10)])
    predicted = records.loc[records["file"] == name, "prediction_label"].item()
    at.button(key="eval_to_inspector").click().run()
    assert not at.exception
    assert at.title[0].value == "Image Inspector"
    assert [s.value for s in at.main.subheader] == [escape_markdown(name)]  # that file, not the default sample
    assert at.checkbox(key="inspector_w_sample_coffee").value is False
    shown = explorer_data(at, "inspector_explorer")
    assert top_label(shown) == predicted  # the Inspector's top-1 is the Evaluation page's prediction
    assert any(c.value.startswith(f"1. {predicted} (") for c in at.code)
    assert "inspector_handoff" not in at.session_state  # taken once: a later visit does not add it again
