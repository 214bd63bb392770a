"""AppTest of the Evaluation page's debugging tools on held-out digits with labels moved to wrong classes:
the label-error gallery, the class filter narrowing it, the per-class table, the map, look-alikes, two
models and weak slices; a results file without features says so instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.evaluation.inputs as evaluate_input
from core.evaluate.files import results_bytes
from tests.test_diagnose import relabelled

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "3_Dataset_Evaluation.py")
TIMEOUT = 120
MOVED = 30


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page after evaluating the relabelled digits (the built-in digits source, patched)."""
    labelled, _ = relabelled(MOVED)
    monkeypatch.setattr(evaluate_input, "_digits", lambda: labelled)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.button[0].click().run()  # "Switch to digits_cnn and evaluate"
    assert not at.exception
    assert at.session_state["eval_result"]["result"].features is not None
    return at


def cards(at: AppTest, slot: str) -> list[str]:
    return [
        b.key.removeprefix(f"diag_open_{slot}_") for b in at.button if (b.key or "").startswith(f"diag_open_{slot}_")
    ]


def test_nothing_is_computed_until_a_tool_is_picked_then_label_errors_show(evaluated: AppTest) -> None:
    at = evaluated
    assert "Debug the set" in [s.value for s in at.subheader]
    assert not cards(at, "issues")
    at.segmented_control(key="diag_tool").set_value("issues").run()
    assert not at.exception
    shown = cards(at, "issues")
    assert len(shown) == 12
    texts = [x.value for x in at.text if x.value.startswith("given: ")]
    assert len(texts) == 12 and "the model says:" in texts[0]
    assert any("NOT trained on" in i.value for i in at.info)
    # a class filter narrows the gallery to that class (as given label or as the model's answer)
    first_given = texts[0].split(" · ")[0].removeprefix("given: ")
    at.selectbox(key="diag_class").set_value(int(first_given)).run()
    narrowed = [x.value for x in at.text if x.value.startswith("given: ")]
    assert 0 < len(narrowed) < 12
    assert all(f"given: {first_given} " in x or f"says: {first_given} " in x for x in narrowed)
    # a card opens the single-image view under the gallery
    at.button(key=f"diag_open_issues_{cards(at, 'issues')[0]}").click().run()
    assert not at.exception
    assert at.session_state["eval_selected_slot"] == "issues"


def test_per_class_map_lookalikes_and_slices_render(evaluated: AppTest) -> None:
    at = evaluated
    at.segmented_control(key="diag_tool").set_value("classes").run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(table.columns)[:6] == ["index", "label", "precision", "recall", "f1", "support"]
    assert table["f1"].is_monotonic_increasing
    at.segmented_control(key="diag_tool").set_value("map").run()
    assert not at.exception
    assert any(b.label.startswith("Compute t-SNE") for b in at.button) is False  # PCA first
    at.radio(key="diag_map_method").set_value("tsne").run()
    assert any(b.label.startswith("Compute t-SNE") for b in at.button)
    at.segmented_control(key="diag_tool").set_value("lookalikes").run()
    assert not at.exception
    assert len(cards(at, "look")) == 8
    at.segmented_control(key="diag_tool").set_value("slices").run()
    assert not at.exception
    slices = at.dataframe[-1].value
    assert {"property", "slice", "count", "accuracy"} <= set(slices.columns)


def test_two_models_from_a_results_file_and_a_results_file_without_features(evaluated: AppTest) -> None:
    at = evaluated
    result = at.session_state["eval_result"]["result"]
    at.segmented_control(key="diag_tool").set_value("compare").run()
    at.file_uploader(key="diag_second_file").upload("other.parquet", results_bytes(result, fmt="parquet")).run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Same prediction"] == "100.0%" and values["Images in both"] == f"{result.n:,}"
    # or evaluate a second registry model here on exactly these images (the same model: full agreement)
    at.radio(key="diag_second_how").set_value("model").run()
    at.selectbox(key="diag_second_model").set_value("digits_cnn").run()
    at.button(key="diag_second_run").click().run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Same prediction"] == "100.0%" and values["Images in both"] == f"{result.n:,}"
    assert at.session_state["diag_second"]["result"].files == result.files
    # the same run loaded back from a file without features: the map explains, nothing breaks
    at.segmented_control(key="eval_source").set_value("results").run()
    at.file_uploader(key="eval_results_file").upload("r.parquet", results_bytes(result, fmt="parquet")).run()
    at.segmented_control(key="diag_tool").set_value("map").run()
    assert not at.exception
    assert any("Embedding map cannot run on this result: the run kept no features" in i.value for i in at.info)
