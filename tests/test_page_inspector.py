"""AppTest of the Image Inspector page: uploads, the cached logits, bad input, tabs, the Logits Lab handoff.

The softmax view's table and chart are the client-side explorer's: these tests read what the page gave it
(`tests.explorer_state.explorer_data`) and send its moves the way the browser does (`move`); the key presses
themselves are in tests/browser/test_inspector_browser.py."""

from __future__ import annotations

import io
import re

import pytest
import streamlit as st
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

import core.inference
import ui.cache
from tests.conftest import ROOT
from tests.explorer_state import explorer_data, given_logits, move, top_label

APP = str(ROOT / "app.py")
PAGE = "pages/1_Image_Inspector.py"
CATS = {"tabby", "tiger cat", "Egyptian cat"}


@pytest.fixture
def forward_calls(monkeypatch) -> list[int]:
    """Counts every forward pass of any model (core.inference.forward is what predict calls)."""
    calls: list[int] = []
    real = core.inference.forward

    def counting(model, batch):
        calls.append(int(batch.shape[0]))
        return real(model, batch)

    monkeypatch.setattr(core.inference, "forward", counting)
    st.cache_data.clear()  # so the first run really computes, and the count means something
    for cache in (ui.cache.analysed, ui.cache.analysed_with, ui.cache.variant_logits, ui.cache.gradcam):
        cache.clear()  # the one image path's caches (st.cache_resource: no copy per read)
    return calls


