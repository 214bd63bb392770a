"""Out-of-distribution scores against pytorch-ood and torch, their separation against scikit-learn and
pytorch-ood's AUROC, percentiles against scipy, and a real check: EfficientNet-Lite0 on photos vs outside inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pytorch_ood.detector import EnergyBased, MaxLogit, MaxSoftmax
from pytorch_ood.metrics import AUROC
from scipy.stats import percentileofscore
from sklearn.metrics import roc_auc_score, roc_curve

from core.errors import InputError
from core.uncertainty import ood
from core.uncertainty.rows import row_blocks


def random_logits(seed: int, n: int = 300, classes: int = 20, scale: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, classes, generator=g, dtype=torch.float64) * scale


# ---------------------------------------------------------------- the scores
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), temperature=st.floats(0.05, 20.0), scale=st.floats(0.1, 60.0))
def test_scores_equal_pytorch_ood_and_torch(seed: int, temperature: float, scale: float) -> None:
    z = random_logits(seed, n=64, scale=scale)
    scores = ood.ood_scores(z, temperature=temperature)
    # pytorch-ood returns outlier scores (higher = more outside): ours are their negatives
    np.testing.assert_allclose(scores["energy"], -EnergyBased.score(z, t=temperature).numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(scores["msp"], -MaxSoftmax.score(z, t=temperature).numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(scores["max_logit"], -MaxLogit.score(z).numpy())
    # pytorch-ood's Entropy clips p at 1e-7, so torch's own Categorical entropy is the oracle here
    expected = torch.distributions.Categorical(logits=z / temperature).entropy().numpy()
    np.testing.assert_allclose(scores["entropy"], expected, rtol=1e-9, atol=1e-12)


def test_energy_formula_by_hand_and_its_limits() -> None:
    z = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    lse = np.log(np.exp(1) + np.exp(2) + np.exp(3))
    assert ood.ood_scores(z)["energy"][0] == pytest.approx(lse, rel=1e-15)
    assert ood.ood_scores(z, temperature=2.0)["energy"][0] == pytest.approx(
        2 * np.log(np.exp(0.5) + np.exp(1) + np.exp(1.5))
    )
    # as T -> 0 energy tends to the max logit; softmax saturates but nothing overflows at huge logits
    assert ood.ood_scores(z, temperature=1e-3)["energy"][0] == pytest.approx(3.0, abs=1e-6)
    big = ood.ood_scores(torch.tensor([[1e30, 0.0, -1e30]]), temperature=0.05)
    assert all(np.isfinite(v).all() for v in big.values()) and big["msp"][0] == 1.0 and big["entropy"][0] == 0.0
    uniform = ood.ood_scores(torch.zeros(1, 4))
    assert uniform["msp"][0] == pytest.approx(0.25) and uniform["entropy"][0] == pytest.approx(np.log(4))


def test_blocks_do_not_change_the_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    z = random_logits(3, n=257, classes=13).to(torch.float32)
    whole = ood.ood_scores(z, temperature=0.7)
    assert len(list(row_blocks(z, elements=13 * 10))) == 26  # 10 rows a block
    monkeypatch.setattr(ood, "row_blocks", lambda logits: row_blocks(logits, elements=13 * 10))
    blocked = ood.ood_scores(z, temperature=0.7)
    for name in ood.SCORE_NAMES:
        np.testing.assert_array_equal(whole[name], blocked[name])


def test_record_has_exactly_the_contract_keys_and_matches_the_batch() -> None:
    z = random_logits(5, n=4)
    record = ood.ood_scores_record(z[2], 1.5)
    assert list(record) == ["msp", "max_logit", "energy", "entropy"]
    batch = ood.ood_scores(z, temperature=1.5)
    assert record == {name: float(batch[name][2]) for name in record}
    with pytest.raises(InputError):
        ood.ood_scores_record(torch.tensor([1.0, float("nan")]))
    with pytest.raises(InputError):
        ood.ood_scores(z, temperature=0)


# ---------------------------------------------------------------- percentiles
def test_percentile_equals_scipy_mean_kind_with_entropy_turned() -> None:
    rng = np.random.default_rng(0)
    reference = np.round(rng.normal(size=500), 1)  # rounded: many ties
    for value in (-5.0, -0.3, 0.0, 0.1, 2.0, 9.0):
        assert ood.percentile_among("energy", value, reference) == pytest.approx(
            percentileofscore(reference, value, kind="mean")
        )
        # entropy: a LOW entropy is the in-distribution-looking side
        assert ood.percentile_among("entropy", value, reference) == pytest.approx(
            percentileofscore(-reference, -value, kind="mean")
        )
    record = {"msp": 0.5, "energy": 100.0, "entropy": 0.0, "max_logit": 3.0}
    found = ood.score_percentiles(record, {"energy": reference, "entropy": np.abs(reference) + 0.05})
    assert found == {"energy": 100.0, "entropy": 100.0}
    with pytest.raises(InputError):
        ood.percentile_among("energy", 1.0, np.array([]))


# ---------------------------------------------------------------- separation
def mann_whitney(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(inside > outside) + P(tie) / 2, over every pair."""
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def test_separation_equals_sklearn_pytorch_ood_and_pairs() -> None:
    rng = np.random.default_rng(1)
    inside, outside = np.round(rng.normal(1.0, 1.0, 400), 1), np.round(rng.normal(0.0, 1.0, 300), 1)  # ties too
    for name in ("energy", "entropy"):
        found = ood.separation(name, inside, outside)
        pos, neg = (inside, outside) if name == "energy" else (-inside, -outside)
        labels = np.r_[np.ones(pos.size), np.zeros(neg.size)]
        assert found.auroc == pytest.approx(roc_auc_score(labels, np.r_[pos, neg]), abs=1e-15)
        assert found.auroc == pytest.approx(mann_whitney(pos, neg), abs=1e-12)
        # pytorch-ood: outside is the positive class of outlier scores; the area is the same number
        outlier = torch.tensor(np.r_[-pos, -neg])
        their = AUROC().update(outlier, torch.tensor(np.r_[np.zeros(pos.size), -np.ones(neg.size)])).compute()
        assert found.auroc == pytest.approx(their["AUROC"], abs=1e-6)
        # FPR at 95% TPR by its definition: the highest cut keeping >= 95% of inside, the outside share above it
        cuts = np.unique(pos)[::-1]
        cut = next(c for c in cuts if np.mean(pos >= c) >= 0.95)
        assert found.fpr95 == pytest.approx(np.mean(neg >= cut), abs=1e-15)
        assert found.threshold95 == pytest.approx(cut if name == "energy" else -cut)
        fpr, tpr, _ = roc_curve(labels, np.r_[pos, neg], drop_intermediate=False)
        np.testing.assert_array_equal(found.fpr, fpr)
        np.testing.assert_array_equal(found.tpr, tpr)


