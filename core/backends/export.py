"""Exporting a torch module to ONNX: `export_onnx` tries the TorchScript tracer first and torch.export (dynamo)
second (`core.ort.ort_session` opens the bytes in ONNX Runtime)."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from core.errors import first_line

OPSET = 17
_TRACER_HINT = "Converting a tensor to a Python"


class _FirstOutput(nn.Module):
    """Exports only the logits of a model whose forward returns a tuple (aux heads)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        out = self.module(x)
        return out[0] if isinstance(out, tuple) else out


def export_onnx(module: nn.Module, example: Tensor, *, outputs: Sequence[str] = ("logits",)) -> tuple[bytes, str]:
    """The ONNX bytes of `module` with a dynamic batch axis, and which exporter made them.

    Args:
        module: returns the logits (a tuple's first item when `outputs` has one name), or one tensor per name.
        example: an input batch to trace with.
        outputs: the graph's output names, in the order `module` returns them; each has a dynamic batch axis.

    The TorchScript tracer (legacy, fast) goes first; a trace that turned a tensor into a Python value (the
    graph would follow one branch of data-dependent control flow) is redone with torch.export (dynamo), which
    captures such code or refuses it. Raises RuntimeError with the reason when neither gives a usable graph.
    """
    wrapped = (_FirstOutput(module) if len(outputs) == 1 else module).eval()
    names = {"input_names": ["input"], "output_names": list(outputs)}
    hint = ""
    try:
        buffer = io.BytesIO()
        with warnings.catch_warnings(record=True) as caught, torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("always")
            torch.onnx.export(
                wrapped,
                (example,),
                buffer,  # type: ignore[arg-type]  # a file-like object is accepted at run time
                dynamo=False,
                opset_version=OPSET,
                dynamic_axes={name: {0: "batch"} for name in ("input", *outputs)},
                **names,  # type: ignore[arg-type]
            )
        hints = [str(w.message) for w in caught if _TRACER_HINT in str(w.message)]
        if not hints:
            return buffer.getvalue(), "legacy"
        hint = hints[0].split(". ")[0]
    except Exception as exc:  # the tracer raises many types; each means "not exportable this way"
        hint = f"{type(exc).__name__}: {first_line(exc)}"
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            torch.inference_mode(False),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                wrapped,
                (example,),
                dynamo=True,
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                verbose=False,
                **names,  # type: ignore[arg-type]
            )
            if program is None:
                raise RuntimeError("torch.onnx.export returned no program")
        return program.model_proto.SerializeToString(), "dynamo"
    except Exception as exc:  # torch.export raises many types for unsupported code
        raise RuntimeError(
            f"the export failed ({hint}; torch.export: {type(exc).__name__}: {first_line(exc)}). "
            "Data-dependent Python control flow in forward() cannot be exported."
        ) from None
