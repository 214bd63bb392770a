"""`python -m core evaluate` with doubt: "selective", "conformal" and (--ood) "ood" in the JSON, equal to the core
functions on the same logits; unlabelled outside sets; `predict --json`'s "ood_scores"; bad arguments."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.cli.main import main
from core.datasets.sets import EmptyDatasetError
from core.datasets.sources import digits_set
from core.datasets.unlabelled import open_unlabelled_files, open_unlabelled_path, open_unlabelled_zip
from core.digits import write_digits_folder
from core.evaluate.files import read_results
from core.evaluate.metrics import calibrate
from core.evaluate.run import evaluate
from core.inference import predict
from core.models.registry import load_model
from core.uncertainty.availability import doubt_availability
from core.uncertainty.conformal import conformal_summary
from core.uncertainty.ood import ood_scores_record, ood_summary
from core.uncertainty.selective import selective_summary

CONFORMAL_KEYS = ["method", "alpha", "threshold", "coverage", "mean_set_size", "calibration_n", "test_n", "seed"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("doubt")
    digits = write_digits_folder(root / "digits")
    outside = root / "outside"
    rng = np.random.default_rng(0)
    for i in range(12):  # noise and flat colours, at two depths, no class folders
        folder = outside / ("deep/er" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (8, 8), dtype=np.uint8) if i < 6 else np.full((8, 8), 40 * (i - 6), np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"img{i}.png")
    (outside / "notes.txt").write_text("not an image")
    return {"digits": digits, "outside": outside, "root": root}


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_json_gains_selective_and_conformal(folders: dict[str, Path], capsys, tmp_path: Path) -> None:
    out = tmp_path / "digits.parquet"
    argv = ["evaluate", str(folders["digits"]), "--model", "digits_cnn", "--json", "--out", str(out)]
    report = run_json([*argv, "--conformal-method", "aps", "--conformal-alpha", "0.2"], capsys)
    assert list(report["conformal"]) == CONFORMAL_KEYS
    saved = read_results(out.read_bytes(), out.name)  # the same logits the report was made from
    z, y = saved.logits, saved.targets
    assert report["conformal"] == conformal_summary(z, y, method="aps", alpha=0.2, seed=0)
    assert report["conformal"]["calibration_n"] == report["conformal"]["test_n"] == 270
    fit = calibrate(z, y)
    assert report["selective"] == pytest.approx(selective_summary(z, y, fitted_temperature=fit.temperature))
    assert {"aurc", "aurc_fitted_t"} <= set(report["selective"]) and "ood" not in report
    default = run_json(argv[:5], capsys)
    assert default["conformal"]["method"] == "lac" and default["conformal"]["alpha"] == 0.1


def test_ood_from_an_unlabelled_folder(folders: dict[str, Path], capsys) -> None:
    argv = ["evaluate", str(folders["digits"]), "--model", "digits_cnn", "--json", "--ood", str(folders["outside"])]
    report = run_json([*argv, "--temperature", "2"], capsys)
    ood = report["ood"]
    assert ood["n_in"] == 540 and ood["n_out"] == 12
    assert set(ood["auroc"]) >= {"msp", "max_logit", "energy"} and set(ood["fpr95"]) >= {"msp", "max_logit", "energy"}
    model = load_model("digits_cnn", device=torch.device("cpu"))
    inside = evaluate(model, digits_set("test"), num_workers=0)
    outside = evaluate(model, open_unlabelled_path(folders["outside"]), num_workers=0)
    expected = ood_summary(inside.logits, outside.logits, temperature=2.0)
    assert ood == expected  # the same images, the same model: the same numbers
    assert ood["temperature"] == 2.0


def test_ood_from_a_results_file_of_the_same_images_is_chance(folders: dict[str, Path], capsys, tmp_path) -> None:
    out = tmp_path / "same.parquet"
    # one backend for both runs: "auto" may pick torch for one and ONNX Runtime (equal to 1e-5) for the other
    argv = ["evaluate", str(folders["digits"]), "--model", "digits_cnn", "--json", "--backend", "torch"]
    run_json([*argv, "--out", str(out)], capsys)
    report = run_json([*argv, "--ood", str(out)], capsys)
    ood = report["ood"]
    # the outside set IS the inside set (Parquet keeps the float32 logits bit for bit): no score separates anything
    assert ood["n_out"] == 540
    for name in ("msp", "max_logit", "energy", "entropy"):
        assert ood["auroc"][name] == pytest.approx(0.5, abs=1e-12)
        assert ood["fpr95"][name] == pytest.approx(513 / 540)  # ceil(0.95 · 540) images kept on both sides


def test_text_output_has_the_doubt_lines(folders: dict[str, Path], capsys) -> None:
    argv = ["evaluate", str(folders["digits"]), "--model", "digits_cnn", "--ood", str(folders["outside"])]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "selective: AURC" in text and "conformal (lac, 90% sets)" in text and "12 outside" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--conformal-alpha", "1.5"], "alpha"),
        (["--conformal-alpha", "0"], "alpha"),
        (["--temperature", "0"], "temperature"),
        (["--ood", "{root}/missing"], "no such file"),
        (["--ood", "{root}/missing.csv"], "no such results file"),
        (["--ood", "{root}/empty"], "folder is empty"),
        (["--ood", "{root}/bad.parquet"], "not a readable Parquet"),
        (["--ood", "{root}/other_model.csv"], "3 classes"),
        (["--conformal-method", "raps"], "invalid choice"),
    ],
)
def test_bad_doubt_arguments_exit_2_with_one_line(extra, message, folders: dict[str, Path], capsys) -> None:
    root = folders["root"]
    (root / "empty").mkdir(exist_ok=True)
    (root / "bad.parquet").write_bytes(b"not parquet")
    (root / "other_model.csv").write_text("file,target,logit_0,logit_1,logit_2\na.png,0,1.0,2.0,3.0\n")
    argv = ["evaluate", str(folders["digits"]), "--model", "digits_cnn", *[a.format(root=root) for a in extra]]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1


def test_predict_json_records_gain_ood_scores(sample, capsys) -> None:
    path = str(sample("coffee"))
    records = run_json(["predict", path, "--json", "--temperature", "1.5", "--backend", "torch"], capsys)
    scores = records[0]["ood_scores"]
    assert list(scores) == ["msp", "max_logit", "energy", "entropy"]
    logits = predict(load_model("efficientnet_lite0"), [Image.open(path).convert("RGB")])[0]
    assert scores == pytest.approx(ood_scores_record(logits, 1.5), rel=1e-5)
    assert scores["msp"] == pytest.approx(records[0]["top_k"][0]["probability"], rel=1e-9)


# ---------------------------------------------------------------- unlabelled sets
def test_unlabelled_folder_takes_every_image_at_any_depth(folders: dict[str, Path]) -> None:
    found = open_unlabelled_path(folders["outside"])
    assert len(found) == 12 and set(found.targets) == {0}
    assert "deep/er/img1.png" in found.files and "img0.png" in found.files
    assert [(s.name, s.reason) for s in found.skipped] == [("notes.txt", "not an image file (.txt)")]


def test_unlabelled_zip_is_screened_like_a_labelled_one() -> None:
    buffer = io.BytesIO()
    image = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(image, format="PNG")
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", image.getvalue())
        archive.writestr("x/y/b.png", image.getvalue())
        archive.writestr("../escape.png", image.getvalue())
        archive.writestr("labels.csv", "a.png,cat\n")
        archive.writestr("__MACOSX/._a.png", b"x")
    found = open_unlabelled_zip(buffer.getvalue(), name="out.zip")
    assert found.files == ("a.png", "x/y/b.png")
    reasons = {s.name: s.reason for s in found.skipped}
    assert "unsafe" in reasons["../escape.png"] and "needs none" in reasons["labels.csv"]
    assert "__MACOSX/._a.png" not in reasons  # OS metadata: one note, as for a labelled set
    assert found.notes == ("1 system file (macOS/Windows metadata) left out",)
    assert found.reader.read("x/y/b.png") == image.getvalue()
    only_text = io.BytesIO()
    with zipfile.ZipFile(only_text, "w") as archive:
        archive.writestr("readme.txt", b"hi")
    with pytest.raises(EmptyDatasetError, match="no images"):
        open_unlabelled_zip(only_text.getvalue())


def test_unlabelled_files_uploaded_one_by_one_are_screened_like_a_folder() -> None:
    image = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(image, format="PNG")
    files = {"shots/a.png": image.getvalue(), "b.png": image.getvalue(), "notes.txt": b"hi", ".DS_Store": b"x"}
    found = open_unlabelled_files(files, name="folder upload")
    assert found.files == ("b.png", "shots/a.png") and found.source == "folder upload"
    assert [(s.name, s.reason) for s in found.skipped] == [("notes.txt", "not an image file (.txt)")]
    assert found.notes == ("1 system file (macOS/Windows metadata) left out",)
    assert found.reader.read("shots/a.png") == image.getvalue()
    renamed = open_unlabelled_files({"c.png": image.getvalue(), "b.png": image.getvalue()})
    assert renamed.digest != found.digest  # other names: another set
    assert open_unlabelled_files(dict(reversed(files.items()))).digest == found.digest  # order does not matter
    with pytest.raises(EmptyDatasetError, match="no images"):
        open_unlabelled_files({"readme.txt": b"hi"})


def test_too_few_images_for_conformal_sets_or_a_risk_coverage_area_say_why() -> None:
    assert doubt_availability(5) == dict.fromkeys(("selective", "conformal", "ood", "depth"))
    one = doubt_availability(1)
    assert one["ood"] is None and one["depth"] is None
    assert str(one["conformal"]) == "needs at least 2 images (a calibration and a test half); this result has 1"
    assert one["conformal"].message("zh").startswith("至少需要 2 张图片")
    assert "needs at least 2 images" in str(one["selective"])
