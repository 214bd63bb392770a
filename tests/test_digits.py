"""The bundled digits_cnn: its data split, the training script, the shipped weights via the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

import core.digits as digits
from core.models.registry import get_spec, load_model
from core.train_digits import train

MIN_ACCURACY = 0.95


@pytest.fixture(scope="module")
def held_out() -> tuple[list[Image.Image], list[int]]:
    return digits.digits_images("test")


def test_split_is_disjoint_stratified_and_fixed(held_out: tuple[list[Image.Image], list[int]]) -> None:
    train_idx, test_idx = digits.split_indices("train"), digits.split_indices("test")
    assert len(test_idx) == 540 and len(train_idx) + len(test_idx) == 1797
    assert set(train_idx.tolist()).isdisjoint(test_idx.tolist())
    # every digit is held out in about the same proportion (stratified)
    assert sorted(set(held_out[1])) == list(range(10))
    assert min(np.bincount(held_out[1])) >= 50
    # a second call gives the same split and the same pixels
    again_images, again_labels = digits.digits_images("test")
    assert again_labels == held_out[1]
    assert np.array_equal(np.asarray(again_images[7]), np.asarray(held_out[0][7]))


def test_images_are_sklearn_pixels_scaled_to_8_bit(held_out: tuple[list[Image.Image], list[int]]) -> None:
    data = load_digits()
    index = int(digits.split_indices("test")[3])
    image = held_out[0][3]
    assert image.mode == "L" and image.size == (8, 8)
    expected = np.round(data.images[index] * 255 / 16).astype(np.uint8)
    assert np.array_equal(np.asarray(image), expected)
    assert held_out[1][3] == data.target[index]


def test_retraining_reaches_the_accuracy_bar(tmp_path: Path) -> None:
    out = tmp_path / "w" / "digits.safetensors"
    accuracy = train(epochs=15, seed=1, out=out)
    assert accuracy >= MIN_ACCURACY
    # the saved file loads strictly into the architecture
    from safetensors.torch import load_file

    digits.DigitsCNN().load_state_dict(load_file(out), strict=True)


def test_shipped_weights_through_the_registry(held_out: tuple[list[Image.Image], list[int]]) -> None:
    images, labels = held_out
    spec = get_spec("digits_cnn")
    assert spec.preprocessing == digits.PREPROCESSING
    loaded = load_model(spec, device=torch.device("cpu"))
    batch = torch.stack([spec.preprocessing(image) for image in images])
    assert batch.shape == (len(images), 1, 8, 8)
    with torch.inference_mode():
        logits = loaded.module(batch)
    assert logits.shape == (len(images), 10)
    assert torch.isfinite(logits).all()
    accuracy = (logits.argmax(dim=1) == torch.tensor(labels)).float().mean().item()
    assert accuracy >= MIN_ACCURACY


def test_shipped_weights_are_small_and_the_model_is_small() -> None:
    assert digits.WEIGHTS_PATH.stat().st_size < 200_000
    n_params = sum(p.numel() for p in digits.DigitsCNN().parameters())
    assert 1_000 <= n_params <= 100_000


def test_write_digits_folder(tmp_path: Path, held_out: tuple[list[Image.Image], list[int]]) -> None:
    images, labels = held_out
    root = digits.write_digits_folder(tmp_path / "digits")
    assert root == tmp_path / "digits"
    folders = sorted(p.name for p in root.iterdir())
    assert folders == [str(d) for d in range(10)]
    files = list(root.glob("*/*.png"))
    assert len(files) == len(images)
    for digit in range(10):
        assert len(list((root / str(digit)).glob("*.png"))) == labels.count(digit)
    # a PNG read back has the same pixels, under its label's folder
    index = 11
    with Image.open(root / str(labels[index]) / f"{index:04d}.png") as reread:
        assert reread.mode == "L"
        assert np.array_equal(np.asarray(reread), np.asarray(images[index]))


def test_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="split"):
        digits.digits_images("validation")
