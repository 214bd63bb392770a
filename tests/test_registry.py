"""core.models, core.preprocess and core.inference: names, preprocessing specs, offline behaviour, the real model."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from core.errors import InputError, ModelUnavailableError
from core.images import read_image_file
from core.inference import predict
from core.labels import builtin_labels
from core.models import torchvision_hub
from core.models.registry import get_spec, list_models, load_model
from core.models.spec import default_device
from core.models.torchvision_hub import OFFLINE_ENV
from core.preprocess import HALF, IMAGENET_MEAN, IMAGENET_STD, normalisation_variants

ESPRESSO, TABBY, TIGER_CAT, EGYPTIAN_CAT, TRIPOD = 967, 281, 282, 285, 872
TORCHVISION_SAMPLE = ["resnet50", "vit_b_16", "efficientnet_b0", "inception_v3", "convnext_tiny", "mobilenet_v3_large"]


@pytest.fixture(scope="module")
def images(sample) -> dict[str, Image.Image]:
    return {name: read_image_file(sample(name)).image for name in ("coffee", "chelsea", "camera")}


@pytest.fixture(scope="module")
def logits(lite0, images: dict[str, Image.Image]) -> dict[str, torch.Tensor]:
    batch = predict(lite0, list(images.values()))
    return dict(zip(images, batch, strict=True))


# ---------------------------------------------------------------- names
def test_list_models_has_the_builtin_and_torchvision_models() -> None:
    names = list_models()
    assert names[:2] == ["efficientnet_lite0", "digits_cnn"]
    for name in ["resnet50", "vit_b_16", "resnet18", "mobilenet_v2"]:
        assert name in names
    assert set(torchvision.models.list_models(module=torchvision.models)) <= set(names)
    assert len(names) == len(set(names))
    # classification only: no detection, segmentation, video or optical-flow models
    assert not {"fasterrcnn_resnet50_fpn", "deeplabv3_resnet50", "r3d_18", "raft_large"} & set(names)


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("resnet5", "resnet50"), ("vit_b16", "vit_b_16"), ("efficientnet_lite", "efficientnet_lite0")],
)
def test_unknown_name_suggests_a_close_match(typo: str, suggestion: str) -> None:
    with pytest.raises(InputError) as caught:
        get_spec(typo)
    message = str(caught.value)
    assert repr(typo) in message and "Did you mean" in message and suggestion in message


def test_unknown_name_without_a_close_match_points_to_the_list() -> None:
    with pytest.raises(InputError, match="python -m core models"):
        get_spec("zzzzqqqq")


def test_default_spec_is_efficientnet_lite0() -> None:
    assert get_spec().name == "efficientnet_lite0"


def test_default_device() -> None:
    device = default_device()
    assert device.type in ("cpu", "cuda")
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")


# ---------------------------------------------------------------- preprocessing specs
def test_efficientnet_lite0_scales_to_minus_one_one() -> None:
    spec = get_spec("efficientnet_lite0")
    pre = spec.preprocessing
    assert spec.source == "embedded" and spec.num_classes == 1000 and spec.label_set == "imagenet"
    assert pre.mean == HALF == (0.5, 0.5, 0.5) and pre.std == HALF
    assert (pre.resize, pre.crop) == (256, 224)
    assert "scale to [-1, 1]" in pre.describe()
    assert pre.describe() == "Resize 256 (bilinear) → CenterCrop 224 → scale to [-1, 1]"
    assert spec.availability().available


def test_lite0_input_really_is_in_minus_one_one(images: dict[str, Image.Image]) -> None:
    x = get_spec("efficientnet_lite0").preprocessing(images["coffee"])
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    assert float(x.min()) < -0.9 and float(x.max()) > 0.9  # the real photo uses the whole range


@pytest.mark.parametrize("name", TORCHVISION_SAMPLE)
def test_torchvision_spec_equals_the_weights_transforms(name: str, images: dict[str, Image.Image]) -> None:
    weights = torchvision.models.get_model_weights(name).DEFAULT
    reference = weights.transforms()
    spec = get_spec(name)
    pre = spec.preprocessing
    assert spec.source == "torchvision"
    assert pre.resize == reference.resize_size[0] and pre.crop == reference.crop_size[0]
    assert list(pre.mean) == list(reference.mean) and list(pre.std) == list(reference.std)
    assert pre.interpolation == reference.interpolation.value
    assert spec.num_classes == len(weights.meta["categories"]) == 1000
    assert spec.categories == tuple(weights.meta["categories"])
    assert spec.label_set == "imagenet"
    # the same tensor as torchvision's own transform on a real photo. torchvision resizes the PIL image with
    # Pillow, we resize the uint8 tensor with torch: a few pixels may differ by one 8-bit level, no more
    ours, theirs = pre(images["chelsea"]), reference(images["chelsea"])
    assert ours.shape == theirs.shape == (3, pre.crop, pre.crop)
    one_level = 1 / 255 / min(pre.std)
    difference = (ours - theirs).abs()
    assert float(difference.max()) <= one_level + 1e-5
    assert float((difference > 1e-5).float().mean()) < 0.01


def test_resnet50_v2_weights_use_resize_232() -> None:
    # the DEFAULT (V2) weights were trained with Resize 232, not the classic 256: read from the weights, not copied
    pre = get_spec("resnet50").preprocessing
    assert (pre.resize, pre.crop, pre.mean, pre.std) == (232, 224, IMAGENET_MEAN, IMAGENET_STD)
    assert pre.describe() == "Resize 232 (bilinear) → CenterCrop 224 → Normalize(ImageNet mean/std)"


def test_digits_spec() -> None:
    spec = get_spec("digits_cnn")
    assert spec.source == "bundled" and spec.num_classes == 10 and spec.label_set == "digits"
    assert spec.preprocessing.grayscale and spec.preprocessing.describe().startswith("Grayscale")


def test_display_image_undoes_normalisation(images: dict[str, Image.Image]) -> None:
    pre = get_spec("efficientnet_lite0").preprocessing
    shown = pre.to_display_image(pre(images["coffee"]))
    unnormalised = pre.with_normalisation((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))(images["coffee"])
    expected = (unnormalised * 255).round().permute(1, 2, 0)
    assert shown.size == (224, 224)
    assert (torch.from_numpy(np.array(shown)).float() - expected).abs().max() <= 1


# ---------------------------------------------------------------- offline
@pytest.fixture
def empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[object, float | None]]]:
    """An empty torch hub cache and a network that records every connection attempt and refuses it."""
    attempts: list[tuple[object, float | None]] = []

    def refuse(address: object, timeout: float | None = None, *args: object, **kwargs: object) -> None:
        attempts.append((address, timeout))
        raise OSError("network unreachable (test)")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torchvision_hub.socket, "create_connection", refuse)
    get_spec.cache_clear()  # specs remember their cache path
    yield attempts
    get_spec.cache_clear()


def resnet18_cache_path(tmp_path: Path) -> tuple[str, Path]:
    weights = torchvision.models.get_model_weights("resnet18").DEFAULT
    return weights.url, tmp_path / "hub" / "checkpoints" / os.path.basename(urlparse(weights.url).path)


def test_torchvision_weights_not_cached_fail_fast_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_hub: list[tuple[object, float | None]]
) -> None:
    monkeypatch.setenv(OFFLINE_ENV, "1")
    url, expected_path = resnet18_cache_path(tmp_path)
    status = get_spec("resnet18").availability()
    assert not status.available and str(expected_path.parent) in status.reason
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as caught:
        load_model("resnet18")
    assert time.perf_counter() - start < 5.0
    message = str(caught.value)
    assert str(expected_path) in message
    assert "offline" in message and url in message
    assert empty_hub == []  # LOGITSCOPE_OFFLINE=1: the network is never tried
    assert not expected_path.exists()


def test_without_offline_flag_the_network_is_tried_once_with_a_short_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_hub: list[tuple[object, float | None]]
) -> None:
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    url, expected_path = resnet18_cache_path(tmp_path)
    with pytest.raises(ModelUnavailableError, match="cannot be downloaded") as caught:
        load_model("resnet18")
    assert str(expected_path) in str(caught.value)
    assert len(empty_hub) == 1
    (host, port), timeout = empty_hub[0]
    assert host == urlparse(url).hostname and port == 443
    assert timeout is not None and timeout <= 5  # a dead network never hangs the app


# ---------------------------------------------------------------- the real model on real photos
def test_coffee_is_espresso(logits: dict[str, torch.Tensor]) -> None:
    probs = torch.softmax(logits["coffee"], dim=-1)
    assert int(probs.argmax()) == ESPRESSO
    assert builtin_labels("imagenet")[int(probs.argmax())] == "espresso"
    assert builtin_labels("imagenet", "zh")[int(probs.argmax())] == "浓咖啡"
    assert float(probs[ESPRESSO]) > 0.9


def test_chelsea_top_3_are_the_cat_classes(logits: dict[str, torch.Tensor]) -> None:
    top3 = torch.topk(logits["chelsea"], 3).indices.tolist()
    assert set(top3) == {TABBY, TIGER_CAT, EGYPTIAN_CAT}
    assert {builtin_labels("imagenet")[i] for i in top3} == {"tabby", "tiger cat", "Egyptian cat"}


def test_camera_is_tripod(logits: dict[str, torch.Tensor]) -> None:
    top = int(logits["camera"].argmax())
    assert top == TRIPOD and builtin_labels("imagenet")[top] == "tripod"


def test_predict_output_shape_and_type(lite0, images: dict[str, Image.Image]) -> None:
    out = predict(lite0, [images["coffee"]])
    assert out.shape == (1, 1000) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert torch.isfinite(out).all()
    assert lite0.spec.name == "efficientnet_lite0" and not lite0.module.training


def test_batch_predict_equals_single_predictions(lite0, images: dict[str, Image.Image]) -> None:
    batch = [images["coffee"], images["chelsea"], images["camera"]]
    together = predict(lite0, batch)
    in_pairs = predict(lite0, batch, batch_size=2)
    singles = torch.cat([predict(lite0, [image]) for image in batch])
    torch.testing.assert_close(together, singles, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(in_pairs, singles, atol=1e-4, rtol=1e-4)
    # preprocessed tensors pass through unchanged
    tensors = [lite0.spec.preprocessing(image) for image in batch]
    torch.testing.assert_close(predict(lite0, tensors), singles, atol=1e-4, rtol=1e-4)


def test_predict_bad_input(lite0, images: dict[str, Image.Image]) -> None:
    with pytest.raises(InputError, match="no images"):
        predict(lite0, [])
    with pytest.raises(InputError, match="batch size"):
        predict(lite0, [images["coffee"]], batch_size=0)


def test_wrong_normalisation_changes_the_logits(lite0, images: dict[str, Image.Image]) -> None:
    variants = normalisation_variants(lite0.spec.preprocessing)
    assert list(variants) == ["model's own", "ImageNet mean/std", "no normalisation"]
    assert variants["model's own"] == lite0.spec.preprocessing
    assert variants["ImageNet mean/std"].mean == IMAGENET_MEAN and variants["ImageNet mean/std"].std == IMAGENET_STD
    inputs = {name: pre(images["coffee"]) for name, pre in variants.items()}
    assert float(inputs["no normalisation"].min()) >= 0 and float(inputs["no normalisation"].max()) <= 1
    assert float(inputs["ImageNet mean/std"].max()) > 1.5  # (1 - 0.406) / 0.225 = 2.64 at most
    out = {name: predict(lite0, [x])[0] for name, x in inputs.items()}
    own = out["model's own"]
    for name in ("ImageNet mean/std", "no normalisation"):
        assert (out[name] - own).abs().max() > 0.5, name
        assert not torch.allclose(torch.softmax(out[name], -1), torch.softmax(own, -1), atol=1e-2)
    assert float(torch.softmax(own, -1)[ESPRESSO]) > 0.9
