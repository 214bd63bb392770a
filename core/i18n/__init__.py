"""Every string the UI and the CLI show, in English and Chinese, in one place.

The strings are data, one JSON file per area beside this module (`common`, `inspector`, `lab`, `evaluate`,
`diagnose`, `report`, `inputs`, `models`): {"key": {"en": "...", "zh": "..."}}. A translator edits those files, never
code; a new area is a new file. `t(key, lang)` looks a key up in all of them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final, Literal

Lang = Literal["en", "zh"]
LANGUAGES: Final[dict[str, str]] = {"en": "English", "zh": "中文"}
STRINGS_DIR: Final = Path(__file__).resolve().parent


def _load() -> dict[str, dict[str, str]]:
    strings: dict[str, dict[str, str]] = {}
    for path in sorted(STRINGS_DIR.glob("*.json")):
        area: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        clash = strings.keys() & area.keys()
        if clash:  # a key defined twice would silently shadow the other text
            raise RuntimeError(f"i18n keys defined twice ({path.name}): {sorted(clash)}")
        strings.update(area)
    return strings


STRINGS: Final[dict[str, dict[str, str]]] = _load()


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
