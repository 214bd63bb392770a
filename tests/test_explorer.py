"""core.explorer: the data the client-side explorer gets (exact logits, safe JSON, wording it can fill in) and its
place in the HTML report. What the browser computes from it is checked against torch in
tests/browser/test_explorer_browser.py."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import numpy as np
import pytest
import torch

from core.errors import InputError
from core.explorer.embed import LABELS_ID, explorer_box, explorer_script, labels_block
from core.explorer.payload import (
    COLUMNS,
    STRING_KEYS,
    asset,
    class_data,
    explorer_data,
    explorer_strings,
    json_script_text,
    pack_logits,
    view_data,
)
from core.i18n import STRINGS
from core.numerics import TEMPERATURES
from core.report.inspector import inspector_report

HOSTILE = "</script><script>window.__pwned = 1</script><!-- & \u2028"


def _unpack(data: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data["logits"]), dtype="<f4" if data["dtype"] == "float32" else "<f8")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_logits_reach_the_browser_exactly(dtype) -> None:
    z = (torch.randn(1000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 7).to(dtype)
    kind, packed = pack_logits(z)
    assert kind == ("float32" if dtype == torch.float32 else "float64")  # float64 holds every smaller float
    values = np.frombuffer(base64.b64decode(packed), dtype="<f4" if kind == "float32" else "<f8")
    assert np.array_equal(values, z.to(torch.float64).numpy())


def test_explorer_data_names_every_class_and_checks_the_settings() -> None:
    z = torch.tensor([0.5, 2.0, -1.0])
    data = explorer_data(z, ["a", "b"], temperature=1.3, k=9, k_max=20, top_p=0.9, lang="zh")
    assert data["labels"] == ["a", "b", "#2"] and data["n"] == 3  # core.labels.label_of's name for a missing one
    assert data["k"] == data["k_max"] == 3 and data["top_p"] == 0.9 and data["lang"] == "zh"
    assert data["temperatures"] == list(TEMPERATURES) and data["temperature"] == 1.3
    assert data["strings"] == explorer_strings("zh") and data["strings"]["col_rank"] == "排名"
    assert data["revision"] != explorer_data(z, ["a", "c"], temperature=1, k=1, lang="en")["revision"]
    assert data["revision"] == explorer_data(z, ["a", "b"], temperature=2, k=1, lang="en")["revision"]
    for bad in ({"temperature": 0.0}, {"temperature": 21.0}, {"top_p": 0.0}, {"top_p": 1.5}):
        with pytest.raises(InputError):
            explorer_data(z, ["a"], **{"temperature": 1.0, "k": 1, "lang": "en", **bad})
    assert json.loads(json.dumps(data)) == data  # plain JSON: what Streamlit sends and the report embeds


def test_explorer_data_is_its_classes_and_its_view() -> None:
    z = torch.tensor([0.5, 2.0, -1.0, 4.0])
    whole = explorer_data(z, ["a", "b"], temperature=2.0, k=2, lang="en")
    assert whole == view_data(4, temperature=2.0, k=2, lang="en") | class_data(z, ["a", "b"])
    assert whole["rows"] == "top" and whole["columns"] == list(COLUMNS) and whole["chart_n"] is None
    # the Logits Lab's layout: every class in its order, the tail as one row, ticks, the top classes' bars
    lab = view_data(
        4, temperature=1.0, k=9, lang="en", top_p=0.9, k_max=4, rows="all", shown=9, rest_label="rest",
        columns=("label", "probability", "reference", "rank", "top_k", "top_p"), chart_n=12,
        probability_format="decimal",
    )  # fmt: skip
    assert (lab["shown"], lab["chart_n"], lab["k"], lab["k_max"]) == (4, 4, 4, 4)  # clipped to the class count
    with pytest.raises(ValueError, match="unknown explorer columns"):
        view_data(4, temperature=1.0, k=1, lang="en", columns=("label", "nope"))  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_string_has_only_fields_the_explorer_fills(lang) -> None:
    strings = explorer_strings(lang)
    assert set(strings) == set(STRING_KEYS)
    for name, key in STRING_KEYS.items():
        assert lang in STRINGS[key], f"{key} has no {lang} text"
        for spec in re.findall(r"\{\w+([^}]*)\}", strings[name]):
            assert re.fullmatch(r"|:g|:\.\d+f", spec), f"{name}: the explorer cannot format {{...{spec}}}"


def test_json_for_a_script_block_keeps_markup_out() -> None:
    text = json_script_text({"labels": [HOSTILE], "n": 1})
    assert not set(text) & set("<>&\u2028\u2029")
    assert json.loads(text) == {"labels": [HOSTILE], "n": 1}


def test_the_shared_assets_are_safe_to_inline() -> None:
    script = explorer_script()
    assert script.count("</script") == 1 and "<!--" not in script and "mountAll(document, " in script
    assert "export function mount(" in asset("js") and "fetch(" not in asset("js") and "import " not in asset("js")
    assert 'class="lx-root"' in asset("html") and "url(" not in asset("css") and "@import" not in asset("css")


def test_report_box_shares_one_label_list() -> None:
    data = explorer_data(torch.tensor([1.0, 2.0]), [HOSTILE, "b"], temperature=1.0, k=2, lang="en")
    box, block = explorer_box(data), labels_block([HOSTILE], 2)
    inner = re.search(r'class="lx-data">(.*?)</script>', box)
    assert inner is not None and json.loads(inner.group(1))["labels"] == LABELS_ID
    assert HOSTILE not in box + block and json.loads(re.sub(r"^<[^>]+>|</script>$", "", block)) == [HOSTILE, "#1"]


def test_report_embeds_each_images_logits_and_keeps_the_static_copy(lite0, sample) -> None:
    from core.analysis import analyse

    results = [analyse(lite0, f"{name}.png", sample(name).read_bytes()) for name in ("coffee", "chelsea")]
    labels = [HOSTILE if i == 967 else f"class {i}" for i in range(1000)]
    when = datetime(2026, 1, 1, tzinfo=UTC)
    page = inspector_report(results, labels, model="m", temperature=2.0, k=3, generated=when)
    blocks = [json.loads(b) for b in re.findall(r'class="lx-data">(.*?)</script>', page)]
    assert [b["temperature"] for b in blocks] == [2.0, 2.0] and [b["k"] for b in blocks] == [3, 3]
    for block, result in zip(blocks, results, strict=True):
        assert np.array_equal(_unpack(block), result.logits.numpy())  # float32, bit for bit
    assert page.count(f'id="{LABELS_ID}"') == 1 and HOSTILE not in page
    assert page.count('class="lx-static"') == 2 and "section.lx-on .lx-static { display: none; }" in page
    # the static table at T = 2 is still there for a reader without JavaScript
    assert f"{float(torch.softmax(results[0].logits.double() / 2, -1)[967]):.2%}" in page
    # no live explorer where it could not be exact or on its slider: sigmoid scores, a T off the grid
    for settings in ({"scores": "sigmoid"}, {"temperature": 40.0}):
        other = inspector_report(results[:1], labels, model="m", k=3, generated=when, **settings)
        assert "lx-data" not in other and '<script type="module">' not in other and "lx-static" not in other
