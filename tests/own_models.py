"""Tiny, random-initialised models in the formats a user's own model lives in, written by the libraries themselves
(offline): a transformers ViT and ConvNeXt (`save_pretrained`), a timm resnet with 7 classes (`save_for_hf`), a
torchvision resnet exported to ONNX, a torchvision checkpoint. Each comes with its library's own inference path,
the oracle our path must equal (`Oracle.inputs` / `Oracle.logits`). Used by the tests, the browser test and
benchmarks/bench_models.py.
"""

from __future__ import annotations

import io
import shutil
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor, nn

# the first names are real ImageNet classes, so a labelled set of the sample photos has its folders named after them
NAMES = ("espresso", "tabby", "tripod", "lemon", "daisy", "volcano", "jigsaw puzzle")


@dataclass
class Oracle:
    """A model's files and the library's own pipeline for them."""

    path: Path
    model: nn.Module  # the library's own model, eval mode
    inputs: Callable[[list[Image.Image]], Tensor]  # the library's preprocessing of a batch
    names: tuple[str, ...]

    def logits(self, images: list[Image.Image]) -> Tensor:
        """The library's own inference path: its preprocessing, its model."""
        with torch.inference_mode():
            out = self.model(self.inputs(images))
        return (out.logits if hasattr(out, "logits") else out).float()


def zip_folder(folder: Path, target: Path, *, inside: str | None = None) -> Path:
    """`folder` as a zip at `target`, its files under `inside/` (default: the folder's name)."""
    prefix = folder.name if inside is None else inside
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{prefix}/{path.name}" if prefix else path.name)
    return target


def transformers_vit(folder: Path, *, seed: int = 0) -> Oracle:
    """A 2-layer ViT (32 px, 8 px patches, 3 classes) and its ViTImageProcessor, saved by transformers."""
    from transformers import AutoImageProcessor, ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(seed)
    names = NAMES[:3]
    config = ViTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    )
    ViTForImageClassification(config).eval().save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return _transformers_oracle(folder, names, AutoImageProcessor)


def transformers_convnext(folder: Path, *, seed: int = 0) -> Oracle:
    """A tiny ConvNeXt (2 stages, 4 classes) with a shortest-edge-then-crop processor (crop_pct 0.875, bicubic)."""
    from transformers import AutoImageProcessor, ConvNextConfig, ConvNextForImageClassification, ConvNextImageProcessor

    torch.manual_seed(seed)
    names = NAMES[:4]
    config = ConvNextConfig(
        hidden_sizes=[8, 16],
        depths=[1, 1],
        num_stages=2,
        image_size=64,
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    )
    ConvNextForImageClassification(config).eval().save_pretrained(folder)
    ConvNextImageProcessor(size={"shortest_edge": 64}, crop_pct=0.875).save_pretrained(folder)
    return _transformers_oracle(folder, names, AutoImageProcessor)


def _transformers_oracle(folder: Path, names: tuple[str, ...], auto_processor: type) -> Oracle:
    from transformers import AutoModelForImageClassification

    processor = auto_processor.from_pretrained(folder, local_files_only=True)
    model = AutoModelForImageClassification.from_pretrained(folder, local_files_only=True).eval()

    def inputs(images: list[Image.Image]) -> Tensor:
        pixels: Tensor = processor(images=images, return_tensors="pt")["pixel_values"]
        return pixels

    return Oracle(folder, model, inputs, names)


def timm_resnet(folder: Path, *, seed: int = 0, arch: str = "resnet18") -> Oracle:
    """A timm `arch` with a custom head of 7 classes and label names, in timm's hub format (`save_for_hf`)."""
    import timm
    from timm.data import create_transform, resolve_data_config
    from timm.models._hub import save_for_hf

    torch.manual_seed(seed)
    model = timm.create_model(arch, pretrained=False, num_classes=len(NAMES)).eval()
    _move_batchnorm_stats(model)
    save_for_hf(model, folder, safe_serialization=True, model_config={"label_names": list(NAMES)})
    transform = create_transform(**resolve_data_config({}, model=model))
    return Oracle(folder, model, lambda images: torch.stack([transform(i) for i in images]), NAMES)


def torchvision_resnet(seed: int = 0, classes: int = 5) -> nn.Module:
    """A torchvision resnet18 with `classes` outputs and batch-norm statistics away from 0 / 1."""
    import torchvision

    torch.manual_seed(seed)
    model = torchvision.models.resnet18(num_classes=classes)
    _move_batchnorm_stats(model)
    return model.eval()


def onnx_file(path: Path, model: nn.Module, *, size: int = 224, layout: str = "NCHW") -> Path:
    """`model` exported to ONNX with a fixed `size` x `size` input (NHWC: a permute in front of it)."""
    wrapped: nn.Module = model if layout == "NCHW" else _ChannelsLast(model)
    shape = (1, 3, size, size) if layout == "NCHW" else (1, size, size, 3)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter: what most files come from
        torch.onnx.export(
            wrapped.eval(),
            (torch.zeros(shape),),
            buffer,
            dynamo=False,
            opset_version=17,
            input_names=["pixels"],
            output_names=["logits"],
            dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
        )
    path.write_bytes(buffer.getvalue())
    return path


# ONNX files that are not image classifiers (bad input): name -> its inputs as (name, element type, shape)
BAD_ONNX_INPUTS: dict[str, list[tuple[str, str, list[int | str]]]] = {
    "two-inputs": [("x", "FLOAT", ["n", 3, 32, 32]), ("mask", "FLOAT", ["n", 3, 32, 32])],
    "not-an-image": [("ids", "INT64", ["n", 16])],
    "dynamic-size": [("x", "FLOAT", ["n", 3, "h", "w"])],
    "fine": [("x", "FLOAT", ["n", 3, 32, 32])],
}


def onnx_graph(inputs: list[tuple[str, str, list[int | str]]], *, classes: int = 3) -> bytes:
    """A small ONNX graph with these inputs whose output is the first input averaged over its last two axes."""
    from onnx import TensorProto, helper

    values = [helper.make_tensor_value_info(n, getattr(TensorProto, kind), shape) for n, kind, shape in inputs]
    node = helper.make_node("ReduceMean", [inputs[0][0]], ["logits"], axes=[2, 3], keepdims=0)
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", classes])
    graph = helper.make_graph([node], "g", values, [output])
    return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())


class _ChannelsLast(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.model(x.permute(0, 3, 1, 2))
        return out


def _move_batchnorm_stats(model: nn.Module) -> None:
    """A few training-mode passes move running_mean / running_var away from 0 / 1 (a checkpoint's are)."""
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(2, 3, 64, 64) * 2 + 0.5)
    model.eval()


def copy_folder(folder: Path, target: Path) -> Path:
    shutil.copytree(folder, target)
    return target
