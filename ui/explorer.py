"""The client-side logits explorer as a Streamlit component (components v2: inline HTML/CSS/JS, no iframe).

The logits go to the browser once; moving T, k or top-p redraws the table and chart there, with no rerun. The
settings the user leaves reach Python (on release, and after each key press once the keys pause), so links,
downloads and the rest of the page follow:

    state = logits_explorer(result.logits, labels, temperature=1.0, k=5, lang=lang, key="home_explorer")
    state.temperature, state.k, state.top_p  # what the user left the controls at
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import streamlit as st
from torch import Tensor

from core.explorer.payload import asset, explorer_data
from core.numerics import TEMPERATURES

# Streamlit calls the module's default export with the mount's data on each render whose data changed: the first
# call mounts, the others hand the explorer its new data (it keeps the user's settings unless Python asks anew).
_STREAMLIT_GLUE = """
const explorers = new WeakMap();
export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement.querySelector('.lx-root');
  const explorer = explorers.get(root);
  if (explorer) explorer.update(data);
  else explorers.set(root, mount(root, data, { onCommit: (settings) => setStateValue('settings', settings) }));
}
"""

_COMPONENT = st.components.v2.component(
    "logitscope.logits_explorer",
    html=asset("html"),
    css=asset("css"),
    js=asset("js") + _STREAMLIT_GLUE,
    isolate_styles=True,  # its own shadow root: the app's CSS and the explorer's never meet
)


@dataclass(frozen=True)
class ExplorerState:
    """The settings the user left the explorer at (or the ones the page gave, before any move)."""

    temperature: float
    k: int
    top_p: float | None


def _noop() -> None:
    """The explorer's settings are read from its return value; a state needs a callback to be registered."""


def _checked(sent: dict[str, object], given: ExplorerState, *, k_max: int) -> ExplorerState:
    """The settings the browser sent, each one that is not a sensible value replaced by the page's."""
    t, k, p = sent.get("temperature"), sent.get("k"), sent.get("top_p")
    return ExplorerState(
        float(t) if isinstance(t, int | float) and TEMPERATURES[0] <= t <= TEMPERATURES[-1] else given.temperature,
        k if isinstance(k, int) and 1 <= k <= k_max else given.k,
        float(p) if given.top_p is not None and isinstance(p, int | float) and 0 < p <= 1 else given.top_p,
    )


def logits_explorer(
    logits: Tensor,
    labels: Sequence[str],
    *,
    temperature: float,
    k: int,
    top_p: float | None = None,
    lang: str,
    key: str,
    k_max: int = 20,
    show_k: bool = True,
) -> ExplorerState:
    """Mount the explorer for one vector of logits; returns the settings the user left it at.

    Settings given here that differ from those given on the previous run (a link, a reset) win over what the user
    had chosen, in the browser and in the returned state, until the user moves a control again.

    Args:
        logits: one vector of logits; labels: their names.
        temperature, k, top_p: the settings to show (top_p None: no top-p control).
        lang: "en" or "zh"; key: the mount's key, unique on the page.
        k_max: the k control's upper end; show_k: whether it is shown at all.
    """
    data = explorer_data(
        logits, labels, temperature=temperature, k=k, top_p=top_p, lang=lang, k_max=k_max, show_k=show_k
    )
    given = ExplorerState(float(temperature), cast(int, data["k"]), top_p)
    result = _COMPONENT(
        key=key,
        data=data,
        default={"settings": {"temperature": given.temperature, "k": given.k, "top_p": given.top_p}},
        on_settings_change=_noop,
    )
    sent = result.get("settings")
    # the browser's settings stamped before Python last asked anew are stale: they lose to that ask
    memo = st.session_state.get(f"{key}__given")
    asked_anew = memo is not None and memo["given"] != given
    stale = sent if asked_anew else memo["stale"] if memo is not None else None
    st.session_state[f"{key}__given"] = {"given": given, "stale": stale}
    if not isinstance(sent, dict) or (stale is not None and sent == stale):
        return given
    return _checked(sent, given, k_max=cast(int, data["k_max"]))
