"""The client-side logits explorer as a Streamlit component (components v2: inline HTML/CSS/JS, no iframe).

The logits go to the browser once; moving T, k or top-p redraws the table and chart there, with no rerun. The
settings the user leaves reach Python (on release, and after each key press once the keys pause), so links,
downloads and the rest of the page follow:

    state = logits_explorer(result.logits, labels, temperature=1.0, k=5, lang=lang, key="home_explorer")
    state.temperature, state.k, state.top_p  # what the user left the controls at

A page may keep the returned settings as its own and pass them back in on the next run
(`temperature=state.temperature`): that echo is not a new ask, so it never pulls the browser back while the user keeps
moving. Any other new value the page passes (a link, a reset, a control of its own) wins, in the browser and in the
returned state.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, cast

import streamlit as st
from torch import Tensor

from core.explorer.payload import COLUMNS, Column, asset, class_data, view_data
from core.numerics import TEMPERATURES

# Streamlit calls the module's default export with the mount's data on each render whose data changed: the first
# call mounts, the others hand the explorer its new data (it keeps the user's settings unless Python asks anew).
# The data comes as the bytes of its JSON (ui/explorer.py builds them once per change, so Streamlit neither
# re-serialises 50,000 labels on each rerun nor sends them again: an unchanged message goes as a reference).
_STREAMLIT_GLUE = """
const explorers = new WeakMap();
const decoder = new TextDecoder();
export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement.querySelector('.lx-root');
  const known = explorers.get(root);
  if (known && known.data === data) return;
  const parsed = ArrayBuffer.isView(data) ? JSON.parse(decoder.decode(data)) : data;
  if (known) {
    known.data = data;
    known.explorer.update(parsed);
  } else {
    const explorer = mount(root, parsed, { onCommit: (settings) => setStateValue('settings', settings) });
    explorers.set(root, { data, explorer });
  }
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


@dataclass(frozen=True)
class Layout:
    """How the explorer lays its table out (core/explorer/payload.py's rows, shown, rest_label, columns, chart_n,
    probability_format). The default is the top-k table of the Inspector and Home."""

    rows: Literal["top", "all"] = "top"
    shown: int | None = None
    rest_label: str = ""
    columns: tuple[Column, ...] = COLUMNS
    chart_n: int | None = None
    probability_format: Literal["percent", "decimal"] = "percent"


def _noop() -> None:
    """The explorer's settings are read from its return value; a state needs a callback to be registered."""


def _checked(sent: Mapping[str, object], given: ExplorerState, *, k_max: int) -> ExplorerState:
    """The settings the browser sent, each one that is not a sensible value replaced by the page's."""
    t, k, p = sent.get("temperature"), sent.get("k"), sent.get("top_p")
    return ExplorerState(
        float(t) if isinstance(t, int | float) and TEMPERATURES[0] <= t <= TEMPERATURES[-1] else given.temperature,
        k if isinstance(k, int) and 1 <= k <= k_max else given.k,
        float(p) if given.top_p is not None and isinstance(p, int | float) and 0 < p <= 1 else given.top_p,
    )


@st.cache_resource(show_spinner=False, max_entries=32)
def _class_json(source: Hashable, _logits: Tensor, _labels: Sequence[str]) -> str:
    """The JSON of `class_data` (packed logits, every label, their digest), built once per `source`."""
    return json.dumps(class_data(_logits, _labels), ensure_ascii=False, separators=(",", ":"))


@dataclass
class _Memo:
    """What the explorer under one key remembers between runs (kept in session state)."""

    given: ExplorerState  # what the page passed last run
    returned: ExplorerState  # what this function returned last run
    ask: ExplorerState  # the settings the browser was last told to show
    ask_id: int  # raised on each new ask: the browser takes an ask's settings only when this changes
    stale: object  # the browser's settings from before the last ask: they lose to it
    payload_key: tuple[object, ...] | None = None
    payload: bytes = b""


def _sent_by_browser(key: str) -> Mapping[str, object] | None:
    """The settings the browser last sent for this mount (None before any: the browser shows what it was given)."""
    state = st.session_state.get(key)
    sent = state.get("settings") if isinstance(state, Mapping) else None
    return sent if isinstance(sent, Mapping) and "at" in sent else None


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
    source: Hashable | None = None,
    layout: Layout = Layout(),
) -> ExplorerState:
    """Mount the explorer for one vector of logits; returns the settings the user left it at.

    Settings given here that differ from those given on the previous run (a link, a reset) win over what the user
    had chosen, in the browser and in the returned state, until the user moves a control again; settings equal to
    those returned last run are the page following the explorer, not a new ask.

    Args:
        logits: one vector of logits; labels: their names.
        temperature, k, top_p: the settings to show (top_p None: no top-p control).
        lang: "en" or "zh"; key: the mount's key, unique on the page.
        k_max: the k control's upper end; show_k: whether it is shown at all.
        source: a value that names these logits and labels (model, image, label set): their packed data is built
            once per source and kept, instead of on every run (50,000 classes: ~20 ms and 1 MB). None: every run.
        layout: the table's rows and columns, the chart's bars.
    """
    n = logits.numel()
    k_max = max(1, min(int(k_max), n))
    given = ExplorerState(float(temperature), max(1, min(int(k), k_max)), top_p)
    memo_key = f"{key}__explorer"
    memo = cast(_Memo | None, st.session_state.get(memo_key))
    sent = _sent_by_browser(key)
    fresh = sent is not None and (memo is None or sent != memo.stale)  # a choice the user made since the last ask
    if memo is None:
        memo = _Memo(given=given, returned=given, ask=given, ask_id=0, stale=None)
    elif (given not in (memo.given, memo.returned)) or (not fresh and given != memo.ask):
        # a new value from the page, or one the browser does not show yet (a remount after the page followed it)
        memo.ask, memo.ask_id, memo.stale, fresh = given, memo.ask_id + 1, sent, False
    ask = memo.ask
    settings = {"temperature": ask.temperature, "k": ask.k, "top_p": ask.top_p, "k_max": k_max, "show_k": show_k}
    view = view_data(n, lang=lang, **settings, **asdict(layout)) | {"ask": memo.ask_id}
    view_json = json.dumps(view, ensure_ascii=False, separators=(",", ":"))
    payload_key = (source, view_json) if source is not None else None
    if payload_key is None or payload_key != memo.payload_key:
        classes = _class_json(source, logits, labels) if source is not None else None
        if classes is None:
            classes = json.dumps(class_data(logits, labels), ensure_ascii=False, separators=(",", ":"))
        memo.payload_key, memo.payload = payload_key, f"{view_json[:-1]},{classes[1:]}".encode()
    _COMPONENT(
        key=key,
        data=memo.payload,
        default={"settings": asdict(ask)},
        on_settings_change=_noop,
    )
    state = _checked(cast(Mapping[str, object], sent), ask, k_max=k_max) if fresh else ask
    memo.given, memo.returned = given, state
    st.session_state[memo_key] = memo
    return state
