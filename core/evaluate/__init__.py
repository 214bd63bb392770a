"""Evaluating a model on a labelled set: batched inference, metrics, calibration, temperature scaling.

- `core.evaluate.run`: the data path (`evaluate`, `EvalResult`, `Progress`);
- `core.evaluate.metrics`: accuracy, NLL, Brier, ECE/MCE, temperature fitting (`calibrate`);
- `core.evaluate.results`: per-image/per-class/confusion tables, results files, the CLI summary.

Its figures are in `core.charts.evaluate`, gallery thumbnails are `core.images.thumbnail`.

Every name is re-exported here, so `from core.evaluate import X` works for all of them.
"""

from core.charts.evaluate import (  # the figures live with the other figures; re-exported for old callers
    confidence_histogram_figure,
    confusion_matrix_figure,
    reliability_figure,
)
from core.evaluate.metrics import (
    DEFAULT_BINS,
    TOP_K,
    Metrics,
    TemperatureFit,
    brier_score,
    calibrate,
    calibration_table,
    check_scored,
    compute_metrics,
    confidence_and_correct,
    expected_calibration_error,
    fit_temperature,
    looks_like_probabilities,
    max_calibration_error,
    nll,
    top_k_accuracy,
)
from core.evaluate.results import (
    LOGIT_PREFIX,
    ArrayLike,
    confused_pairs,
    confusion_matrix,
    least_confident_correct,
    most_confident_mistakes,
    per_class_table,
    read_results,
    records_table,
    results_bytes,
    results_frame,
    shown_classes,
    summary,
)
from core.evaluate.run import (
    DEFAULT_BATCH_SIZE,
    MIN_WORKER_SECONDS,
    WORKER_TIMEOUT_S,
    EvalResult,
    ImageFileDataset,
    Progress,
    choose_workers,
    collate,
    default_batch_size,
    evaluate,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BINS",
    "LOGIT_PREFIX",
    "MIN_WORKER_SECONDS",
    "TOP_K",
    "WORKER_TIMEOUT_S",
    "ArrayLike",
    "EvalResult",
    "ImageFileDataset",
    "Metrics",
    "Progress",
    "TemperatureFit",
    "brier_score",
    "calibrate",
    "calibration_table",
    "check_scored",
    "choose_workers",
    "collate",
    "compute_metrics",
    "confidence_and_correct",
    "confidence_histogram_figure",
    "confused_pairs",
    "confusion_matrix",
    "confusion_matrix_figure",
    "default_batch_size",
    "evaluate",
    "expected_calibration_error",
    "fit_temperature",
    "least_confident_correct",
    "looks_like_probabilities",
    "max_calibration_error",
    "most_confident_mistakes",
    "nll",
    "per_class_table",
    "read_results",
    "records_table",
    "reliability_figure",
    "results_bytes",
    "results_frame",
    "shown_classes",
    "summary",
    "top_k_accuracy",
]
