"""UI strings of the set-debugging tools (label issues, per class, map, look-alikes, two models, slices)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # figures
    "diag.chart.map": {"en": "Embedding map (penultimate-layer features)", "zh": "嵌入图（倒数第二层特征）"},
    "diag.chart.images": {"en": "images", "zh": "图片"},
    "diag.chart.mistakes": {"en": "wrong prediction", "zh": "预测错误"},
    "diag.chart.issues": {"en": "likely label error", "zh": "疑似标注错误"},
    "diag.chart.selected": {"en": "selected", "zh": "已选"},
    "diag.chart.point_hover": {
        "en": "row %{customdata[0]}<br>%{text}<extra></extra>",
        "zh": "第 %{customdata[0]} 行<br>%{text}<extra></extra>",
    },
    "diag.chart.other": {"en": "other", "zh": "其他"},
    "diag.chart.log_count": {"en": "log10(1 + count)", "zh": "log10(1 + 数量)"},
    "diag.chart.row_share": {"en": "share of row", "zh": "占该行比例"},
    "diag.chart.cell_hover": {
        "en": "true %{y}<br>predicted %{x}<br>%{customdata} images<extra></extra>",
        "zh": "真实 %{y}<br>预测 %{x}<br>%{customdata} 张<extra></extra>",
    },
    "diag.chart.predicted": {"en": "predicted class", "zh": "预测类别"},
    "diag.chart.true": {"en": "true class", "zh": "真实类别"},
    "diag.chart.confusion": {
        "en": "Confusion among the {n} most confused classes",
        "zh": "最易混淆的 {n} 个类别之间的混淆",
    },
}
