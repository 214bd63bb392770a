"""`python -m core` and the backends: every JSON record names its backend; onnxruntime gives torch's numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.cli.common import progress_text
from core.cli.main import main
from core.digits import write_digits_folder
from core.evaluate.result import Progress
from core.images import read_image_file
from core.inference import predict
from core.models.registry import load_model

ROOT = Path(__file__).resolve().parent.parent
AUTO = "torch" if torch.cuda.is_available() else "onnxruntime"  # what auto picks here


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOGITSCOPE_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_predict_json_names_the_backend_and_onnxruntime_gives_torchs_logits(sample, tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not an image")
    paths = [str(sample("coffee")), str(sample("chelsea")), str(bad)]
    ort = run_cli("predict", *paths, "--json", "--top-k", "5", "--backend", "onnxruntime")
    auto = run_cli("predict", *paths, "--json")
    assert ort.returncode == 1 and auto.returncode == 1  # the bad file, and only it, failed
    rows = json.loads(ort.stdout)
    assert [r["backend"] for r in rows] == ["onnxruntime"] * 3  # the error record too
    assert all(r["backend_reason"] == "" for r in rows)
    assert {r["backend"] for r in json.loads(auto.stdout)} == {AUTO}
    # torch, in this process, is the oracle for the logits the subprocess printed
    model = load_model("efficientnet_lite0")
    oracle = predict(model, [read_image_file(p).image for p in paths[:2]])
    for row, want in zip(rows[:2], oracle, strict=True):
        assert [r["index"] for r in row["top_k"]] == want.topk(5).indices.tolist()
        got = torch.tensor([r["logit"] for r in row["top_k"]])
        assert float((got - want.topk(5).values).abs().max()) <= 1e-4 * max(1.0, float(want.abs().max()))
    assert rows[0]["top_k"][0]["label"] == "espresso"
    assert "backend:" not in ort.stderr  # --json: the results alone
    assert "Traceback" not in ort.stderr


def test_predict_text_says_which_backend_ran(sample, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(sample("coffee")), "--backend", "onnxruntime"]) == 0
    captured = capsys.readouterr()
    assert "1. espresso" in captured.out
    assert "backend: onnxruntime · max |Δlogit|" in captured.err and "vs torch" in captured.err
    assert main(["predict", str(sample("coffee")), "--backend", "torch"]) == 0
    assert "backend: torch (eager)" in capsys.readouterr().err


def test_evaluate_json_names_the_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_digits_folder(tmp_path / "digits")
    reports = {}
    for backend in ("torch", "onnxruntime"):
        assert main(["evaluate", str(folder), "--model", "digits_cnn", "--json", "--backend", backend]) == 0
        reports[backend] = json.loads(capsys.readouterr().out)
    assert reports["torch"]["backend"] == "torch" and reports["onnxruntime"]["backend"] == "onnxruntime"
    assert reports["onnxruntime"]["top1"] == reports["torch"]["top1"]
    assert reports["onnxruntime"]["nll"] == pytest.approx(reports["torch"]["nll"], abs=1e-5)


def test_unknown_backend_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["predict", "x.png", "--backend", "openvino"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'openvino'" in err


def test_progress_text() -> None:
    assert progress_text(Progress(120, 540, 2.0), width=10) == "[##--------] 120/540 images · 60 img/s · ETA 0:07"
    assert progress_text(Progress(540, 540, 9.0), width=4) == "[####] 540/540 images · 60 img/s · ETA 0:00"
    assert progress_text(Progress(0, 10, 0.0), width=4).endswith("0 img/s · ETA ?")


def test_evaluate_is_quiet_with_json_piped(tmp_path: Path) -> None:
    folder = write_digits_folder(tmp_path / "digits")
    done = run_cli("evaluate", str(folder), "--model", "digits_cnn", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["backend"] == AUTO
    assert "img/s" not in done.stderr and "backend:" not in done.stderr
