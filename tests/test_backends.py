"""Backends: every offline model and a user checkpoint give torch's logits on ONNX Runtime; failures fall back.

torch eager is the oracle. Exports go to one session-scoped folder, so each model is exported once per run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image
from safetensors.torch import save as save_safetensors
from torch import Tensor, nn

from core.backends import cache
from core.backends.cache import prepare_onnx, read_verdict, weights_digest
from core.backends.choose import backend_info, with_backend
from core.backends.verify import compare_logits
from core.errors import InputError
from core.features import WithFeatures, features_backend, forward_with_features, head_module
from core.inference import predict
from core.labels import builtin_labels
from core.models.checkpoint import load_checkpoint
from core.models.registry import get_spec, list_models, load_model
from core.models.spec import Availability, BackendInfo, LoadedModel, ModelSpec
from core.preprocess import Preprocessing
from core.samples import sample_images

OFFLINE = [n for n in list_models() if get_spec(n).source in ("embedded", "bundled")]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="session")
def photos() -> list[Image.Image]:
    images = []
    for sample in sample_images():
        with Image.open(sample.path) as image:
            images.append(image.convert("RGB"))
    return images


def assert_same_as_torch(model: LoadedModel, torch_model: LoadedModel, images: list[Image.Image]) -> Tensor:
    """The backend's logits match torch's within the verification tolerance, with the same top-5."""
    got, want = predict(model, images), predict(torch_model, images)
    scale = float(want.abs().max())
    assert float((got - want).abs().max()) <= 1e-4 * max(1.0, scale)
    k = min(5, want.shape[1])
    assert torch.equal(got.topk(k, dim=1).indices, want.topk(k, dim=1).indices)
    return got


def _files(folder: Path, model: LoadedModel) -> tuple[Path, Path]:
    """The cached .onnx (named in its verdict) and the verdict's file."""
    key = cache.cache_key(model.spec.name, weights_digest(model.module))
    verdict = read_verdict(folder / f"{key}.json")
    onnx = cache.onnx_file(folder, verdict) if verdict is not None else folder / "none.onnx"
    return onnx, folder / f"{key}.json"


@pytest.mark.parametrize("name", OFFLINE)
def test_every_offline_model_runs_on_onnxruntime_with_torchs_logits(
    name: str, onnx_cache: Path, photos: list[Image.Image]
) -> None:
    oracle = load_model(name)
    model = with_backend(oracle, "onnxruntime", folder=onnx_cache)
    info = backend_info(model)
    assert info.name == "onnxruntime" and info.reason == ""
    assert info.max_abs_dlogit is not None and 0 <= info.max_abs_dlogit <= 1e-4 * 100
    assert model.module is oracle.module  # Grad-CAM keeps the torch module
    logits = assert_same_as_torch(model, oracle, photos)
    # "auto" on a CPU takes the verified export from the cache
    auto = with_backend(oracle, "auto", folder=onnx_cache)
    assert backend_info(auto).name == "onnxruntime"
    if get_spec(name).label_set == "imagenet":  # and the real photos still get their real classes
        names = builtin_labels("imagenet", "en")
        top1 = {s.name: names[int(i)] for s, i in zip(sample_images(), logits.argmax(dim=1), strict=True)}
        assert top1["coffee"] == "espresso"
        assert top1["chelsea"] in {"tabby", "tiger cat", "Egyptian cat"}


