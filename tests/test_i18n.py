"""The UI's strings: data files every key of which has English and Chinese text with the same placeholders."""

from __future__ import annotations

import json
import re

import pytest

from core.i18n import STRINGS, STRINGS_DIR, t


def test_every_string_has_both_languages_and_the_same_placeholders() -> None:
    assert len(STRINGS) > 500
    for key, entry in STRINGS.items():
        assert set(entry) == {"en", "zh"} and entry["en"] and entry["zh"], key
        fields = [set(re.findall(r"{(\w+)", entry[lang].replace("{{", ""))) for lang in ("en", "zh")]
        assert fields[0] == fields[1], key


def test_no_key_is_defined_in_two_files() -> None:
    seen: dict[str, str] = {}
    for path in sorted(STRINGS_DIR.glob("*.json")):
        for key in json.loads(path.read_text(encoding="utf-8")):
            assert key not in seen, f"{key} in {seen.get(key)} and {path.name}"
            seen[key] = path.name
    assert set(seen) == set(STRINGS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lookup_formats_and_falls_back(lang: str) -> None:
    assert t("eval.title", lang) == STRINGS["eval.title"][lang]
    assert t("no.such.key", lang) == "no.such.key"  # visible, never a crash