def _page(**state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at.switch_page(PAGE).run()


EXPLORER = "inspector_explorer"


def _explorer(at: AppTest) -> dict:
    """What the shown image's explorer was given (its logits, names, and the page's k and T)."""
    return explorer_data(at, EXPLORER)


def _lines(at: AppTest) -> list[str]:
    """The verdict's prediction lines ("1. espresso (95.7%)"), at the page's k and T."""
    (block,) = [c.value for c in at.code if c.value.startswith("1. ")]
    return block.splitlines()


def _upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader(key="inspector_w_uploads").set_value([(name, data, "image/png") for name, data in files])
    return at.run()


def _plain(markdown: str) -> str:
    """Undo the page's Markdown escaping (file names and labels are shown literally)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _texts(at: AppTest) -> str:
    return "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.code), *(t.value for t in at.text)])


def test_opens_on_a_sample_with_its_prediction() -> None:
    at = _page()
    assert not at.exception
    assert at.checkbox(key="inspector_w_sample_coffee").value is True
    data = _explorer(at)
    assert top_label(data) == "espresso" and len(data["labels"]) == 1000 == data["n"]
    assert (data["temperature"], data["k"], data["k_max"], data["rows"]) == (1.0, 5, 20, "top")
    assert not at.dataframe and not at.sidebar.select_slider and not at.sidebar.slider  # T and k: the explorer's
    assert len(_lines(at)) == 5 and "1. espresso (95.7%)" in _texts(at)
    assert "Resize 256 (bilinear) → CenterCrop 224 → scale to [-1, 1]" in _texts(at)
    assert [b.label for b in at.get("download_button")] == [
        "All logits (CSV)",
        "Prediction (JSON)",
        "Download report (HTML)",
    ]


def test_upload_coffee_finds_espresso(sample) -> None:
    at = _page()
    at = _upload(at, ("my_upload.png", sample("coffee").read_bytes()))
    assert not at.exception
    # the upload replaced the sample shown by default: one image, the uploaded one
    assert at.checkbox(key="inspector_w_sample_coffee").value is False
    assert [s.value for s in at.main.subheader] == [r"my\_upload\.png"]
    assert int(given_logits(_explorer(at)).argmax()) == 967


def test_uploads_and_settings_survive_a_visit_to_another_page(sample) -> None:
    at = _page()
    at = _upload(at, ("mine.png", sample("chelsea").read_bytes()))
    move(at, EXPLORER, temperature=2.0, k=4)
    for page in ("pages/2_Logits_Lab.py", PAGE):
        at.query_params.clear()  # as the browser's page menu does (AppTest's switch_page keeps the old query)
        at.switch_page(page).run()
    assert not at.exception
    data = _explorer(at)  # mounted afresh, at the T and k the user left
    assert (data["temperature"], data["k"]) == (2.0, 4) and len(_lines(at)) == 4
    assert [s.value for s in at.main.subheader] == [r"mine\.png"]
    assert any("Still analysing your earlier uploads: mine" in _plain(c.value) for c in at.caption)
    at.button(key="inspector_forget").click().run()
    assert not at.main.subheader  # nothing left to analyse: the page says how to start
    assert any("Upload an image" in i.value for i in at.info)


def test_the_explorers_t_and_k_drive_the_page_but_never_rerun_the_model(forward_calls, lite0, sample) -> None:
    at = _page()
    assert len(forward_calls) == 1  # coffee, once
    first = _explorer(at)
    z = given_logits(first).double()

    move(at, EXPLORER, temperature=2.5, k=12)  # the user leaves the explorer at T = 2.5, top-12
    assert not at.exception
    assert _explorer(at) == first  # nothing new for the browser: no new ask, the logits not sent again
    lines = _lines(at)
    assert len(lines) == 12 and lines[0].startswith("1. espresso")
    p = torch.softmax(z / 2.5, 0)
    top = torch.sort(z, descending=True, stable=True).indices[:12].tolist()
    assert [float(line.rsplit("(", 1)[1].rstrip("%)")) for line in lines] == pytest.approx(
        [float(p[i]) * 100 for i in top], abs=0.05
    )
    assert "Top-12 at T = 2.5" in [_plain(m.value).strip("*") for m in at.markdown]
    assert "Softmax at T = 2.5 sums to 1.000000." in _plain(" ".join(m.value for m in at.markdown))

    # the sigmoid view keeps the page's k and T, on the server's sliders (the explorer computes softmax only)
    at.segmented_control(key="inspector_w_scores").set_value("sigmoid").run()
    assert at.select_slider(key="inspector_w_temperature").value == 2.5 and at.slider(key="inspector_w_k").value == 12
    sig = at.dataframe[-1].value
    assert "score" in sig.columns and "cumulative" not in sig.columns and len(sig) == 12
    assert sig["score"].tolist() == pytest.approx(torch.sigmoid(torch.tensor(sig["logit"].tolist()) / 2.5).tolist())
    assert sum(i.value.startswith("Sigmoid view") for i in at.info) == 1
    assert not at.get("bidi_component")
    at.select_slider(key="inspector_w_temperature").set_value(0.5).run()
    # back to softmax: the explorer mounts at the T the sigmoid view left
    at.segmented_control(key="inspector_w_scores").set_value("softmax").run()
    data = _explorer(at)
    assert (data["temperature"], data["k"]) == (0.5, 12)
    assert len(forward_calls) == 1, "moving k, T or softmax/sigmoid ran the model again"


def test_a_camera_photo_is_analysed(sample) -> None:
    at = _page()
    assert not at.camera_input  # no camera widget (and no permission prompt) until asked for
    at.toggle(key="inspector_camera_on").set_value(True).run()
    jpeg = io.BytesIO()
    Image.open(sample("chelsea")).convert("RGB").save(jpeg, "JPEG", quality=92)
    at.camera_input(key="inspector_w_camera").set_value(("photo.jpg", jpeg.getvalue(), "image/jpeg")).run()
    assert not at.exception
    assert [s.value for s in at.main.subheader] == [r"camera\.jpg"]  # the photo replaced the default sample
    assert top_label(_explorer(at)) in CATS


def test_bad_files_get_a_message_and_the_good_ones_still_work(sample) -> None:
    at = _page()
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    coffee = sample("coffee").read_bytes()
    at = _upload(
        at,
        ("broken.png", b"this is not an image at all"),
        ("coffee.png", coffee),
        ("half.png", coffee[: len(coffee) // 2]),
        ("dot.png", buffer.getvalue()),
        ("**<img src=x onerror=alert(1)>**.png", b"GIF89a broken"),
    )
    assert not at.exception
    errors = [_plain(e.value) for e in at.error]
    assert len(errors) == 3
    assert errors[0].startswith("broken.png: not a recognised image")
    assert errors[1].startswith("half.png: the file is truncated")
    # a file name full of Markdown and HTML is escaped, so it shows literally instead of as bold or a tag
    assert errors[2].startswith("**<img src=x onerror=alert(1)>**.png: ")
    assert at.error[2].value.startswith(r"\*\*\<img src\=x onerror\=alert\(1\)\>\*\*\.png\:")
    summary = at.dataframe[0].value
    assert summary["file"].tolist()[:4] == ["broken.png", "coffee.png", "half.png", "dot.png"]
    assert summary["top1"].tolist()[1] == "espresso"
    assert summary["top1"].tolist()[3] != ""  # a 1 x 1 image is predicted (with notes), as in the CLI
    assert top_label(_explorer(at)) == "espresso"  # the good image's details are still there


def test_several_images_summary_and_details(sample) -> None:
    at = _page()
    at.checkbox(key="inspector_w_sample_chelsea").check().run()
    assert not at.exception
    summary = at.dataframe[0].value
    assert summary["file"].tolist() == ["coffee.png", "chelsea.png"]  # in gallery order
    assert summary["top1"].iloc[0] == "espresso" and summary["top1"].iloc[1] in CATS
    assert (summary["status"] == "✓ checks pass").all()
    assert top_label(_explorer(at)) == "espresso"  # details of the first image by default
    # the T the user leaves on one image's explorer is the page's: the summary follows it, and so does the next image
    move(at, EXPLORER, temperature=3.2, k=5)
    coffee = given_logits(_explorer(at)).double()
    summary = at.dataframe[0].value
    assert summary["score"].iloc[0] == pytest.approx(float(torch.softmax(coffee / 3.2, 0).max()), abs=1e-12)
    at.selectbox(key="inspector_detail").select_index(1).run()
    data = _explorer(at)
    assert top_label(data) in CATS and data["ask"] == 0  # the same mount, new logits, the user's T kept
    assert _lines(at)[0].startswith("1. ") and "Top-5 at T = 3.2" in [m.value.strip("*") for m in at.markdown]


def test_labels_in_chinese_both_and_literal_markup() -> None:
    at = _page(label_mode="both")
    assert top_label(_explorer(at)) == "espresso · 浓咖啡"  # one cell, both languages
    at = _page(label_mode="zh", lang="zh")
    data = _explorer(at)
    assert top_label(data) == "浓咖啡" and data["lang"] == "zh" and data["strings"]["col_label"] == "标签"
    assert "1. 浓咖啡 (95.7%)" in _texts(at)
    assert at.title[0].value == "图像检查器"


def test_a_label_file_of_the_wrong_length_is_reported(monkeypatch) -> None:
    at = _page(label_mode="file")
    at.file_uploader(key="_w_label_upload").set_value(("three.txt", b"a\nb\nc\n", "text/plain")).run()
    assert not at.exception
    assert any("3 names but the model has 1000 classes" in _plain(w.value) for w in at.warning)
    assert top_label(_explorer(at)) == "espresso"  # fell back to the model's own labels

    html = "<img src=x onerror=alert(1)>"
    names = "\n".join([html if i == 967 else f"class {i}" for i in range(1000)]).encode()
    at.file_uploader(key="_w_label_upload").set_value(("evil.txt", names, "text/plain")).run()
    assert not at.warning
    assert top_label(_explorer(at)) == html  # the explorer writes it as text, never markup (browser-tested)
    assert f"1. {html} (95.7%)" in [c.value for c in at.code][1]


def test_a_checkpoint_that_does_not_fit_is_a_message() -> None:
    from safetensors.torch import save

    at = _page(model="__checkpoint__", checkpoint_arch="resnet18")
    assert not at.exception
    assert any("Upload your model in the sidebar" in _plain(e.value) for e in at.error)
    data = save({"fc.weight": torch.zeros(10, 7), "fc.bias": torch.zeros(10)})
    at.file_uploader(key="_w_checkpoint_upload").set_value(("mine.safetensors", data, "application/octet-stream"))
    at.run()
    assert not at.exception
    assert any("mine.safetensors does not fit resnet18" in _plain(e.value) for e in at.error)


def test_tabs_preprocessing_class_x_and_compare(forward_calls) -> None:
    at = _page()
    at.session_state["inspector_tab"] = "Preprocessing check"
    at.run()
    assert not at.exception
    assert len(forward_calls) == 2  # coffee, then one batch of the two other normalisations
    assert forward_calls[1] == 2  # the model's own normalisation is coffee's logits, not run again
    assert any(_plain(s.value).startswith("Top-1 stays espresso under all three") for s in at.success)

    at.session_state["inspector_tab"] = "What about class X?"
    at.run()
    assert not at.exception
    picker = at.selectbox(key="inspector_x_efficientnet_lite0_" + _coffee_key(at))
    assert picker.value == 968  # the runner-up, cup
    assert [m.label for m in at.metric][:4] == ["Rank", "Logit", "Probability (T = 1)", "Logit margin to top-1"]
    assert at.metric[0].value == "2 / 1000"
    sentence = "“cup” is ranked 2; “espresso” leads it by 4.239 in logit, so at T = 1 the model finds “espresso” 69.3"
    assert any(t.value.startswith(sentence) for t in at.text)
    assert any("No temperature can change the ranking" in i.value for i in at.info)
    picker.set_value(0).run()
    assert at.metric[0].value.endswith("/ 1000") and at.metric[0].value != "2 / 1000"
    picker.set_value(968).run()

    at.toggle(key="inspector_gradcam").set_value(True).run()
    assert not at.exception
    assert any(t.value == "Top-1: espresso" for t in at.text) and any(t.value == "X: cup" for t in at.text)

    at.session_state["inspector_tab"] = "Compare two models"
    at.run()
    at.selectbox(key="inspector_compare_model").set_value("digits_cnn").run()
    assert not at.exception
    both = at.dataframe[-1].value
    assert list(both.columns) == ["rank", "efficientnet_lite0", "efficientnet_lite0 p", "digits_cnn", "digits_cnn p"]
    assert both["efficientnet_lite0"].iloc[0] == "espresso"

    at.selectbox(key="inspector_compare_model").set_value("resnet18").run()
    assert not at.exception
    assert any("resnet18" in _plain(e.value) and "offline" in _plain(e.value) for e in at.error)


def _coffee_key(at: AppTest) -> str:
    from core.analysis import digest
    from core.samples import sample_path

    return digest(sample_path("coffee").read_bytes())


def test_open_in_logits_lab_hands_over_every_class() -> None:
    at = _page()
    at.button(key="inspector_open_lab").click().run()
    assert not at.exception
    payload = at.session_state["lab_from_inspector"]
    assert set(payload) == {"labels", "logits", "source"}
    assert len(payload["labels"]) == len(payload["logits"]) == 1000
    assert payload["labels"][967] == "espresso"
    assert max(range(1000), key=payload["logits"].__getitem__) == 967
    assert payload["source"] == "coffee.png · efficientnet_lite0"


def test_each_image_is_hashed_and_decoded_once_bad_files_included(sample, monkeypatch) -> None:
    import core.analysis
    import ui.inspector.controls

    hashed: list[int] = []
    decoded: list[str] = []
    real_digest, real_decode = ui.inspector.controls.digest, core.analysis.decode_image
    monkeypatch.setattr(ui.inspector.controls, "digest", lambda data: hashed.append(len(data)) or real_digest(data))
    monkeypatch.setattr(
        core.analysis, "decode_image", lambda data, name: decoded.append(name) or real_decode(data, name)
    )
    for cache in (ui.cache.analysed, ui.cache.analysed_with, ui.cache.variant_logits, ui.cache.gradcam):
        cache.clear()
    at = _page()
    coffee = sample("coffee").read_bytes()
    hashed.clear()
    decoded.clear()
    at = _upload(at, ("broken.png", b"not an image"), ("mine.png", coffee))
    assert not at.exception
    assert sorted(hashed) == sorted([len(b"not an image"), len(coffee)])  # once each, when they arrived
    assert sorted(decoded) == ["broken.png", "mine.png"]
    move(at, EXPLORER, temperature=2.0, k=8)
    at.session_state["inspector_tab"] = "Preprocessing check"
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and _plain(at.error[0].value).startswith("broken.png: not a recognised image")
    assert len(hashed) == 2, "an image was hashed again on a rerun"
    assert sorted(decoded) == ["broken.png", "mine.png"], "an image (the bad one too) was decoded again"


def test_downloads_are_built_only_when_clicked(monkeypatch) -> None:
    import ui.inspector.view

    built: list[str] = []
    real_csv, real_json = ui.inspector.view.export_csv, ui.inspector.view.export_json
    monkeypatch.setattr(ui.inspector.view, "export_csv", lambda *a, **k: built.append("csv") or real_csv(*a, **k))
    monkeypatch.setattr(ui.inspector.view, "export_json", lambda *a, **k: built.append("json") or real_json(*a, **k))
    at = _page()
    move(at, EXPLORER, temperature=2.0, k=5)
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == [
        "All logits (CSV)",
        "Prediction (JSON)",
        "Download report (HTML)",
    ]
    assert built == []  # a rerun never builds the 1,000-class CSV or the JSON
