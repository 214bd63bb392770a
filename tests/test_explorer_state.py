"""ui.explorer.logits_explorer between Python and the browser (AppTest; the browser side is in
tests/browser/test_explorer_browser.py): a page that keeps the explorer's settings and passes them back is not
asking anew, a real new value is, a remount shows the page's settings, and the bulk of the data is built once per
source and sent as the same bytes while nothing changes."""

from __future__ import annotations

import json

import torch
from streamlit.testing.v1 import AppTest

from tests.explorer_state import explorer_data, move


def _page() -> None:
    """The explorer as the Inspector uses it: the page keeps what it returns as its own T and k and passes them back
    in; "asked" stands for a link or another control of the page; "hidden" unmounts it for a run."""
    import streamlit as st
    import torch

    from ui.explorer import logits_explorer

    ss = st.session_state
    if "asked" in ss:
        ss["T"], ss["k"] = ss.pop("asked")
    if ss.get("hidden"):
        st.text(f"page: T={ss.get('T', 1.0)!r} k={ss.get('k', 5)}")
        return
    z = torch.arange(30, dtype=torch.float32) / 7
    state = logits_explorer(
        z, [f"c{i}" for i in range(30)], temperature=ss.get("T", 1.0), k=ss.get("k", 5), lang="en", key="x", source=1
    )
    ss["T"], ss["k"] = state.temperature, state.k
    st.text(f"page: T={state.temperature!r} k={state.k}")


def _shown(at: AppTest) -> str:
    return at.text[0].value


def test_the_page_following_the_explorer_is_not_a_new_ask() -> None:
    at = AppTest.from_function(_page, default_timeout=60).run()
    first = explorer_data(at, "x")
    assert (first["temperature"], first["k"], first["ask"]) == (1.0, 5, 0)
    move(at, "x", temperature=1.3, k=5)
    assert _shown(at) == "page: T=1.3 k=5"
    # the page now passes 1.3 back in; the user, still moving, has reached 1.6: the browser keeps its own settings
    # (same data, same ask) and Python hears 1.6, never the 1.3 it echoed
    move(at, "x", temperature=1.6, k=7)
    assert _shown(at) == "page: T=1.6 k=7"
    data = explorer_data(at, "x")
    assert (data["temperature"], data["k"], data["ask"]) == (1.0, 5, 0)
    at.run()  # a rerun for another reason changes nothing
    assert _shown(at) == "page: T=1.6 k=7" and explorer_data(at, "x")["ask"] == 0


def test_a_new_value_from_the_page_wins_until_the_user_moves_again() -> None:
    at = AppTest.from_function(_page, default_timeout=60).run()
    move(at, "x", temperature=2.0, k=5)
    at.session_state["asked"] = (0.5, 3)  # a link, say
    at.run()
    assert _shown(at) == "page: T=0.5 k=3"
    data = explorer_data(at, "x")
    assert (data["temperature"], data["k"], data["ask"]) == (0.5, 3, 1)
    at.run()  # the browser's old 2.0 stays overruled
    assert _shown(at) == "page: T=0.5 k=3"
    # asking for the value the browser was given before is news too: the ask's number tells the browser
    move(at, "x", temperature=0.63, k=3)
    at.run()  # the page passes 0.63 back in
    at.session_state["asked"] = (0.5, 3)
    at.run()
    assert _shown(at) == "page: T=0.5 k=3" and explorer_data(at, "x")["ask"] == 2
    move(at, "x", temperature=0.5, k=3)  # the user's next move wins, even to a value seen before
    move(at, "x", temperature=0.4, k=3)
    assert _shown(at) == "page: T=0.4 k=3"


def test_a_remount_shows_the_settings_the_page_kept() -> None:
    at = AppTest.from_function(_page, default_timeout=60).run()
    move(at, "x", temperature=3.2, k=9)
    at.session_state["hidden"] = True  # e.g. the Inspector's sigmoid view: no explorer for a run
    at.run()
    assert _shown(at) == "page: T=3.2 k=9"
    at.session_state["hidden"] = False
    at.run()
    data = explorer_data(at, "x")  # mounted afresh: it must show the page's settings, not its first ones
    assert (data["temperature"], data["k"]) == (3.2, 9) and data["ask"] == 1
    assert _shown(at) == "page: T=3.2 k=9"


def test_the_bulk_is_built_once_per_source_and_the_bytes_stay_the_same(monkeypatch) -> None:
    import ui.explorer

    built: list[int] = []
    real = ui.explorer.class_data
    monkeypatch.setattr(ui.explorer, "class_data", lambda z, labels: built.append(z.numel()) or real(z, labels))
    ui.explorer._class_json.clear()
    at = AppTest.from_function(_page, default_timeout=60).run()
    before = explorer_data(at, "x")
    move(at, "x", temperature=1.3, k=5)
    at.run()
    assert built == [30]  # one set of logits, built once for every run
    assert explorer_data(at, "x") == before  # nothing the browser needs changed: the same message
    z = torch.arange(30, dtype=torch.float32) / 7
    assert before["n"] == 30 and before["dtype"] == "float32" and before["labels"][29] == "c29"
    assert json.loads(json.dumps(before)) == before
    assert before["logits"] == real(z, [f"c{i}" for i in range(30)])["logits"]