def test_auroc_orientation_inside_is_positive() -> None:
    confident = torch.tensor([[9.0, 0.0, 0.0]] * 5, dtype=torch.float64)
    unsure = torch.tensor([[0.1, 0.0, 0.0]] * 5, dtype=torch.float64)
    summary = ood.ood_summary(confident, unsure)
    assert summary["auroc"] == {"msp": 1.0, "max_logit": 1.0, "energy": 1.0, "entropy": 1.0}
    assert summary["fpr95"] == {"msp": 0.0, "max_logit": 0.0, "energy": 0.0, "entropy": 0.0}
    swapped = ood.ood_summary(unsure, confident)
    assert swapped["auroc"]["energy"] == 0.0 and swapped["fpr95"]["energy"] == 1.0
    assert set(summary) == {"n_in", "n_out", "auroc", "fpr95", "temperature"}
    assert summary["n_in"] == summary["n_out"] == 5
    with pytest.raises(InputError):
        ood.separation("energy", np.array([1.0]), np.array([]))
    with pytest.raises(InputError):
        ood.separation("confidence", np.array([1.0]), np.array([0.0]))


def test_threshold_split_by_hand() -> None:
    inside, outside = np.array([5.0, 4.0, 3.0, 2.0]), np.array([3.0, 1.0, 0.0])
    split = ood.threshold_split("energy", inside, outside, 3.0)
    assert (split.caught, split.lost, split.n_in, split.n_out) == (2 / 3, 1 / 4, 4, 3)  # 3.0 itself is kept
    # entropy: above the threshold is outside
    split = ood.threshold_split("entropy", np.array([0.1, 0.2, 1.5]), np.array([1.0, 2.0]), 1.2)
    assert (split.caught, split.lost) == (0.5, 1 / 3)


