"""AppTest of a user's own model in the sidebar: an uploaded zip on the Inspector and the Evaluation page against
the library's own pipeline, what was found, no share link; each bad file one message in the sidebar while the
previous model stays; an ONNX file's normalisation; local paths only under the operator's roots."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.images import read_image_file
from core.numerics import softmax
from tests import own_models
from tests.conftest import ROOT
from tests.explorer_state import explorer_data, given_logits, top_label

APP = str(ROOT / "app.py")
INSPECTOR = "pages/1_Image_Inspector.py"
EVALUATION = "pages/3_Dataset_Evaluation.py"
TIMEOUT = 120


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture(scope="module")
def timm_zip(tmp_path_factory) -> tuple[bytes, own_models.Oracle]:
    root = tmp_path_factory.mktemp("page-own")
    oracle = own_models.timm_resnet(root / "tiny-timm", arch="resnet10t")
    return own_models.zip_folder(oracle.path, root / "tiny-timm.zip").read_bytes(), oracle


def _inspector(**state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at.switch_page(INSPECTOR).run()


def _own(at: AppTest, name: str, data: bytes) -> AppTest:
    if at.sidebar.selectbox[0].value != "__checkpoint__":
        at.sidebar.selectbox[0].set_value("__checkpoint__").run()
    at.file_uploader(key="_w_checkpoint_upload").set_value((name, data, "application/octet-stream"))
    return at.run()


def _top1(at: AppTest) -> tuple[str, float]:
    """Rank 1 of the Inspector's table, as its explorer shows it: the label and its probability at the page's T."""
    data = explorer_data(at, "inspector_explorer")
    probs = softmax(given_logits(data).double(), temperature=float(data["temperature"]))
    return top_label(data), float(probs.max())


def test_an_uploaded_zip_in_the_inspector_is_the_librarys_prediction(timm_zip, sample) -> None:
    data, oracle = timm_zip
    at = _own(_inspector(), "tiny-timm.zip", data)
    assert not at.exception
    logits = oracle.logits([read_image_file(sample("coffee")).image])[0]
    probs = softmax(logits.double())
    label, probability = _top1(at)
    assert label == oracle.names[int(logits.argmax())]
    assert probability == pytest.approx(float(probs.max()), abs=1e-6)
    found = [e for e in at.sidebar.expander if e.label.startswith("What was found: tiny-timm")]
    assert found, [e.label for e in at.sidebar.expander]
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Class names from: label\\_names in config.json" in captions or "label_names" in _plain(captions)
    assert any("share link" in _plain(c.value) for c in at.main.caption)  # says why there is no link
    assert not at.query_params  # and the address bar names no model

    at.session_state["inspector_tab"] = "Compare two models"  # beside a built-in model
    at.run()
    at.selectbox(key="inspector_compare_model").set_value("efficientnet_lite0").run()
    assert not at.exception
    both = at.dataframe[-1].value
    own = next(c for c in both.columns if str(c).startswith("timm:tiny-timm:") and not str(c).endswith(" p"))
    assert both[own].iloc[0] == label and both["efficientnet_lite0"].iloc[0] == "espresso"

    at.session_state["inspector_tab"] = "What about class X?"  # Grad-CAM on the convolutional timm model
    at.run()
    at.toggle(key="inspector_gradcam").set_value(True).run()
    assert not at.exception
    assert any(t.value == f"Top-1: {label}" for t in at.text)


BAD_ONNX = ("two-inputs", "not-an-image", "dynamic-size")
BAD = {
    "two-inputs.onnx": "2 inputs",
    "not-an-image.onnx": "not a batch of images",
    "dynamic-size.onnx": "has a dynamic size",
    "no-weights.zip": "but no weights",
    "mismatch.zip": "the weights do not fit resnet10t: size mismatch for fc.weight",
    "unknown.zip": "unknown timm architecture 'no_such_net'",
    "gaps.zip": "no gaps",
    "remote-code.zip": "trust_remote_code is never set",
    "evil.bin": "could run code",
}


@pytest.fixture(scope="module")
def bad_files(timm_zip, tmp_path_factory) -> dict[str, bytes]:
    _, oracle = timm_zip
    root = tmp_path_factory.mktemp("bad")
    files = {f"{kind}.onnx": own_models.onnx_graph(own_models.BAD_ONNX_INPUTS[kind]) for kind in BAD_ONNX}

    def zipped(name: str, edit) -> bytes:
        folder = Path(shutil.copytree(oracle.path, root / name))
        edit(folder)
        return own_models.zip_folder(folder, root / f"{name}.zip").read_bytes()

    def config_edit(**changes):
        def edit(folder: Path) -> None:
            config = json.loads((folder / "config.json").read_text())
            config.update(changes)
            if "model_args" in changes:  # a head of 8 classes: the 7 names would not fit it
                config.pop("label_names")
            (folder / "config.json").write_text(json.dumps(config))

        return edit

    files["no-weights.zip"] = zipped("no-weights", lambda f: (f / "model.safetensors").unlink())
    files["mismatch.zip"] = zipped("mismatch", config_edit(model_args={"num_classes": 8}))
    files["unknown.zip"] = zipped("unknown", config_edit(architecture="no_such_net"))
    files["remote-code.zip"] = zipped("remote", config_edit(auto_map={"AutoModel": "x.Y"}))
    vit = own_models.transformers_vit(root / "vit")
    config = json.loads((vit.path / "config.json").read_text())
    config["id2label"] = {"0": "a", "2": "c", "3": "d"}
    (vit.path / "config.json").write_text(json.dumps(config))
    files["gaps.zip"] = own_models.zip_folder(vit.path, root / "gaps.zip").read_bytes()

    class Payload:
        def __reduce__(self):
            return (os.system, ("true",))

    buffer = io.BytesIO()
    torch.save({"fc.weight": Payload()}, buffer)
    files["evil.bin"] = buffer.getvalue()
    return files


def test_each_bad_file_is_one_sidebar_message_and_the_previous_model_stays(bad_files) -> None:
    at = _inspector()  # the default model loads first: it is the previous model
    assert _top1(at)[0] == "espresso"
    for name, expected in BAD.items():
        at = _own(at, name, bad_files[name])
        assert not at.exception, name
        errors = [_plain(e.value) for e in at.sidebar.error]
        assert len(errors) == 1, (name, errors)
        assert expected in errors[0] and "The previous model (efficientnet_lite0) stays" in errors[0], errors[0]
        assert not at.main.error, (name, [e.value for e in at.main.error])
        assert _top1(at)[0] == "espresso", name  # the previous model's prediction, still shown


def test_an_onnx_file_asks_for_its_normalisation_and_says_so(tmp_path) -> None:
    path = own_models.onnx_file(tmp_path / "r.onnx", own_models.torchvision_resnet(classes=3), size=64)
    at = _own(_inspector(), "r.onnx", path.read_bytes())
    assert not at.exception
    picker = at.sidebar.selectbox(key="_w_own_normalize")
    assert picker.value == "imagenet"
    assert any("carries no preprocessing" in _plain(i.value) for i in at.sidebar.info)
    assert any("no torch model to check it against" in _plain(c.value) for c in at.sidebar.caption)
    picker.set_value("minus-one-one").run()
    assert not at.exception
    assert any("scale to [-1, 1]" in _plain(i.value) for i in at.sidebar.info)
    assert _top1(at)[0].startswith("class ")  # no names in the file: index numbers
    at.session_state["inspector_tab"] = "Preprocessing check"
    at.run()
    assert not at.exception
    assert any("carries no normalisation" in _plain(i.value) for i in at.main.info)  # its "own" is the preset


def test_local_paths_only_where_the_operator_allows(timm_zip, tmp_path, monkeypatch) -> None:
    _, oracle = timm_zip
    at = _inspector(model="__checkpoint__")
    assert not [t for t in at.sidebar.text_input if t.key == "_w_own_model_path"]  # off by default
    monkeypatch.setenv("LOGITSCOPE_MODEL_ROOTS", str(oracle.path.parent))
    at = _inspector(model="__checkpoint__")
    box = at.sidebar.text_input(key="_w_own_model_path")
    box.set_value(str(tmp_path)).run()
    assert any("outside the folders this server allows" in _plain(e.value) for e in at.error)
    box.set_value(str(oracle.path)).run()
    assert not at.exception and not at.error
    assert _top1(at)[0] in oracle.names


def test_the_evaluation_page_runs_on_an_uploaded_zip(timm_zip, sample) -> None:
    data, oracle = timm_zip
    photos = {"espresso": "coffee", "tabby": "chelsea", "tripod": "camera"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder, photo in photos.items():
            archive.writestr(f"{folder}/{photo}.png", sample(photo).read_bytes())
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at = _own(at.switch_page(EVALUATION).run(), "tiny-timm.zip", data)
    at.segmented_control(key="eval_source").set_value("zip").run()
    at.file_uploader(key="eval_zip").upload("set.zip", buffer.getvalue(), "application/zip").run()
    assert not at.exception
    next(b for b in at.button if b.label.startswith("Evaluate 3 images")).click().run()
    assert not at.exception
    result = at.session_state["eval_result"]["result"]
    images = [read_image_file(sample(photos[Path(f).parent.name])).image for f in result.files]
    torch.testing.assert_close(result.logits, oracle.logits(images), rtol=0, atol=1e-5)
    top1 = float((oracle.logits(images).argmax(1) == result.targets).double().mean())
    assert at.metric[0].label == "Top-1 accuracy" and at.metric[0].value == f"{top1:.2%}"
