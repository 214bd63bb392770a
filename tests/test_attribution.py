"""core.attribution: Grad-CAM maps on the real model, the layer chosen per architecture, the shared model untouched."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from core.attribution import (
    _LAYERS,
    AttributionError,
    grad_cam,
    gradcam_layer_name,
    overlay,
)
from core.images import decode_image
from core.models.registry import get_spec, load_model
from core.models.spec import LoadedModel
from core.models.torchvision_hub import torchvision_model_names

ESPRESSO, CUP = 967, 968


@pytest.fixture(scope="module")
def coffee_input(lite0, sample) -> torch.Tensor:
    return lite0.spec.preprocessing(decode_image(sample("coffee").read_bytes(), "coffee.png").image)


@pytest.fixture(scope="module")
def espresso_map(lite0, coffee_input) -> torch.Tensor:
    return grad_cam(lite0, coffee_input, ESPRESSO)


def _hooks(module: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in module.modules())


def test_grad_cam_is_a_finite_map_of_the_input_size(espresso_map, coffee_input) -> None:
    assert espresso_map.shape == coffee_input.shape[-2:] == (224, 224)
    assert bool(torch.isfinite(espresso_map).all())
    assert float(espresso_map.min()) >= 0.0 and float(espresso_map.max()) == pytest.approx(1.0)
    # it says something: not flat, and most of the evidence is not at the border (the cup is in the middle)
    assert float(espresso_map.std()) > 0.1
    centre = espresso_map[56:168, 56:168].mean()
    assert float(centre) > float(espresso_map.mean())


def test_grad_cam_differs_between_classes(lite0, coffee_input, espresso_map) -> None:
    cup_map = grad_cam(lite0, coffee_input, CUP)
    assert cup_map.shape == espresso_map.shape
    difference = (cup_map - espresso_map).abs().mean()
    assert float(difference) > 0.05
    correlation = np.corrcoef(cup_map.flatten().numpy(), espresso_map.flatten().numpy())[0, 1]
    assert correlation < 0.95


def test_grad_cam_leaves_the_shared_model_untouched(coffee_input) -> None:
    model = load_model("efficientnet_lite0")
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    hooks = _hooks(model.module)
    with torch.inference_mode():  # the app may be inside inference mode; Grad-CAM must still work
        heat = grad_cam(model, coffee_input, ESPRESSO)
    assert bool(torch.isfinite(heat).all())
    assert not model.module.training and not any(m.training for m in model.module.modules())
    assert _hooks(model.module) == hooks
    assert all(p.grad is None for p in model.module.parameters())
    after = model.module.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_grad_cam_refuses_a_class_that_does_not_exist(lite0, coffee_input) -> None:
    with pytest.raises(AttributionError, match="1000 classes"):
        grad_cam(lite0, coffee_input, 1000)
    with pytest.raises(AttributionError, match="one image tensor"):
        grad_cam(lite0, coffee_input[None], ESPRESSO)


def test_grad_cam_on_the_digits_model(sample) -> None:
    from core.digits import digits_images

    model = load_model("digits_cnn")
    images, targets = digits_images("test")
    tensor = model.spec.preprocessing(images[0])
    heat = grad_cam(model, tensor, targets[0])
    assert heat.shape == (8, 8) and bool(torch.isfinite(heat).all())


def test_grad_cam_on_a_torchvision_architecture(coffee_input) -> None:
    module = torchvision.models.get_model("resnet18", weights=None).eval()  # random weights: shapes only
    model = LoadedModel(get_spec("resnet18"), module, torch.device("cpu"))
    heat = grad_cam(model, coffee_input, 3)
    assert heat.shape == (224, 224) and bool(torch.isfinite(heat).all())
    assert _hooks(module) == 0


def test_layer_choice() -> None:
    lite0 = load_model("efficientnet_lite0").module
    assert gradcam_layer_name("efficientnet_lite0", lite0) == "_bn1"
    checkpoint = dataclasses.replace(get_spec("efficientnet_lite0"), name="checkpoint:efficientnet_lite0:0123abcd")
    assert checkpoint.architecture == "efficientnet_lite0"
    assert gradcam_layer_name(checkpoint.architecture, lite0) == "_bn1"
    assert gradcam_layer_name("digits_cnn", load_model("digits_cnn").module) == "features.2"
    # an unknown architecture falls back to its last Conv2d
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 8, 3), torch.nn.Flatten())
    assert gradcam_layer_name("my_net", net) == "2"
    with pytest.raises(AttributionError, match="has none"):
        gradcam_layer_name("mlp", torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2)))
    with pytest.raises(AttributionError, match="vision transformer"):
        gradcam_layer_name("vit_b_16", net)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # GoogLeNet/Inception init notices
def test_every_torchvision_model_has_a_layer_from_the_table() -> None:
    """Built on the meta device (no memory, no weights): the named layer exists in each architecture."""
    checked = 0
    for name in torchvision_model_names():
        if name.startswith(("vit_", "swin")):
            continue
        try:
            with torch.device("meta"):
                module = torchvision.models.get_model(name, weights=None)
        except NotImplementedError:  # RegNet computes its widths from data while building
            if name != "regnet_y_400mf":
                continue
            module = torchvision.models.get_model(name, weights=None)
        layer = gradcam_layer_name(name, module)
        assert any(name.startswith(prefix) and layer == chosen for prefix, chosen in _LAYERS), (name, layer)
        checked += 1
    assert checked > 50


def test_overlay() -> None:
    image = Image.new("RGB", (224, 224), (40, 120, 200))
    heat = torch.zeros(224, 224)
    heat[100:120, 100:120] = 1.0
    out = overlay(image, heat)
    assert out.size == (224, 224) and out.mode == "RGB"
    pixels = np.asarray(out).astype(int)
    # where the map is hot the colour (jet's dark red) dominates; where it is cold the picture shows through
    assert pixels[110, 110, 0] > pixels[0, 0, 0]
    assert np.array_equal(np.asarray(overlay(image, heat, alpha=0.0)), np.asarray(image))
    # a coarse map (the digits model's 8x8) is stretched over a larger picture
    big = overlay(Image.new("RGB", (224, 224)), torch.eye(8))
    assert big.size == (224, 224)
    diagonal, corner = np.asarray(big)[112, 112].astype(int), np.asarray(big)[5, 218].astype(int)
    assert diagonal[0] > corner[0]
