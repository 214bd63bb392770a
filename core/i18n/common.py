"""Strings shared by every page, the sidebar and the CLI: key -> {"en": ..., "zh": ...}."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # claims checker verdicts (core.numerics.check_claims)
    "claims.out_of_range": {
        "en": "Some claimed values are outside [0, 1]: these cannot be probabilities.",
        "zh": "部分声称的数值不在 [0, 1] 之内：它们不可能是概率。",
    },
    "claims.sum_above": {
        "en": "The claimed values sum to {percent}%: these are not one softmax, perhaps independent sigmoid scores.",
        "zh": "声称的数值之和为 {percent}%：它们不是同一个 softmax 的输出，可能是相互独立的 sigmoid 分数。",
    },
    "claims.sum_below": {
        "en": "The claimed values sum to only {percent}%: one softmax always sums to 100% (perhaps only the top-k were listed, or rounded).",
        "zh": "声称的数值之和只有 {percent}%：同一个 softmax 的输出之和总是 100%（可能只列出了前 k 个，或经过了舍入）。",
    },
    "claims.all_ok": {
        "en": "All {n} claimed probabilities match softmax of these logits.",
        "zh": "全部 {n} 个声称的概率都与这些 logits 的 softmax 一致。",
    },
    "claims.wrong_values": {
        "en": "The claims sum to {percent}% as one softmax would, but {wrong} of {n} values do not match these logits.",
        "zh": "声称的数值之和为 {percent}%，符合 softmax 的特征，但 {n} 个数值中有 {wrong} 个与这些 logits 不符。",
    },
    # checklist (core.checks): "check.<name>.<status>"
    "check.logits_finite.pass": {"en": "All {n} logits are finite.", "zh": "全部 {n} 个 logits 都是有限值。"},
    "check.logits_finite.fail": {
        "en": "Logits contain {nan} NaN and {inf} infinite values: the model or its input is broken.",
        "zh": "logits 中有 {nan} 个 NaN 和 {inf} 个无穷值：模型或输入出了问题。",
    },
    "check.logits_varied.pass": {
        "en": "Logits range from {min:.3f} to {max:.3f} (spread {spread:.3f}).",
        "zh": "logits 的范围是 {min:.3f} 到 {max:.3f}（跨度 {spread:.3f}）。",
    },
    "check.logits_varied.fail": {
        "en": "Every logit equals {value:g}: the output does not depend on the classes (untrained head? blank input?).",
        "zh": "所有 logits 都等于 {value:g}：输出与类别无关（分类头未训练？输入为空白？）。",
    },
    "check.not_probabilities.pass": {
        "en": "The logits do not look like probabilities (sum {sum:.3f}).",
        "zh": "这些 logits 看起来不是概率（总和 {sum:.3f}）。",
    },
    "check.not_probabilities.warn": {
        "en": "These 'logits' are all in [0, 1] and sum to {sum:.3f}: they look like probabilities already. Softmax on them again (double softmax) flattens everything.",
        "zh": "这些“logits”都在 [0, 1] 内且总和为 {sum:.3f}：它们看起来已经是概率了。再做一次 softmax（双重 softmax）会把分布压平。",
    },
    "check.softmax_sums_to_one.pass": {
        "en": "Softmax at T = {temperature:g} sums to {sum:.6f}.",
        "zh": "T = {temperature:g} 时 softmax 之和为 {sum:.6f}。",
    },
    "check.softmax_sums_to_one.fail": {
        "en": "Softmax at T = {temperature:g} sums to {sum:.6f}, not 1.",
        "zh": "T = {temperature:g} 时 softmax 之和为 {sum:.6f}，不等于 1。",
    },
    "check.top_k_in_labels.pass": {
        "en": "All top-{k} indices are inside the label list ({labels} names).",
        "zh": "前 {k} 个索引都在标签列表（{labels} 个名称）之内。",
    },
    "check.top_k_in_labels.fail": {
        "en": "Top-{k} indices {outside} are past the end of the label list ({labels} names): they have no name.",
        "zh": "前 {k} 个中的索引 {outside} 超出了标签列表（{labels} 个名称）：它们没有名称。",
    },
    "check.label_count.pass": {
        "en": "{labels} labels for {classes} classes.",
        "zh": "{labels} 个标签对应 {classes} 个类别。",
    },
    "check.label_count.fail": {
        "en": "{labels} labels for {classes} classes: indices map to the wrong names.",
        "zh": "{labels} 个标签对应 {classes} 个类别：索引会对应到错误的名称。",
    },
}
