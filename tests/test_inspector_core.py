"""The Image Inspector's core (analysis, tables, queries, downloads) on the real model and real images, with torch
as the oracle."""

from __future__ import annotations

import io
import itertools
import json
import math
import struct

import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core.analysis import analyse, digest, image_view, normalisation_logits
from core.charts.prediction import prediction_figures
from core.checks import run_checks
from core.errors import LogitscopeError
from core.images import decode_image, thumbnail
from core.inference import predict
from core.models.labels import spec_labels
from core.models.spec import LoadedModel
from core.numerics import temperature_options
from core.prediction.downloads import export_csv, export_json, export_stem, lab_payload, prediction_record
from core.prediction.query import class_option_text, format_probability, format_ratio, query_class, search_labels
from core.prediction.tables import compare_models, compare_preprocessing, score_lines, score_table, summary_table
from core.preprocess import IMAGENET_MEAN, IMAGENET_STD

ESPRESSO, CUP = 967, 968
CATS = {281, 282, 285}  # tabby, tiger cat, Egyptian cat


@pytest.fixture(scope="module")
def labels(lite0) -> list[str]:
    return spec_labels(lite0.spec, "en")


@pytest.fixture(scope="module")
def zh(lite0) -> list[str]:
    return spec_labels(lite0.spec, "zh")


@pytest.fixture(scope="module")
def coffee(sample) -> Image.Image:
    return decode_image(sample("coffee").read_bytes(), "coffee.png").image


@pytest.fixture(scope="module")
def coffee_logits(lite0, coffee) -> torch.Tensor:
    return predict(lite0, [coffee])[0]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------- temperature slider values
def test_temperature_options_are_log_spaced_and_include_one() -> None:
    values = temperature_options()
    assert values[0] == 0.05 and values[-1] == 20.0 and 1.0 in values
    assert values == sorted(set(values))
    ratios = [b / a for a, b in itertools.pairwise(values)]
    # 10 steps per decade: each step about 10 ** 0.1 = 1.26 (rounding to 2 digits moves it a little)
    assert all(1.1 < r < 1.45 for r in ratios), ratios
    assert {0.1, 0.5, 2.0, 5.0, 10.0} <= set(values)


# ---------------------------------------------------------------- preprocessing comparison
def test_preprocessing_comparison_matches_torch(lite0, coffee, labels) -> None:
    variants = normalisation_logits(lite0, coffee)
    pre = lite0.spec.preprocessing
    own = pre(coffee)  # lite0 scales to [-1, 1]
    pixels = own * 0.5 + 0.5  # back to [0, 1]
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    with torch.no_grad():
        expected = {
            "own": lite0.module(own[None])[0],
            "imagenet": lite0.module(((pixels - mean) / std)[None])[0],
            "none": lite0.module(pixels[None])[0],
        }
    results = compare_preprocessing(variants, labels, pre, k=5, temperature=1.0)
    assert [r.id for r in results] == ["own", "imagenet", "none"]
    assert results[0].top1 == ESPRESSO and results[0].table["label"].iloc[0] == "espresso"
    assert results[0].description == "scale to [-1, 1]" and results[2].description == "scale to [0, 1]"
    for result in results:
        z = expected[result.id]
        torch.testing.assert_close(variants[result.id], z, atol=1e-4, rtol=1e-4)
        p = torch.softmax(z.double(), dim=0)
        top = torch.argsort(z, descending=True)[:5].tolist()
        assert result.table["index"].tolist() == top
        assert result.table["probability"].tolist() == pytest.approx(p[top].tolist(), abs=1e-5)
        assert result.top1 == top[0]
        assert result.changed == (top[0] != results[0].top1)
    assert not results[0].changed


def test_preprocessing_comparison_flags_a_changed_top1(labels, lite0) -> None:
    z = torch.zeros(1000)
    z[ESPRESSO] = 5.0
    flipped = z.clone()
    flipped[CUP] = 9.0
    results = compare_preprocessing({"own": z, "imagenet": flipped, "none": z}, labels, lite0.spec.preprocessing)
    assert [r.changed for r in results] == [False, True, False]
    assert results[1].top1 == CUP


