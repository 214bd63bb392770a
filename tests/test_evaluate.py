"""Evaluation: metrics against hand-computed cases and torch, temperature fitting, the run itself, results files."""

from __future__ import annotations

import io
import math
import multiprocessing
import zipfile
from dataclasses import asdict

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core.charts.evaluate import confidence_histogram_figure, confusion_matrix_figure, reliability_figure
from core.datasets.classes import resolver_for
from core.datasets.sources import digits_set, open_zip
from core.errors import InputError
from core.evaluate.files import read_results, results_bytes, results_frame
from core.evaluate.metrics import (
    DEFAULT_BINS,
    brier_score,
    calibrate,
    calibration_table,
    compute_metrics,
    confidence_and_correct,
    expected_calibration_error,
    fit_temperature,
    looks_like_probabilities,
    max_calibration_error,
    nll,
    top_k_accuracy,
)
from core.evaluate.records import (
    confused_pairs,
    confusion_matrix,
    least_confident_correct,
    most_confident_mistakes,
    per_class_table,
    records_table,
)
from core.evaluate.result import EvalResult, Progress
from core.evaluate.run import choose_workers, default_batch_size, evaluate
from core.evaluate.summary import summary
from core.images import decode_image, image_bytes, thumbnail
from core.inference import predict
from core.models.registry import load_model
from core.numerics import softmax

DIGITS = [str(i) for i in range(10)]


@pytest.fixture(scope="module")
def digits_model():
    return load_model("digits_cnn", device=torch.device("cpu"))


@pytest.fixture(scope="module")
def digits_result(digits_model) -> EvalResult:
    return evaluate(digits_model, digits_set("test"), num_workers=0)


def random_case(seed: int, n: int = 64, classes: int = 7, scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, classes, generator=g) * scale, torch.randint(0, classes, (n,), generator=g)


# ---------------------------------------------------------------- metrics
def test_top_k_accuracy_by_hand_and_against_torch_topk() -> None:
    logits = torch.tensor([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [1.0, 2.0, 3.0]])
    targets = torch.tensor([0, 2, 0])
    assert top_k_accuracy(logits, targets, k=1) == pytest.approx(1 / 3)
    assert top_k_accuracy(logits, targets, k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(logits, targets, k=3) == 1.0
    assert top_k_accuracy(logits, targets, k=10) == 1.0  # k clipped to the class count
    for seed in range(5):
        z, y = random_case(seed)
        for k in (1, 3, 5):
            expected = (torch.topk(z, k, dim=1).indices == y[:, None]).any(dim=1).float().mean().item()
            assert top_k_accuracy(z, y, k=k) == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), temperature=st.floats(0.05, 20.0), scale=st.floats(0.1, 50.0))
def test_nll_equals_torch_cross_entropy(seed: int, temperature: float, scale: float) -> None:
    z, y = random_case(seed, scale=scale)
    expected = F.cross_entropy(z.double() / temperature, y).item()
    assert nll(z, y, temperature=temperature) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_nll_and_brier_by_hand() -> None:
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=torch.float64)
    targets = torch.tensor([0, 1])
    # (0.3² + 0.2² + 0.1²) and (0.1² + 0.9² + 0.8²), averaged
    assert brier_score(probs, targets) == pytest.approx((0.14 + 1.46) / 2)
    logits = probs.log()  # softmax(log p) = p
    assert nll(logits, targets) == pytest.approx(-(math.log(0.7) + math.log(0.1)) / 2)


def test_calibration_table_ece_and_mce_by_hand() -> None:
    confidence = torch.tensor([0.85, 0.85, 0.85, 0.85, 0.55, 0.55])
    correct = torch.tensor([True, True, True, False, False, True])
    table = calibration_table(confidence, correct, n_bins=10)
    assert table["count"].tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 4, 0]
    assert table.loc[8, "accuracy"] == pytest.approx(0.75) and table.loc[8, "confidence"] == pytest.approx(0.85)
    assert math.isnan(table.loc[0, "accuracy"])
    # bin (0.8, 0.9]: |0.75 - 0.85| = 0.10 for 4 of 6; bin (0.5, 0.6]: |0.5 - 0.55| = 0.05 for 2 of 6
    assert expected_calibration_error(table) == pytest.approx(4 / 6 * 0.10 + 2 / 6 * 0.05)
    assert max_calibration_error(table) == pytest.approx(0.10)


