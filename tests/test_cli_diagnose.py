"""`python -m core evaluate --json` reports likely label errors and the per-class report; the text output
names the likeliest label errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_recall_fscore_support

from core.cli.main import main
from core.digits import write_digits_folder

MOVED = 20


@pytest.fixture(scope="module")
def relabelled_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """The held-out digits on disk with MOVED images moved into a wrong class folder."""
    root = write_digits_folder(tmp_path_factory.mktemp("diag") / "digits")
    files = sorted(root.glob("*/*.png"))
    rng = np.random.default_rng(1)
    moved: set[str] = set()
    for i in rng.choice(len(files), MOVED, replace=False):
        source = files[int(i)]
        wrong = (int(source.parent.name) + int(rng.integers(1, 10))) % 10
        source.rename(root / str(wrong) / source.name)
        moved.add(f"{wrong}/{source.name}")
    return root, moved


def test_json_has_ranked_label_issues_and_per_class(
    relabelled_folder: tuple[Path, set[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, moved = relabelled_folder
    out = tmp_path / "r.csv"
    assert main(["evaluate", str(root), "--model", "digits_cnn", "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    frame = pd.read_csv(out)
    issues = report["label_issues"]
    assert issues and set(issues[0]) == {"file", "given", "suggested", "score"}
    assert {i["file"] for i in issues} <= set(frame["file"])  # named as in the results file
    top = {i["file"].replace("\\", "/")[-len("0/0000.png") :] for i in issues[: 2 * MOVED]}
    assert len(top & moved) >= 0.8 * MOVED
    scores = [i["score"] for i in issues]
    assert scores == sorted(scores)
    row = frame.set_index("file").loc[issues[0]["file"]]
    assert issues[0]["given"] == row["target"] and issues[0]["suggested"] == row["prediction"]
    per_class = report["per_class"]
    assert [c["index"] for c in per_class] == list(range(10))
    precision, recall, f1, support = precision_recall_fscore_support(
        frame["target"], frame["prediction"], labels=range(10), zero_division=0
    )
    for c in per_class:
        i = c["index"]
        assert (c["precision"], c["recall"], c["f1"], c["support"]) == pytest.approx(
            (precision[i], recall[i], f1[i], support[i])
        )
        assert c["label"] == str(i)
    assert {"hardness", "margin", "mistakenness"} <= set(frame.columns)


def test_text_output_names_the_likeliest_label_errors(
    relabelled_folder: tuple[Path, set[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = relabelled_folder
    assert main(["evaluate", str(root), "--model", "digits_cnn"]) == 0
    text = capsys.readouterr().out
    assert "likely label errors:" in text and "the model says" in text


def test_features_flag_writes_the_features_to_the_results_file(
    relabelled_folder: tuple[Path, set[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.evaluate.files import read_results

    root, _ = relabelled_folder
    out = tmp_path / "r.parquet"
    assert main(["evaluate", str(root), "--model", "digits_cnn", "--json", "--features", "--out", str(out)]) == 0
    capsys.readouterr()
    back = read_results(out.read_bytes(), out.name)
    assert back.features is not None and tuple(back.features.shape) == (back.n, 512)
