"""ONNX Runtime fp32 on the CPU: a verified export of a torch model (`core.backends.cache.prepare_onnx`), or an ONNX
file's own graph (`OnnxFileBackend`: nothing to export, no torch model to verify against)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from core.backends.verify import Verdict
from core.models.spec import BackendInfo


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


class OnnxFileBackend:
    """An ONNX file's graph: its module (`core.models.onnx_file.OnnxGraph`) runs the ONNX Runtime session itself.

    Nothing is exported or verified (there is no torch model: `info` says so); the features are the graph's own
    head input when the file's head was found.
    """

    def __init__(self, module: nn.Module, info: BackendInfo) -> None:
        self.module = module
        self.info = info

    def logits(self, batch: Tensor) -> Tensor:
        logits: Tensor = self.module(batch)
        return logits

    def features_verdict(self) -> Verdict:
        """Whether the graph gives the features (its head's input found and added as an output)."""
        if getattr(self.module, "has_features", False):
            return Verdict("", True)
        return Verdict("", False, reason="the ONNX graph's classifier head was not found: no features")

    def logits_and_features(self, batch: Tensor) -> tuple[Tensor, Tensor] | None:
        """(logits, pooled head inputs) from the graph, or None when it has no features."""
        both: tuple[Tensor, Tensor] | None = getattr(self.module, "logits_and_features", lambda _: None)(batch)
        return both


def _array(batch: Tensor) -> Any:
    return batch.detach().to("cpu", torch.float32).contiguous().numpy()
