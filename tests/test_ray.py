"""The Ray runner on a real local Ray (2 CPUs, started once for the module) against the local runner as the oracle.

Same input, same planning: the same files, targets, skipped list with reasons, logits within 1e-5 and the same
predictions; unsafe and bomb members are never read; results files load in the Evaluation page as a local
run's do. Unreachable clusters and a missing Ray give one line and exit code 2 in bounded time.
"""

from __future__ import annotations

import io
import socket
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image

from core.cli.main import main
from core.datasets.classes import resolver_for
from core.datasets.readers import ZipReader
from core.datasets.sources import open_folder, open_zip
from core.datasets.uri import is_uri, open_uri
from core.digits import write_digits_folder
from core.errors import InputError
from core.evaluate.files import read_results, results_bytes
from core.evaluate.metrics import compute_metrics
from core.evaluate.result import EvalResult
from core.evaluate.run import DEFAULT_BATCH_SIZE, default_batch_size, evaluate
from core.models.labels import spec_labels
from core.models.registry import get_spec, load_model
from core.models.spec import LoadedModel

ray = pytest.importorskip("ray")
rr = pytest.importorskip("core.evaluate.ray")
rc = pytest.importorskip("core.evaluate.ray_cluster")

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "3_Dataset_Evaluation.py")
FORBIDDEN = "this member must never be read"


@pytest.fixture(scope="module")
def cluster() -> Iterator[rc.Cluster]:
    """One real local Ray for the module: starting one costs seconds, every test shares it."""
    with rc.ray_cluster(num_cpus=2) as running:
        yield running
    assert not ray.is_initialized()  # the block shut down the Ray it started


@pytest.fixture(scope="module")
def digits() -> LoadedModel:
    return load_model("digits_cnn")


def _resolver(model: LoadedModel):
    return resolver_for(model.spec, spec_labels(model.spec))


