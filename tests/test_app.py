"""AppTest smoke test of the home page: it renders, links every page, and switches language."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_home_page_renders_in_english_and_chinese():
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "logitscope"
    text = " ".join(m.value for m in at.markdown)
    assert "Softmax never changes the ranking" in text
    assert at.sidebar.selectbox[0].value == "efficientnet_lite0"

    at.sidebar.radio[0].set_value("zh").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "softmax 从不改变排序" in text
    assert at.sidebar.selectbox[0].label == "模型"


def test_sidebar_checkpoint_choice_shows_the_upload():
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.selectbox[0].set_value("__checkpoint__").run()
    assert not at.exception
    assert [s.label for s in at.sidebar.selectbox] == ["Model", "Architecture"]
