"""AppTest of the home page's live demo: the client-side explorer gets a real photo's exact logits and names once;
moving T (as the browser reports it) never runs the model; another photo or language gives it new ones. What the
browser computes from them is checked against torch in tests/browser/test_home_browser.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

import ui.cache
from core.analysis import analyse
from core.labels import builtin_labels
from tests.explorer_state import explorer_data, given_logits, move, top_label

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ESPRESSO, CATS = 967, {281, 282, 285}
KEY = "home_explorer"


@pytest.fixture(scope="module")
def coffee_logits(lite0, sample) -> torch.Tensor:
    result = analyse(lite0, "coffee.png", sample("coffee").read_bytes())
    assert result.logits is not None
    return result.logits


def test_home_gives_the_explorer_the_photos_exact_logits_above_the_links(coffee_logits) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    data = explorer_data(at, KEY)
    # Lite0's logits for the photo, as float32 (the "auto" backend runs ONNX Runtime, verified against torch; the
    # packing itself is exact: tests/test_explorer.py)
    assert data["dtype"] == "float32" and torch.allclose(given_logits(data), coffee_logits, atol=1e-4)
    assert data["labels"] == builtin_labels("imagenet") and top_label(data) == "espresso"
    assert (data["temperature"], data["k"], data["show_k"], data["rows"]) == (1.0, 5, False, "top")
    assert not at.dataframe and not at.get("plotly_chart")  # the table and chart are the explorer's now
    headers = [h.value for h in at.subheader]
    assert headers.index("Try it: move the temperature") < headers.index("Pages")


def test_moving_t_never_runs_the_model_nor_resends_the_logits(analyse_calls) -> None:
    calls = analyse_calls
    st.cache_resource.clear()
    ui.cache.analysed.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    first = explorer_data(at, KEY)
    for temperature in (2.0, 0.5, 5.0):
        move(at, KEY, temperature=temperature, k=5)
        assert not at.exception
        assert explorer_data(at, KEY) == first  # nothing new for the browser: it keeps the T the user left
    assert calls == ["coffee.png"]  # one forward pass for all four views


def test_another_photo_and_chinese_labels() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    move(at, KEY, temperature=2.0, k=5)
    at.segmented_control(key="home_sample").set_value("chelsea").run()
    assert not at.exception
    data = explorer_data(at, KEY)
    assert int(given_logits(data).argmax()) in CATS and data["labels"] == builtin_labels("imagenet")
    assert data["ask"] == 0  # no new ask: the browser keeps T = 2 for the new photo
    at.sidebar.radio[0].set_value("zh").run()
    at.session_state["label_mode"] = "zh"
    at.run()
    data = explorer_data(at, KEY)
    assert data["labels"] == builtin_labels("imagenet", "zh") and data["lang"] == "zh"
    assert data["strings"]["col_label"] == "标签"
    assert "试一试：拖动温度" in [h.value for h in at.subheader]