def test_bins_are_left_open_right_closed_with_zero_in_the_first() -> None:
    table = calibration_table(torch.tensor([0.0, 0.5, 0.5000001, 1.0]), torch.ones(4, dtype=torch.bool), n_bins=2)
    assert table["count"].tolist() == [2, 2]
    assert table["lower"].tolist() == [0.0, 0.5] and table["upper"].tolist() == [0.5, 1.0]
    with pytest.raises(InputError):
        calibration_table(torch.tensor([0.5]), torch.tensor([True]), n_bins=0)


def test_compute_metrics_matches_its_parts_and_15_bins_by_default() -> None:
    z, y = random_case(3, n=500)
    metrics = compute_metrics(z, y, temperature=1.7)
    probs = softmax(z.double(), temperature=1.7)
    confidence, predicted = probs.max(dim=1)
    table = calibration_table(confidence, predicted == y)
    assert len(table) == DEFAULT_BINS == 15
    assert metrics.ece == pytest.approx(expected_calibration_error(table))
    assert metrics.top1 == pytest.approx((predicted == y).double().mean().item())
    assert metrics.nll == pytest.approx(F.cross_entropy(z.double() / 1.7, y).item())
    assert metrics.brier == pytest.approx(((probs - F.one_hot(y, 7)) ** 2).sum(1).mean().item())
    assert compute_metrics(z, y, n_bins=5).ece != compute_metrics(z, y, n_bins=30).ece
    with pytest.raises(InputError):
        compute_metrics(z, y, temperature=0)
    with pytest.raises(InputError):
        compute_metrics(z, torch.full_like(y, 7))


# ---------------------------------------------------------------- temperature scaling
def test_fit_recovers_a_known_temperature() -> None:
    # labels drawn from softmax(base); the model reports 3 x base, so the right temperature is 3
    g = torch.Generator().manual_seed(0)
    base = torch.randn(20_000, 10, generator=g) * 2
    targets = torch.multinomial(torch.softmax(base, dim=1), 1, generator=g).flatten()
    fitted = fit_temperature(3 * base, targets)
    assert fitted == pytest.approx(3.0, rel=0.05)
    best = nll(3 * base, targets, temperature=fitted)
    for other in (fitted * 0.9, fitted * 1.1, 1.0):
        assert best < nll(3 * base, targets, temperature=other)


def test_fitted_t_lowers_nll_on_the_digits_held_out_set(digits_result: EvalResult) -> None:
    z, y = digits_result.logits, digits_result.targets
    fit = calibrate(z, y)
    assert fit.temperature > 0 and not fit.probabilities_warning
    assert fit.after.nll < fit.before.nll
    assert fit.after.top1 == fit.before.top1 >= 0.95  # T never changes the ranking
    for other in (fit.temperature * 0.8, fit.temperature * 1.25):  # and it is the minimum nearby
        assert fit.after.nll < nll(z, y, temperature=other)
    # the same real logits made 4x overconfident: the fit finds it and NLL and ECE drop a lot
    sharp = calibrate(4 * z, y)
    assert sharp.temperature == pytest.approx(4 * fit.temperature, rel=0.02)
    assert sharp.after.nll < 0.5 * sharp.before.nll
    assert sharp.after.ece < sharp.before.ece


def test_probabilities_instead_of_logits_are_flagged() -> None:
    z, y = random_case(1, n=200)
    probs = torch.softmax(z, dim=1)
    assert looks_like_probabilities(probs)
    assert not looks_like_probabilities(z)
    assert not looks_like_probabilities(torch.log_softmax(z, dim=1))  # log-probabilities are fine logits
    assert calibrate(probs, y).probabilities_warning


# ---------------------------------------------------------------- the run
def test_evaluate_equals_predict_with_and_without_workers(digits_model, digits_result: EvalResult) -> None:
    labelled = digits_set("test")
    images = [decode_image(labelled.reader.read(name), name).image for name in labelled.files]
    expected = predict(digits_model, images)
    assert digits_result.files == labelled.files and digits_result.n == 540
    assert torch.equal(digits_result.targets, torch.tensor(labelled.targets))
    torch.testing.assert_close(digits_result.logits, expected)
    with_worker = evaluate(digits_model, labelled, num_workers=1, batch_size=100)
    torch.testing.assert_close(with_worker.logits, expected)
    assert with_worker.errors == () and with_worker.attempted == 540
    assert top_k_accuracy(with_worker.logits, with_worker.targets) >= 0.95
    assert with_worker.images_per_second > 0


