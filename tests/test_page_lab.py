"""AppTest of the Logits Lab page: presets, cell edits, shared links, claims, bad input, the Inspector handoff.

In the softmax view the table beside the editor and the headline chart are the client-side explorer's: these tests
read what the page gave it (`tests.explorer_state.explorer_data`: every logit, exactly, and the knobs) and send its
moves the way the browser does (`move`); its numbers are checked against torch in tests/browser/test_lab_browser.py.
The sigmoid view's table is the server's, read here."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.lab.presets import PRESETS, TEN_LABELS
from tests.explorer_state import explorer_data, given_logits, move, top_label

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "2_Logits_Lab.py")
TEN = [2.1, -1.3, 5.8, 0.9, -3.2, 4.7, 1.0, -0.5, 6.2, -2.1]


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def results(at: AppTest):
    """The sigmoid view's table next to the editor: label, score, (score_t1), rank, top_k, top_p."""
    (table,) = [d.value for d in at.dataframe if {"score", "top_k", "top_p"} <= set(d.value.columns)]
    return table


def lab(at: AppTest) -> dict:
    """What the softmax view's explorer was given: every class's name and logit, the knobs, its layout."""
    return explorer_data(at, "lab_explorer")


def logits(at: AppTest) -> list[float]:
    return given_logits(lab(at)).tolist()


def labels(at: AppTest) -> list[str]:
    return list(lab(at)["labels"])


def softmax(values, temperature=1.0) -> list[float]:
    return torch.softmax(torch.tensor(values, dtype=torch.float64) / temperature, dim=0).tolist()


def edit(at: AppTest, **state) -> AppTest:
    """Apply data-editor edits the way the browser sends them, then rerun."""
    key = f"lab_editor_{at.session_state['lab_editor_version']}_en"
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []} | state
    return at.run()


def open_tab(at: AppTest, name: str) -> AppTest:
    at.session_state["lab_tab_en"] = next(label for label in _tab_labels(at) if label.endswith(name))
    return at.run()


def _tab_labels(at: AppTest) -> list[str]:
    return [tab.label for tab in at.tabs]


def messages(at: AppTest) -> str:
    """Every message as the person reads it (the Markdown escapes of names and pasted text undone)."""
    return re.sub(r"\\(.)", r"\1", " | ".join(e.value for e in [*at.error, *at.warning, *at.info, *at.success]))


def test_default_page_shows_the_first_example(at):
    data = lab(at)
    assert labels(at) == ["news", "entertainment", "technology"]
    assert data["dtype"] == "float64" and logits(at) == [2.0, 1.0, 0.1]  # exactly the table's numbers
    assert (data["temperature"], data["k"], data["top_p"], data["k_max"]) == (1.0, 3, 0.9, 3)
    assert data["rows"] == "all" and data["shown"] == 3 and data["chart_n"] == 3
    assert data["columns"] == ["label", "probability", "reference", "rank", "top_k", "top_p"]
    assert data["probability_format"] == "decimal"  # 0.6590, as tutorials print softmax
    assert [d.key for d in at.dataframe] == ["lab_editor_1_en"] and not at.select_slider  # the rest: the explorer
    assert at.query_params["logits"] == "2,1,0.1"
    assert at.query_params["labels"] == ["news", "entertainment", "technology"]


def test_choose_a_preset_then_edit_a_cell(at):
    at.selectbox(key="lab_preset").select("ten").run()
    assert not at.exception
    assert at.selectbox(key="lab_preset").value is None  # ready to load again
    assert labels(at)[8] == "白领女性"
    assert logits(at) == TEN
    # edit 白领女性 from 6.2 to 0.0, as the browser's data editor reports it
    edit(at, edited_rows={8: {"logit": 0.0}})
    assert not at.exception
    edited = [*TEN[:8], 0.0, TEN[9]]
    assert logits(at) == edited
    assert top_label(lab(at)) == "笔记本电脑"
    assert at.query_params["logits"].split(",")[8] == "0"
    # a new row and a deleted row
    edit(at, edited_rows={8: {"logit": 0.0}}, added_rows=[{"label": "门", "logit": 9.0}], deleted_rows=[0])
    assert labels(at) == [*TEN_LABELS[1:8], "白领女性", "楼梯", "门"]
    assert logits(at) == [*edited[1:], 9.0]