def assert_features_as_torch(model: LoadedModel, oracle: LoadedModel, batch: Tensor) -> None:
    """The export with features gives torch's logits and torch's head inputs (float32, before float16)."""
    assert features_backend(model) == "onnxruntime"
    verdict = model.backend.features_verdict()
    assert verdict is not None and verdict.ok and verdict.key.endswith("-features")
    assert 0 <= verdict.max_abs_dfeature <= 1e-4 * 100
    with torch.inference_mode():
        want_logits, want = WithFeatures(oracle.module, head_module(oracle))(batch)
    got_logits, got = model.backend.logits_and_features(batch)
    assert got.shape == want.shape and got.dtype == torch.float32
    assert float((got - want).abs().max()) <= 1e-4 * max(1.0, float(want.abs().max()))
    assert float((got_logits - want_logits).abs().max()) <= 1e-4 * max(1.0, float(want_logits.abs().max()))
    with torch.inference_mode():  # and forward_with_features, what evaluate calls, takes that path
        fast, slow = forward_with_features(model, batch), forward_with_features(oracle, batch)
    torch.testing.assert_close(fast[1].float(), slow[1].float(), rtol=2e-3, atol=2e-3)  # both float16
    assert torch.equal(fast[0].argmax(dim=1), slow[0].argmax(dim=1))


@pytest.mark.parametrize("name", OFFLINE)
def test_every_offline_model_gives_torchs_features_on_onnxruntime(
    name: str, onnx_cache: Path, photos: list[Image.Image]
) -> None:
    oracle = load_model(name)
    model = with_backend(oracle, "onnxruntime", folder=onnx_cache)
    assert_features_as_torch(model, oracle, torch.stack([oracle.spec.preprocessing(p) for p in photos]))


@pytest.mark.parametrize("arch", ["resnet18", "squeezenet1_1"])  # a linear head, and a 1x1-conv head (pooled)
def test_a_checkpoints_features_on_onnxruntime(arch: str, onnx_cache: Path, photos: list[Image.Image]) -> None:
    torch.manual_seed(0)
    net = torchvision.models.get_model(arch, weights=None, num_classes=7).eval()
    data = save_safetensors({k: v.contiguous() for k, v in net.state_dict().items()})
    oracle = load_checkpoint(arch, data, "mine.safetensors")
    model = with_backend(oracle, "auto", folder=onnx_cache)
    assert_features_as_torch(model, oracle, torch.stack([oracle.spec.preprocessing(p) for p in photos[:3]]))


