"""A user's model files that cannot be used: each one line and exit code 2 in the CLI (the sidebar shows the same
message: tests/test_page_own_model.py), refused before anything is built or any code of theirs runs. And offline:
loading and running each format never opens a network connection.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import zipfile
from pathlib import Path

import pytest
import torch

from core.cli.main import main
from core.errors import InputError
from core.inference import predict
from core.models import huggingface
from core.models.files import ModelLimits, unpack_zip
from core.models.reference import allowed_local_path, resolve_model
from core.models.registry import load_model
from tests import own_models


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("good")
    return {
        "transformers": own_models.transformers_vit(root / "tiny-vit").path,
        "timm": own_models.timm_resnet(root / "tiny-timm", arch="resnet10t").path,
    }


def one_line_exit_2(capsys, path: Path | str, *extra: str, match: str) -> str:
    """predict with `--model path`: exit code 2, one line on stderr matching `match`, nothing on stdout."""
    code = main(["predict", "photo.png", "--model", str(path), *extra, "--json"])
    captured = capsys.readouterr()
    message = captured.err.strip()
    assert code == 2, captured
    assert "\n" not in message and captured.out == ""
    assert match in message, message
    return message


def copy(folder: Path, target: Path) -> Path:
    return Path(shutil.copytree(folder, target))


def edit_config(folder: Path, **changes: object) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("kind", ["transformers", "timm"])
def test_a_config_without_weights(kind, good, tmp_path, capsys) -> None:
    folder = copy(good[kind], tmp_path / "no-weights")
    (folder / "model.safetensors").unlink()
    one_line_exit_2(capsys, folder, match="but no weights")


def test_weights_that_do_not_match_the_config(good, tmp_path, capsys) -> None:
    folder = copy(good["transformers"], tmp_path / "mismatch")
    edit_config(folder, intermediate_size=96)  # the saved weights are 64 wide
    one_line_exit_2(capsys, folder, match="the weights cannot be loaded")
    timm = copy(good["timm"], tmp_path / "mismatch-timm")
    config = json.loads((timm / "config.json").read_text())
    config["model_args"]["num_classes"] = 8  # the saved head has 7
    config.pop("label_names")
    (timm / "config.json").write_text(json.dumps(config))
    one_line_exit_2(capsys, timm, match="the weights do not fit resnet10t: size mismatch for fc.weight")


def test_unknown_architectures(good, tmp_path, capsys) -> None:
    folder = copy(good["transformers"], tmp_path / "unknown")
    edit_config(folder, model_type="not-a-model", architectures=["NotAModelForImageClassification"])
    one_line_exit_2(capsys, folder, match="unknown architecture")
    timm = copy(good["timm"], tmp_path / "unknown-timm")
    edit_config(timm, architecture="no_such_net")
    one_line_exit_2(capsys, timm, match="unknown timm architecture 'no_such_net'")
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"{}")
    one_line_exit_2(capsys, weights, "--arch", "not_a_net", match="unknown architecture 'not_a_net'")
    one_line_exit_2(capsys, weights, match="needs its architecture: --arch NAME")


def test_an_id2label_with_gaps(good, tmp_path, capsys) -> None:
    folder = copy(good["transformers"], tmp_path / "gaps")
    edit_config(folder, id2label={"0": "espresso", "1": "tabby", "3": "tripod"})
    one_line_exit_2(capsys, folder, match="no gaps (missing [2])")


def test_a_bin_holding_pickled_code_never_runs_it(good, tmp_path, capsys) -> None:
    folder = copy(good["transformers"], tmp_path / "evil")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (folder / "model.safetensors").unlink()
    torch.save({"classifier.weight": Payload()}, folder / "pytorch_model.bin")
    one_line_exit_2(capsys, folder, match="could run code")
    assert not marker.exists()


def test_a_config_naming_its_own_code_is_refused(good, tmp_path, capsys) -> None:
    folder = copy(good["transformers"], tmp_path / "remote")
    edit_config(folder, auto_map={"AutoModelForImageClassification": "modeling_evil.EvilModel"})
    (folder / "modeling_evil.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w')\n")
    one_line_exit_2(capsys, folder, match="trust_remote_code is never set")
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"num_labels": 10**9, "id2label": None}, "num_labels = 1,000,000,000 is over the limit"),
        ({"image_size": 100_000}, "image_size = 100,000 is over the limit of 4,096 pixels a side"),
        ({"hidden_size": 10**7}, "hidden_size = 10,000,000 is over the limit"),
    ],
)
def test_sizes_over_the_limits_are_refused_before_anything_is_built(
    changes, match, good, tmp_path, capsys, monkeypatch
) -> None:
    folder = copy(good["transformers"], tmp_path / "huge")
    edit_config(folder, **{k: v for k, v in changes.items() if v is not None})
    if changes.get("id2label", 0) is None:
        config = json.loads((folder / "config.json").read_text())
        config.pop("id2label"), config.pop("label2id")
        (folder / "config.json").write_text(json.dumps(config))

    def never(*_args, **_kwargs):
        raise AssertionError("transformers was asked to build from a config over the limits")

    monkeypatch.setattr(huggingface, "_transformers", never)  # nothing may reach the library
    start = time.perf_counter()
    one_line_exit_2(capsys, folder, match=match)
    print(f"refused in {1000 * (time.perf_counter() - start):.1f} ms")  # milliseconds: the config alone is read


def test_a_timm_config_over_the_limits(good, tmp_path, capsys) -> None:
    folder = copy(good["timm"], tmp_path / "huge-timm")
    edit_config(folder, num_classes=10**9)
    one_line_exit_2(capsys, folder, match="num_classes = 1,000,000,000 is over the limit")


# ---------------------------------------------------------------- ONNX files that are not image classifiers
def _onnx(path: Path, kind: str) -> Path:
    path.write_bytes(own_models.onnx_graph(own_models.BAD_ONNX_INPUTS[kind]))
    return path


def test_onnx_files_that_are_not_image_classifiers(tmp_path, capsys) -> None:
    one_line_exit_2(capsys, _onnx(tmp_path / "two.onnx", "two-inputs"), match="2 inputs ('x', 'mask')")
    one_line_exit_2(capsys, _onnx(tmp_path / "text.onnx", "not-an-image"), match="not a batch of images")
    one_line_exit_2(capsys, _onnx(tmp_path / "dynamic.onnx", "dynamic-size"), match="has a dynamic size")
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf at all")
    one_line_exit_2(capsys, tmp_path / "junk.onnx", match="not an ONNX file")


def test_bad_options_and_missing_paths(good, tmp_path, capsys) -> None:
    one_line_exit_2(capsys, good["timm"], "--arch", "resnet18", match="--arch is only for a bare weights file")
    one_line_exit_2(capsys, good["timm"], "--normalize", "imagenet", match="--normalize is only for an ONNX file")
    one_line_exit_2(capsys, tmp_path / "nowhere", match="no such file or folder")
    one_line_exit_2(capsys, "resnet_with_typo", match="unknown model")
    ok = _onnx(tmp_path / "ok.onnx", "fine")
    one_line_exit_2(capsys, ok, "--normalize", "1,2/0", match="--normalize '1,2/0'")


# ---------------------------------------------------------------- zips: the archive rules of labelled sets
def test_a_zip_slip_member_is_never_written(good, tmp_path) -> None:
    path = tmp_path / "slip.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in good["timm"].iterdir():
            archive.write(file, f"model/{file.name}")
        archive.writestr("model/../../escaped.txt", "outside")
        archive.writestr("/etc/absolute.txt", "outside")
    unpacked = unpack_zip(path, path.name)
    written = sorted(p.name for p in Path(unpacked.name).iterdir())
    assert written == sorted(p.name for p in good["timm"].iterdir())
    assert not (tmp_path / "escaped.txt").exists() and not (Path(unpacked.name).parent / "escaped.txt").exists()
    assert resolve_model(str(path)).source == "timm"


def test_a_zip_bomb_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model/config.json", json.dumps({"architecture": "resnet18"}))
        archive.writestr("model/model.safetensors", b"\0" * (64 * 2**20))  # 64 MB of zeros: about 64 KB packed
    one_line_exit_2(capsys, path, match="looks like a zip bomb")
    with pytest.raises(InputError, match="unpacks to"):
        unpack_zip(path, path.name, limits=ModelLimits(max_ratio=1e9, max_zip_bytes=2**20))


# ---------------------------------------------------------------- local paths in the UI
def test_local_paths_only_under_the_operators_roots(good, tmp_path) -> None:
    with pytest.raises(InputError, match="local model paths are off"):
        allowed_local_path(str(good["timm"]), roots="")
    root = good["timm"].parent
    assert allowed_local_path(str(good["timm"]), roots=str(root)) == good["timm"].resolve()
    with pytest.raises(InputError, match="outside the folders this server allows"):
        allowed_local_path(str(tmp_path), roots=str(root))
    link = root / "link-out"
    link.symlink_to(tmp_path)
    with pytest.raises(InputError, match="outside the folders"):  # a link inside a root that points out of it
        allowed_local_path(str(link), roots=str(root))


# ---------------------------------------------------------------- offline: no connection is ever opened
def test_no_network_call_for_any_format(good, tmp_path, sample, monkeypatch) -> None:
    from PIL import Image

    onnx = own_models.onnx_file(tmp_path / "r.onnx", own_models.torchvision_resnet(classes=3), size=64)
    zipped = own_models.zip_folder(good["transformers"], tmp_path / "vit.zip")
    attempts: list[object] = []

    def refuse(_self, address, *args):
        attempts.append(address)
        raise OSError(f"network call attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    image = Image.open(sample("coffee")).convert("RGB")
    for path in (good["transformers"], zipped, good["timm"], onnx):
        spec = resolve_model(str(path))
        logits = predict(load_model(spec), [image])
        assert logits.shape == (1, spec.num_classes)
    assert attempts == []
