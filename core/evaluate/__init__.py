"""Evaluating a model on a labelled set: batched inference, metrics, calibration, temperature scaling.

- `core.evaluate.run`: the data path (`evaluate`, `EvalResult`, `Progress`);
- `core.evaluate.metrics`: accuracy, NLL, Brier, ECE/MCE, temperature fitting (`calibrate`);
- `core.evaluate.results`: per-image/per-class/confusion tables, results files, the CLI summary.

Its figures are in `core.charts.evaluate`, gallery thumbnails are `core.images.thumbnail`.

Every name is re-exported here, so `from core.evaluate import X` works for all of them; they are imported
on first use (PEP 562), so `from core.evaluate import Progress` does not load pandas or plotly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "confidence_histogram_figure": "core.charts.evaluate",
    "confusion_matrix_figure": "core.charts.evaluate",
    "reliability_figure": "core.charts.evaluate",
    "DEFAULT_BINS": "core.evaluate.metrics",
    "TOP_K": "core.evaluate.metrics",
    "Metrics": "core.evaluate.metrics",
    "TemperatureFit": "core.evaluate.metrics",
    "brier_score": "core.evaluate.metrics",
    "calibrate": "core.evaluate.metrics",
    "calibration_table": "core.evaluate.metrics",
    "check_scored": "core.evaluate.metrics",
    "compute_metrics": "core.evaluate.metrics",
    "confidence_and_correct": "core.evaluate.metrics",
    "expected_calibration_error": "core.evaluate.metrics",
    "fit_temperature": "core.evaluate.metrics",
    "looks_like_probabilities": "core.evaluate.metrics",
    "max_calibration_error": "core.evaluate.metrics",
    "nll": "core.evaluate.metrics",
    "top_k_accuracy": "core.evaluate.metrics",
    "LOGIT_PREFIX": "core.evaluate.results",
    "ArrayLike": "core.evaluate.results",
    "confused_pairs": "core.evaluate.results",
    "confusion_matrix": "core.evaluate.results",
    "least_confident_correct": "core.evaluate.results",
    "most_confident_mistakes": "core.evaluate.results",
    "per_class_table": "core.evaluate.results",
    "read_results": "core.evaluate.results",
    "records_table": "core.evaluate.results",
    "results_bytes": "core.evaluate.results",
    "results_frame": "core.evaluate.results",
    "shown_classes": "core.evaluate.results",
    "summary": "core.evaluate.results",
    "DEFAULT_BATCH_SIZE": "core.evaluate.run",
    "MIN_WORKER_SECONDS": "core.evaluate.run",
    "WORKER_TIMEOUT_S": "core.evaluate.run",
    "EvalResult": "core.evaluate.run",
    "ImageFileDataset": "core.evaluate.run",
    "Progress": "core.evaluate.run",
    "choose_workers": "core.evaluate.run",
    "collate": "core.evaluate.run",
    "default_batch_size": "core.evaluate.run",
    "evaluate": "core.evaluate.run",
    "overlaps_decoding": "core.evaluate.run",
}

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
    "overlaps_decoding",
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


def __getattr__(name: str) -> Any:
    """Import the module behind a public name (or a submodule: `run`, `metrics`, ...) on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":  # the submodule exists but needs something missing
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
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
        overlaps_decoding,
    )
