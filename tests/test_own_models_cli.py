"""`python -m core predict|evaluate|report|models --describe` with `--model PATH`: every format, the library as the
oracle.

predict --json: a transformers folder, a timm folder, a zip of each, an ONNX file and a torchvision checkpoint
(with --arch); the records carry the model's own label names and the probabilities of the library's own logits.
evaluate (local and --runner ray): the results file's logits are the library's; report: the page names the model's
classes. models --describe --json: what was found.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save as save_safetensors

from core.cli.main import main
from core.evaluate.files import read_results
from core.images import read_image_file
from core.numerics import softmax
from tests import own_models

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = {"espresso": "coffee", "tabby": "chelsea", "tripod": "camera"}  # class folder -> sample photo
ATOL = 1e-5


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, tuple[Path, own_models.Oracle, list[str]]]:
    """name -> (the --model PATH, the library's oracle, extra arguments)."""
    root = tmp_path_factory.mktemp("own-cli")
    vit = own_models.transformers_vit(root / "tiny-vit")
    timm = own_models.timm_resnet(root / "tiny-timm")
    resnet = own_models.torchvision_resnet(classes=3)
    weights = root / "mine.safetensors"
    weights.write_bytes(save_safetensors({k: v.contiguous() for k, v in resnet.state_dict().items()}))
    onnx = own_models.onnx_file(root / "mine.onnx", resnet, size=96)
    from core.models.reference import resolve_model

    def torch_oracle(path: Path, *extra: str) -> own_models.Oracle:
        pre = resolve_model(str(path), arch=extra[1] if extra else None).preprocessing  # the documented convention
        return own_models.Oracle(path, resnet, lambda images: torch.stack([pre(i) for i in images]), ("",) * 3)

    return {
        "transformers": (vit.path, vit, []),
        "transformers-zip": (own_models.zip_folder(vit.path, root / "tiny-vit.zip"), vit, []),
        "timm": (timm.path, timm, []),
        "timm-zip": (own_models.zip_folder(timm.path, root / "tiny-timm.zip", inside=""), timm, []),
        "onnx": (onnx, torch_oracle(onnx), []),
        "checkpoint": (weights, torch_oracle(weights, "--arch", "resnet18"), ["--arch", "resnet18"]),
    }


@pytest.fixture(scope="module")
def photos(sample) -> dict[str, Image.Image]:
    return {name: read_image_file(sample(name)).image for name in PHOTOS.values()}


def run_json(capsys, *argv: str) -> object:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.mark.parametrize("kind", ["transformers", "transformers-zip", "timm", "timm-zip", "onnx", "checkpoint"])
def test_predict_json_with_the_models_own_labels(kind, made, photos, sample, capsys) -> None:
    path, oracle, extra = made[kind]
    records = run_json(capsys, "predict", str(sample("coffee")), "--model", str(path), *extra, "--json", "--top-k", "3")
    assert isinstance(records, list) and len(records) == 1
    record = records[0]
    expected = oracle.logits([photos["coffee"]])[0]
    probs = softmax(expected.double())
    best = int(expected.argmax())
    top = record["top_k"][0]
    # ONNX Runtime against torch: the backend rule (1e-4 of the logits' scale); the libraries' own paths: 1e-5
    tolerance = 1e-4 * max(1.0, float(expected.abs().max())) if kind == "onnx" else ATOL
    assert top["index"] == best and top["probability"] == pytest.approx(float(probs[best]), abs=tolerance)
    assert top["logit"] == pytest.approx(float(expected[best]), abs=tolerance)
    if kind.startswith(("transformers", "timm")):
        assert [r["label"] for r in record["top_k"]] == [oracle.names[r["index"]] for r in record["top_k"]]
    else:  # an ONNX file and a weights file carry no names: index numbers
        assert top["label"] == f"class {best}"
    assert record["model"].startswith(
        {"transformers": "transformers:", "timm": "timm:", "onnx": "onnx:"}.get(kind.split("-")[0], "checkpoint:")
    )
    assert record["backend"] in ("torch", "onnxruntime")


def test_predict_as_the_real_command(made, sample) -> None:
    path, oracle, _ = made["transformers-zip"]
    completed = subprocess.run(
        [sys.executable, "-m", "core", "predict", str(sample("chelsea")), "--model", str(path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)[0]
    assert {r["label"] for r in record["top_k"]} == set(oracle.names)  # 3 classes, all of them named


@pytest.fixture(scope="module")
def photo_set(tmp_path_factory, sample) -> Path:
    """ImageFolder zip whose folders are class names the tiny models have (espresso, tabby, tripod)."""
    path = tmp_path_factory.mktemp("set") / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for folder, photo in PHOTOS.items():
            archive.write(sample(photo), f"{folder}/{photo}.png")
    return path


@pytest.mark.parametrize("kind", ["transformers-zip", "timm", "onnx"])
def test_evaluate_gives_the_librarys_logits(kind, made, photos, photo_set, tmp_path, capsys) -> None:
    path, oracle, extra = made[kind]
    out = tmp_path / "results.parquet"
    labels = ["--labels", _label_file(tmp_path)] if kind == "onnx" else []  # no names in the file: the user's
    report = run_json(
        capsys, "evaluate", str(photo_set), "--model", str(path), *extra, *labels, "--out", str(out), "--json"
    )
    assert report["n"] == 3 and report["errors"] == []
    back = read_results(out.read_bytes(), out.name)
    expected = oracle.logits([photos[PHOTOS[Path(f).parent.name]] for f in back.files])
    tolerance = 1e-4 * max(1.0, float(expected.abs().max())) if kind == "onnx" else ATOL
    torch.testing.assert_close(back.logits, expected, rtol=0, atol=tolerance)
    nll = torch.nn.functional.cross_entropy(expected.double(), back.targets).item()
    assert report["nll"] == pytest.approx(nll, abs=tolerance)


def _label_file(tmp_path: Path) -> str:
    path = tmp_path / "labels.txt"
    path.write_text("espresso\ntabby\ntripod\n", encoding="utf-8")
    return str(path)


def test_evaluate_features_on_a_users_model(made, photo_set, tmp_path, capsys) -> None:
    path, _oracle, _ = made["timm"]
    out = tmp_path / "results.parquet"
    run_json(capsys, "evaluate", str(photo_set), "--model", str(path), "--features", "--out", str(out), "--json")
    back = read_results(out.read_bytes(), out.name)
    assert back.features is not None and back.features.shape == (3, 512)  # resnet18's pooled features


def test_evaluate_on_ray_each_actor_loads_the_zip(made, photos, photo_set, tmp_path, capsys) -> None:
    pytest.importorskip("ray")
    path, oracle, _ = made["transformers-zip"]
    out = tmp_path / "results.parquet"
    argv = ["evaluate", str(photo_set), "--model", str(path), "--runner", "ray", "--actors", "1"]
    report = run_json(capsys, *argv, "--backend", "torch", "--out", str(out), "--json")
    assert report["n"] == 3 and report["backend"] == "torch"
    back = read_results(out.read_bytes(), out.name)
    expected = oracle.logits([photos[PHOTOS[Path(f).parent.name]] for f in back.files])
    torch.testing.assert_close(back.logits, expected, rtol=0, atol=ATOL)


def test_report_names_the_models_classes(made, sample, tmp_path, capsys) -> None:
    path, oracle, _ = made["timm-zip"]
    out = tmp_path / "report.html"
    code = main(["report", str(sample("coffee")), str(sample("chelsea")), "--model", str(path), "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert "timm create_transform" in page  # the preprocessing, as the library derives it
    assert sum(name in page for name in oracle.names) >= 3


def test_models_describe_json(made, capsys) -> None:
    path, _, _ = made["onnx"]
    described = run_json(capsys, "models", "--describe", str(path), "--normalize", "minus-one-one", "--json")
    assert described["kind"] == "onnx" and described["runtime"] == "onnxruntime"
    assert (described["classes"], described["input_size"], described["normalisation"]) == (3, 96, "scale to [-1, 1]")
    assert described["details"]["input"] == "'pixels' NCHW float32, batch x 3 x 96 x 96"
    assert described["details"]["normalize"] == "minus-one-one"
    text = main(["models", "--describe", str(made["timm"][0])])
    printed = capsys.readouterr().out
    assert text == 0 and "kind:           timm" in printed and "labels:         label_names in config.json" in printed