# ---------------------------------------------------------------- what about class X?
@pytest.mark.parametrize("index", [ESPRESSO, CUP, 0, 504, 999])
@pytest.mark.parametrize("temperature", [0.05, 1.0, 3.2])
def test_query_class_matches_argsort(coffee_logits, index, temperature) -> None:
    z = coffee_logits.double()
    q = query_class(coffee_logits, index, temperature=temperature)
    order = torch.argsort(z, descending=True).tolist()
    assert q.rank == order.index(index) + 1
    assert q.top1 == order[0] == ESPRESSO
    assert q.margin == pytest.approx(float(z[order[0]] - z[index]), abs=1e-9)
    assert q.margin >= 0
    assert q.logit == pytest.approx(float(z[index]))
    p = torch.softmax(z / temperature, dim=0)
    assert q.score == pytest.approx(float(p[index]), rel=1e-6, abs=1e-300)
    assert q.top1_score == pytest.approx(float(p[order[0]]), rel=1e-9)
    if q.odds < math.inf and p[index] > 0:
        assert q.odds == pytest.approx(float(p[order[0]] / p[index]), rel=1e-6)
    assert q.num_classes == 1000


@settings(max_examples=40, deadline=None)
@given(
    logits=st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=30),
    temperature=st.floats(0.05, 20),
    data=st.data(),
)
def test_rank_and_margin_do_not_depend_on_temperature(logits, temperature, data) -> None:
    z = torch.tensor(logits, dtype=torch.float64)
    index = data.draw(st.integers(0, len(logits) - 1))
    at_t, at_one = query_class(z, index, temperature=temperature), query_class(z, index)
    assert (at_t.rank, at_t.margin, at_t.top1) == (at_one.rank, at_one.margin, at_one.top1)


def test_query_class_sigmoid_and_bad_index(coffee_logits) -> None:
    q = query_class(coffee_logits, CUP, temperature=2.0, scores="sigmoid")
    assert q.score == pytest.approx(float(torch.sigmoid(coffee_logits[CUP].double() / 2.0)))
    with pytest.raises(LogitscopeError, match="1000 classes"):
        query_class(coffee_logits, 1000)


# ---------------------------------------------------------------- tables
def test_score_table_softmax_and_sigmoid(coffee_logits, labels, zh) -> None:
    soft = score_table(coffee_logits, labels, k=7, temperature=2.0, other_labels=zh)
    assert len(soft) == 7 and soft["label"].iloc[0] == "espresso" and soft["label_2"].iloc[0] == "浓咖啡"
    p = torch.softmax(coffee_logits.double() / 2.0, dim=0)
    assert soft["probability"].tolist() == pytest.approx(p[soft["index"].tolist()].tolist())
    assert score_lines(soft)[0] == f"1. espresso ({float(p[ESPRESSO]):.1%})"

    sig = score_table(coffee_logits, labels, k=3, temperature=2.0, scores="sigmoid")
    assert "cumulative" not in sig.columns and "probability" not in sig.columns
    expected = torch.sigmoid(coffee_logits.double() / 2.0)
    assert sig["score"].tolist() == pytest.approx(expected[sig["index"].tolist()].tolist())
    assert sig["score_t1"].tolist() == pytest.approx(
        torch.sigmoid(coffee_logits.double())[sig["index"].tolist()].tolist()
    )
    assert score_lines(sig)[0] == f"1. espresso ({float(expected[ESPRESSO]):.1%})"


def test_search_labels_in_both_languages(labels, zh) -> None:
    assert search_labels("espresso", labels, zh)[0] == ESPRESSO
    assert search_labels("浓咖啡", labels, zh)[0] == ESPRESSO
    assert search_labels("  ESPRESSO ", labels, zh)[0] == ESPRESSO
    assert search_labels("967", labels, zh) == [ESPRESSO]
    assert search_labels("5000", labels, zh) == []
    assert search_labels("", labels, zh) == []
    assert search_labels("no such class anywhere", labels, zh) == []
    cats = search_labels("cat", labels, zh, limit=50)
    assert {282, 285} <= set(cats) and 281 not in cats  # tiger cat, Egyptian cat; "tabby" has no "cat" in it
    # exact name before names that merely contain it
    assert search_labels("cup", labels, zh)[0] == CUP
    # every word, in any order
    assert search_labels("cat egyptian", labels, None) == [285]
    assert search_labels("猫", labels, zh, limit=50)[:1] and 281 in search_labels("猫", labels, zh, limit=50)
    assert class_option_text(ESPRESSO, labels, labels, zh) == "967 · espresso · 浓咖啡"


