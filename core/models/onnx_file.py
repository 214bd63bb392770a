"""An ONNX file as a model: its own graph, run by ONNX Runtime. There is no torch model behind it.

What the graph says is read from it: the one input's name, layout (NCHW or NHWC), size and dtype, the class count
from the output. What it does not say is not guessed silently: an ONNX file carries no preprocessing, so the
normalisation is a preset the user picks (`--normalize`, ImageNet mean/std by default) and the geometry is the
ImageNet convention (resize to size / 0.875, centre crop), both stated in the spec's note; it carries no class
names, so they are index numbers or the user's label file.

The spec's `runtime` is "onnxruntime": its builder's module (`OnnxGraph`) runs the session (so every caller of a
module works), while `core.backends.choose` attaches it as an ONNX-file backend (no export, nothing to verify
against), Grad-CAM says it needs gradients the graph cannot give, and the features come from the graph itself when
the logits are made by one Gemm/MatMul (its input is added as a second output).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from core.errors import CheckpointError, InputError, first_line
from core.models.files import MODEL_LIMITS, ModelLimits, user_spec
from core.models.spec import ModelSpec
from core.ort import ort_session
from core.preprocess import HALF, IMAGENET_MEAN, IMAGENET_STD, Preprocessing

ZERO_ONE = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
# --normalize presets: name -> (mean, std) in [0, 1] pixel units
NORMALIZE_PRESETS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
    "minus-one-one": (HALF, HALF),
    "zero-one": ZERO_ONE,
}
DEFAULT_NORMALIZE = "imagenet"
NORMALIZE_HELP = (
    "an ONNX file's input normalisation (it carries none): imagenet (default: ImageNet mean/std), minus-one-one "
    "(pixels scaled to [-1, 1]), zero-one ([0, 1]), or MEAN,MEAN,MEAN/STD,STD,STD in [0, 1] pixel units"
)
CROP_FRACTION = 0.875  # the ImageNet convention: resize to size / 0.875 (256 for 224), then crop the centre
_DTYPES = {"float32": np.float32, "float16": np.float16, "float64": np.float64, "uint8": np.uint8}


def parse_normalize(text: str | None) -> tuple[str, tuple[float, ...], tuple[float, ...]]:
    """(its name, mean, std) of a `--normalize` value: a preset, or "MEAN,MEAN,MEAN/STD,STD,STD" (one value each
    is repeated for the three channels). InputError for anything else."""
    name = (text or DEFAULT_NORMALIZE).strip().lower()
    if name in NORMALIZE_PRESETS:
        return name, *NORMALIZE_PRESETS[name]
    try:
        mean_text, std_text = name.split("/")
        mean = tuple(float(v) for v in mean_text.split(","))
        std = tuple(float(v) for v in std_text.split(","))
    except ValueError:
        raise InputError(
            f"--normalize {text!r}: use {', '.join(NORMALIZE_PRESETS)} or MEAN,MEAN,MEAN/STD,STD,STD"
        ) from None
    mean, std = (mean * 3 if len(mean) == 1 else mean), (std * 3 if len(std) == 1 else std)
    if len(mean) != 3 or len(std) != 3 or not all(math.isfinite(v) for v in mean + std) or min(std) <= 0:
        raise InputError(f"--normalize {text!r}: three finite means and three positive standard deviations")
    return f"mean {','.join(f'{m:g}' for m in mean)} / std {','.join(f'{s:g}' for s in std)}", mean, std


@dataclass(frozen=True)
class GraphInput:
    """The graph's image input as read from the file."""

    name: str
    layout: str  # "NCHW" or "NHWC"
    channels: int
    size: int
    dtype: str  # numpy's name: "float32", "float16", "float64", "uint8"

    def describe(self) -> str:
        dims = (
            f"{self.channels} x {self.size} x {self.size}"
            if self.layout == "NCHW"
            else f"{self.size} x {self.size} x {self.channels}"
        )
        return f"{self.name!r} {self.layout} {self.dtype}, batch x {dims}"


def _dims(value: Any) -> list[int | str]:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value.type.tensor_type.shape.dim]


def read_graph(data: bytes, name: str, *, limits: ModelLimits = MODEL_LIMITS) -> tuple[Any, GraphInput, int | None]:
    """The parsed model, its image input and its class count (None when the graph leaves it dynamic).

    Raises CheckpointError for a file that is not ONNX, keeps its weights outside the file, has other than one input,
    an input that is not a batch of square RGB or grayscale images, or a dynamic height/width.
    """
    import onnx
    from onnx import helper

    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf raises its own DecodeError and others
        raise CheckpointError(f"{name}: not an ONNX file ({first_line(exc)})") from None
    graph = model.graph
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer):
        raise CheckpointError(f"{name}: its weights are in external data files; save it as one .onnx file")
    constants = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs)
        raise CheckpointError(f"{name}: {len(inputs)} inputs ({names}); an image classifier takes one batch of images")
    value = inputs[0]
    dims = _dims(value)
    elem = value.type.tensor_type.elem_type
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(elem)).name if elem else "?"
    if len(dims) != 4 or dtype not in _DTYPES:
        raise CheckpointError(
            f"{name}: its input {value.name!r} is {dtype} of shape {dims}: not a batch of images "
            "(4 dimensions, float or uint8)"
        )
    if dims[1] in (1, 3):
        layout, channels, height, width = "NCHW", int(dims[1]), dims[2], dims[3]
    elif dims[3] in (1, 3):
        layout, channels, height, width = "NHWC", int(dims[3]), dims[1], dims[2]
    else:
        raise CheckpointError(
            f"{name}: its input {value.name!r} of shape {dims} has no channel axis of 1 or 3: not an image"
        )
    if not isinstance(height, int) or not isinstance(width, int) or height < 1 or width < 1:
        raise CheckpointError(
            f"{name}: its input {value.name!r} has a dynamic size ({dims}): the graph does not say what size it "
            "expects; export it with a fixed height and width"
        )
    if height != width:
        raise CheckpointError(f"{name}: its input is {height} x {width}; only square inputs are supported")
    if height > limits.max_input_side:
        raise CheckpointError(f"{name}: its input is {height} pixels a side, over the limit of {limits.max_input_side}")
    out_dims = _dims(graph.output[0]) if graph.output else []
    classes = out_dims[-1] if len(out_dims) == 2 and isinstance(out_dims[-1], int) and out_dims[-1] > 0 else None
    return model, GraphInput(value.name, layout, channels, height, dtype), classes


