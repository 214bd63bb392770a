"""The names the Image Inspector used to import from here, now re-exported from the modules by kind.

New code imports from where things live:
- `core.analysis`: one image's path (`analyse`, `ImageResult`, `ImageView`, the preprocessing check's logits);
- `core.tables`: score tables, the many-images summary, the preprocessing check and two-model tables;
- `core.query`: "what about class X?", the class picker's search, numbers for people;
- `core.export`: CSV/JSON downloads and the Logits Lab handoff;
- `core.charts`: the figures; `core.images`: the thumbnail; `core.numerics`: scores, the temperature grid.
"""

from __future__ import annotations

from core.analysis import (
    DISPLAY_MIN_SIDE,
    PREVIEW_SIDE,
    VARIANT_IDS,
    ImageResult,
    ImageView,
    digest,
    error_message,
    image_view,
    normalisation_logits,
)
from core.charts import class_sweep_figure, prediction_figures
from core.export import export_csv, export_json, export_stem, export_table, lab_payload, prediction_record
from core.images import image_bytes, thumbnail
from core.numerics import ScoreKind, temperature_options
from core.query import ClassQuery, class_option_text, format_probability, format_ratio, query_class, search_labels
from core.tables import VariantResult, compare_models, compare_preprocessing, score_lines, score_table, summary_table

Scores = ScoreKind  # the old name of the softmax/sigmoid switch

__all__ = [
    "DISPLAY_MIN_SIDE",
    "PREVIEW_SIDE",
    "VARIANT_IDS",
    "ClassQuery",
    "ImageResult",
    "ImageView",
    "Scores",
    "VariantResult",
    "class_option_text",
    "class_sweep_figure",
    "compare_models",
    "compare_preprocessing",
    "digest",
    "error_message",
    "export_csv",
    "export_json",
    "export_stem",
    "export_table",
    "format_probability",
    "format_ratio",
    "image_bytes",
    "image_view",
    "lab_payload",
    "normalisation_logits",
    "prediction_figures",
    "prediction_record",
    "query_class",
    "score_lines",
    "score_table",
    "search_labels",
    "summary_table",
    "temperature_options",
    "thumbnail",
]