def test_progress_reports_and_a_cancelled_run_leaves_nothing(digits_model) -> None:
    labelled = digits_set("test")
    seen: list[Progress] = []
    evaluate(digits_model, labelled, batch_size=200, num_workers=0, on_progress=seen.append)
    assert [p.done for p in seen] == [200, 400, 540] and all(p.total == 540 for p in seen)
    assert all(p.images_per_second > 0 for p in seen)

    class Cancelled(Exception):
        pass

    def cancel(progress: Progress) -> None:
        if progress.done >= 100:
            raise Cancelled

    with pytest.raises(Cancelled):
        evaluate(digits_model, labelled, batch_size=50, num_workers=1, on_progress=cancel)
    assert multiprocessing.active_children() == []  # the decoding worker is gone too


def test_a_broken_image_is_reported_and_the_rest_evaluated(digits_model) -> None:
    buffer = io.BytesIO()
    good = io.BytesIO()
    Image.new("L", (8, 8), 200).save(good, format="PNG")
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("3/good.png", good.getvalue())
        archive.writestr("3/fake.png", b"this is not a png at all")
        archive.writestr("4/truncated.png", good.getvalue()[:30])
    labelled = open_zip(buffer.getvalue(), resolver_for(digits_model.spec, DIGITS))
    assert len(labelled) == 3
    result = evaluate(digits_model, labelled, num_workers=0)
    assert result.files == ("3/good.png",) and result.attempted == 3
    errors = {e.name: e.reason for e in result.errors}
    assert set(errors) == {"3/fake.png", "4/truncated.png"}
    assert "not a recognised image" in errors["3/fake.png"]


def test_bad_run_arguments(digits_model) -> None:
    with pytest.raises(InputError):
        evaluate(digits_model, digits_set("test"), batch_size=0)
    with pytest.raises(InputError):
        evaluate(digits_model, digits_set("test"), num_workers=-1)


def test_workers_only_where_decoding_is_the_bottleneck() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    many = 100  # batches left
    assert choose_workers(0.10, 0.01, remaining_batches=many, device=cpu, cpus=2) == 2  # decode-bound
    assert choose_workers(0.10, 0.01, remaining_batches=many, device=cpu, cpus=16) == 4
    assert choose_workers(0.01, 0.10, remaining_batches=many, device=cpu, cpus=16) == 0  # model-bound CPU
    assert choose_workers(0.01, 0.10, remaining_batches=many, device=cuda, cpus=16) == 4  # the GPU frees cores
    assert choose_workers(0.10, 0.01, remaining_batches=many, device=cpu, cpus=1) == 0
    assert choose_workers(0.10, 0.01, remaining_batches=3, device=cpu, cpus=2) == 0  # too little left to fork for


def test_batch_size_follows_the_input_size(digits_model, lite0) -> None:
    assert default_batch_size(digits_model) == 128
    assert default_batch_size(lite0) == 4


# ---------------------------------------------------------------- tables
def toy_result() -> EvalResult:
    logits = torch.tensor(
        [[4.0, 1.0, 0.0], [0.0, 3.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 2.0], [3.0, 0.0, 2.9], [0.0, 0.0, 1.0]]
    )
    targets = torch.tensor([0, 1, 0, 2, 2, 2])
    return EvalResult(tuple(f"f{i}.png" for i in range(6)), targets, logits, model="toy", attempted=6)


def test_records_galleries_pairs_and_per_class_by_hand() -> None:
    records = records_table(toy_result(), ["cat", "dog", "<b>fox</b>"])
    assert records["prediction"].tolist() == [0, 1, 1, 2, 0, 2]
    assert records["correct"].tolist() == [True, True, False, True, False, True]
    p = softmax(torch.tensor([0.0, 5.0, 0.0]))
    assert records.loc[2, "confidence"] == pytest.approx(float(p[1]))
    assert records.loc[2, "margin"] == pytest.approx(float(p[1] - p[0]))
    assert records.loc[2, "target_probability"] == pytest.approx(float(p[0]))
    assert most_confident_mistakes(records, n=5)["file"].tolist() == ["f2.png", "f4.png"]
    assert least_confident_correct(records, n=2)["file"].tolist() == ["f5.png", "f3.png"]
    pairs = confused_pairs(records)
    assert pairs[["target_label", "prediction_label", "count"]].values.tolist() == [
        ["cat", "dog", 1],
        ["<b>fox</b>", "cat", 1],
    ]
    per_class = per_class_table(records, ["cat", "dog", "<b>fox</b>"])
    assert per_class["label"].tolist() == ["cat", "<b>fox</b>", "dog"]  # worst accuracy first
    assert per_class["count"].tolist() == [2, 3, 1] and per_class["correct"].tolist() == [1, 2, 1]
    assert per_class["accuracy"].tolist() == pytest.approx([0.5, 2 / 3, 1.0])
    assert per_class["most_confused_with"].tolist() == ["dog", "cat", ""]
    assert per_class["predicted"].tolist() == [2, 2, 2]