def _head_input(model: Any) -> str | None:
    """The tensor the logits are computed from by one Gemm (or MatMul, or MatMul + Add): the head's input."""
    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    node = producers.get(graph.output[0].name)
    if node is not None and node.op_type == "Add":
        node = next((producers[i] for i in node.input if i in producers and producers[i].op_type == "MatMul"), None)
    if node is None or node.op_type not in ("Gemm", "MatMul"):
        return None
    return str(node.input[0])


def _with_features(model: Any) -> tuple[bytes, bool]:
    """The model's bytes with the head's input as a second output, when it can be found and typed."""
    import onnx

    head_input = _head_input(model)
    if head_input is None:
        return model.SerializeToString(), False
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a graph shape inference cannot follow: no features, the logits still run
        return model.SerializeToString(), False
    typed = [v for v in inferred.graph.value_info if v.name == head_input]
    if not typed:
        return model.SerializeToString(), False
    extended = onnx.ModelProto()
    extended.CopyFrom(model)
    extended.graph.output.append(typed[0])
    return extended.SerializeToString(), True


class OnnxGraph(nn.Module):
    """An ONNX file's graph as a module: NCHW float32 batches in, float32 CPU logits out, run by ONNX Runtime.

    It has no parameters and no gradients; the layout and dtype the graph wants are made here (a uint8 input gets
    the pixels 0..255, its normalisation being the graph's own).
    """

    def __init__(self, model: Any, graph_input: GraphInput, *, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        runnable, self.has_features = _with_features(model)
        self.session = ort_session(runnable)
        self.graph_input = graph_input
        self._mean = torch.tensor(mean).view(1, -1, 1, 1)
        self._std = torch.tensor(std).view(1, -1, 1, 1)

    def _feed(self, batch: Tensor) -> dict[str, np.ndarray]:
        x = batch.detach().to("cpu", torch.float32)
        if self.graph_input.dtype == "uint8":  # the graph normalises itself: give it the pixels
            x = ((x * self._std + self._mean) * 255).round().clamp(0, 255)
        if self.graph_input.layout == "NHWC":
            x = x.permute(0, 2, 3, 1)
        return {self.graph_input.name: x.contiguous().numpy().astype(_DTYPES[self.graph_input.dtype], copy=False)}

    def forward(self, batch: Tensor) -> Tensor:
        out = self.session.run(None, self._feed(batch))[0]
        return torch.from_numpy(np.asarray(out, dtype=np.float32)).reshape(len(batch), -1)

    def logits_and_features(self, batch: Tensor) -> tuple[Tensor, Tensor] | None:
        """(logits, pooled head inputs) in one run, or None when the graph's head was not found."""
        if not self.has_features:
            return None
        logits, features = self.session.run(None, self._feed(batch))[:2]
        feats = torch.from_numpy(np.asarray(features, dtype=np.float32))
        if feats.ndim > 2:
            feats = feats.mean(dim=tuple(range(2, feats.ndim)))
        return torch.from_numpy(np.asarray(logits, dtype=np.float32)).reshape(len(batch), -1), feats.reshape(
            len(batch), -1
        )


def onnx_spec(
    data: bytes, *, name: str, title: str, normalize: str | None, details: tuple[tuple[str, str], ...] = ()
) -> ModelSpec:
    """The spec of an ONNX file's bytes, normalised by the `--normalize` preset (ImageNet by default)."""
    model, graph_input, classes = read_graph(data, title)
    label, mean, std = parse_normalize(normalize)
    if graph_input.dtype == "uint8":
        label, (mean, std) = "none (a uint8 input: the graph takes 0..255 pixels)", ZERO_ONE
    mean, std = mean[: graph_input.channels], std[: graph_input.channels]
    size = graph_input.size
    pre = Preprocessing(round(size / CROP_FRACTION), size, mean, std, "bilinear", grayscale=graph_input.channels == 1)
    module = OnnxGraph(model, graph_input, mean=mean, std=std)
    if classes is None:  # the graph leaves the class count dynamic: one blank image says it
        classes = int(module(torch.zeros(1, graph_input.channels, size, size)).shape[1])
    note = (
        f"an ONNX file carries no preprocessing: {pre.describe()} (resize to size / {CROP_FRACTION}, the ImageNet "
        f"convention; normalisation: {label}, {'chosen' if normalize else 'the default'} --normalize preset)"
    )
    producer = f"{model.producer_name} {model.producer_version}".strip() or "unknown producer"
    return user_spec(
        name,
        "onnx",
        f"{title} (ONNX, {classes} classes, {size} px input)",
        pre,
        lambda: module,
        num_classes=classes,
        arch=f"ONNX graph ({producer}, opset {max((o.version for o in model.opset_import), default=0)})",
        runtime="onnxruntime",
        labels_source="none in the file: class index numbers (or your label file)",
        details=(*details, ("input", graph_input.describe()), ("normalize", label), ("note", note)),
    )
