"""The client-side explorer as AppTest sees it: what the page gave the browser, and a user's move sent back.

AppTest runs no JavaScript, so a move is sent the way the browser's explorer sends it (ui/explorer.py's glue calls
`setStateValue('settings', {temperature, k, top_p, at})`, which Streamlit keeps as the component's state under its
key); the real key presses are tested in the browser (tests/browser/).
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

_STAMPS = itertools.count(1)


def explorer_data(at: AppTest, key: str) -> dict[str, Any]:
    """The data the explorer mounted under `key` was given on the last run (the JSON of its bytes)."""
    found = [
        e.proto
        for e in at.get("bidi_component")
        if e.proto.component_name == "logitscope.logits_explorer" and getattr(e, "key", None) == key
    ]
    assert len(found) == 1, f"{len(found)} explorers under key {key!r}"
    return json.loads(found[0].bytes)


def move(at: AppTest, key: str, *, temperature: float, k: int, top_p: float | None = None) -> AppTest:
    """The user leaves the explorer under `key` at these settings (as its browser code reports it), then the rerun."""
    settings = {"temperature": temperature, "k": k, "top_p": top_p, "at": next(_STAMPS)}
    at.session_state[key] = {"settings": settings}
    return at.run()


def given_logits(data: dict[str, Any]) -> torch.Tensor:
    """The logits in the explorer's data, as the browser unpacks them (little-endian float32 or float64)."""
    raw = base64.b64decode(data["logits"])
    return torch.from_numpy(np.frombuffer(raw, dtype="<f4" if data["dtype"] == "float32" else "<f8").copy())


def top_label(data: dict[str, Any]) -> str:
    """The name of the class with the largest logit in the explorer's data (rank 1 of its table)."""
    return str(data["labels"][int(given_logits(data).argmax())])