def test_a_failed_export_with_features_leaves_features_on_torch(
    tmp_path: Path, photos: list[Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    oracle = load_model("digits_cnn")
    real = cache.export_onnx

    def no_second_output(module: nn.Module, example: Tensor, *, outputs: tuple[str, ...] = ("logits",)):
        if len(outputs) > 1:
            raise RuntimeError("the export failed (test: no features)")
        return real(module, example, outputs=outputs)

    monkeypatch.setattr(cache, "export_onnx", no_second_output)
    model = with_backend(oracle, "onnxruntime", folder=tmp_path)
    assert backend_info(model).name == "onnxruntime"  # the logits still run there
    assert features_backend(model) == "torch"
    verdict = model.backend.features_verdict()
    assert verdict is not None and not verdict.ok and "no features" in verdict.reason
    batch = torch.stack([oracle.spec.preprocessing(p) for p in photos])
    with torch.inference_mode():
        got, want = forward_with_features(model, batch), forward_with_features(oracle, batch)
    assert torch.equal(got[1], want[1]) and torch.equal(got[0], want[0])  # torch's own pass, bit for bit
    # the verdict is remembered next to the logits' one
    key = cache.cache_key("digits_cnn", weights_digest(oracle.module), features=True)
    stored = read_verdict(tmp_path / f"{key}.json")
    assert stored is not None and stored.reason == verdict.reason


def test_the_stored_verdict_matches_the_file(onnx_cache: Path) -> None:
    model = with_backend(load_model("digits_cnn"), "onnxruntime", folder=onnx_cache)
    onnx_path, verdict_path = _files(onnx_cache, model)
    verdict = read_verdict(verdict_path)
    assert verdict is not None and verdict.ok and verdict.top5_equal
    assert verdict.exporter == "legacy"
    assert verdict.onnx_sha256 == hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    assert verdict.max_abs_dlogit == backend_info(model).max_abs_dlogit


def test_torch_backend_is_the_module_itself(photos: list[Image.Image]) -> None:
    oracle = load_model("digits_cnn")
    model = with_backend(oracle, "torch")
    assert backend_info(model) == BackendInfo("torch", "torch")
    assert torch.equal(predict(model, photos), predict(oracle, photos))
    assert backend_info(oracle).name == "torch"  # no backend attached: torch


def test_unknown_backend_is_an_input_error() -> None:
    with pytest.raises(InputError, match="auto, torch, onnxruntime"):
        with_backend(load_model("digits_cnn"), "openvino")


def test_user_checkpoint_through_both_backends(onnx_cache: Path, photos: list[Image.Image]) -> None:
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=7).eval()
    data = save_safetensors({k: v.contiguous() for k, v in net.state_dict().items()})
    oracle = load_checkpoint("resnet18", data, "mine.safetensors")
    model = with_backend(oracle, "auto", folder=onnx_cache)
    assert backend_info(model).name == "onnxruntime"
    logits = assert_same_as_torch(model, oracle, photos)
    with torch.inference_mode():  # and torch's numbers are the network's own
        direct = net(torch.stack([oracle.spec.preprocessing(p) for p in photos]))
    assert torch.allclose(logits, direct, atol=1e-4 * max(1.0, float(direct.abs().max())))


class Branchy(nn.Module):
    """A classifier whose forward takes a Python branch on the data: not exportable as one graph."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(3 * 8 * 8, 10)

    def forward(self, x: Tensor) -> Tensor:
        z = self.head(x.flatten(1))
        if float(x.mean()) > 0:  # data-dependent Python control flow
            return 2 * z
        return -z


def branchy_model() -> LoadedModel:
    torch.manual_seed(1)
    module = Branchy().eval()
    spec = ModelSpec(
        name="branchy",
        title="test model with data-dependent control flow",
        source="checkpoint",
        num_classes=10,
        preprocessing=Preprocessing(resize=8, crop=8),
        label_set=None,
        builder=lambda: module,
        availability=lambda: Availability(True),
    )
    return LoadedModel(spec, module, torch.device("cpu"))


def test_export_failure_falls_back_to_torch_with_a_reason(
    tmp_path: Path, photos: list[Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    oracle = branchy_model()
    model = with_backend(oracle, "auto", folder=tmp_path)
    info = backend_info(model)
    assert info.name == "torch" and info.requested == "auto"
    assert "control flow" in info.reason and "export" in info.reason
    assert info.describe() == "torch (eager)"
    # the model still runs, on torch, both branches right
    bright = [Image.new("RGB", (8, 8), (255, 255, 255))]
    dark = [Image.new("RGB", (8, 8), (0, 0, 0))]
    for images in (bright, dark, photos):
        assert torch.equal(predict(model, images), predict(oracle, images))
    # the failure is remembered: the next load does not export again
    _, verdict_path = _files(tmp_path, oracle)
    stored = read_verdict(verdict_path)
    assert stored is not None and not stored.ok and stored.reason == info.reason

    def must_not_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(cache, "export_onnx", must_not_export)
    assert backend_info(with_backend(oracle, "onnxruntime", folder=tmp_path)).reason == info.reason


def test_truncated_cached_file_is_exported_again(tmp_path: Path, photos: list[Image.Image]) -> None:
    oracle = load_model("digits_cnn")
    with_backend(oracle, "onnxruntime", folder=tmp_path)
    onnx_path, verdict_path = _files(tmp_path, oracle)
    whole = onnx_path.read_bytes()
    onnx_path.write_bytes(whole[: len(whole) // 2])
    model = with_backend(oracle, "auto", folder=tmp_path)
    assert backend_info(model).name == "onnxruntime"
    assert_same_as_torch(model, oracle, photos)
    onnx_path, _ = _files(tmp_path, oracle)
    assert len(onnx_path.read_bytes()) == len(whole)
    # a garbage verdict file and a missing .onnx are re-exported too, never a crash
    verdict_path.write_text("{not json", encoding="utf-8")
    assert backend_info(with_backend(oracle, "auto", folder=tmp_path)).name == "onnxruntime"
    onnx_path, _ = _files(tmp_path, oracle)
    onnx_path.unlink()
    assert backend_info(with_backend(oracle, "auto", folder=tmp_path)).name == "onnxruntime"
    assert _files(tmp_path, oracle)[0].is_file()
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # no temporary file left behind


def test_changed_weights_are_a_new_export(tmp_path: Path) -> None:
    oracle = load_model("digits_cnn")
    with_backend(oracle, "onnxruntime", folder=tmp_path)
    other = load_model("digits_cnn")
    with torch.no_grad():
        next(other.module.parameters()).add_(1.0)
    assert weights_digest(other.module) != weights_digest(oracle.module)
    with_backend(other, "onnxruntime", folder=tmp_path)
    assert len(list(tmp_path.glob("*.onnx"))) == 2


def test_a_session_that_disagrees_with_torch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    oracle = load_model("digits_cnn")
    real = cache._ort_outputs
    monkeypatch.setattr(cache, "_ort_outputs", lambda session, batch: tuple(o + 1e-2 for o in real(session, batch)))
    session, verdict = prepare_onnx(oracle, folder=tmp_path)
    assert session is None and not verdict.ok
    assert "verification against torch failed" in verdict.reason
    assert not list(tmp_path.glob("*.onnx"))  # a refused export is not cached


def test_compare_logits_tolerance_and_top5() -> None:
    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(6, 20, generator=generator) * 10
    assert compare_logits(reference, reference + 5e-4).ok  # within 1e-4 of a scale of ~30
    far = compare_logits(reference, reference + 1e-2)
    assert not far.ok and far.top5_equal and "max |Δlogit|" in far.reason
    swapped = reference.clone()
    order = reference[0].argsort(descending=True)
    swapped[0, order[0]], swapped[0, order[1]] = reference[0, order[1]], reference[0, order[0]]
    assert not compare_logits(reference, swapped).top5_equal
    tied = torch.zeros(1, 10)
    tied[0, :2] = 3.0
    nudged = tied.clone()
    nudged[0, 1] += 1e-6  # a tie broken the other way is not a disagreement
    assert compare_logits(tied, nudged).ok
    assert not compare_logits(reference, torch.full_like(reference, float("nan"))).ok
    assert not compare_logits(reference, reference[:, :5]).ok


def test_the_cache_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(cache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "logitscope" / "onnx"


def test_load_model_takes_the_backend(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(onnx_cache))
    assert backend_info(with_backend(load_model("digits_cnn"), "onnxruntime")).name == "onnxruntime"
    assert load_model("digits_cnn").backend is None
    replaced = dataclasses.replace(load_model("digits_cnn"), backend=None)
    assert backend_info(replaced).name == "torch"


def test_two_processes_exporting_at_once_leave_a_whole_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = (
        "import sys; from pathlib import Path; from core.backends.choose import backend_info, with_backend; "
        "from core.models.registry import load_model; "
        "print(backend_info(with_backend(load_model('digits_cnn'), 'onnxruntime', folder=Path(sys.argv[1]))).name)"
    )
    root = Path(__file__).resolve().parent.parent
    runs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=root, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    assert [run.communicate(timeout=600)[0].strip() for run in runs] == ["onnxruntime", "onnxruntime"]
    oracle = load_model("digits_cnn")
    onnx_path, verdict_path = _files(tmp_path, oracle)
    verdict = read_verdict(verdict_path)
    assert verdict is not None and verdict.ok
    assert hashlib.sha256(onnx_path.read_bytes()).hexdigest() == verdict.onnx_sha256
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]

    def must_not_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(cache, "export_onnx", must_not_export)  # a third process reuses what they left
    assert backend_info(with_backend(oracle, "auto", folder=tmp_path)).name == "onnxruntime"
