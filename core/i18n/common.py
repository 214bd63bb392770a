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
}
