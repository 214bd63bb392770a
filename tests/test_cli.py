"""`python -m core`: the command-line contract, run as a real subprocess on real images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.cli.main import main
from core.labels import builtin_labels

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOGITSCOPE_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def predict_json(sample, tmp_path_factory):
    """One predict run over two real images and two bad files, reused by the tests below."""
    folder = tmp_path_factory.mktemp("cli")
    pdf = folder / "report.jpg"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")
    truncated = folder / "cut.png"
    truncated.write_bytes(sample("coffee").read_bytes()[:5000])
    paths = [str(sample("coffee")), str(pdf), str(sample("chelsea")), str(truncated)]
    result = run_cli("predict", *paths, "--json", "--top-k", "3")
    return paths, result


def test_predict_json_contract_and_real_classes(predict_json):
    paths, result = predict_json
    assert result.returncode == 1  # two files failed, the others still succeeded
    records = json.loads(result.stdout)
    assert [r["image"] for r in records] == paths
    coffee, pdf, chelsea, cut = records
    assert coffee["model"] == "efficientnet_lite0" and coffee["temperature"] == 1.0
    top = coffee["top_k"]
    assert [r["rank"] for r in top] == [1, 2, 3]
    assert top[0]["label"] == "espresso" and top[0]["index"] == 967 and top[0]["probability"] > 0.9
    assert set(top[0]) == {"rank", "index", "label", "logit", "probability"}
    assert {r["label"] for r in chelsea["top_k"]} == {"tabby", "tiger cat", "Egyptian cat"}
    assert all(c["status"] == "pass" for c in coffee["checks"])
    assert "PDF" in pdf["error"] and "report.jpg" in pdf["error"]
    assert "truncated" in cut["error"] or "damaged" in cut["error"]
    assert "Traceback" not in result.stderr


def test_predict_probabilities_equal_torch_softmax_of_the_logits(predict_json):
    _, result = predict_json
    top = json.loads(result.stdout)[0]["top_k"]
    logits = torch.tensor([r["logit"] for r in top], dtype=torch.float64)
    # the top-3 probabilities are a slice of the full softmax: their ratios follow exp(z_i - z_j)
    for a, b in [(0, 1), (1, 2)]:
        ratio = top[a]["probability"] / top[b]["probability"]
        assert ratio == pytest.approx(float(torch.exp(logits[a] - logits[b])), rel=1e-4)


def test_predict_text_chinese_labels(sample):
    result = run_cli("predict", str(sample("coffee")), "--labels", "zh", "--top-k", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(sample("coffee"))
    assert lines[1].strip().startswith("1. 浓咖啡 (9")  # espresso's Chinese name, ~95.7%
    assert builtin_labels("imagenet", "zh")[967] == "浓咖啡"


def test_predict_temperature_changes_probabilities_not_ranking(sample):
    cold = json.loads(run_cli("predict", str(sample("chelsea")), "--json", "--temperature", "0.5").stdout)[0]
    hot = json.loads(run_cli("predict", str(sample("chelsea")), "--json", "--temperature", "5").stdout)[0]
    assert [r["index"] for r in cold["top_k"]] == [r["index"] for r in hot["top_k"]]
    assert cold["top_k"][0]["probability"] > hot["top_k"][0]["probability"]
    assert cold["top_k"][0]["logit"] == pytest.approx(hot["top_k"][0]["logit"])


def test_predict_label_file_of_the_wrong_length_is_refused(sample, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"c{i}" for i in range(999)), encoding="utf-8")
    result = run_cli("predict", str(sample("coffee")), "--labels", str(labels))
    assert result.returncode == 2
    assert "999 names" in result.stderr and "1000 classes" in result.stderr
    assert "Traceback" not in result.stderr


def test_softmax_json_matches_torch():
    result = run_cli("softmax", "2.0", "1.0", "0.1", "--temperature", "0.7", "--labels", "news,ent,tech", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    z = torch.tensor([2.0, 1.0, 0.1], dtype=torch.float64)
    expected = torch.softmax(z / 0.7, dim=-1)
    assert out["probabilities"] == pytest.approx(expected.tolist(), abs=1e-12)
    assert out["log_probabilities"] == pytest.approx(torch.log_softmax(z / 0.7, dim=-1).tolist(), abs=1e-12)
    assert out["sum"] == pytest.approx(1.0)
    assert out["entropy"] == pytest.approx(float(torch.distributions.Categorical(probs=expected).entropy()))
    assert [r["label"] for r in out["top_k"]] == ["news", "ent", "tech"]


def test_softmax_stays_finite_on_huge_logits():
    out = json.loads(run_cli("softmax", "1000", "1001", "1002", "--json").stdout)
    expected = torch.softmax(torch.tensor([1000.0, 1001.0, 1002.0], dtype=torch.float64), dim=-1)
    assert out["probabilities"] == pytest.approx(expected.tolist())


def test_softmax_negative_logits_are_numbers_not_options():
    out = json.loads(run_cli("softmax", "-1.3", "2", "--json").stdout)
    assert out["logits"] == [-1.3, 2.0]


def test_softmax_claims_sigmoid_scores_are_not_one_softmax():
    result = run_cli("softmax", "2", "1", "0.1", "--claimed", "0.88", "0.73", "0.52", "--json")
    out = json.loads(result.stdout)
    assert out["claims_consistent"] is False
    assert "213.0%" in out["verdict"] and "sigmoid" in out["verdict"]
    assert [c["ok"] for c in out["claims"]] == [False, False, False]
    good = json.loads(run_cli("softmax", "2", "1", "0.1", "--claimed", "0.659", "0.242", "0.099", "--json").stdout)
    assert good["claims_consistent"] is True and all(c["ok"] for c in good["claims"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["softmax"], "LOGIT"),
        (["softmax", "1", "x"], "invalid float value"),
        (["softmax", "1", "2", "--temperature", "0"], "greater than 0"),
        (["softmax", "1", "2", "--temperature", "-1"], "greater than 0"),
        (["softmax", "1", "nan"], "finite"),
        (["softmax", "1", "2", "--labels", "a,b,c"], "3 names"),
        (["softmax", "1", "2", "--claimed", "0.5"], "1 claimed probabilities for 2 logits"),
        (["predict", "x.jpg", "--model", "resnet5"], "Did you mean"),
        (["predict", "x.jpg", "--top-k", "0"], "--top-k"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(args, needle, capsys):
    # in-process: the same main() as `python -m core`, without paying an interpreter start per case
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's own errors exit from inside parse_args
        code = exit_.code
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines


def test_unavailable_torchvision_model_says_where_the_weights_go(sample):
    result = run_cli("predict", str(sample("coffee")), "--model", "resnet18")
    assert result.returncode == 1
    assert "resnet18" in result.stderr and "checkpoints" in result.stderr and "Traceback" not in result.stderr


def test_models_lists_availability():
    rows = json.loads(run_cli("models", "--json").stdout)
    by_name = {row["name"]: row for row in rows}
    assert by_name["efficientnet_lite0"]["available"] is True
    assert by_name["digits_cnn"]["available"] is True
    assert "scale to [-1, 1]" in by_name["efficientnet_lite0"]["preprocessing"]
    assert "resnet50" in by_name


def test_softmax_command_loads_neither_torchvision_nor_pandas() -> None:
    # the CLI's start-up: `softmax` needs torch only; models, tables and figures load with the commands that use them
    code = (
        "import sys\n"
        "from core.cli.main import main\n"
        "assert main(['softmax', '2', '1', '0.1', '--json']) == 0\n"
        "heavy = ('torchvision', 'pandas', 'plotly', 'sklearn', 'transformers', 'timm', 'onnx', 'onnxruntime')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_registry_model_never_imports_transformers_or_timm(sample) -> None:
    # the libraries of users' models load only for such a model: a built-in one never pays for them
    code = (
        "import sys\n"
        "from core.cli.main import main\n"
        f"assert main(['predict', {str(sample('coffee'))!r}, '--backend', 'torch', '--json']) == 0\n"
        "print(sorted(m for m in ('transformers', 'timm') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_rescoring_a_results_file_loads_no_model_code(tmp_path: Path) -> None:
    # `evaluate RESULTS.parquet` re-scores logits: torchvision, scikit-learn and the backends stay unloaded
    import torch

    from core.evaluate.files import write_results
    from core.evaluate.result import EvalResult

    g = torch.Generator().manual_seed(0)
    result = EvalResult(("a", "b", "c", "d"), torch.tensor([0, 1, 2, 1]), torch.randn(4, 3, generator=g), model="m")
    write_results(result, tmp_path / "r.parquet", fmt="parquet")
    code = (
        "import sys, io, contextlib\n"
        "from core.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['evaluate', {str(tmp_path / 'r.parquet')!r}, '--json']) == 0\n"
        "heavy = ('torchvision', 'sklearn', 'onnxruntime', 'core.backends.choose')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
