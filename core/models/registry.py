"""The one model registry: a name -> its spec (how to build it, what input it expects, what its classes are).

Pages and the CLI never hard-code a mean/std or a label list; they ask the registry. Its names: the models that
ship (`core.models.builtin`: EfficientNet-Lite0/1/2, the digits CNN) and every torchvision classification model
(`core.models.torchvision_hub`). A user's own model (a folder, a zip, an ONNX file, a checkpoint) becomes a spec
too, from its files (`core.models.reference.resolve_model`: a name or a path).
`load_model` builds the torch model; what runs it is attached by `core.backends.choose.with_backend`.
"""

from __future__ import annotations

import difflib
from functools import cache

import torch

from core.config import SETTINGS
from core.errors import InputError, ModelUnavailableError
from core.models.builtin import builtin_specs
from core.models.spec import LoadedModel, ModelSpec, default_device
from core.models.torchvision_hub import torchvision_model_names, torchvision_spec


def list_models() -> list[str]:
    """Every model name the registry knows: the built-in ones first, then torchvision's."""
    builtin = list(builtin_specs())
    return builtin + [name for name in torchvision_model_names() if name not in builtin]


@cache
def get_spec(name: str = SETTINGS.default_model) -> ModelSpec:
    """The spec of a registered model; InputError naming close matches for an unknown name."""
    builtin = builtin_specs()
    if name in builtin:
        return builtin[name]
    if name in torchvision_model_names():
        return torchvision_spec(name)
    close = difflib.get_close_matches(name, list_models(), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else " See `python -m core models`."
    raise InputError(f"unknown model {name!r}.{hint}")


def load_model(spec: ModelSpec | str, *, device: torch.device | None = None) -> LoadedModel:
    """Build the torch model of `spec` with its weights, in eval mode, on `device` (default: CUDA if present).

    Raises ModelUnavailableError with the reason when it cannot be built here. The result runs on torch; attach
    another backend with `core.backends.choose.with_backend`.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    status = spec.availability()
    if not status.available and spec.source != "torchvision":  # torchvision may still download
        raise ModelUnavailableError(f"{spec.name}: {status.reason}")
    # an ONNX file's graph runs on ONNX Runtime's CPU provider, whatever device torch would use
    target = torch.device("cpu") if spec.runtime != "torch" else device or default_device()
    return LoadedModel(spec, spec.builder().eval().to(target), target)
