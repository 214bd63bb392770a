"""`python -m core evaluate`: the JSON contract, results files, skipped members, exit codes on bad arguments."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from core.cli.main import main
from core.digits import write_digits_folder
from core.evaluate.files import read_results
from core.evaluate.metrics import top_k_accuracy

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = {
    "n",
    "top1",
    "top5",
    "ece",
    "nll",
    "fitted_temperature",
    "ece_after",
    "nll_after",
    "images_per_second",
    "errors",
}


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    with zipfile.ZipFile(root / "junk.zip", "w") as archive:  # nothing in it can be evaluated
        archive.writestr("notes.txt", b"hello")
        archive.writestr("cats/a.png", b"x")
    return write_digits_folder(root / "digits")


def test_evaluate_digits_folder_as_a_subprocess(digits_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "evaluate",
            str(digits_folder),
            "--model",
            "digits_cnn",
            "--json",
            "--batch-size",
            "128",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)  # stdout is pure JSON: progress never goes there
    assert set(report) >= CONTRACT
    assert report["n"] == 540 and report["errors"] == []
    assert report["top1"] >= 0.95 and report["top5"] >= report["top1"]
    assert 0 <= report["ece"] < 0.1 and report["nll"] > 0
    assert report["fitted_temperature"] > 0 and report["nll_after"] <= report["nll"]
    assert report["images_per_second"] > 0
    back = read_results(out.read_bytes(), out.name)
    assert back.n == 540 and back.model == "digits_cnn"
    assert top_k_accuracy(back.logits, back.targets) == pytest.approx(report["top1"])


def zip_with_junk(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for digit in (1, 7):
            image = io.BytesIO()
            Image.open(next((tmp_path / "src" / str(digit)).glob("*.png"))).save(image, format="PNG")
            archive.writestr(f"set/{digit}/a.png", image.getvalue())
        archive.writestr("set/7/readme.txt", b"not an image")
        archive.writestr("../escape.png", b"x")
        archive.writestr("set/12/b.png", b"x")
    path = tmp_path / "set.zip"
    path.write_bytes(buffer.getvalue())
    return path


def test_evaluate_zip_lists_skipped_members_and_writes_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_digits_folder(tmp_path / "src")
    path = zip_with_junk(tmp_path)
    out = tmp_path / "r.csv"
    assert main(["evaluate", str(path), "--model", "digits_cnn", "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 2
    errors = {e["file"]: e["error"] for e in report["errors"]}
    assert set(errors) == {"set/7/readme.txt", "../escape.png", "set/12/b.png"}
    assert "unsafe" in errors["../escape.png"] and "out of range" in errors["set/12/b.png"]
    assert read_results(out.read_bytes(), out.name).files == ("set/1/a.png", "set/7/a.png")


def test_text_output(digits_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(digits_folder), "--model", "digits_cnn", "--labels", "zh"]) == 0
    text = capsys.readouterr().out
    assert "540 images" in text and "top-1" in text and "(fitted)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "{folder}", "--model", "digits_cnn", "--batch-size", "0"], "--batch-size"),
        (["evaluate", "{folder}", "--model", "no_such_model"], "unknown model"),
        (["evaluate", "{folder}/../missing", "--model", "digits_cnn"], "no such file"),
        (["evaluate", "{folder}", "--model", "digits_cnn", "--out", "results.xlsx"], "--out"),
        (["evaluate", "{folder}", "--model", "digits_cnn", "--labels", "{folder}/../nope.txt"], "no such label file"),
        (["evaluate", "{folder}/../junk.zip", "--model", "digits_cnn"], "no labelled images"),
        (["evaluate", "{folder}", "--batch-size", "many"], "invalid int"),
        (["evaluate"], "PATH"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], message: str, digits_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.format(folder=digits_folder) for a in argv]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1


def test_a_results_file_is_rescored_without_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.evaluate.files import write_results
    from core.evaluate.metrics import compute_metrics, fit_temperature
    from tests.synthetic import synthetic_result

    made = synthetic_result(2_000, classes=50, dim=32, duplicates=5).result
    source = tmp_path / "results.parquet"
    write_results(made, source, fmt="parquet", features=True)
    out = tmp_path / "compact.parquet"
    assert main(["evaluate", str(source), "--temperature", "2", "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= CONTRACT | {"brier", "mce", "brier_after", "mce_after", "temperature"}
    assert report["temperature"] == 2.0 and report["n"] == 2_000 and report["model"] == "synthetic"
    at_two = compute_metrics(made.logits, made.targets, temperature=2.0)  # the definitions are the oracle
    for key in ("top1", "top5", "ece", "nll", "brier", "mce"):
        assert report[key] == pytest.approx(getattr(at_two, key), rel=1e-6, abs=1e-9), key
    fitted = fit_temperature(made.logits, made.targets)
    assert report["fitted_temperature"] == pytest.approx(fitted, abs=5e-7)
    after = compute_metrics(made.logits, made.targets, temperature=report["fitted_temperature"])
    assert report["nll_after"] == pytest.approx(after.nll, rel=1e-6)
    back = read_results(out)  # rewritten compact, without features unless asked
    assert back.features is None and back.files == made.files
    assert main(["evaluate", str(source), "--diagnose", "--json"]) == 0
    assert {"label_issues", "per_class"} <= set(json.loads(capsys.readouterr().out))
    for argv, message in (
        (["evaluate", str(source), "--temperature", "0"], "temperature"),
        (["evaluate", str(tmp_path / "missing.parquet")], "no such file"),
    ):
        assert main(argv) == 2
        assert message in capsys.readouterr().err
