"""What a model is, as every other module sees it: its spec, the built model, and the backend protocol that runs it.

A leaf: it imports nothing of the registry, the backends or the features, so each of those can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

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
        name: registry name, e.g. "efficientnet_lite0", "resnet50".
        title: a short human description.
        source: "embedded", "bundled", "torchvision" or "checkpoint".
        num_classes: size of the logits vector.
        preprocessing: the input the weights were trained with.
        label_set: name of a shipped label set ("imagenet", "digits"), or None.
        categories: English class names when the source provides them (torchvision meta).
        head: dotted path of the classifier head module ("fc", "classifier.-1"); None: `core.features.head_path`
            finds it from the architecture's name.
        builder: returns the model with weights loaded, in eval mode, on CPU.
        availability: says whether `builder` can succeed now, without building.
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

    @property
    def architecture(self) -> str:
        """The architecture behind the name: a checkpoint's spec is named "checkpoint:<arch>:<digest>"."""
        return self.name.split(":")[1] if self.name.startswith("checkpoint:") else self.name


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
        return "torch (eager)"


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