def test_temperature_k_top_p_and_mode(at):
    before = lab(at)
    move(at, "lab_explorer", temperature=2.0, k=1, top_p=0.5)  # where the user left the explorer
    assert not at.exception
    assert lab(at) == before  # nothing new for the browser: it keeps its settings, the logits are not resent
    # the share link, the export and the open tab follow the knobs the user left
    assert (at.query_params["T"], at.query_params["k"], at.query_params["top_p"]) == ("2", "1", "0.5")
    ratio = " ".join(m.value for m in at.markdown)
    assert "exp(1 / 2) = **1.649**" in ratio  # the Temperature tab: p(news) / p(entertainment) at T = 2
    # the sigmoid view: the server's sliders take the same knobs, its table is the server's
    at.segmented_control(key="lab_mode").set_value("sigmoid").run()
    assert at.select_slider(key="lab_T").value == 2.0 and at.number_input(key="lab_k").value == 1
    assert at.slider(key="lab_top_p").value == pytest.approx(0.5)
    frame = results(at)
    sig = torch.sigmoid(torch.tensor([2.0, 1.0, 0.1], dtype=torch.float64) / 2.0).tolist()
    assert frame["score"].tolist() == pytest.approx(sig)
    assert frame["top_k"].tolist() == [True, False, False] and frame["top_p"].tolist() == [True, False, False]
    assert "need not be 100%" in " ".join(c.value for c in at.caption)
    assert at.query_params["mode"] == "sigmoid"
    at.select_slider(key="lab_T").set_value(0.5).run()
    at.segmented_control(key="lab_mode").set_value("softmax").run()  # back: the explorer mounts at T = 0.5
    assert (lab(at)["temperature"], lab(at)["k"], lab(at)["top_p"]) == (0.5, 1, 0.5)


def test_a_shared_link_restores_the_state():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update(
        logits="2.1,-1.3,5.8", labels=["猫", "a, b & c=d", "笔记本电脑"], T="0.73", k="2", top_p="0.8", mode="sigmoid"
    )
    app.run()
    assert not app.exception and not app.warning
    assert app.select_slider(key="lab_T").value == 0.73  # a T between the slider's stops, restored exactly
    assert app.number_input(key="lab_k").value == 2
    assert app.slider(key="lab_top_p").value == pytest.approx(0.8)
    assert app.segmented_control(key="lab_mode").value == "sigmoid"
    frame = results(app)
    assert frame["label"].tolist() == ["猫", "a, b & c=d", "笔记本电脑"]
    expected = torch.sigmoid(torch.tensor([2.1, -1.3, 5.8], dtype=torch.float64) / 0.73).tolist()
    assert frame["score"].tolist() == pytest.approx(expected)
    # the page writes the same state back: opening its link again gives the same page
    assert app.query_params["logits"] == "2.1,-1.3,5.8" and app.query_params["T"] == "0.73"


def test_a_shared_link_restores_the_explorer():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update(logits="2.1,-1.3,5.8", labels=["猫", "狗", "笔记本电脑"], T="0.73", k="2", top_p="0.8")
    app.run()
    assert not app.exception and not app.warning
    data = lab(app)
    assert (data["temperature"], data["k"], data["top_p"]) == (0.73, 2, 0.8)  # T between two steps: exactly
    assert logits(app) == [2.1, -1.3, 5.8]  # (the browser adds T = 0.73 to its slider, as a typed T)
    assert labels(app) == ["猫", "狗", "笔记本电脑"]


def test_a_broken_link_gets_messages_and_defaults():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update(logits="1,abc", T="hot", k="-2", top_p="7", mode="relu")
    app.run()
    assert not app.exception
    text = messages(app)
    for fragment in ("'abc', is not a number", "T = 'hot'", "k = '-2'", "top_p = '7'", "mode = 'relu'"):
        assert fragment in text
    assert labels(app) == ["news", "entertainment", "technology"]  # the default example
    assert lab(app)["temperature"] == 1.0


