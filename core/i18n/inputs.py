"""Strings of core.safe_io (user JSON and CSV read with limits): key -> {"en": ..., "zh": ...}."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "io.too_large": {
        "en": "{name}: {size:,} bytes, over the {limit:,}-byte limit for this kind of file.",
        "zh": "{name}：{size:,} 字节，超过了此类文件 {limit:,} 字节的上限。",
    },
    "io.json_invalid": {
        "en": "{name}: not valid JSON ({detail}, line {line}, column {column}).",
        "zh": "{name}：不是有效的 JSON（{detail}，第 {line} 行第 {column} 列）。",
    },
    "io.json_deep": {
        "en": "{name}: JSON nested more than {limit} levels deep; a label or logits file needs 2 or 3.",
        "zh": "{name}：JSON 嵌套超过 {limit} 层；标签或 logits 文件只需要 2 到 3 层。",
    },
    "io.json_number": {
        "en": "{name}: a number with {chars} characters ('{text}…'), over the limit of {limit}.",
        "zh": "{name}：有一个长达 {chars} 个字符的数字（“{text}…”），超过 {limit} 个字符的上限。",
    },
    "io.csv_field": {
        "en": "{name}: line {line} has a field longer than {limit:,} characters (an unclosed quote?); not a usable CSV.",
        "zh": "{name}：第 {line} 行有一个字段超过 {limit:,} 个字符（引号没有闭合？）；无法作为 CSV 使用。",
    },
    "io.csv_invalid": {
        "en": "{name}: line {line} is not valid CSV ({detail}).",
        "zh": "{name}：第 {line} 行不是有效的 CSV（{detail}）。",
    },
    "io.csv_rows": {
        "en": "{name}: more than {limit:,} rows, over the limit.",
        "zh": "{name}：超过 {limit:,} 行，超出上限。",
    },
    "io.not_utf8": {
        "en": (
            "{name}: not UTF-8 text (byte {position} is 0x{byte:02X}, as in a legacy encoding such as GBK, "
            "Shift-JIS or Windows-1252); save the file as UTF-8 (or UTF-16)."
        ),
        "zh": (
            "{name}：不是 UTF-8 文本（第 {position} 个字节是 0x{byte:02X}，像 GBK、Shift-JIS 或 Windows-1252 "
            "等旧编码）；请另存为 UTF-8（或 UTF-16）。"
        ),
    },
    "io.utf16_no_bom": {
        "en": (
            "{name}: looks like UTF-16 text without a byte-order mark (or not text at all); save it as UTF-8 "
            "(or UTF-16 with BOM)."
        ),
        "zh": "{name}：像是没有字节顺序标记（BOM）的 UTF-16 文本（或根本不是文本）；请另存为 UTF-8（或带 BOM 的 UTF-16）。",
    },
    "io.bad_unicode": {
        "en": "{name}: starts with a {encoding} byte-order mark but byte {position} is not valid {encoding}.",
        "zh": "{name}：以 {encoding} 字节顺序标记开头，但第 {position} 个字节不是有效的 {encoding}。",
    },
}
