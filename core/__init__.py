"""logitscope core: what an image classifier really outputs, computed the way torch does.

A plain, typed library (it never imports streamlit): tensors, DataFrames and Plotly figures in and out.
`python -m core` is its command-line interface.
"""

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
]
