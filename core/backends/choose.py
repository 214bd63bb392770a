"""Choosing what runs a model: torch eager (the oracle) or ONNX Runtime (fp32), verified against torch before use.

A model runs on ONNX Runtime only after its export has been checked on a probe batch (real sample images and
seeded random inputs): max |Δlogit| ≤ 1e-4 of the logits' scale and the same top-5 as torch. The exported
file and that verdict are cached on disk (`core.backends.cache`), keyed by the model's name, a hash of its weights
and the torch/onnxruntime versions, so each model is exported and verified once per machine. A failed export or
verification, or a missing onnxruntime, leaves the model on torch with the reason in `BackendInfo.reason`.

    model = with_backend(load_model("efficientnet_lite0"), "auto")
    model.backend.info.describe()  # "onnxruntime · max |Δlogit| 5e-06 vs torch"
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from core.backends.cache import prepare_onnx, weights_digest
from core.backends.eager import TorchBackend
from core.backends.onnxruntime import OnnxFileBackend, OnnxRuntimeBackend
from core.backends.verify import Verdict
from core.config import BACKENDS
from core.errors import InputError
from core.models.spec import Backend, BackendInfo, LoadedModel

ONNX_FILE_REASON = "an ONNX file has no torch model: it runs on ONNX Runtime"


def check_backend(name: str) -> str:
    """`name` if it is one of BACKENDS, else InputError listing them."""
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return name


def with_backend(
    model: LoadedModel, backend: str = "auto", *, digest: str | None = None, folder: Path | None = None
) -> LoadedModel:
    """`model` with the backend that will run it attached (`model.backend`); `model.module` stays torch.

    Args:
        model: from `core.models.registry.load_model` or `core.models.checkpoint.load_checkpoint`.
        backend: "torch"; "onnxruntime" (falls back to torch with a reason when the export or its
            verification fails); or "auto": onnxruntime on a CPU model whose export is verified, torch on CUDA.
            An ONNX file (`spec.runtime` "onnxruntime") runs on ONNX Runtime whatever is asked: it has no torch model.
        digest: the weights' `weights_digest` when the caller already has it.
        folder: the export cache (default `cache_dir()`).
    """
    requested = check_backend(backend)
    if model.spec.runtime != "torch":
        reason = ONNX_FILE_REASON if requested == "torch" else ""
        info = BackendInfo("onnxruntime", requested, reason=reason)
        return dataclasses.replace(model, backend=OnnxFileBackend(model.module, info))
    chosen: Backend = TorchBackend(model.module, model.device, BackendInfo("torch", requested))
    if requested == "auto" and model.device.type == "cuda":
        pass  # the GPU is faster than any CPU runtime: torch it is
    elif requested != "torch":
        chosen = _onnx_or_torch(model, requested, digest=digest, folder=folder)
    return dataclasses.replace(model, backend=chosen)


def _onnx_or_torch(model: LoadedModel, requested: str, *, digest: str | None, folder: Path | None) -> Backend:
    def torch_because(reason: str) -> Backend:
        return TorchBackend(model.module, model.device, BackendInfo("torch", requested, reason=reason))

    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return torch_because("onnxruntime is not installed")
    digest = digest or weights_digest(model.module)
    session, verdict = prepare_onnx(model, digest=digest, folder=folder)
    if session is None:
        return torch_because(verdict.reason)

    def prepare_features() -> tuple[Any, Verdict]:
        return prepare_onnx(model, digest=digest, folder=folder, features=True)

    info = BackendInfo("onnxruntime", requested, verdict.max_abs_dlogit)
    return OnnxRuntimeBackend(session, info, prepare_features=prepare_features)


def backend_info(model: LoadedModel) -> BackendInfo:
    """What runs `model`: its attached backend's info, or plain torch when none is attached."""
    attached = getattr(model, "backend", None)
    return attached.info if attached is not None else BackendInfo("torch")