def test_ood_table_and_the_most_fooling_images() -> None:
    z = torch.tensor([[0.0, 1.0], [5.0, 0.0], [0.0, 3.0], [0.5, 0.5]], dtype=torch.float64)
    table = ood.ood_table(z, ["a", "b", "c", "d"], ["cat", "dog"], temperature=1.0)
    assert table["prediction"].tolist() == [1, 0, 1, 0] and table["prediction_label"].tolist()[:2] == ["dog", "cat"]
    assert ood.most_fooling(table, score="energy", n=2)["file"].tolist() == ["b", "c"]
    assert ood.most_fooling(table, score="entropy", n=1)["file"].tolist() == ["b"]  # lowest entropy fools most
    with pytest.raises(InputError):
        ood.ood_table(z, ["a"])


# ---------------------------------------------------------------- the real thing
def photo_crops() -> list[Image.Image]:
    from core.samples import sample_images

    images = []
    for sample in sample_images():
        image = Image.open(sample.path).convert("RGB")
        w, h = image.size
        images.append(image)
        for box in ((0, 0, 0.6, 0.6), (0.4, 0, 1, 0.6), (0, 0.4, 0.6, 1), (0.4, 0.4, 1, 1), (0.2, 0.2, 0.8, 0.8)):
            images.append(image.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h))))
    return images


def outside_inputs() -> list[Image.Image]:
    from core.digits import digits_images

    digits, _ = digits_images("test")
    rng = np.random.default_rng(0)
    images = [d.convert("RGB").resize((224, 224), Image.Resampling.NEAREST) for d in digits[:20]]
    images += [Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)) for _ in range(10)]
    images += [Image.new("RGB", (224, 224), tuple(int(c) for c in rng.integers(0, 256, 3))) for _ in range(10)]
    return images


def test_imagenet_model_tells_photos_from_digits_noise_and_flat_colours(lite0) -> None:
    from core.inference import predict

    inside_images = photo_crops()
    assert len(inside_images) >= 30
    inside = ood.ood_scores(predict(lite0, inside_images))
    outside = ood.ood_scores(predict(lite0, outside_inputs()))
    found = ood.separations(inside, outside)
    print(
        f"\nLite0, {inside['msp'].size} photos/crops vs 40 outside: AUROC energy {found['energy'].auroc:.4f}, "
        f"msp {found['msp'].auroc:.4f}, max_logit {found['max_logit'].auroc:.4f}"
    )
    labels = np.r_[np.ones(inside["msp"].size), np.zeros(outside["msp"].size)]
    for name in ("energy", "msp", "max_logit"):
        assert found[name].auroc == pytest.approx(roc_auc_score(labels, np.r_[inside[name], outside[name]]))
        # far better than chance: measured 0.95-0.96 for all three (the photos' crops include hard ones)
        assert found[name].auroc > 0.85


def test_column_major_logits_from_a_results_file_give_the_same_scores_bit_for_bit() -> None:
    z = random_logits(9, n=540, classes=10).to(torch.float32)
    column_major = torch.tensor(pd.DataFrame(z.numpy()).to_numpy(dtype=np.float32))  # as read_results makes them
    assert not column_major.is_contiguous() and torch.equal(column_major, z)
    a, b = ood.ood_scores(z), ood.ood_scores(column_major)
    for name in ood.SCORE_NAMES:
        np.testing.assert_array_equal(a[name], b[name])


def test_scores_leave_the_callers_logits_untouched() -> None:
    z = random_logits(4, n=50)  # float64 and row-major: a block could have been a view of it
    before = z.clone()
    ood.ood_scores(z, temperature=0.5)
    assert torch.equal(z, before)


def test_logits_found_finite_are_checked_again_once_changed_in_place() -> None:
    from core.errors import InputError
    from core.uncertainty.rows import check_logits

    z = random_logits(5, n=20).to(torch.float32)
    assert check_logits(z) is z and check_logits(z) is z  # the second call trusts the first
    z[3, 4] = float("nan")  # in place: a new version of the same tensor
    with pytest.raises(InputError, match="finite"):
        check_logits(z)
    with torch.inference_mode():
        frozen = torch.full((2, 3), float("inf"))
    with pytest.raises(InputError, match="finite"):
        check_logits(frozen)