def test_claims_checker_right_and_wrong(at):
    open_tab(at, "Claims checker")
    at.text_area(key="lab_claims").set_value("0.659, 0.242, 0.099").run()
    assert not at.exception
    assert [s.value for s in at.success] == ["All 3 claimed probabilities match softmax of these logits."]
    (claims,) = [d for d in at.dataframe if "claimed" in d.value.columns]
    assert claims.value["ok"].tolist() == [True, True, True]
    # wrong: sums to 1 but the values are swapped
    at.text_area(key="lab_claims").set_value("24.2% 65.9% 9.9%").run()
    assert "2 of 3 values do not match" in at.error[0].value
    assert "could** come from one softmax" in " ".join(m.value for m in at.markdown)
    # impossible: sigmoid-like scores that sum above 100%
    at.text_area(key="lab_claims").set_value("0.88 0.73 0.52").run()
    assert "sum to 213.0%" in at.error[0].value
    assert "cannot** come from one softmax" in " ".join(m.value for m in at.markdown)
    # wrong count
    at.text_area(key="lab_claims").set_value("0.5 0.5").run()
    assert "2 claimed values for 3 classes" in at.error[0].value


def test_claims_fill_button_gives_the_true_values(at):
    open_tab(at, "Claims checker")
    at.button[[b.label for b in at.button].index("Fill in the true values")].click().run()
    assert at.text_area(key="lab_claims").value == "0.6590, 0.2424, 0.0986"
    assert at.success


def test_bad_cells_keep_the_last_valid_table(at):
    edit(at, edited_rows={1: {"logit": None}})  # text typed in a number cell arrives as an empty cell
    assert not at.exception
    assert "Row 2 (entertainment) has no logit" in at.error[0].value
    assert "last valid table" in at.error[0].value
    assert logits(at) == [2.0, 1.0, 0.1]
    edit(at, deleted_rows=[0, 1])
    assert "at least 2 classes" in at.error[0].value
    assert len(labels(at)) == 3
    edit(at, deleted_rows=[0, 1, 2])
    assert "The table is empty" in at.error[0].value
    assert not at.exception


def test_pasting_too_many_rows_is_refused(at):
    at.text_area(key="lab_paste").set_value("\n".join(str(i % 5) for i in range(100_000)))
    at.button[[b.label for b in at.button].index("Use these numbers")].click().run()
    assert not at.exception
    assert "100,000 values" in at.error[0].value and "10,000" in at.error[0].value
    assert len(labels(at)) == 3  # unchanged
    at.text_area(key="lab_paste").set_value("cat 3\ndog 1\nbird −2").run()
    at.button[[b.label for b in at.button].index("Use these numbers")].click().run()
    assert labels(at) == ["cat", "dog", "bird"] and logits(at) == [3.0, 1.0, -2.0]
    assert "Loaded 3 classes." in messages(at)


def _npy(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("evil.npy", _npy(np.array([{"a": 1}], dtype=object), allow_pickle=True), "pickles are never loaded"),
        ("broken.json", b'{"logits": [1, 2', "not valid JSON"),
        ("ragged.csv", b"a,1\nb,2,3\n", "row 2: 3 cells"),
        ("one.csv", b"5\n", "at least 2 classes"),
        ("nan.json", b"[1, NaN]", "NaN"),
    ],
)
def test_bad_uploads_get_a_message(at, name, content, fragment):
    at.file_uploader(key="lab_upload").upload(name, content).run()
    assert not at.exception
    assert fragment in at.error[0].value and "The table was not changed" in at.error[0].value
    assert labels(at) == ["news", "entertainment", "technology"]


def test_good_upload_replaces_the_table(at):
    at.file_uploader(key="lab_upload").upload("z.npy", _npy(np.array([0.5, 3.0, -1.0], dtype=np.float32))).run()
    assert not at.exception
    assert logits(at) == [0.5, 3.0, -1.0]  # float32 values, exactly