def test_confusion_matrix_against_sklearn() -> None:
    from sklearn.metrics import confusion_matrix as sklearn_confusion

    z, y = random_case(7, n=300, classes=6)
    predicted = z.argmax(dim=1)
    ours = confusion_matrix(y, predicted, num_classes=6)
    assert np.array_equal(ours.numpy(), sklearn_confusion(y.numpy(), predicted.numpy(), labels=list(range(6))))
    records = records_table(EvalResult(tuple(map(str, range(300))), y, z), list("abcdef"))
    assert torch.equal(confusion_matrix(records["target"], records["prediction"], num_classes=6), ours)


# ---------------------------------------------------------------- results files
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_results_round_trip(fmt: str, digits_result: EvalResult) -> None:
    data = results_bytes(digits_result, fmt=fmt, labels=DIGITS)
    back = read_results(data, f"results.{fmt}")
    assert back.files == digits_result.files and back.model == "digits_cnn"
    assert torch.equal(back.targets, digits_result.targets)
    assert torch.equal(back.logits, digits_result.logits)  # float32 written and read back exactly
    again = asdict(compute_metrics(back.logits, back.targets))
    assert again == pytest.approx(asdict(compute_metrics(digits_result.logits, digits_result.targets)), rel=1e-12)
    frame = pd.read_csv(io.BytesIO(data)) if fmt == "csv" else pd.read_parquet(io.BytesIO(data))
    assert {
        "file",
        "target",
        "target_label",
        "prediction",
        "prediction_label",
        "confidence",
        "correct",
        "top5_indices",
        "top5_probabilities",
        "model",
    } <= set(frame.columns)
    first = frame.iloc[0]
    assert first["top5_indices"].split(";")[0] == str(first["prediction"])
    if fmt == "csv":  # one column per logit
        assert {"logit_0", "logit_9"} <= set(frame.columns)
    else:  # compact: one list column of float32 logits, byte-stream-split and zstd, no dictionary for floats
        np.testing.assert_array_equal(np.stack(frame["logits"].to_numpy()), digits_result.logits.numpy())
        column = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(list(frame.columns).index("logits"))
        assert column.compression == "ZSTD"
        assert "BYTE_STREAM_SPLIT" in column.encodings and "RLE_DICTIONARY" not in column.encodings


def test_bad_results_files_are_refused(digits_result: EvalResult) -> None:
    frame = results_frame(digits_result)
    with pytest.raises(InputError, match="logit columns"):
        read_results(frame.drop(columns=["logit_3"]).to_csv(index=False).encode(), "r.csv")
    broken = frame.copy()
    broken.loc[0, "logit_0"] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        read_results(broken.to_csv(index=False).encode(), "r.csv")
    broken = frame.copy()
    broken.loc[0, "target"] = 10
    with pytest.raises(InputError, match="class indices"):
        read_results(broken.to_csv(index=False).encode(), "r.csv")
    with pytest.raises(InputError, match="Parquet"):
        read_results(b"PAR1 this is no parquet", "r.parquet")
    with pytest.raises(InputError, match="missing column"):
        read_results(frame.drop(columns=["file"]).to_csv(index=False).encode(), "r.csv")
    with pytest.raises(InputError):
        results_bytes(digits_result, fmt="xlsx")


def test_summary_counts_the_run(digits_result: EvalResult) -> None:
    """Its keys are the CLI's contract (tests/test_cli_evaluate.py checks them through the CLI)."""
    report = summary(digits_result, calibrate(digits_result.logits, digits_result.targets))
    assert report["n"] == 540 and report["errors"] == []
    correct = int((digits_result.logits.argmax(dim=1) == digits_result.targets).sum())
    assert report["top1"] == pytest.approx(correct / 540, abs=1e-12)


