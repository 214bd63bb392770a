"""Strings of the uncertainty tools (out-of-distribution scores, prediction sets, abstaining, calibration depth):
key -> {"en": ..., "zh": ...}. The figures' texts are here now; the pages' come with them."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # score names, as every figure and readout says them
    "unc.score.msp": {"en": "max softmax probability", "zh": "最大 softmax 概率"},
    "unc.score.max_logit": {"en": "max logit", "zh": "最大 logit"},
    "unc.score.energy": {"en": "energy (T·logsumexp(z/T))", "zh": "能量（T·logsumexp(z/T)）"},
    "unc.score.entropy": {"en": "entropy (nats)", "zh": "熵（nats）"},
    # out of distribution
    "unc.chart.inside": {"en": "inside (evaluated set)", "zh": "分布内（已评估的数据集）"},
    "unc.chart.outside": {"en": "outside", "zh": "分布外"},
    "unc.chart.share": {"en": "share of the set", "zh": "占该集合比例"},
    "unc.chart.histogram": {"en": "{score}: inside vs outside", "zh": "{score}：分布内 vs 分布外"},
    "unc.chart.histogram_hover": {
        "en": "%{x:.4g}: %{y:.1%} of the set<extra>%{fullData.name}</extra>",
        "zh": "%{x:.4g}：占该集合 %{y:.1%}<extra>%{fullData.name}</extra>",
    },
    "unc.chart.threshold": {"en": "threshold {value:.4g}", "zh": "阈值 {value:.4g}"},
    "unc.chart.roc": {"en": "ROC: inside (positive) vs outside", "zh": "ROC：分布内（正类）vs 分布外"},
    "unc.chart.fpr": {"en": "outside images accepted (FPR)", "zh": "被接受的分布外图片（FPR）"},
    "unc.chart.tpr": {"en": "inside images accepted (TPR)", "zh": "被接受的分布内图片（TPR）"},
    "unc.chart.chance": {"en": "chance", "zh": "随机猜测"},
    "unc.chart.roc_name": {"en": "{score} (AUROC {auroc:.3f})", "zh": "{score}（AUROC {auroc:.3f}）"},
    "unc.chart.fpr95_name": {"en": "FPR at 95% TPR", "zh": "TPR 为 95% 时的 FPR"},
    "unc.chart.roc_hover": {
        "en": "outside accepted %{x:.1%}<br>inside accepted %{y:.1%}<extra>%{fullData.name}</extra>",
        "zh": "接受分布外 %{x:.1%}<br>接受分布内 %{y:.1%}<extra>%{fullData.name}</extra>",
    },
    # selective prediction
    "unc.chart.risk_coverage": {
        "en": "Risk–coverage: error among the images kept",
        "zh": "风险–覆盖率：保留图片中的错误率",
    },
    "unc.chart.coverage": {
        "en": "coverage (share of images kept, most confident first)",
        "zh": "覆盖率（按置信度从高到低保留的图片比例）",
    },
    "unc.chart.risk": {"en": "error rate among the kept images", "zh": "保留图片中的错误率"},
    "unc.chart.curve_name": {"en": "{name} (AURC {aurc:.4f})", "zh": "{name}（AURC {aurc:.4f}）"},
    "unc.chart.abstain_mark": {
        "en": "threshold: keep {kept}, abstain on {abstained}",
        "zh": "阈值：保留 {kept} 张，放弃 {abstained} 张",
    },
    "unc.chart.risk_hover": {
        "en": "keep %{x:.1%}<br>error %{y:.2%}<extra>%{fullData.name}</extra>",
        "zh": "保留 %{x:.1%}<br>错误率 %{y:.2%}<extra>%{fullData.name}</extra>",
    },
    # prediction sets
    "unc.chart.set_sizes": {"en": "Prediction set sizes", "zh": "预测集合大小"},
    "unc.chart.set_size": {"en": "classes in the set", "zh": "集合中的类别数"},
    "unc.chart.images": {"en": "images", "zh": "图片数"},
    "unc.chart.set_size_hover": {
        "en": "%{x} classes: %{y} images<extra></extra>",
        "zh": "%{x} 个类别：%{y} 张图片<extra></extra>",
    },
    "unc.chart.coverage_by_class": {"en": "Coverage per class (weakest first)", "zh": "各类别覆盖率（最弱的在前）"},
    "unc.chart.class_coverage": {"en": "true class in the set", "zh": "真实类别在集合中"},
    "unc.chart.target": {"en": "promised {value:.0%}", "zh": "承诺 {value:.0%}"},
    "unc.chart.class_hover": {
        "en": "%{x}: %{y:.1%} of %{customdata[0]} images<br>mean set size %{customdata[1]:.2f}<extra></extra>",
        "zh": "%{x}：%{customdata[0]} 张图片中 %{y:.1%}<br>平均集合大小 %{customdata[1]:.2f}<extra></extra>",
    },
    "unc.chart.by_temperature": {
        "en": "Set size and coverage across temperature",
        "zh": "不同温度下的集合大小与覆盖率",
    },
    "unc.chart.mean_set_size": {"en": "mean set size", "zh": "平均集合大小"},
    "unc.chart.test_coverage": {"en": "coverage on the test half", "zh": "测试半集上的覆盖率"},
    "unc.chart.empty_share": {"en": "empty sets", "zh": "空集合"},
    # calibration depth
    "unc.chart.adaptive": {"en": "Adaptive reliability (equal-count bins)", "zh": "自适应可靠性图（等数量分箱）"},
    "unc.chart.classwise": {"en": "Classwise reliability (worst classes)", "zh": "按类别的可靠性图（最差的类别）"},
    "unc.chart.adaptive_hover": {
        "en": "confidence %{customdata[0]:.3f}–%{customdata[1]:.3f}: %{customdata[2]} images<br>"
        "mean confidence %{x:.1%}<br>accuracy %{y:.1%}<extra></extra>",
        "zh": "置信度 %{customdata[0]:.3f}–%{customdata[1]:.3f}：%{customdata[2]} 张图片<br>"
        "平均置信度 %{x:.1%}<br>准确率 %{y:.1%}<extra></extra>",
    },
    "unc.chart.class_name": {"en": "{label} (ECE {ece:.3f})", "zh": "{label}（ECE {ece:.3f}）"},
    "unc.chart.class_probability": {"en": "probability of the class", "zh": "该类别的概率"},
    "unc.chart.class_frequency": {"en": "share that is the class", "zh": "确为该类别的比例"},
}
