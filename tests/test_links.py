"""core.links.inspector: the Inspector's view in a URL and back, exactly; every broken parameter a message and its
default."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import t
from core.labels import builtin_labels
from core.links.inspector import InspectorState, decode_query, encode_query, has_link_state, query_string, resolve_class
from core.models.registry import list_models
from core.numerics import temperature_options
from core.samples import sample_images

SAMPLES = [s.name for s in sample_images()]
MODELS = list_models()
TEMPERATURES = temperature_options()
ESPRESSO = 967


def _decode(params: dict[str, list[str]]):
    return decode_query(params, samples=SAMPLES, models=MODELS, temperatures=TEMPERATURES)


def _through_url(state: InspectorState) -> InspectorState:
    # exactly what a browser does: the query string, parsed back into key -> all values
    url = "http://localhost:8501/Image_Inspector?" + query_string(encode_query(state))
    decoded = _decode(parse_qs(urlsplit(url).query, keep_blank_values=True))
    assert decoded.problems == ()
    return decoded.state


@given(
    samples=st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=5, unique=True),
    model=st.sampled_from([*MODELS[:4], "resnet50", "vit_b_16"]),
    temperature=st.sampled_from(TEMPERATURES),
    k=st.integers(1, 20),
    scores=st.sampled_from(["softmax", "sigmoid"]),
    class_query=st.one_of(
        st.none(), st.integers(0, 999).map(str), st.sampled_from(["espresso", "浓咖啡", "tiger cat"])
    ),
)
def test_a_view_survives_the_url_exactly(samples, model, temperature, k, scores, class_query) -> None:
    state = InspectorState(tuple(samples), model, temperature, k, scores, class_query)
    assert _through_url(state) == state


def test_link_text_is_readable() -> None:
    state = InspectorState(("chelsea", "coffee"), "efficientnet_lite2", 2.0, 3, "softmax", "281")
    assert query_string(encode_query(state)) == (
        "samples=chelsea,coffee&model=efficientnet_lite2&T=2&k=3&scores=softmax&class=281"
    )
    assert "class" not in encode_query(InspectorState())


def test_a_partial_link_keeps_the_defaults_for_the_rest() -> None:
    decoded = _decode({"samples": ["chelsea"], "T": ["2"], "k": ["3"]})
    assert decoded.problems == ()
    assert decoded.state == InspectorState(("chelsea",), temperature=2.0, k=3)
    assert decoded.given == {"samples", "T", "k"}
    assert has_link_state({"T": ["2"]}) and not has_link_state({"logits": ["1,2"]})


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"T": ["-1"]}, "links.err.temperature"),
        ({"T": ["0"]}, "links.err.temperature"),
        ({"T": ["abc"]}, "links.err.temperature"),
        ({"T": ["nan"]}, "links.err.temperature"),
        ({"T": ["inf"]}, "links.err.temperature"),
        ({"T": ["1e400"]}, "links.err.temperature"),
        ({"T": ["21"]}, "links.err.temperature"),
        ({"samples": ["no_such_sample"]}, "links.err.sample"),
        ({"samples": ["<script>"]}, "links.err.sample"),
        ({"model": ["no_such_model"]}, "links.err.model"),
        ({"model": [""]}, "links.err.model"),
        ({"k": ["0"]}, "links.err.k"),
        ({"k": ["21"]}, "links.err.k"),
        ({"k": ["²"]}, "links.err.k"),
        ({"k": ["3.5"]}, "links.err.k"),
        ({"k": ["9" * 400]}, "links.err.k"),
        ({"scores": ["probit"]}, "links.err.scores"),
    ],
)
def test_a_broken_parameter_is_a_message_and_its_default(params: dict[str, list[str]], key: str) -> None:
    decoded = _decode(params)
    assert [p.key for p in decoded.problems] == [key]
    assert decoded.state == InspectorState()  # the default view
    for lang in ("en", "zh"):
        message = decoded.problems[0].message(lang)
        assert message != key and "{" not in message


def test_one_broken_parameter_leaves_the_others() -> None:
    decoded = _decode({"samples": ["chelsea"], "T": ["-1"], "k": ["3"], "model": ["nope"]})
    assert sorted(p.key for p in decoded.problems) == ["links.err.model", "links.err.temperature"]
    assert decoded.state == InspectorState(("chelsea",), k=3)


def test_unknown_samples_are_dropped_and_named() -> None:
    decoded = _decode({"samples": ["chelsea,nope,coffee,chelsea"]})
    assert decoded.state.samples == ("chelsea", "coffee")  # known ones kept, in order, once each
    (problem,) = decoded.problems
    assert problem.key == "links.err.sample" and "nope" in problem.message()


def test_a_temperature_between_steps_is_kept_exactly() -> None:
    # the explorer keeps a typed T (0.7, between 0.63 and 0.79) exactly: the link it makes restores it exactly
    decoded = _decode({"T": ["0.7"]})
    assert decoded.state.temperature == 0.7 and decoded.problems == ()
    assert _decode({"T": ["2.0"]}).problems == ()
    assert _decode({"T": ["0.063"]}).state.temperature == 0.063


def test_the_last_value_of_a_repeated_parameter_counts() -> None:
    assert _decode({"k": ["3", "7"]}).state.k == 7


def test_a_long_value_is_quoted_short() -> None:
    (problem,) = _decode({"model": ["x" * 5000]}).problems
    assert len(problem.message()) < 200


def test_resolve_class_by_index_or_name_in_either_language() -> None:
    english, chinese = builtin_labels("imagenet", "en"), builtin_labels("imagenet", "zh")
    assert resolve_class("967", 1000, english) == (ESPRESSO, None)
    assert resolve_class("espresso", 1000, english, chinese) == (ESPRESSO, None)
    assert resolve_class("浓咖啡", 1000, english, chinese) == (ESPRESSO, None)
    index, problem = resolve_class("1000", 1000, english)
    assert index is None and problem is not None and problem.key == "links.err.class_index"
    index, problem = resolve_class("zzqqxx", 1000, english)
    assert index is None and problem is not None and "zzqqxx" in problem.message()
    assert resolve_class("²", 1000, english)[0] is None  # never an exception


def test_link_messages_exist_in_both_languages() -> None:
    for key in ("links.share", "links.uploads_stay", "links.problem"):
        assert t(key, "en") != key and t(key, "zh") != t(key, "en")
