"""The fast path (`core.evaluate.rescore.Rescorer`) against the definitions it replaces on the hot path:
`compute_metrics`, `records_table`, `per_image_scores`, `fit_temperature` and `calibration_table` as the oracles,
scikit-learn where it has the metric; results files old and new; paths on the server."""

from __future__ import annotations

import io
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import log_loss, top_k_accuracy_score

from core.datasets.roots import ROOTS_VARIABLE, data_roots, resolve_under_roots
from core.errors import InputError
from core.evaluate import rescore
from core.evaluate.files import read_results, results_bytes, results_frame, write_results
from core.evaluate.metrics import (
    calibration_table,
    compute_metrics,
    confidence_and_correct,
    fit_temperature,
    looks_like_probabilities,
)
from core.evaluate.records import records_table
from core.evaluate.rescore import Rescorer
from core.evaluate.result import EvalResult
from core.evaluate.scores import per_image_scores
from core.numerics import ranks
from tests.synthetic import synthetic_result

TEMPERATURES = (0.05, 0.3, 1.0, 1.7, 5.0, 20.0)


def result_of(logits: torch.Tensor, targets: torch.Tensor) -> EvalResult:
    return EvalResult(tuple(f"{i:05d}.png" for i in range(len(targets))), targets, logits, model="m")


@pytest.fixture(scope="module")
def realistic() -> EvalResult:
    """4,000 images of 1,000 classes: 75% right, over-confident, 3% wrong labels (tests/synthetic.py)."""
    return synthetic_result(4_000, dim=64, duplicates=10).result


