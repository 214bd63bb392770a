"""What `python -m core evaluate --json` prints about a run (a contract other tools read)."""

from __future__ import annotations

from core.evaluate.metrics import TemperatureFit
from core.evaluate.result import EvalResult


def summary(result: EvalResult, fit: TemperatureFit) -> dict[str, object]:
    """The JSON the CLI prints: n, top1, top5, ece, nll, fitted_temperature, ece_after, nll_after,
    images_per_second, errors [{file, error}] (plus brier and mce before/after, model, seconds, temperature: the
    T of the figures without "_after", 1 unless asked), notes [sentences about the set: how a zip's names were
    decoded, OS metadata left out] and file_notes {file: [sentences]} for the images something was done to (EXIF
    turn, CMYK, upscaled 8×, only the centre seen)."""
    return {
        "n": result.n,
        "top1": fit.before.top1,
        "top5": fit.before.top5,
        "ece": fit.before.ece,
        "nll": fit.before.nll,
        "fitted_temperature": fit.temperature,
        "ece_after": fit.after.ece,
        "nll_after": fit.after.nll,
        "images_per_second": result.images_per_second,
        "errors": [{"file": e.name, "error": e.reason} for e in result.errors],
        "brier": fit.before.brier,
        "brier_after": fit.after.brier,
        "mce": fit.before.mce,
        "mce_after": fit.after.mce,
        "model": result.model,
        "seconds": result.seconds,
        "probabilities_warning": fit.probabilities_warning,
        "notes": list(result.notes),
        "file_notes": {file: list(notes) for file, notes in result.file_notes.items()},
        "temperature": fit.before.temperature,
    }
