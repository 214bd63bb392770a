"""torch eager: the oracle every other backend is checked against, and the one torch forward pass of the code."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.models.spec import BackendInfo


class TorchBackend:
    """torch eager on the model's own device."""

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
