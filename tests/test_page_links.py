"""AppTest of the Inspector's links: a link restores exactly its view, a broken one gives a message and the
default view, the address bar follows the knobs, and the share box says what cannot travel in a link."""

from __future__ import annotations

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.analysis import analyse
from core.labels import builtin_labels
from tests.conftest import ROOT
from tests.explorer_state import explorer_data, given_logits, move, top_label

PAGE = str(ROOT / "pages/1_Image_Inspector.py")
LABELS = builtin_labels("imagenet")
CATS = {"tabby", "tiger cat", "Egyptian cat"}
CUP = 968


def _open(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _explorer(at: AppTest) -> dict:
    """What the shown image's explorer was given: its logits and names, and the page's T and k to show."""
    return explorer_data(at, "inspector_explorer")


def _query(at: AppTest) -> dict[str, str]:
    return {key: at.query_params[key] for key in at.query_params}


def _warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning).replace("\\", "")


@pytest.fixture(scope="module")
def chelsea_logits(lite0, sample) -> torch.Tensor:
    result = analyse(lite0, "chelsea.png", sample("chelsea").read_bytes())
    assert result.logits is not None
    return result.logits.double()


def test_a_link_restores_samples_t_and_k(chelsea_logits) -> None:
    at = _open(samples="chelsea", T="2", k="3")
    assert not at.exception
    assert not at.warning  # nothing in the link was broken
    data = _explorer(at)  # the explorer shows the link's T and k (the browser draws them: tests/browser)
    assert (data["temperature"], data["k"]) == (2.0, 3) and top_label(data) in CATS
    assert torch.allclose(given_logits(data).double(), chelsea_logits, atol=1e-4)
    lines = next(c.value for c in at.code if c.value.startswith("1. ")).splitlines()
    expected = torch.softmax(chelsea_logits / 2.0, -1)
    top = torch.topk(chelsea_logits, 3).indices.tolist()
    assert [float(line.rsplit("(", 1)[1].rstrip("%)")) for line in lines] == pytest.approx(
        [float(expected[i]) * 100 for i in top], abs=0.05
    )
    assert at.session_state["inspector_samples"] == ["chelsea"]
    # the address bar is the share link of this view
    assert _query(at) == {"samples": "chelsea", "model": "efficientnet_lite0", "T": "2", "k": "3", "scores": "softmax"}


def test_the_address_bar_follows_the_explorer() -> None:
    at = _open(samples="chelsea", T="2", k="3")
    move(at, "inspector_explorer", temperature=0.5, k=7)  # where the user left the explorer's T and k
    assert not at.exception
    assert _query(at)["k"] == "7" and _query(at)["T"] == "0.5"
    assert len(next(c.value for c in at.code if c.value.startswith("1. ")).splitlines()) == 7
    move(at, "inspector_explorer", temperature=0.7, k=7)  # a typed T between the slider's steps: kept exactly
    assert _query(at)["T"] == "0.7"
    again = _open(**_query(at))  # and the link restores it exactly, without a note
    assert not again.warning and _explorer(again)["temperature"] == 0.7


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"T": "-1"}, "temperature T = '-1'"),
        ({"samples": "no_such_sample"}, "no_such_sample"),
        ({"model": "no_such_model"}, "no_such_model"),
        ({"k": "99"}, "k = '99'"),
    ],
)
def test_a_broken_link_gives_a_message_and_the_default_view(query: dict[str, str], words: str) -> None:
    at = _open(**query)
    assert not at.exception
    assert words in _warnings(at)
    # the default view: the default sample on the default model at T = 1, top-5
    assert at.sidebar.selectbox[0].value == "efficientnet_lite0"
    data = _explorer(at)
    assert (data["temperature"], data["k"]) == (1.0, 5) and top_label(data) == "espresso"


def test_a_link_with_an_unavailable_model_falls_back_with_the_reason() -> None:
    at = _open(samples="coffee", model="resnet50")
    assert not at.exception
    assert "resnet50" in _warnings(at) and "weights" in _warnings(at)
    assert at.sidebar.selectbox[0].value == "efficientnet_lite0"
    assert top_label(_explorer(at)) == "espresso"


def test_a_link_can_choose_the_model() -> None:
    at = _open(samples="coffee", model="efficientnet_lite1", k="2")
    assert not at.exception and not at.warning
    assert at.sidebar.selectbox[0].value == "efficientnet_lite1"
    assert top_label(_explorer(at)) == "espresso"
    assert _query(at)["model"] == "efficientnet_lite1"


def test_a_link_opens_class_x() -> None:
    at = _open(samples="coffee", **{"class": "cup"})
    assert not at.exception and not at.warning
    assert at.session_state["inspector_class"] == CUP
    picker = [s for s in at.selectbox if s.key and s.key.startswith("inspector_x_")]
    assert len(picker) == 1 and picker[0].value == CUP
    assert _query(at)["class"] == str(CUP)


def test_uploads_cannot_travel_in_a_link_and_the_report_is_offered(sample) -> None:
    at = _open(samples="coffee")
    at.file_uploader(key="inspector_w_uploads").set_value([("mine.png", sample("camera").read_bytes(), "image/png")])
    at.run()
    assert not at.exception
    assert "cannot travel in a link" in _warnings(at)
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Download report (HTML)") == 2  # in the row and next to the link box
    assert _query(at)["samples"] == "coffee"  # the upload is not in the link
