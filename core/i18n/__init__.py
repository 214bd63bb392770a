"""Every string the UI and the CLI show, in English and Chinese, in one place.

Strings live in per-area modules (`common`, `inspector`, `lab`, `evaluate`) so that pages can grow
their own without editing one big file; `t(key, lang)` looks a key up in all of them.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from core.i18n import common, diagnose, evaluate, inputs, inspector, lab, report, uncertainty

Lang = Literal["en", "zh"]
LANGUAGES: Final[dict[str, str]] = {"en": "English", "zh": "中文"}

STRINGS: Final[dict[str, dict[str, str]]] = {}
for _module in (common, inspector, lab, evaluate, inputs, report, diagnose, uncertainty):
    _clash = STRINGS.keys() & _module.STRINGS.keys()
    if _clash:  # a key defined twice would silently shadow the other text
        raise RuntimeError(f"i18n keys defined twice: {sorted(_clash)}")
    STRINGS.update(_module.STRINGS)


def escape_markdown(text: str) -> str:
    """`text` with every ASCII punctuation mark backslash-escaped and whitespace folded to single spaces,
    so Markdown shows a label or file name literally (a newline could otherwise start a heading or list)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(str(text).split()))


def t(key: str, lang: str = "en", /, **params: object) -> str:
    """Return the text for `key` in `lang` (falling back to English), formatted with `params`.

    An unknown key returns the key itself, so a missing string is visible but never crashes a page.
    """
    entry = STRINGS.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**params) if params else text