def _same(ray_result: EvalResult, local: EvalResult) -> None:
    """The oracle: the local runner's result, item by item."""
    assert ray_result.files == local.files
    assert ray_result.errors == local.errors
    assert torch.equal(ray_result.targets, local.targets)
    assert ray_result.logits.dtype == torch.float32
    torch.testing.assert_close(ray_result.logits, local.logits, atol=1e-5, rtol=0)
    assert torch.equal(ray_result.logits.argmax(dim=1), local.logits.argmax(dim=1))
    assert (ray_result.model, ray_result.source, ray_result.attempted) == (local.model, local.source, local.attempted)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 540 held-out digits as class folders, plus a broken PNG, a text file, a stray PNG and a non-class folder."""
    root = write_digits_folder(tmp_path_factory.mktemp("ray") / "digits")
    (root / "3" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"cut short")
    (root / "notes.txt").write_text("not an image")
    Image.new("RGB", (8, 8)).save(root / "stray.png")
    (root / "cats").mkdir()
    Image.new("RGB", (8, 8)).save(root / "cats" / "a.png")
    return root


@pytest.fixture(scope="module")
def folder_runs(cluster: rc.Cluster, digits: LoadedModel, folder: Path) -> tuple[EvalResult, EvalResult]:
    """The folder through the local runner and through Ray on 2 actors (shared: each Ray run costs seconds)."""
    labelled = open_folder(folder, _resolver(digits))
    return evaluate(digits, labelled), rr.evaluate_on_ray(digits.spec, labelled, options=rr.RayOptions(actors=2))


def test_folder_on_two_actors_matches_the_local_runner(folder_runs: tuple[EvalResult, EvalResult]) -> None:
    local, on_ray = folder_runs
    _same(on_ray, local)
    assert on_ray.n == 540
    reasons = {e.name: e.reason for e in on_ray.errors}
    assert "truncated or damaged" in reasons["3/broken.png"]  # failed while decoding, in a Ray task
    assert reasons["notes.txt"] == "not an image file (.txt)"
    assert reasons["stray.png"] == "not inside a class folder"
    assert "is not a class of this model" in reasons["cats/a.png"]


class GuardedZipReader(ZipReader):
    """A zip reader that refuses the members the planner must have kept out of the run."""

    def __init__(self, data: bytes, forbidden: frozenset[str]) -> None:
        super().__init__(data)
        self.forbidden = forbidden

    def __getstate__(self) -> dict[str, object]:
        return {**super().__getstate__(), "forbidden": self.forbidden}

    def read(self, name: str) -> bytes:
        if name in self.forbidden:
            raise InputError(FORBIDDEN)
        return super().read(name)


def _hostile_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.glob("[0-9]/*.png"))[::9]:  # ~60 digits from every class
            archive.write(path, f"mydata/{path.relative_to(folder).as_posix()}")
        archive.writestr("../escape.png", b"\x89PNG zip-slip")
        archive.writestr("/etc/absolute.png", b"\x89PNG absolute")
        archive.writestr("mydata/3/bomb.png", b"\0" * (8 * 2**20), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("mydata/4/junk.png", b"this is not a png")
        archive.writestr("mydata/readme.md", b"hello")
    return buffer.getvalue()


def test_zip_with_traversal_bomb_and_junk_matches_the_local_runner(
    cluster: rc.Cluster, digits: LoadedModel, folder: Path
) -> None:
    data = _hostile_zip(folder)
    planned = open_zip(data, _resolver(digits), name="hostile.zip")
    reasons = {e.name: e.reason for e in planned.skipped}
    assert "never read" in reasons["../escape.png"] and "never read" in reasons["/etc/absolute.png"]
    assert "zip bomb" in reasons["mydata/3/bomb.png"]
    forbidden = frozenset(reasons)
    # the same set, read by a reader that fails loudly if the run ever asks for a skipped member
    guarded = type(planned)(
        planned.source, planned.files, planned.targets, planned.skipped, GuardedZipReader(data, forbidden)
    )
    local = evaluate(digits, guarded)
    on_ray = rr.evaluate_on_ray(digits.spec, guarded, options=rr.RayOptions(actors=1, batch_size=16))
    _same(on_ray, local)
    assert all(FORBIDDEN not in e.reason for e in on_ray.errors)
    failed = {e.name: e.reason for e in on_ray.errors if e.name not in forbidden}
    assert list(failed) == ["mydata/4/junk.png"] and "not a recognised image" in failed["mydata/4/junk.png"]
    assert on_ray.n == len(planned) - 1


def test_file_uri_plans_like_the_folder_and_runs_the_same(
    cluster: rc.Cluster, digits: LoadedModel, folder: Path
) -> None:
    resolver = _resolver(digits)
    by_path = open_folder(folder, resolver)
    by_uri = open_uri(folder.as_uri(), resolver)  # file:///..., read through pyarrow like s3:// or gs://
    assert is_uri(folder.as_uri()) and not is_uri(str(folder)) and not is_uri("C:\\data")
    assert (by_uri.files, by_uri.targets, by_uri.skipped) == (by_path.files, by_path.targets, by_path.skipped)
    assert by_uri.reader.read(by_uri.files[0]) == (folder / by_uri.files[0]).read_bytes()
    local = evaluate(digits, by_path)
    on_ray = rr.evaluate_on_ray(digits.spec, by_uri, options=rr.RayOptions(actors=1))
    assert on_ray.files == local.files and on_ray.source == folder.as_uri()
    torch.testing.assert_close(on_ray.logits, local.logits, atol=1e-5, rtol=0)
    assert [e.reason for e in on_ray.errors] == [e.reason for e in local.errors]


def test_efficientnet_lite0_on_real_photos_matches_the_local_runner(
    cluster: rc.Cluster, lite0: LoadedModel, sample, tmp_path: Path
) -> None:
    labels = spec_labels(lite0.spec)
    for name, label in (("coffee", "espresso"), ("chelsea", "tabby"), ("camera", "tripod")):
        (tmp_path / label).mkdir()
        (tmp_path / label / f"{name}.png").write_bytes(sample(name).read_bytes())
    labelled = open_folder(tmp_path, resolver_for(lite0.spec, labels))
    local = evaluate(lite0, labelled)
    on_ray = rr.evaluate_on_ray(lite0.spec, labelled, options=rr.RayOptions(actors=1, features=True))
    _same(on_ray, local)
    predicted = [labels[i] for i in on_ray.logits.argmax(dim=1).tolist()]
    assert predicted[on_ray.files.index("espresso/coffee.png")] == "espresso"
    with_features = evaluate(lite0, labelled, features=True)
    assert on_ray.features is not None and with_features.features is not None
    assert on_ray.features.dtype == with_features.features.dtype
    assert on_ray.backend == with_features.backend == "torch"  # both asked for torch (the library's default)
    torch.testing.assert_close(on_ray.features.float(), with_features.features.float(), atol=1e-2, rtol=1e-2)


def test_cli_ray_runner_writes_the_local_runners_results_file(
    cluster: rc.Cluster, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {}
    for runner in ("local", "ray"):
        files[runner] = tmp_path / f"{runner}.parquet"
        argv = [
            "evaluate",
            str(folder),
            "--model",
            "digits_cnn",
            "--backend",
            "torch",
            "--runner",
            runner,
            "--out",
            str(files[runner]),
        ]
        assert main([*argv, "--actors", "1"] if runner == "ray" else argv) == 0
    out = capsys.readouterr()
    assert "runner: Ray cluster (already connected): 2 CPUs" in out.err  # the module's Ray, joined as it is
    local = read_results(files["local"].read_bytes(), "local.parquet")
    on_ray = read_results(files["ray"].read_bytes(), "ray.parquet")
    assert on_ray.files == local.files
    torch.testing.assert_close(on_ray.logits, local.logits, atol=1e-5, rtol=0)
    assert main(["evaluate", str(folder), "--model", "digits_cnn", "--actors", "2"]) == 2
    assert "--address and --actors need --runner ray" in capsys.readouterr().err
    assert main(["evaluate", folder.as_uri(), "--model", "digits_cnn"]) == 2
    assert "a folder URI is read with --runner ray" in capsys.readouterr().err


def test_results_file_of_a_ray_run_loads_in_the_evaluation_page(
    folder_runs: tuple[EvalResult, EvalResult], digits: LoadedModel
) -> None:
    from streamlit.testing.v1 import AppTest

    _, on_ray = folder_runs
    data = results_bytes(on_ray, fmt="parquet", labels=spec_labels(digits.spec))
    back = read_results(data, "ray.parquet")
    assert back.files == on_ray.files and torch.equal(back.logits, on_ray.logits)
    top1 = compute_metrics(on_ray.logits, on_ray.targets).top1
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.segmented_control(key="eval_source").set_value("results").run()
    at.file_uploader(key="eval_results_file").upload("ray.parquet", data).run()
    assert not at.exception
    shown = next(m.value for m in at.metric if m.label == "Top-1 accuracy")
    assert shown == f"{top1:.2%}"
    assert at.session_state["eval_result"]["result"].files == on_ray.files


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again: nothing listens there


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_unreachable_cluster_is_one_line_and_exit_2_in_seconds(
    scheme: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"{scheme}127.0.0.1:{_free_port()}"
    start = time.perf_counter()
    with pytest.raises(rc.RayUnavailableError, match="cannot reach a Ray cluster"):
        rc.check_reachable(address)
    code = main(["evaluate", str(folder), "--model", "digits_cnn", "--runner", "ray", "--address", address])
    elapsed = time.perf_counter() - start
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot reach a Ray cluster at {address}" in err
    assert "Traceback" not in err
    assert elapsed < 20  # hang bound: ray.init alone retries a dead address for minutes


def test_ray_missing_is_one_line_and_exit_2(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code = main(["evaluate", str(folder), "--model", "digits_cnn", "--runner", "ray"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'ray[data]'" in err


def test_bad_addresses_and_knobs_are_clear_errors(digits: LoadedModel) -> None:
    from core.datasets.sources import digits_set

    with pytest.raises(rc.RayUnavailableError, match="not a Ray address"):
        rc.check_reachable("ray://nohost")
    with pytest.raises(InputError, match="actors must be at least 1"):
        rr.evaluate_on_ray(digits.spec, digits_set(), options=rr.RayOptions(actors=0))


def test_model_batch_size_follows_the_local_rule() -> None:
    spec = get_spec("digits_cnn")
    assert rr.model_batch_size(spec, gpu=False) == default_batch_size(load_model(spec))
    assert rr.model_batch_size(spec, gpu=True) == DEFAULT_BATCH_SIZE
    assert rr.default_actors(rc.Cluster("", True, 0.0, cpus=16, gpus=4)) == 4
    assert rr.default_actors(rc.Cluster("", True, 0.0, cpus=2, gpus=0)) == 2


def test_evaluation_page_runs_on_ray_with_the_local_numbers(cluster: rc.Cluster) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    at.button[0].click().run()  # "Switch to digits_cnn and evaluate": the local run, the oracle
    assert not at.exception
    local = at.session_state["eval_result"]["result"]
    shown = next(m.value for m in at.metric if m.label == "Top-1 accuracy")
    at.toggle(key="eval_on_ray").set_value(True).run()
    assert at.text_input(key="eval_ray_address").value == ""  # empty: a local Ray (here: the module's)
    next(b for b in at.button if b.label == "Evaluate again").click().run()
    assert not at.exception
    on_ray = at.session_state["eval_result"]["result"]
    assert on_ray is not local
    _same(on_ray, local)
    assert on_ray.features is not None and local.features is not None  # the page keeps them for its debugging tools
    torch.testing.assert_close(on_ray.features.float(), local.features.float(), atol=1e-2, rtol=1e-2)
    assert on_ray.backend == local.backend == "onnxruntime"  # the actors ran what the sidebar's "auto" runs here
    assert next(m.value for m in at.metric if m.label == "Top-1 accuracy") == shown
