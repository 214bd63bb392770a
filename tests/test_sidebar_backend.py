"""The sidebar's backend choice: it shows what runs the model and its verified deviation from torch (AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
DEVIATION = re.compile(r"onnxruntime · max \|Δlogit\| (\S+) vs torch")


def _backend_radio(at: AppTest):
    return next(r for r in at.sidebar.radio if r.label == "Backend")


def _captions(at: AppTest) -> list[str]:
    """The sidebar's captions as shown (their source escapes Markdown: "\\|", "\\(")."""
    return [c.value.replace("\\", "") for c in at.sidebar.caption]


@pytest.mark.parametrize("page", ["pages/1_Image_Inspector.py", "pages/3_Dataset_Evaluation.py"])
def test_sidebar_shows_the_backend_and_its_deviation(page: str) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=300)  # the first run exports Lite0
    at.run()
    assert not at.exception
    radio = _backend_radio(at)
    assert radio.value == "auto" and list(radio.options) == ["auto", "torch", "onnxruntime"]
    found = [DEVIATION.search(c) for c in _captions(at)]
    deltas = [float(m.group(1)) for m in found if m]
    assert len(deltas) == 1 and 0 <= deltas[0] <= 1e-3  # verified: well under 1e-4 of Lite0's logit scale
    radio.set_value("torch").run()
    assert not at.exception
    assert "torch (eager)" in _captions(at)
    assert not any(DEVIATION.search(c) for c in _captions(at))
    assert at.session_state["backend"] == "torch"  # kept across pages like the other choices


def test_the_backends_share_one_torch_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.backends.choose import backend_info
    from ui.cache import get_model

    monkeypatch.setenv("LOGITSCOPE_WARM_START", "0")
    on_torch, on_ort = get_model("digits_cnn", "torch"), get_model("digits_cnn", "onnxruntime")
    assert backend_info(on_torch).name == "torch" and backend_info(on_ort).name == "onnxruntime"
    assert on_torch.module is on_ort.module  # switching the backend never builds the model twice
    assert get_model("digits_cnn", "onnxruntime") is on_ort


def test_the_compare_tab_runs_the_second_model_on_the_sidebars_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.inspector.tabs
    from core.backends.choose import backend_info
    from ui.cache import get_model

    built: list[tuple[str, str]] = []

    def recorded(name: str, backend: str = "auto"):
        model = get_model(name, backend)
        built.append((name, backend_info(model).name))
        return model

    monkeypatch.setattr(ui.inspector.tabs, "get_model", recorded)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/1_Image_Inspector.py").run()
    for choice in ("torch", "onnxruntime"):
        _backend_radio(at).set_value(choice).run()
        at.session_state["inspector_tab"] = "Compare two models"
        at.run()
        at.selectbox(key="inspector_compare_model").set_value("digits_cnn").run()
        assert not at.exception
        assert built[-1] == ("digits_cnn", choice)
        assert at.dataframe[-1].value["efficientnet_lite0"].iloc[0] == "espresso"
