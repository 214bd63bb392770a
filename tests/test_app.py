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


def test_an_uploaded_checkpoint_is_copied_once_per_upload():
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.selectbox[0].set_value("__checkpoint__").run()
    at.file_uploader(key="_w_checkpoint_upload").set_value(("a.safetensors", b"first", "application/octet-stream"))
    at.run()
    kept = at.session_state["checkpoint_upload"]
    assert (kept.name, kept.data) == ("a.safetensors", b"first") and kept.file_id
    at.sidebar.radio[0].set_value("zh").run()  # any rerun: the same upload, the bytes are not copied again
    assert at.session_state["checkpoint_upload"] is kept
    at.file_uploader(key="_w_checkpoint_upload").set_value(("b.pt", b"second", "application/octet-stream"))
    at.run()
    again = at.session_state["checkpoint_upload"]
    assert (again.name, again.data) == ("b.pt", b"second") and again.file_id != kept.file_id


def test_every_page_opens_through_the_router_with_its_title_in_the_ui_language():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("pages/2_Logits_Lab.py").run()
    assert not at.exception
    assert "Logits 实验室" in at.title[0].value
    at.switch_page("pages/0_Home.py").run()
    assert at.title[0].value == "logitscope"
    assert [link.label for link in at.main.get("page_link")] == ["图像检查器", "Logits 实验室", "数据集评估"]
