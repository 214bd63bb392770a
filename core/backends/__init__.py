"""Inference backends: torch eager (the oracle) and ONNX Runtime (fp32), verified against torch before use.

A model runs on ONNX Runtime only after its export has been checked on a probe batch (real sample images and
seeded random inputs): max |Δlogit| ≤ 1e-4 of the logits' scale and the same top-5 as torch. The exported
file and that verdict are cached on disk, keyed by the model's name, a hash of its weights and the
torch/onnxruntime versions, so each model is exported and verified once per machine. A failed export or
verification, or a missing onnxruntime, leaves the model on torch with the reason in `BackendInfo.reason`.

    model = with_backend(load_model("efficientnet_lite0"), "auto")
    model.backend.info.describe()  # "onnxruntime · max |Δlogit| 5e-06 vs torch"

The package: `export` (torch → ONNX, sessions), `verify` (probe batch, tolerance, verdict), `cache` (keys,
files, `prepare_onnx`); this module chooses and runs.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import Tensor, nn

from core.backends.cache import (
    CACHE_ENV,
    FORMAT_VERSION,
    cache_dir,
    cache_key,
    onnx_file,
    prepare_onnx,
    read_verdict,
    weights_digest,
)
from core.backends.export import OPSET, THREADS_ENV, export_onnx, ort_session, ort_threads
from core.backends.verify import (
    PROBE_RANDOM,
    PROBE_SAMPLES,
    PROBE_SEED,
    RELATIVE_TOLERANCE,
    TOP_K,
    Verdict,
    compare_logits,
    probe_batch,
)
from core.errors import InputError

if TYPE_CHECKING:
    from core.registry import LoadedModel

__all__ = [
    "BACKENDS",
    "CACHE_ENV",
    "DEFAULT_BACKEND",
    "FORMAT_VERSION",
    "OPSET",
    "PROBE_RANDOM",
    "PROBE_SAMPLES",
    "PROBE_SEED",
    "RELATIVE_TOLERANCE",
    "THREADS_ENV",
    "TOP_K",
    "Backend",
    "BackendInfo",
    "OnnxRuntimeBackend",
    "TorchBackend",
    "Verdict",
    "backend_info",
    "cache_dir",
    "cache_key",
    "check_backend",
    "compare_logits",
    "export_onnx",
    "onnx_file",
    "ort_session",
    "ort_threads",
    "prepare_onnx",
    "probe_batch",
    "read_verdict",
    "run_logits",
    "weights_digest",
    "with_backend",
]

BACKENDS = ("auto", "torch", "onnxruntime")
DEFAULT_BACKEND = "auto"  # the CLI's and the UI's default; the library's load_model defaults to torch


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


class TorchBackend:
    """torch eager on the model's own device: the oracle every other backend is checked against."""

    def __init__(self, module: nn.Module, device: torch.device, info: BackendInfo) -> None:
        self.module = module
        self.device = device
        self.info = info

    def logits(self, batch: Tensor) -> Tensor:
        with torch.inference_mode():
            out = self.module(batch.to(self.device))
        if isinstance(out, tuple):  # e.g. GoogLeNet/Inception aux outputs in some modes
            out = out[0]
        return out.float().cpu()


class OnnxRuntimeBackend:
    """ONNX Runtime fp32 on the CPU (CPUExecutionProvider); `run` is thread-safe, so one session is shared.

    `prepare_features`, when given, makes the export that also outputs the head's input; it runs once, on the
    first `logits_and_features` or `features_verdict` call (a run that never needs features never pays for it).
    """

    def __init__(
        self, session: Any, info: BackendInfo, *, prepare_features: Callable[[], tuple[Any, Verdict]] | None = None
    ) -> None:
        self.session = session
        self.input_name = str(session.get_inputs()[0].name)
        self.info = info
        self._prepare_features = prepare_features
        self._features: tuple[Any, Verdict] | None = None
        self._features_lock = threading.Lock()

    def logits(self, batch: Tensor) -> Tensor:
        out = self.session.run(None, {self.input_name: _array(batch)})[0]
        return torch.from_numpy(out).float()

    def features_verdict(self) -> Verdict | None:
        """The verdict on the export with features, made (exported and verified) on first use; None when this
        backend was built without a way to make it."""
        if self._prepare_features is None:
            return None
        with self._features_lock:  # two sessions asking at once export once
            if self._features is None:
                self._features = self._prepare_features()
        return self._features[1]

    def logits_and_features(self, batch: Tensor) -> tuple[Tensor, Tensor] | None:
        """(float32 logits, float32 pooled head inputs) from the verified export with features, or None when
        there is none (the caller runs torch)."""
        self.features_verdict()  # made on first use
        session = self._features[0] if self._features is not None else None
        if session is None:
            return None
        logits, features = session.run(None, {session.get_inputs()[0].name: _array(batch)})
        return torch.from_numpy(logits).float(), torch.from_numpy(features).float()


def _array(batch: Tensor) -> Any:
    return batch.detach().to("cpu", torch.float32).contiguous().numpy()


# ---------------------------------------------------------------- choosing a backend
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
        model: from `core.registry.load_model` or `core.checkpoint.load_checkpoint`.
        backend: "torch"; "onnxruntime" (falls back to torch with a reason when the export or its
            verification fails); or "auto": onnxruntime on a CPU model whose export is verified, torch on CUDA.
        digest: the weights' `weights_digest` when the caller already has it.
        folder: the export cache (default `cache_dir()`).
    """
    requested = check_backend(backend)
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


def run_logits(model: LoadedModel, batch: Tensor) -> Tensor:
    """Float32 CPU logits of a preprocessed batch on the model's backend (torch when none is attached)."""
    attached = getattr(model, "backend", None)
    if attached is not None:
        return attached.logits(batch)
    with torch.inference_mode():
        out = model.module(batch.to(model.device))
    return (out[0] if isinstance(out, tuple) else out).float().cpu()
