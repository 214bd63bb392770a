"""Plotly figures, built by pure functions: numbers in, `go.Figure` out (tested through `fig.data`).

- `core.charts.common`: the one palette, font, layout, log-T axis and safe label text every figure uses;
- `core.charts.prediction`: one prediction (logits vs probabilities, distribution, T sweep, entropy);
- `core.charts.lab`: the Logits Lab's figures (filters, sampling, dim=, headline, sweep);
- `core.charts.evaluate`: a dataset evaluation (reliability, confidence histogram, confusion matrix);
- `core.charts.pipeline`: the prediction pipeline as a Graphviz graph.

Every name is re-exported here, so `from core.charts import X` keeps working.
"""

from core.charts.common import (
    BLUE,
    CURVE_COLOURS,
    FILTER_K_COLOUR,
    FILTER_P_COLOUR,
    FONT,
    GREEN,
    GREY,
    INK,
    LEAF,
    LEGEND_BELOW,
    LOGIT_COLOUR,
    ORANGE,
    PROB_COLOUR,
    RED,
    REFERENCE_COLOUR,
    RIGHT_COLOUR,
    SIGMOID_COLOUR,
    T_TICKS,
    TEAL,
    WRONG_COLOUR,
    label_names,
    layout,
    legend_below,
    legend_right,
    safe_text,
    temperature_axis,
)
from core.charts.evaluate import (
    confidence_histogram_figure,
    confusion_matrix_figure,
    reliability_figure,
)
from core.charts.lab import (
    dim_softmax_figure,
    filters_figure,
    lab_headline_figure,
    lab_sweep_figure,
    sampling_figure,
)
from core.charts.pipeline import (
    pipeline_dot,
)
from core.charts.prediction import (
    class_sweep_figure,
    distribution_figure,
    entropy_figure,
    logits_vs_probs_figure,
    prediction_figures,
    scores_comparison_figure,
    temperature_sweep_figure,
)

__all__ = [
    "BLUE",
    "CURVE_COLOURS",
    "FILTER_K_COLOUR",
    "FILTER_P_COLOUR",
    "FONT",
    "GREEN",
    "GREY",
    "INK",
    "LEAF",
    "LEGEND_BELOW",
    "LOGIT_COLOUR",
    "ORANGE",
    "PROB_COLOUR",
    "RED",
    "REFERENCE_COLOUR",
    "RIGHT_COLOUR",
    "SIGMOID_COLOUR",
    "TEAL",
    "T_TICKS",
    "WRONG_COLOUR",
    "class_sweep_figure",
    "confidence_histogram_figure",
    "confusion_matrix_figure",
    "dim_softmax_figure",
    "distribution_figure",
    "entropy_figure",
    "filters_figure",
    "lab_headline_figure",
    "lab_sweep_figure",
    "label_names",
    "layout",
    "legend_below",
    "legend_right",
    "logits_vs_probs_figure",
    "pipeline_dot",
    "prediction_figures",
    "reliability_figure",
    "safe_text",
    "sampling_figure",
    "scores_comparison_figure",
    "temperature_axis",
    "temperature_sweep_figure",
]