def test_numbers_for_people() -> None:
    assert format_probability(0.95661) == "95.661%"
    assert format_probability(1.2e-4) == "0.012%"
    assert format_probability(3.14e-9) == "3.14e-09"  # not "0.000%"
    assert format_probability(0.0) == "0.000%"
    assert format_ratio(1.0234) == "1.02" and format_ratio(69.31) == "69.3"
    assert format_ratio(280_512.4) == "280,512" and format_ratio(1.23e12) == "1.2e+12"
    assert format_ratio(math.inf) == "∞"


def test_compare_models_side_by_side(coffee_logits, labels) -> None:
    other = torch.flip(coffee_logits, dims=[0])
    table = compare_models(("a", coffee_logits, labels), ("b", other, labels), k=5)
    assert list(table.columns) == ["rank", "a", "a p", "b", "b p"]
    assert table["a"].iloc[0] == "espresso"
    assert table["b"].iloc[0] == labels[int(torch.argmax(other))]


# ---------------------------------------------------------------- many images, bad ones among them
def _bad_files(sample) -> dict[str, bytes]:
    good = sample("coffee").read_bytes()
    bmp = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(bmp, "BMP")
    odd_depth = bytearray(bmp.getvalue())
    struct.pack_into("<H", odd_depth, 28, 64)  # a BMP with 64 bits per pixel: a mode Pillow cannot decode
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # 100 megapixels, a few kB on disk
    return {
        "notes.png": b"these are my notes, not a picture",
        "truncated.png": good[: len(good) // 3],
        "bomb.png": bomb.getvalue(),
        "odd.bmp": bytes(odd_depth),
        "report.pdf": b"%PDF-1.7 ...",
    }


def test_bad_images_get_messages_and_good_ones_succeed(lite0, sample, labels) -> None:
    bad = _bad_files(sample)
    items = [
        ("coffee.png", sample("coffee").read_bytes()),
        *bad.items(),
        ("chelsea.png", sample("chelsea").read_bytes()),
    ]
    results = [analyse(lite0, name, data) for name, data in items]  # one call per image, a bad one included
    # (inspect_images' on_progress callback went with it: the caller's own loop reports progress)
    assert [r.ok for r in results[:2]] == [True, False]
    assert [r.key for r in results] == [digest(data) for _, data in items]

    by_name = {r.name: r for r in results}
    assert by_name["coffee.png"].ok and int(torch.argmax(by_name["coffee.png"].logits)) == ESPRESSO
    assert by_name["chelsea.png"].ok and int(torch.argmax(by_name["chelsea.png"].logits)) in CATS
    expected = predict(lite0, [decode_image(items[0][1], "coffee.png").image])[0]
    torch.testing.assert_close(by_name["coffee.png"].logits, expected)
    messages = {name: by_name[name].error for name in bad}
    assert all(m and m.startswith(name) for name, m in messages.items()), messages
    assert "not an image" in messages["notes.png"] or "not a recognised image" in messages["notes.png"]
    assert "truncated" in messages["truncated.png"]
    assert "megapixel" in messages["bomb.png"]
    assert "64" in messages["odd.bmp"]
    assert "PDF" in messages["report.pdf"]
    assert all(r.view is None and r.logits is None for r in results if not r.ok)

    summary = summary_table(results, labels, num_classes=1000)
    assert summary["file"].tolist() == [name for name, _ in items]
    assert summary.loc[0, "top1"] == "espresso" and summary.loc[0, "status"] == "pass"
    assert summary.loc[0, "score"] == pytest.approx(float(torch.softmax(expected.double(), 0)[ESPRESSO]))
    assert (summary["status"] == "error").sum() == len(bad)
    assert summary.loc[1, "message"] == messages["notes.png"]


def test_an_unexpected_model_error_is_a_message_not_a_crash(lite0, sample) -> None:
    class Broken(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (1x7 and 9x1000)")

    results = [analyse(LoadedModel(lite0.spec, Broken(), lite0.device), "coffee.png", sample("coffee").read_bytes())]
    assert not results[0].ok
    assert results[0].error.startswith("coffee.png: the model could not process this image (RuntimeError: mat1")


def test_image_view_shows_exactly_the_model_input(lite0, sample) -> None:
    decoded = decode_image(sample("chelsea").read_bytes(), "chelsea.png")
    view = image_view(decoded, lite0.spec.preprocessing)
    assert view.input_shape == (3, 224, 224) and view.model_input.size == (224, 224)
    assert view.original_size == decoded.image.size and max(view.preview.size) <= 640
    # re-normalising the displayed input gives the tensor back (up to 8-bit rounding)
    back = lite0.spec.preprocessing.transform().transforms[-1](
        torch.from_numpy(__import__("numpy").asarray(view.model_input).copy()).permute(2, 0, 1).float() / 255
    )
    torch.testing.assert_close(back, lite0.spec.preprocessing(decoded.image), atol=2.5 / 255 * 2, rtol=0)
    tiny = decode_image(_png(Image.new("RGB", (1, 1))), "dot.png")
    assert image_view(tiny, lite0.spec.preprocessing).input_shape == (3, 224, 224)
    assert thumbnail(decoded.image, size=64, square=True).size == (64, 64)


def test_a_tiny_model_input_is_enlarged_pixel_for_pixel(sample) -> None:
    from core.models.registry import get_spec

    pre = get_spec("digits_cnn").preprocessing
    decoded = decode_image(sample("coffee").read_bytes(), "coffee.png")
    view = image_view(decoded, pre)
    assert view.input_shape == (1, 8, 8)
    assert view.model_input.size == (224, 224)  # 8 x 28
    small = pre.to_display_image(pre(decoded.image))
    assert view.model_input.resize((8, 8), Image.Resampling.NEAREST).tobytes() == small.tobytes()


# ---------------------------------------------------------------- exports and the Logits Lab handoff
def test_csv_export_round_trips(coffee_logits, labels, zh) -> None:
    weird = list(labels)
    weird[0] = '<img src=x onerror=alert(1)>, "quoted"\nnew line'
    text = export_csv(coffee_logits, weird, temperature=0.5, other_labels=zh)
    back = pd.read_csv(io.StringIO(text))
    assert len(back) == 1000
    assert list(back.columns) == [
        "index",
        "label",
        "label_2",
        "logit",
        "probability",
        "log_probability",
        "rank",
        "probability_t1",
        "sigmoid",
    ]
    assert back["label"].iloc[0] == weird[0] and back["label_2"].iloc[ESPRESSO] == "浓咖啡"
    z = coffee_logits.double()
    assert back["logit"].tolist() == z.tolist()  # exact: floats are written with all their digits
    assert back["probability"].tolist() == pytest.approx(torch.softmax(z / 0.5, 0).tolist(), rel=1e-12, abs=1e-300)
    assert back["probability_t1"].tolist() == pytest.approx(torch.softmax(z, 0).tolist(), rel=1e-12, abs=1e-300)
    assert back["sigmoid"].tolist() == pytest.approx(torch.sigmoid(z / 0.5).tolist(), rel=1e-12)
    assert back.loc[back["rank"] == 1, "index"].item() == ESPRESSO


def test_json_export_round_trips(coffee_logits, labels) -> None:
    checks = run_checks(coffee_logits, labels=labels, num_classes=1000, k=3, temperature=2.0)
    record = prediction_record(
        image="coffee.png",
        model="efficientnet_lite0",
        logits=coffee_logits,
        labels=labels,
        k=3,
        temperature=2.0,
        checks=checks,
        notes=["a note"],
        preprocessing="Resize 256",
    )
    back = json.loads(export_json(record))
    assert back == json.loads(json.dumps(record))
    assert back["image"] == "coffee.png" and back["temperature"] == 2.0 and back["num_classes"] == 1000
    assert [e["rank"] for e in back["top_k"]] == [1, 2, 3]
    first = back["top_k"][0]
    assert first["index"] == ESPRESSO and first["label"] == "espresso"
    p = torch.softmax(coffee_logits.double() / 2.0, 0)
    assert first["probability"] == pytest.approx(float(p[ESPRESSO]))
    assert first["probability_t1"] == pytest.approx(float(torch.softmax(coffee_logits.double(), 0)[ESPRESSO]))
    assert first["logit"] == pytest.approx(float(coffee_logits[ESPRESSO]))
    assert [c["name"] for c in back["checks"]] == [c.name for c in checks]
    assert back["notes"] == ["a note"] and back["preprocessing"] == "Resize 256"


def test_lab_payload_carries_every_class(coffee_logits, labels) -> None:
    payload = lab_payload(coffee_logits, labels, source="coffee.png · efficientnet_lite0")
    assert set(payload) == {"labels", "logits", "source"}
    assert payload["labels"] == labels and payload["logits"] == coffee_logits.double().tolist()
    assert all(isinstance(v, float) for v in payload["logits"])
    assert json.loads(json.dumps(payload)) == payload
    assert payload["source"] == "coffee.png · efficientnet_lite0"


def test_export_stem_is_a_safe_file_name() -> None:
    assert export_stem("coffee.png", "efficientnet_lite0") == "coffee_efficientnet_lite0"
    stem = export_stem("../../etc/pass wd.jpeg", "checkpoint:resnet18:abc123")
    assert "/" not in stem and ":" not in stem and " " not in stem and stem.endswith("resnet18_abc123")


# ---------------------------------------------------------------- figures
def test_prediction_figures(coffee_logits, labels, zh) -> None:
    figures = prediction_figures(coffee_logits, labels, k=4, temperature=2.0, lang="en")
    assert set(figures) == {"bars", "distribution", "sweep", "entropy"}
    bars = figures["bars"]
    assert list(bars.data[0].x) == ["espresso", "cup", "consomme", "chocolate sauce"]
    assert list(bars.data[0].y) == pytest.approx(coffee_logits[[967, 968, 925, 960]].double().tolist())
    assert len(figures["distribution"].data[0].y) == 1000
    assert len(figures["sweep"].data) == 4

    chinese = prediction_figures(coffee_logits, zh, k=3, temperature=1.0, lang="zh")
    assert chinese["bars"].data[0].x[0] == "浓咖啡"
    assert chinese["bars"].layout.yaxis2.title.text == "概率"
    assert chinese["entropy"].layout.xaxis.title.text == "温度 T"
    assert chinese["bars"].layout.title.text.startswith("logits 与概率对比")

    sig = prediction_figures(coffee_logits, labels, k=3, scores="sigmoid")
    assert [trace.name.split(" ")[0] for trace in sig["bars"].data] == ["softmax", "sigmoid"]
    assert sig["distribution"].layout.yaxis.title.text == "sigmoid score"
    assert max(sig["distribution"].data[0].y) == pytest.approx(float(torch.sigmoid(coffee_logits.double()).max()))


def test_labels_never_reach_plotly_as_markup(coffee_logits, labels) -> None:
    evil = list(labels)
    evil[ESPRESSO] = "<img src=x onerror=alert(1)>"
    figures = prediction_figures(coffee_logits, evil, k=3)
    assert figures["bars"].data[0].x[0] == "&lt;img src=x onerror=alert(1)&gt;"


# ---------------------------------------------------------------- one stable ranking everywhere
def test_tied_logits_rank_the_same_in_every_table_export_and_query(labels) -> None:
    z = torch.zeros(1000)  # every class tied: the lower index ranks first, everywhere
    oracle = torch.argsort(z, descending=True, stable=True)  # torch's stable sort as the oracle
    assert oracle[0] == 0 and oracle[-1] == 999

    table = score_table(z, labels, k=5)
    assert table["index"].tolist() == [0, 1, 2, 3, 4] and table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert score_table(z, labels, k=5, scores="sigmoid")["index"].tolist() == [0, 1, 2, 3, 4]

    exported = pd.read_csv(io.StringIO(export_csv(z, labels)))
    rank_of = dict(zip(exported["index"], exported["rank"], strict=True))
    assert rank_of[0] == 1 and rank_of[999] == 1000
    assert sorted(exported["rank"]) == list(range(1, 1001))
    assert [int(i) for i in exported.sort_values("rank")["index"]] == oracle.tolist()

    record = json.loads(export_json(prediction_record(image="zeros", model="m", logits=z, labels=labels, k=1000)))
    assert record["top_k"][0]["index"] == 0 and record["top_k"][0]["rank"] == 1
    assert record["top_k"][-1]["index"] == 999 and record["top_k"][-1]["rank"] == 1000
    assert [entry["index"] for entry in record["top_k"]] == oracle.tolist()

    assert query_class(z, 0).rank == 1 and query_class(z, 0).top1 == 0
    assert query_class(z, 999).rank == 1000
    assert query_class(z, 103).rank == 104

    from core.lab.logit_table import make_table
    from core.lab.presets import table_from_inspector
    from core.lab.steps import class_table

    lab_table = make_table([0.0] * 1000)
    ranks_in_lab = class_table(lab_table, k=3)["rank"].tolist()
    assert ranks_in_lab[0] == 1 and ranks_in_lab[999] == 1000
    assert class_table(lab_table, k=3)["top_k"].tolist()[:4] == [True, True, True, False]
    handed = table_from_inspector(lab_payload(z, labels, source="zeros"), editable=3)
    assert handed.labels == tuple(labels[:3])
