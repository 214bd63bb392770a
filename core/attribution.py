"""Grad-CAM attribution maps (Captum's `LayerGradCam`): which part of the input a class's logit looked at.

Grad-CAM weighs the channels of a late convolutional feature map by the gradient of one class's logit,
sums them and keeps the positive part; upsampled to the input size it shows where that class's evidence
is. The layer is chosen per architecture (`gradcam_layer_name`).

The model is shared by every user of the app and must not change: Captum adds hooks to the layer while it
runs, so the attribution runs on a private copy of the model, never on the shared one.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from core.errors import InputError
from core.models.spec import LoadedModel

# architecture name prefix -> the module whose output is the last spatial feature map worth explaining
_LAYERS: tuple[tuple[str, str], ...] = (
    ("efficientnet_lite", "_bn1"),  # conv head + BN, just before the final ReLU6 and pooling (Lite0/1/2)
    ("digits_cnn", "features.2"),  # after the second conv's ReLU, 8x8 (before the 2x2 max-pool)
    ("resnet", "layer4"),
    ("resnext", "layer4"),
    ("wide_resnet", "layer4"),
    ("regnet", "trunk_output"),
    ("densenet", "features"),
    ("vgg", "features"),
    ("alexnet", "features"),
    ("mobilenet", "features"),
    ("efficientnet", "features"),
    ("convnext", "features"),
    ("mnasnet", "layers"),
    ("shufflenet", "conv5"),
    ("squeezenet", "features"),
    ("googlenet", "inception5b"),
    ("inception", "Mixed_7c"),
    ("maxvit", "blocks"),
)
# transformers have no convolutional feature map at the end (ViT, DeiT, BEiT, DINOv2, EVA) or keep channels last
# (Swin): torchvision's and timm's names, then transformers' class names
_UNSUPPORTED = (
    *("vit_", "swin", "deit", "beit", "eva", "cait", "xcit", "dinov2"),
    *("ViT", "DeiT", "Beit", "BEiT", "Dinov2", "Swin", "Data2VecVision", "Levit", "Pvt"),
)


class AttributionError(InputError):
    """Grad-CAM cannot be computed for this model or class."""


def gradcam_layer_name(arch: str, module: nn.Module) -> str:
    """Name of the layer Grad-CAM explains for architecture `arch` (`ModelSpec.architecture`): from the table
    above, else the last Conv2d."""
    if arch.startswith(_UNSUPPORTED):
        raise AttributionError(
            f"Grad-CAM is not available for this architecture: it needs a convolutional feature map, and {arch} is "
            "a vision transformer with none at the end"
        )
    names = dict(module.named_modules())
    for prefix, layer in _LAYERS:
        if arch.startswith(prefix) and layer in names:
            return layer
    convs = [name for name, m in module.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise AttributionError(f"Grad-CAM needs a convolutional layer, and {arch} has none")
    return convs[-1]


def grad_cam(model: LoadedModel, tensor: Tensor, target: int) -> Tensor:
    """Grad-CAM of class `target` for one preprocessed input (C, H, W): a map (H, W) in [0, 1] on the CPU.

    The map is scaled so its largest value is 1 (all zeros when nothing speaks for the class). The shared
    `model` is not touched: the attribution runs on a copy, in eval mode, with gradients on just for it.
    """
    from captum.attr import LayerAttribution, LayerGradCam

    if model.spec.runtime != "torch":
        raise AttributionError(
            "Grad-CAM is not available for an ONNX file: it needs gradients through a torch model, and ONNX Runtime "
            "gives none"
        )
    if tensor.ndim != 3:
        raise AttributionError(f"expected one image tensor (C, H, W), got shape {tuple(tensor.shape)}")
    num_classes = model.spec.num_classes
    if not 0 <= target < num_classes:
        raise AttributionError(f"class {target} does not exist: the model has {num_classes} classes")
    height, width = tensor.shape[-2:]
    # the app may call this inside inference mode; gradients need it off (copies included) and grad mode on
    with torch.inference_mode(False), torch.enable_grad():
        # a private copy: Captum's hooks must never reach the model other sessions are using
        private = copy.deepcopy(model.module).eval()
        layer = dict(private.named_modules())[gradcam_layer_name(model.spec.architecture, private)]
        x = tensor.detach().clone().unsqueeze(0).to(model.device).requires_grad_(True)
        cam = LayerGradCam(private, layer).attribute(x, target=target, relu_attributions=True)
        if cam.ndim != 4:
            raise AttributionError(
                f"the layer {type(layer).__name__} has no spatial feature map (shape {tuple(cam.shape)})"
            )
        cam = cam.sum(dim=1, keepdim=True)  # layers that return several channels: sum their maps
        up = LayerAttribution.interpolate(cam, (height, width), interpolate_mode="bilinear")
    heat = up.detach()[0, 0].float().cpu().clamp_min(0)
    peak = float(heat.max())
    return heat / peak if peak > 0 else heat


def overlay(image: Image.Image, heatmap: Tensor, *, alpha: float = 0.5, colormap: str = "jet") -> Image.Image:
    """The heat map in colour over `image`, at the image's size (the map is stretched to fit, bilinear).

    `alpha` is the weight of the colour where the map is at its maximum.
    """
    from matplotlib import colormaps

    h = heatmap.detach().float().cpu().clamp(0, 1)
    if tuple(h.shape) != (image.height, image.width):
        h = torch.nn.functional.interpolate(h[None, None], size=(image.height, image.width), mode="bilinear")[0, 0]
    heat = h.clamp(0, 1).numpy()
    base = np.asarray(image.convert("RGB"), dtype=np.float64)
    colour = colormaps[colormap](heat)[..., :3] * 255.0
    # more colour where the map is high, the picture itself where it is near zero
    weight = alpha * (0.35 + 0.65 * heat[..., None])
    mixed = (1 - weight) * base + weight * colour
    return Image.fromarray(np.clip(mixed, 0, 255).round().astype(np.uint8), mode="RGB")
