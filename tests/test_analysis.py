"""core.analysis: one decode, one input tensor, one forward pass per image; bad files are results."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import pytest
import torch
from PIL import Image

from core.analysis import analyse, analyse_with, digest, image_view, normalisation_logits
from core.attribution import grad_cam
from core.images import decode_image
from core.inference import predict
from core.models.registry import load_model
from core.models.spec import LoadedModel
from core.preprocess import Preprocessing

ESPRESSO = 967
CATS = {281, 282, 285}  # tabby, tiger cat, Egyptian cat


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_analyse_gives_the_logits_input_and_image_of_one_decode(lite0, sample) -> None:
    data = sample("coffee").read_bytes()
    result = analyse(lite0, "coffee.png", data)
    assert result.ok and result.error is None
    assert result.key == hashlib.sha256(data).hexdigest()[:16] == digest(data)
    decoded = decode_image(data, "coffee.png")
    # the oracle: the old two-decode path (preprocess the decoded image, run predict)
    torch.testing.assert_close(result.logits, predict(lite0, [decoded.image])[0])
    assert int(torch.argmax(result.logits)) == ESPRESSO
    torch.testing.assert_close(result.input, lite0.spec.preprocessing(decoded.image), rtol=0, atol=0)
    assert result.image is not None and result.image.tobytes() == decoded.image.tobytes()
    assert result.view is not None and result.view.input_shape == (3, 224, 224)
    same_view = image_view(decoded, lite0.spec.preprocessing)
    assert result.view.model_input.tobytes() == same_view.model_input.tobytes()
    assert result.view.original_size == decoded.image.size


def test_analyse_takes_the_callers_key(lite0, sample) -> None:
    result = analyse(lite0, "chelsea.png", sample("chelsea").read_bytes(), key="already-hashed")
    assert result.key == "already-hashed" and int(torch.argmax(result.logits)) in CATS


def test_bad_files_are_results_with_messages(lite0, sample) -> None:
    cases = {
        "notes.png": (b"these are my notes, not a picture", "not"),
        "truncated.png": (sample("coffee").read_bytes()[:5000], "truncated"),
        "report.pdf": (b"%PDF-1.7 ...", "PDF"),
        "empty.png": (b"", "empty"),
    }
    for name, (data, words) in cases.items():
        result = analyse(lite0, name, data)
        assert not result.ok, name
        assert result.error.startswith(name) and words in result.error, result.error
        assert result.view is None and result.logits is None and result.image is None and result.input is None
        assert result.key == digest(data)


def test_an_unexpected_model_error_is_a_short_message(lite0, sample) -> None:
    class Broken(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (1x7 and 9x1000)\n" + "x" * 1000)

    broken = LoadedModel(lite0.spec, Broken(), lite0.device)
    result = analyse(broken, "coffee.png", sample("coffee").read_bytes())
    assert not result.ok
    assert result.error.startswith("coffee.png: the model could not process this image (RuntimeError: mat1")
    assert "xxx" not in result.error  # only the first line of the exception


def test_a_tiny_image_is_predicted_with_notes_of_how_much_it_was_enlarged(lite0) -> None:
    dot = _png(Image.new("RGB", (1, 1), (200, 0, 0)))
    result = analyse(lite0, "dot.png", dot)
    assert result.ok and result.view.input_shape == (3, 224, 224)
    # the oracle: a flat red 224 x 224 input through the same model
    flat = lite0.spec.preprocessing(Image.new("RGB", (224, 224), (200, 0, 0)))
    torch.testing.assert_close(result.input, flat)
    torch.testing.assert_close(result.logits, predict(lite0, [flat])[0])
    assert result.notes == result.view.notes
    assert any("only 1 x 1 pixels" in note for note in result.notes)
    assert "upscaled 256× from 1 x 1 pixels: the model sees 1 x 1 of them stretched to 224 x 224" in result.notes[-1]
    thin = analyse(lite0, "thin.png", _png(Image.new("RGB", (2, 40))))
    assert thin.ok and any("upscaled 128× from 2 x 40" in note for note in thin.notes)
    assert any("sees only the centre" in note for note in thin.notes)  # 2 x 40: a strip too


def test_a_second_model_reuses_the_decoded_image(lite0, sample) -> None:
    data = sample("coffee").read_bytes()
    first = analyse(lite0, "coffee.png", data)
    digits = load_model("digits_cnn")
    second = analyse_with(digits, first)
    direct = analyse(digits, "coffee.png", data)
    assert second.ok and second.key == first.key
    torch.testing.assert_close(second.logits, direct.logits)
    assert second.input.shape == (1, 8, 8) and second.view.input_shape == (1, 8, 8)
    failed = analyse(lite0, "notes.png", b"not an image")
    assert analyse_with(digits, failed) is failed


def test_the_preprocessing_check_and_grad_cam_take_the_results_tensors(lite0, sample) -> None:
    result = analyse(lite0, "coffee.png", sample("coffee").read_bytes())
    reused = normalisation_logits(lite0, result.image, own_input=result.input)
    rebuilt = normalisation_logits(lite0, result.image)
    assert reused.keys() == rebuilt.keys() == {"own", "imagenet", "none"}
    for key in reused:
        torch.testing.assert_close(reused[key], rebuilt[key])
    torch.testing.assert_close(reused["own"], result.logits)
    given = normalisation_logits(lite0, result.image, own_logits=result.logits)  # two forward passes, not three
    for key in given:
        torch.testing.assert_close(given[key], rebuilt[key])
    heat = grad_cam(lite0, result.input, ESPRESSO)
    assert heat.shape == (224, 224) and float(heat.max()) == pytest.approx(1.0)


def test_transforms_are_built_once_per_preprocessing() -> None:
    pre = Preprocessing(resize=256, crop=224)
    assert pre.transform() is pre.transform()
    assert Preprocessing(resize=256, crop=224).transform() is pre.transform()  # equal specs share one
    other = replace(pre, crop=192)
    assert other.transform() is not pre.transform()
    assert other(Image.new("RGB", (300, 300))).shape == (3, 192, 192)