def test_from_the_image_inspector():
    generator = torch.Generator().manual_seed(0)
    logits = (torch.randn(1000, generator=generator) * 3).tolist()
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.session_state["lab_from_inspector"] = {
        "labels": [f"class name {i}" for i in range(1000)],
        "logits": logits,
        "source": "cat.jpg",
    }
    app.run()
    assert not app.exception
    data = lab(app)
    # every class goes to the browser (softmax over all 1000 there, exactly): the top ten as rows, in rank order,
    # the other 990 as one row
    assert data["n"] == 1000 and data["shown"] == 10 and data["rest_label"] == "all other classes (990)"
    order = torch.argsort(torch.tensor(logits), descending=True, stable=True).tolist()
    z = torch.tensor(logits, dtype=torch.float32).double()
    assert given_logits(data).tolist() == z[order].tolist()
    assert data["labels"][:10] == [f"class name {i}" for i in order[:10]]
    assert r"Source: cat\.jpg" in " ".join(c.value for c in app.caption)  # markdown-escaped
    # every section works with the tail
    for name in ("Temperature", "Top-k & top-p", "Step by step", "Sigmoid vs softmax", "Claims checker"):
        open_tab(app, name)
        assert not app.exception, name


def test_inspector_preset_with_nothing_handed_over(at):
    at.selectbox(key="lab_preset").select("inspector").run()
    assert not at.exception
    assert "Nothing was handed over from the Image Inspector" in at.warning[0].value
    assert len(labels(at)) == 3


@pytest.mark.parametrize("preset", PRESETS[:-1])
def test_every_tab_renders_for_every_example(at, preset):
    at.selectbox(key="lab_preset").select(preset).run()
    for name in ("Temperature", "Top-k & top-p", "Step by step", "dim", "Sigmoid vs softmax", "Inverse"):
        open_tab(at, name)
        assert not at.exception, (preset, name)
        assert not at.error, (preset, name, at.error[0].value if at.error else "")


def test_overflow_example_shows_nan_in_the_naive_column_only(at):
    at.selectbox(key="lab_preset").select("overflow").run()
    open_tab(at, "Step by step")
    (table,) = [d for d in at.dataframe if "naive32" in d.value.columns]
    assert table.value["naive32"].tolist() == ["NaN"] * 3
    assert table.value["stable32"].tolist() == ["0.0900306", "0.244728", "0.665241"]
    assert "overflows here even in float32" in at.warning[0].value


def test_dim_tab_and_a_bad_matrix_cell(at):
    open_tab(at, "dim")
    key = "lab_matrix_0"
    at.session_state[key] = {"edited_rows": {0: {"1": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert "Matrix row 1, column 2 is not a number" in at.error[0].value
    # more classes: the matrix grows, new cells 0, the last valid values kept
    at.number_input(key="lab_matrix_cols").set_value(6).run()
    assert not at.exception and not at.error
    (matrix,) = [d.value for d in at.data_editor if d.key and d.key.startswith("lab_matrix_")]
    assert matrix.to_numpy().tolist() == [[1, 2, 3, 4, 0, 0], [5, 6, 7, 8, 0, 0]]


def test_inverse_loads_logits_into_the_table(at):
    open_tab(at, "Inverse")
    at.text_area(key="lab_inverse").set_value("70%, 20%, 10%").run()
    assert not at.exception
    at.button[[b.label for b in at.button].index("Use these logits in the table")].click().run()
    assert softmax(logits(at)) == pytest.approx([0.7, 0.2, 0.1])
    assert labels(at) == ["news", "entertainment", "technology"]  # names kept: same count


def test_chinese_ui():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.session_state["lang"] = "zh"
    app.run()
    assert not app.exception
    assert "Logits 实验室" in app.title[0].value
    assert labels(app) == ["新闻", "娱乐", "科技"] and lab(app)["strings"]["col_p"] == "概率（T = {temperature:g}）"
