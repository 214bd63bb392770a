"""Penultimate-layer features: the input of a model's classifier head, kept next to its logits.

`head_path` says where each architecture's head is. A forward pre-hook on that module records its input
during an ordinary forward pass, so the features come with the logits at no extra cost. The hook lives only
for the one call and records only the calling thread's pass: the model is shared read-only between sessions,
and another session's forward pass never lands here.
A head that is a 1x1 convolution (SqueezeNet) sees a feature map: it is averaged over its positions.

`WithFeatures` is that pass as a module returning (logits, features), which is what `core.backends` exports
to ONNX: a model on ONNX Runtime gets its features there too, verified against torch's like its logits.
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor, nn

from core.errors import InputError
from core.models.spec import LoadedModel, ModelSpec

FEATURE_DTYPE = torch.float16  # half the memory; cosine similarities and maps do not need more

# ---------------------------------------------------------------- where the classifier head is
# name prefix -> dotted path of the last layer that maps features to logits ("-1": the last child);
# its input is the penultimate-layer feature vector. Longer prefixes first.
_HEADS = (
    ("digits_cnn", "head"),
    ("efficientnet_lite", "_fc"),
    ("efficientnet", "classifier.-1"),
    ("resnet", "fc"),
    ("resnext", "fc"),
    ("wide_resnet", "fc"),
    ("regnet", "fc"),
    ("googlenet", "fc"),
    ("inception", "fc"),
    ("shufflenet", "fc"),
    ("alexnet", "classifier.-1"),
    ("vgg", "classifier.-1"),
    ("mobilenet", "classifier.-1"),
    ("mnasnet", "classifier.-1"),
    ("convnext", "classifier.-1"),
    ("maxvit", "classifier.-1"),
    ("densenet", "classifier"),
    ("squeezenet", "classifier.1"),  # a 1x1 conv on a feature map: its input is pooled
    ("vit", "heads.head"),
    ("swin", "head"),
)


def head_path(spec: ModelSpec) -> str:
    """The dotted path of `spec`'s classifier head module (a checkpoint's from its architecture).

    Raises InputError for an architecture whose head is not known.
    """
    if spec.head is not None:
        return spec.head
    for prefix, path in _HEADS:
        if spec.architecture.startswith(prefix):
            return path
    raise InputError(f"{spec.name}: where its classifier head is is not known, so it has no feature vectors")


def resolve_module(root: nn.Module, path: str) -> nn.Module:
    """The submodule at a dotted `path`; a part "-1" is the last child ("classifier.-1")."""
    module = root
    for part in path.split("."):
        children = list(module.named_children())
        if part.lstrip("-").isdigit():
            if not children:
                raise InputError(f"no submodule {path!r}: {part!r} has nothing to index")
            module = children[int(part)][1]
            continue
        found = dict(children).get(part)
        if found is None:
            raise InputError(f"no submodule {path!r}: {type(module).__name__} has no {part!r}")
        module = found
    return module


def head_module(model: LoadedModel) -> nn.Module:
    """The classifier head of `model`: the module whose input is the feature vector."""
    return resolve_module(model.module, head_path(model.spec))


def _pooled(x: Tensor) -> Tensor:
    return x.mean(dim=tuple(range(2, x.ndim))) if x.ndim > 2 else x


class WithFeatures(nn.Module):
    """`module` returning (logits, float32 features): the input of `head`, one of its submodules, pooled.

    The pre-hook is registered for the one call and records only the calling thread's pass (the module may be
    shared with other sessions); under the ONNX tracer it is ordinary Python, so the graph gets both outputs.
    """

    def __init__(self, module: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.module = module
        self._head = [head]  # a list: the head is inside `module` already, not a second submodule

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        owner = threading.get_ident()
        caught: list[Tensor] = []

        def keep_input(_module: nn.Module, args: tuple[Tensor, ...]) -> None:
            if threading.get_ident() == owner:  # another session's pass through the shared model: not ours
                caught.append(args[0])

        handle = self._head[0].register_forward_pre_hook(keep_input)
        try:
            logits = self.module(x)
        finally:
            handle.remove()
        if isinstance(logits, tuple):  # e.g. GoogLeNet/Inception aux outputs in some modes
            logits = logits[0]
        if len(caught) != 1:
            raise InputError(f"the head ran {len(caught)} times in one pass; no features")
        return logits, _pooled(caught[0]).flatten(1).float()


def forward_with_features(model: LoadedModel, batch: Tensor) -> tuple[Tensor, Tensor]:
    """One forward pass of a preprocessed batch: (float32 CPU logits, float16 CPU features).

    On ONNX Runtime when the model's backend has a verified export with features; otherwise torch, with a
    hook on the head (call under inference_mode).
    """
    attached = getattr(model.backend, "logits_and_features", None)
    both = attached(batch) if attached is not None else None
    if both is None:
        try:
            both = WithFeatures(model.module, head_module(model))(batch.to(model.device))
        except InputError as exc:
            raise InputError(f"{model.spec.name}: {exc}") from None
    logits, features = both
    return logits.float().cpu(), features.to(FEATURE_DTYPE).cpu()


def features_backend(model: LoadedModel) -> str:
    """What computes `model`'s features: "onnxruntime" when its backend has a verified export with features
    (made now if it is not yet), else "torch"."""
    verdict_of = getattr(model.backend, "features_verdict", None)
    verdict = verdict_of() if verdict_of is not None else None
    return "onnxruntime" if verdict is not None and verdict.ok else "torch"
