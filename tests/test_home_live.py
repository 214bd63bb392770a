"""AppTest of the home page's live demo: a real photo's top-5 at the slider's T, torch's numbers, the model run
once whatever the slider does."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

import ui.cache
from core.analysis import analyse
from core.labels import builtin_labels

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ESPRESSO, CATS = 967, {281, 282, 285}


@pytest.fixture(scope="module")
def coffee_logits(lite0, sample) -> torch.Tensor:
    result = analyse(lite0, "coffee.png", sample("coffee").read_bytes())
    assert result.logits is not None
    return result.logits.double()


def _table(at: AppTest):
    (frame,) = at.dataframe  # the home page's one table: the demo's top-5
    return frame.value


def test_home_shows_the_live_top5_above_the_links(coffee_logits) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    table = _table(at)
    assert table["label"].tolist()[0] == "espresso" and len(table) == 5
    expected = torch.softmax(coffee_logits, -1)
    top = torch.topk(coffee_logits, 5).indices.tolist()
    assert table["probability"].tolist() == pytest.approx([float(expected[i]) for i in top], abs=1e-6)
    assert len(at.get("plotly_chart")) == 1
    # the demo comes before the page links
    headers = [h.value for h in at.subheader]
    assert headers.index("Try it: move the temperature") < headers.index("Pages")


def test_moving_t_changes_the_probabilities_but_never_runs_the_model(coffee_logits, analyse_calls) -> None:
    calls = analyse_calls
    st.cache_resource.clear()
    ui.cache.analysed.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    top = torch.topk(coffee_logits, 5).indices.tolist()
    for temperature in (2.0, 0.5, 5.0):
        at.select_slider(key="home_temperature").set_value(temperature).run()
        assert not at.exception
        expected = torch.softmax(coffee_logits / temperature, -1)
        table = _table(at)
        assert table["label"].tolist()[0] == "espresso"  # the ranking never changes with T
        assert table["probability"].tolist() == pytest.approx([float(expected[i]) for i in top], abs=1e-6)
    assert calls == ["coffee.png"]  # one forward pass for all four views


def test_another_photo_and_chinese_labels() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.segmented_control(key="home_sample").set_value("chelsea").run()
    assert not at.exception
    english = builtin_labels("imagenet")
    assert english.index(_table(at)["label"].tolist()[0]) in CATS
    at.sidebar.radio[0].set_value("zh").run()
    at.session_state["label_mode"] = "zh"
    at.run()
    chinese = builtin_labels("imagenet", "zh")
    assert chinese.index(_table(at)["label"].tolist()[0]) in CATS
    assert "试一试：拖动温度" in [h.value for h in at.subheader]
