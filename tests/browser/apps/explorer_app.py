"""A page with the logits explorer alone, for the browser tests and benchmarks/bench_explorer.py.

    ?case=coffee   EfficientNet-Lite0's logits for coffee.png (1,000 ImageNet classes), the default
    ?case=large    50,000 seeded random logits with tied classes, and top-p on
    &lang=zh       the Chinese wording and labels
    &path=server   the same numbers the old way (select_slider → st.dataframe + Plotly), bench_explorer's baseline

A button makes the page ask for T = 2, as a shared link or a reset would.
The page writes the settings Python heard ("python: T=..."). With LOGITSCOPE_EXPLORER_DUMP=<folder> set, it also
saves the logits it gave the explorer as <folder>/<case>.pt: the tests' oracle gets exactly those.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository (streamlit puts this folder first)

from core.analysis import analyse
from core.charts.prediction import logits_vs_probs_figure
from core.labels import builtin_labels
from core.models.registry import load_model
from core.numerics import TEMPERATURES
from core.prediction.tables import top_k_table
from core.samples import sample_path
from tests.browser.apps.explorer_cases import large_labels, large_logits
from ui.explorer import logits_explorer


@st.cache_resource
def coffee_logits() -> torch.Tensor:
    sample = sample_path("coffee")
    result = analyse(load_model("efficientnet_lite0"), sample.name, sample.read_bytes())
    assert result.logits is not None, result.error
    return result.logits


params = st.query_params
case, lang = params.get("case", "coffee"), params.get("lang", "en")
if case == "large":
    logits, labels, top_p, k = st.cache_resource(large_logits)(), st.cache_resource(large_labels)(), 0.5, 10
else:
    logits, labels, top_p, k = coffee_logits(), builtin_labels("imagenet", lang), None, 5
if (folder := os.environ.get("LOGITSCOPE_EXPLORER_DUMP")) and not (Path(folder) / f"{case}.pt").exists():
    torch.save(logits, Path(folder) / f"{case}.pt")  # once: a test may be reading it during a later rerun

if params.get("path") == "server":
    temperature = st.select_slider("Temperature T", TEMPERATURES, value=1.0, format_func=lambda v: f"{v:g}")
    table = top_k_table(logits, labels, k=k, temperature=temperature)
    st.dataframe(table[["rank", "label", "logit", "probability", "cumulative"]], hide_index=True)
    st.plotly_chart(logits_vs_probs_figure(logits, labels, temperature=temperature, top_n=k, lang=lang))
    st.text(f"python: T={temperature!r}")
else:
    if st.button("Ask for T = 2"):  # a new value from the page (a link, a reset) wins over the user's
        st.session_state["asked"] = 2.0
    asked = st.session_state.get("asked", 1.0)
    state = logits_explorer(logits, labels, temperature=asked, k=k, top_p=top_p, lang=lang, key="explorer")
    st.text(f"python: T={state.temperature!r} k={state.k} top_p={state.top_p!r}")
