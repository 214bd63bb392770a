"""logitscope core: what an image classifier really outputs, computed the way torch does.

A plain, typed library (it never imports streamlit): tensors, DataFrames and Plotly figures in and out.
`python -m core` is its command-line interface.

The names below are imported on first use (PEP 562), so `import core` costs nothing and
`from core import softmax` never loads torchvision, plotly or pandas; `from core import X` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "Check": "core.checks",
    "run_checks": "core.checks",
    "worst_status": "core.checks",
    "SETTINGS": "core.config",
    "Settings": "core.config",
    "CheckpointError": "core.errors",
    "ImageError": "core.errors",
    "InputError": "core.errors",
    "LabelError": "core.errors",
    "LogitscopeError": "core.errors",
    "ModelUnavailableError": "core.errors",
    "DecodedImage": "core.images",
    "decode_image": "core.images",
    "read_image_file": "core.images",
    "predict": "core.inference",
    "builtin_labels": "core.labels",
    "parse_label_file": "core.labels",
    "read_label_file": "core.labels",
    "validate_labels": "core.labels",
    "ClaimsReport": "core.numerics",
    "TopK": "core.numerics",
    "check_claims": "core.numerics",
    "entropy": "core.numerics",
    "inverse_softmax": "core.numerics",
    "log_softmax": "core.numerics",
    "naive_softmax": "core.numerics",
    "renormalise": "core.numerics",
    "sample": "core.numerics",
    "sigmoid": "core.numerics",
    "softmax": "core.numerics",
    "top_k": "core.numerics",
    "top_p_mask": "core.numerics",
    "Preprocessing": "core.preprocess",
    "LoadedModel": "core.registry",
    "ModelSpec": "core.registry",
    "get_spec": "core.registry",
    "list_models": "core.registry",
    "load_model": "core.registry",
    "full_table": "core.tables",
    "prediction_lines": "core.tables",
    "top_k_table": "core.tables",
}

__all__ = [
    "SETTINGS",
    "Check",
    "CheckpointError",
    "ClaimsReport",
    "DecodedImage",
    "ImageError",
    "InputError",
    "LabelError",
    "LoadedModel",
    "LogitscopeError",
    "ModelSpec",
    "ModelUnavailableError",
    "Preprocessing",
    "Settings",
    "TopK",
    "builtin_labels",
    "check_claims",
    "decode_image",
    "entropy",
    "full_table",
    "get_spec",
    "inverse_softmax",
    "list_models",
    "load_model",
    "log_softmax",
    "naive_softmax",
    "parse_label_file",
    "predict",
    "prediction_lines",
    "read_image_file",
    "read_label_file",
    "renormalise",
    "run_checks",
    "sample",
    "sigmoid",
    "softmax",
    "top_k",
    "top_k_table",
    "top_p_mask",
    "validate_labels",
    "worst_status",
]  # the same names as _EXPORTS (checked in tests/test_shared_state.py)


def __getattr__(name: str) -> Any:
    """Import the module behind a public name the first time it is asked for, and keep the value."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # type checkers and IDEs see the names as plain imports
    from core.checks import Check, run_checks, worst_status
    from core.config import SETTINGS, Settings
    from core.errors import (
        CheckpointError,
        ImageError,
        InputError,
        LabelError,
        LogitscopeError,
        ModelUnavailableError,
    )
    from core.images import DecodedImage, decode_image, read_image_file
    from core.inference import predict
    from core.labels import builtin_labels, parse_label_file, read_label_file, validate_labels
    from core.numerics import (
        ClaimsReport,
        TopK,
        check_claims,
        entropy,
        inverse_softmax,
        log_softmax,
        naive_softmax,
        renormalise,
        sample,
        sigmoid,
        softmax,
        top_k,
        top_p_mask,
    )
    from core.preprocess import Preprocessing
    from core.registry import LoadedModel, ModelSpec, get_spec, list_models, load_model
    from core.tables import full_table, prediction_lines, top_k_table