# ---------------------------------------------------------------- figures and thumbnails
def test_reliability_and_histogram_figures(digits_result: EvalResult) -> None:
    z, y = digits_result.logits, digits_result.targets
    tables = []
    for name, temperature in (("T = 1", 1.0), ("T = 2", 2.0)):
        confidence, correct = confidence_and_correct(z, y, temperature=temperature)
        tables.append((name, calibration_table(confidence, correct)))
    fig = reliability_figure(tables)
    diagonal, *rest = fig.data
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    scatters = [trace for trace in rest if trace.type == "scatter"]
    bars = [trace for trace in rest if trace.type == "bar"]
    assert [s.name for s in scatters] == ["T = 1", "T = 2"]
    assert all(sum(b.y) == 540 for b in bars)  # bin counts cover every image
    filled = tables[0][1][tables[0][1]["count"] > 0]
    assert list(scatters[0].y) == pytest.approx(filled["accuracy"].tolist())

    confidence, correct = confidence_and_correct(z, y)
    histogram = confidence_histogram_figure(confidence, correct)
    right, wrong = histogram.data
    assert sum(right.y) == int(correct.sum()) and sum(wrong.y) == int((~correct).sum())


def test_confusion_figure_escapes_labels_and_separates_equal_names() -> None:
    matrix = torch.tensor([[5, 1, 0], [0, 3, 2], [1, 0, 4]])
    fig = confusion_matrix_figure(matrix, ["<img src=x onerror=alert(1)>", "cardigan", "cardigan"])
    heatmap = fig.data[0]
    assert list(heatmap.x) == ["&lt;img src=x onerror=alert(1)&gt;", "cardigan (#1)", "cardigan (#2)"]
    assert heatmap.text[1] == ("", "3", "2") or list(heatmap.text[1]) == ["", "3", "2"]
    assert heatmap.z[1][2] == pytest.approx(0.4)  # share of the row
    assert confusion_matrix_figure(matrix, ["a", "b", "c"], classes=[0, 2]).data[0].z[1][1] == pytest.approx(0.8)


def test_thumbnails_enlarge_tiny_images_sharply_and_shrink_large_ones(sample) -> None:
    tiny = io.BytesIO()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8) * 4, mode="L").save(tiny, format="PNG")
    big = Image.open(io.BytesIO(image_bytes(thumbnail(decode_image(tiny.getvalue(), "tiny.png").image, size=160))))
    assert big.size == (160, 160)
    assert len(set(np.asarray(big.convert("L")).flatten().tolist())) == 64  # nearest: no blended pixels
    photo = Image.open(
        io.BytesIO(image_bytes(thumbnail(decode_image(sample("coffee").read_bytes(), "coffee.png").image)))
    )
    assert max(photo.size) == 160


def test_per_class_table_equals_pandas_groupby_at_1000_classes() -> None:
    """Counted with bincount (one pass, no Python per class); the oracle is pandas' groupby per class, and the
    most frequent wrong prediction breaks ties at the lowest class index."""
    rng = np.random.default_rng(3)
    target = rng.integers(0, 1000, 20_000)
    wrong = np.where(rng.random(target.size) < 0.6, (target + 1) % 1000, rng.integers(0, 1000, target.size))
    prediction = np.where(rng.random(target.size) < 0.7, target, wrong)
    labels = [f"class {i}" for i in range(1000)]
    records = pd.DataFrame(
        {
            "target": target,
            "prediction": prediction,
            "correct": target == prediction,
            "confidence": rng.random(target.size),
        }
    )
    table = per_class_table(records, labels).set_index("index").sort_index()
    grouped = records.groupby("target")
    assert sorted(table.index) == sorted(grouped.groups)
    assert table["count"].tolist() == grouped.size().tolist()
    assert table["correct"].tolist() == grouped["correct"].sum().tolist()
    assert np.allclose(table["mean_confidence"], grouped["confidence"].mean())
    assert (
        table["predicted"].tolist() == records["prediction"].value_counts().reindex(table.index, fill_value=0).tolist()
    )
    for c, rows in records[~records["correct"]].groupby("target"):
        counts = rows["prediction"].value_counts()
        lowest_of_the_most = min(counts.index[counts == counts.max()])
        assert table.loc[c, "most_confused_with"] == labels[lowest_of_the_most]
    ordered = per_class_table(records, labels)
    keys = list(zip(ordered["accuracy"], ordered["index"], strict=True))
    assert keys == sorted(keys)  # worst accuracy first, then by index
