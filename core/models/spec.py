"""What a model is, as every other module sees it: its spec, the built model, and the backend protocol that runs it.

A leaf: it imports nothing of the registry, the backends or the features, so each of those can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from core.preprocess import Preprocessing


@dataclass(frozen=True)
class Availability:
    """Whether a model can be built right now, and if not, why (a sentence for the user)."""

    available: bool
    reason: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build a model and read its output.

    Attributes:
        name: registry name, e.g. "efficientnet_lite0", "resnet50"; a user's model is named by its kind, its
            file's stem and a digest of its files ("transformers:tiny-vit:1a2b3c4d5e6f").
        title: a short human description.
        source: "embedded", "bundled", "torchvision", or a user's model (`USER_SOURCES`): "checkpoint"
            (an architecture + a weights file), "transformers", "timm" (a folder or a zip of one), "onnx".
        num_classes: size of the logits vector.
        preprocessing: the input the weights were trained with (a library's own `Pipeline` for transformers/timm).
        label_set: name of a shipped label set ("imagenet", "digits"), or None.
        categories: class names when the source provides them (torchvision meta, id2label, label_names).
        head: dotted path of the classifier head module ("fc", "classifier.-1"); None: `core.features.head_path`
            finds it from the architecture's name.
        builder: returns the model with weights loaded, in eval mode, on CPU.
        availability: says whether `builder` can succeed now, without building.
        arch: the architecture ("resnet18", "ViTForImageClassification"); "": the name is the architecture.
        runtime: what `builder`'s module is: "torch" (torch layers: gradients, export, the torch oracle) or
            "onnxruntime" (an ONNX file's graph run by ONNX Runtime: no gradients, nothing to verify against).
        labels_source: where `categories` (or their absence) came from, in words.
        details: what was found in the model's files, as (key, value) pairs (`models --describe`).
        rebuild: makes this spec again from the model's files (a path): a pickled spec (a Ray actor's) is this
            call, not the built objects; None: pickled as is.
    """

    name: str
    title: str
    source: str
    num_classes: int
    preprocessing: Preprocessing
    label_set: str | None
    builder: Callable[[], nn.Module] = field(repr=False, compare=False)
    availability: Callable[[], Availability] = field(repr=False, compare=False)
    categories: tuple[str, ...] | None = field(default=None, repr=False)
    head: str | None = field(default=None, repr=False)
    arch: str = ""
    runtime: str = "torch"
    labels_source: str = ""
    details: tuple[tuple[str, str], ...] = ()
    rebuild: Callable[[], ModelSpec] | None = field(default=None, repr=False, compare=False)

    @property
    def architecture(self) -> str:
        """The architecture behind the name: `arch`, else a checkpoint's from its name "checkpoint:<arch>:<digest>"."""
        if self.arch:
            return self.arch
        return self.name.split(":")[1] if self.name.startswith("checkpoint:") else self.name

    @property
    def user_model(self) -> bool:
        """Whether the model is the user's own (a file or folder), not one the registry names: a share link
        cannot carry it."""
        return self.source in USER_SOURCES

    def __reduce_ex__(self, protocol: Any) -> Any:
        # a user's model travels as the call that reads its files again (a Ray actor builds its own copy)
        if self.rebuild is not None:
            return (self.rebuild, ())
        return super().__reduce_ex__(protocol)


USER_SOURCES = ("checkpoint", "transformers", "timm", "onnx")


@dataclass(frozen=True)
class BackendInfo:
    """Which backend runs a model, how far it is from torch, and why when it is not the one asked for.

    Attributes:
        name: what runs: "torch" or "onnxruntime".
        requested: what was asked for: "auto", "torch" or "onnxruntime".
        max_abs_dlogit: the verified max |logit difference| against torch on the probe batch (None on torch).
        reason: why torch runs although onnxruntime was asked for or possible ("" otherwise).
    """

    name: str
    requested: str = "torch"
    max_abs_dlogit: float | None = None
    reason: str = ""

    def describe(self) -> str:
        """One line for a person, e.g. "onnxruntime · max |Δlogit| 5e-06 vs torch" or "torch (eager)"."""
        if self.name == "onnxruntime" and self.max_abs_dlogit is not None:
            return f"onnxruntime · max |Δlogit| {self.max_abs_dlogit:.0e} vs torch"
        if self.name == "onnxruntime":
            return f"onnxruntime · {NO_TORCH_ORACLE}"
        return "torch (eager)"


NO_TORCH_ORACLE = "an ONNX file: its own graph, no torch model to check it against"


class Backend(Protocol):
    """Runs a preprocessed batch through a model: float32 CPU logits (n, num_classes)."""

    info: BackendInfo

    def logits(self, batch: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class LoadedModel:
    """A built model on its device, with its spec. Shared read-only: never mutate `module`.

    `module` is always the torch model (Grad-CAM and the oracle use it); `backend` is what runs the
    forward passes (`core.backends.choose.with_backend`: torch or a verified ONNX Runtime session; None means
    torch).
    """

    spec: ModelSpec
    module: nn.Module = field(repr=False)
    device: torch.device
    backend: Backend | None = field(default=None, repr=False, compare=False)


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