def assert_metrics_equal(ours: object, oracle: object) -> None:
    got, want = asdict(ours), asdict(oracle)  # type: ignore[call-overload]
    assert got.pop("n") == want.pop("n") and got.pop("top1") == want.pop("top1") and got.pop("top5") == want.pop("top5")
    assert got == pytest.approx(want, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_metrics_at_every_temperature_equal_the_definitions(realistic: EvalResult, temperature: float) -> None:
    scorer = Rescorer(realistic)
    assert_metrics_equal(
        scorer.metrics(temperature), compute_metrics(realistic.logits, realistic.targets, temperature=temperature)
    )
    # the reliability diagram's bins: the same images in each (those near an edge are recomputed in float64)
    confidence, correct = confidence_and_correct(realistic.logits, realistic.targets, temperature=temperature)
    oracle = calibration_table(confidence, correct)
    ours = scorer.at(temperature).calibration
    assert ours["count"].tolist() == oracle["count"].tolist()
    np.testing.assert_allclose(ours["confidence"], oracle["confidence"], rtol=1e-6)


def test_against_scikit_learn(realistic: EvalResult) -> None:
    scorer = Rescorer(realistic)
    y = realistic.targets.numpy()
    probs = torch.softmax(realistic.logits.double() / 1.7, dim=1).numpy()
    labels = np.arange(realistic.num_classes)
    metrics = scorer.metrics(1.7)
    assert metrics.nll == pytest.approx(log_loss(y, probs, labels=labels), rel=1e-6)
    assert metrics.top5 == pytest.approx(top_k_accuracy_score(y, probs, k=5, labels=labels))
    assert metrics.top1 == pytest.approx(float((probs.argmax(1) == y).mean()))
    one_hot = np.eye(realistic.num_classes)[y]
    assert metrics.brier == pytest.approx(float(((probs - one_hot) ** 2).sum(1).mean()), rel=1e-6)


def test_records_and_scores_equal_the_definitions_with_ties() -> None:
    generator = torch.Generator().manual_seed(3)
    logits = torch.randint(-3, 4, (500, 7), generator=generator).float()  # small integers: plenty of ties
    targets = torch.randint(0, 7, (500,), generator=generator)
    result = result_of(logits, targets)
    names = list("abcdefg")
    scorer = Rescorer(result)
    assert np.array_equal(scorer.target_rank, ranks(logits)[torch.arange(500), targets].numpy())
    for temperature in (0.5, 1.0, 3.0):
        ours = scorer.at(temperature, names=names).records
        oracle = records_table(result, names, temperature=temperature)
        for column in oracle.columns:
            if oracle[column].dtype.kind == "f":
                np.testing.assert_allclose(ours[column], oracle[column], rtol=1e-6, atol=1e-7, err_msg=column)
            else:
                assert ours[column].tolist() == oracle[column].tolist(), column
        scores = per_image_scores(logits, targets, temperature=temperature)
        for column in scores.columns:
            np.testing.assert_allclose(ours[column], scores[column], rtol=1e-6, atol=1e-7, err_msg=column)
        assert_metrics_equal(scorer.metrics(temperature), compute_metrics(logits, targets, temperature=temperature))
    np.testing.assert_allclose(ours["logit_margin"], (logits.sort(1).values[:, -1] - logits.sort(1).values[:, -2]))


def test_fitted_temperature_equals_the_definition(realistic: EvalResult) -> None:
    fitted = Rescorer(realistic).fit_temperature()
    assert fitted > 1.0  # the synthetic model is over-confident
    assert fitted == pytest.approx(fit_temperature(realistic.logits, realistic.targets), abs=5e-7)
    generator = torch.Generator().manual_seed(0)
    shy = torch.randn(300, 10, generator=generator)  # an under-confident model: T < 1
    targets = shy.argmax(1)
    assert Rescorer(result_of(shy, targets)).fit_temperature() == pytest.approx(fit_temperature(shy, targets), abs=5e-7)


def test_calibrate_fits_once_and_reports_both_temperatures(realistic: EvalResult, monkeypatch) -> None:
    scorer = Rescorer(realistic)
    calls = []
    real = Rescorer.fit_temperature
    monkeypatch.setattr(Rescorer, "fit_temperature", lambda self: calls.append(1) or real(self))
    fit = scorer.calibrate(temperature=2.5)
    again = scorer.calibrate()
    assert len(calls) == 1 and fit.temperature == again.temperature
    assert fit.before.temperature == 2.5 and again.before.temperature == 1.0
    assert fit.after.nll < again.before.nll
    assert fit.probabilities_warning is False


def test_probabilities_warning_and_bad_logits() -> None:
    probs = torch.softmax(torch.randn(50, 4, generator=torch.Generator().manual_seed(1)), 1)
    targets = torch.zeros(50, dtype=torch.int64)
    assert Rescorer(result_of(probs, targets)).probabilities_warning is looks_like_probabilities(probs) is True
    broken = probs.clone()
    broken[3, 1] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        Rescorer(result_of(broken, targets))
    with pytest.raises(InputError, match="class indices"):
        Rescorer(result_of(probs, targets + 4))


def test_the_cache_keeps_the_last_temperatures(realistic: EvalResult, monkeypatch) -> None:
    monkeypatch.setattr(rescore, "MAX_CACHED", 3)
    scorer = Rescorer(realistic)
    first = scorer.at(1.0)
    assert scorer.at(1.0) is first
    for temperature in (2.0, 3.0, 4.0):
        scorer.at(temperature)
    assert scorer.at(1.0) is not first  # pushed out by three others
    assert len(scorer._cache) == 3


# ---------------------------------------------------------------- results files
def test_compact_parquet_round_trip_is_exact_and_smaller_than_float32(tmp_path: Path) -> None:
    made = synthetic_result(3_000, classes=100, dim=256, duplicates=5).result
    path = tmp_path / "r.parquet"
    write_results(made, path, fmt="parquet", features=True)
    back = read_results(path)
    assert back.files == made.files and back.model == "synthetic"
    assert torch.equal(back.logits, made.logits) and torch.equal(back.targets, made.targets)
    assert back.features is not None and torch.equal(back.features, made.features)
    raw = made.logits.numel() * 4 + made.features.numel() * 4  # float32 logits and features
    assert path.stat().st_size < raw
    assert torch.equal(read_results(path.read_bytes(), "r.parquet").logits, made.logits)  # bytes too


def test_a_results_file_written_the_old_way_still_loads(tmp_path: Path) -> None:
    made = synthetic_result(500, classes=10, dim=16, duplicates=5).result
    # what 39afb49 wrote: one column per logit and per feature, pandas' default Parquet (dictionary-encoded)
    old = results_frame(made, features=True)
    buffer = io.BytesIO()
    old.to_parquet(buffer, index=False)
    back = read_results(buffer.getvalue(), "old.parquet")
    assert torch.equal(back.logits, made.logits) and back.files == made.files
    assert back.features is not None and torch.equal(back.features, made.features)
    csv = read_results(old.to_csv(index=False).encode(), "old.csv")
    assert torch.equal(csv.logits, made.logits)
    # and the new files' per-image columns are what the old ones held, at T = 1
    new = pd.read_parquet(io.BytesIO(results_bytes(made, fmt="parquet")))
    for column in ("file", "target", "prediction", "correct", "top5_indices", "model"):
        assert new[column].tolist() == old[column].tolist(), column


def test_a_compact_file_with_bad_values_is_refused(tmp_path: Path) -> None:
    made = synthetic_result(200, classes=10, dim=16, duplicates=5, features=False).result
    broken = EvalResult(made.files, made.targets, made.logits.clone(), model="m")
    broken.logits[5, 2] = float("inf")
    with pytest.raises(InputError, match="NaN or infinite"):
        read_results(_unchecked_parquet(broken), "b.parquet")
    with pytest.raises(InputError, match="NaN or infinite"):
        results_bytes(broken, fmt="parquet")  # nor written
    with pytest.raises(InputError, match="no such file"):
        read_results(tmp_path / "missing.parquet")


def _unchecked_parquet(result: EvalResult) -> bytes:
    """A compact file written around the writer's own checks (as another tool might)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    z = result.logits.numpy()
    table = pa.table(
        {
            "file": list(result.files),
            "target": result.targets.numpy(),
            "logits": pa.FixedSizeListArray.from_arrays(pa.array(z.reshape(-1)), z.shape[1]),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- paths on the server
def test_paths_are_opened_only_under_the_allowed_roots(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "sub").mkdir(parents=True)
    outside.mkdir()
    (allowed / "sub" / "r.parquet").write_bytes(b"x")
    (outside / "secret.parquet").write_bytes(b"x")
    os.symlink(outside / "secret.parquet", allowed / "link.parquet")  # a link that leads outside
    os.symlink(outside, allowed / "door")
    roots = data_roots({ROOTS_VARIABLE: f"{allowed}{os.pathsep}{tmp_path / 'missing'}"})
    assert roots == (allowed.resolve(),)
    assert resolve_under_roots(str(allowed / "sub" / "r.parquet"), roots) == (allowed / "sub" / "r.parquet").resolve()
    assert resolve_under_roots("sub/r.parquet", roots).name == "r.parquet"  # relative: from the first root
    assert resolve_under_roots("sub/../sub/r.parquet", roots).name == "r.parquet"  # ".." that stays inside
    for escape in (
        str(outside / "secret.parquet"),
        "../outside/secret.parquet",
        str(allowed / ".." / "outside" / "secret.parquet"),
        "link.parquet",
        "door/secret.parquet",
        "/etc/passwd",
    ):
        with pytest.raises(InputError, match="outside the folders this server allows"):
            resolve_under_roots(escape, roots)
    with pytest.raises(InputError, match="no such file"):
        resolve_under_roots("sub/nothing.parquet", roots)
    with pytest.raises(InputError, match="off"):
        resolve_under_roots(str(allowed / "sub" / "r.parquet"), data_roots({}))
