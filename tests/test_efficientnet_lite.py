"""EfficientNet-Lite1 and Lite2: offline, the input their weights were trained with, real photos to real classes.

The oracle for the preprocessing is TensorFlow's eval crop written out with PIL (centre square of
size / (size + 32) of the short side, bicubic to size x size); for the classes, the known content of the photos.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from core.cli.main import main as cli_main
from core.images import read_image_file
from core.inference import predict
from core.labels import builtin_labels
from core.models.registry import get_spec, list_models, load_model
from core.preprocess import HALF

ESPRESSO, TABBY, TIGER_CAT, EGYPTIAN_CAT, TRIPOD = 967, 281, 282, 285, 872
LITES = {"efficientnet_lite1": 240, "efficientnet_lite2": 260}


@pytest.fixture(scope="module")
def images(sample) -> dict[str, Image.Image]:
    return {name: read_image_file(sample(name)).image for name in ("coffee", "chelsea", "camera")}


@pytest.fixture(scope="module")
def logits(images: dict[str, Image.Image]) -> dict[str, dict[str, torch.Tensor]]:
    out = {}
    for name in LITES:
        batch = predict(load_model(name, device=torch.device("cpu")), list(images.values()))
        out[name] = dict(zip(images, batch, strict=True))
    return out


@pytest.mark.parametrize("name", LITES)
def test_lite_is_registered_and_available_offline(name: str) -> None:
    assert name in list_models()
    spec = get_spec(name)
    assert spec.source == "embedded" and spec.num_classes == 1000 and spec.label_set == "imagenet"
    assert spec.availability().available, spec.availability().reason


@pytest.mark.parametrize(("name", "size"), LITES.items())
def test_lite_preprocessing_is_tf_eval_crop_to_minus_one_one(name: str, size: int) -> None:
    pre = get_spec(name).preprocessing
    assert (pre.resize, pre.crop) == (size + 32, size)
    assert pre.mean == HALF and pre.std == HALF and pre.interpolation == "bicubic"
    assert pre.describe() == f"Resize {size + 32} (bicubic) → CenterCrop {size} → scale to [-1, 1]"


def _tf_eval_crop(image: Image.Image, size: int) -> np.ndarray:
    # tensorflow/tpu efficientnet preprocessing._decode_and_center_crop, written with PIL
    width, height = image.size
    side = int(size / (size + 32) * min(width, height))
    top, left = ((height - side) + 1) // 2, ((width - side) + 1) // 2
    crop = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(crop, dtype=np.float32) / 127.5 - 1.0


@pytest.mark.parametrize(("name", "size"), LITES.items())
def test_lite_input_matches_tensorflows_eval_crop(name: str, size: int, images: dict[str, Image.Image]) -> None:
    pre = get_spec(name).preprocessing
    for image in images.values():
        x = pre(image)
        assert x.shape == (3, size, size)
        assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
        reference = torch.from_numpy(_tf_eval_crop(image, size)).permute(2, 0, 1)
        ours = float((x - reference).abs().mean())
        # the same window and scale: only sub-pixel rounding and antialiasing differ ...
        assert ours < 0.05
        # ... while a crop without the 32 px padding, or with twice of it, is a different picture
        for resize in (size, size + 64):
            other = replace(pre, resize=resize)(image)
            assert float((other - reference).abs().mean()) > 4 * ours


@pytest.mark.parametrize("name", LITES)
def test_lite_coffee_is_espresso(name: str, logits: dict[str, dict[str, torch.Tensor]]) -> None:
    top = int(logits[name]["coffee"].argmax())
    assert top == ESPRESSO and builtin_labels("imagenet")[top] == "espresso"


@pytest.mark.parametrize("name", LITES)
def test_lite_camera_is_tripod(name: str, logits: dict[str, dict[str, torch.Tensor]]) -> None:
    assert int(logits[name]["camera"].argmax()) == TRIPOD


@pytest.mark.parametrize("name", LITES)
def test_lite_chelsea_is_a_cat(name: str, logits: dict[str, dict[str, torch.Tensor]]) -> None:
    assert int(logits[name]["chelsea"].argmax()) in {TABBY, TIGER_CAT, EGYPTIAN_CAT}


def test_lite_models_differ(logits: dict[str, dict[str, torch.Tensor]]) -> None:
    # two different networks: same answer on the espresso, different confidence
    p1 = torch.softmax(logits["efficientnet_lite1"]["coffee"], -1)[ESPRESSO]
    p2 = torch.softmax(logits["efficientnet_lite2"]["coffee"], -1)[ESPRESSO]
    assert abs(float(p1) - float(p2)) > 0.05


def test_cli_compares_lite1_and_lite2(
    sample, capsys: pytest.CaptureFixture[str], logits: dict[str, dict[str, torch.Tensor]]
) -> None:
    answers = {}
    for name in LITES:
        assert cli_main(["predict", str(sample("coffee")), "--model", name, "--top-k", "3", "--json"]) == 0
        (record,) = json.loads(capsys.readouterr().out)
        assert record["model"] == name
        answers[name] = record["top_k"][0]
    assert {a["label"] for a in answers.values()} == {"espresso"}
    for name, answer in answers.items():
        # the CLI prints the probability torch computes
        expected = float(torch.softmax(logits[name]["coffee"].double(), -1)[ESPRESSO])
        assert answer["probability"] == pytest.approx(expected, abs=1e-4)
    assert answers["efficientnet_lite1"]["probability"] != pytest.approx(answers["efficientnet_lite2"]["probability"])


@pytest.mark.parametrize("name", LITES)
def test_lite_grad_cam_explains_the_conv_head(name: str) -> None:
    from core.attribution import gradcam_layer_name
    from core.models.builtin import build_efficientnet_lite

    module = build_efficientnet_lite(int(name[-1]), pretrained=False)
    assert gradcam_layer_name(name, module) == "_bn1"


def test_inspector_compares_lite0_with_lite2_offline(logits: dict[str, dict[str, torch.Tensor]]) -> None:
    """The demo a stakeholder sees: two real models, the same class, different confidence."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "pages/1_Image_Inspector.py"), default_timeout=120)
    at.session_state["inspector_tab"] = "Compare two models"
    at.run()
    at.selectbox(key="inspector_compare_model").set_value("efficientnet_lite2").run()
    assert not at.exception and not at.error
    both = at.dataframe[-1].value
    assert both["efficientnet_lite0"].iloc[0] == "espresso" and both["efficientnet_lite2"].iloc[0] == "espresso"
    expected = float(torch.softmax(logits["efficientnet_lite2"]["coffee"].double(), -1)[ESPRESSO])
    assert float(both["efficientnet_lite2 p"].iloc[0]) == pytest.approx(expected, abs=1e-4)
    assert abs(float(both["efficientnet_lite0 p"].iloc[0]) - expected) > 0.02  # same class, other confidence
    assert any(t.value == "Both models say: espresso." for t in at.text)
