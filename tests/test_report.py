"""core.report and `python -m core report`: one self-contained, escaped HTML file with the numbers torch computes.

The browser side (drawn charts, no request with the network blocked, printing) is in
tests/browser/test_report_browser.py.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.offline
import pytest
import torch
from sklearn.metrics import accuracy_score, log_loss

from core.analysis import analyse, analyse_files
from core.cli.main import main as cli_main
from core.evaluate.result import EvalResult
from core.labels import builtin_labels
from core.models.labels import spec_labels
from core.report.document import report_file_name
from core.report.evaluation import evaluation_report
from core.report.inspector import inspector_report

ROOT = Path(__file__).resolve().parent.parent
ESPRESSO, TABBY, TIGER_CAT, EGYPTIAN_CAT = 967, 281, 282, 285
WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NASTY = '<img src=x onerror="alert(1)">&.png'


@pytest.fixture(scope="module")
def results(lite0, sample):
    # the chelsea photo under a file name that is markup
    return [
        analyse(lite0, name, sample(file).read_bytes()) for name, file in (("coffee.png", "coffee"), (NASTY, "chelsea"))
    ]


@pytest.fixture(scope="module")
def report(lite0, results) -> str:
    return inspector_report(
        results,
        spec_labels(lite0.spec),
        model=lite0.spec.name,
        preprocessing=lite0.spec.preprocessing.describe(),
        temperature=2.0,
        k=3,
        generated=WHEN,
    )


class _References(HTMLParser):
    """Every URL an HTML file could make the browser fetch: tag attributes and CSS url()/@import."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.images: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        for name, value in attrs:
            if name in ("src", "href", "action", "poster", "data", "srcset", "formaction") and value:
                self.urls.append(value)
            if name == "style" and value:
                self._css(value)

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def _css(self, text: str) -> None:
        self.urls += re.findall(r"url\(\s*['\"]?([^)'\"]+)", text)
        self.urls += re.findall(r"@import\s+['\"]?([^;'\"]+)", text)


def _parse(page: str) -> _References:
    parser = _References()
    parser.feed(page)
    return parser


def _external_references(page: str) -> list[str]:
    return [url for url in _parse(page).urls if not url.startswith(("data:", "#"))]


def test_report_is_one_self_contained_file(report: str) -> None:
    assert report.startswith("<!DOCTYPE html>")
    assert _external_references(report) == []
    tags = set(_parse(report).tags)
    assert not tags & {"link", "iframe", "object", "embed", "base", "audio", "video", "source"}, tags
    # plotly.js inlined exactly once, all of it, and the browser is told to fetch nothing
    bundle = plotly.offline.get_plotlyjs()
    assert report.count(bundle) == 1
    # plotly's one-line config and its bundle, then one small script per chart (2 images x 3 charts); the live
    # explorer's one module script, the label list once and one data block per image
    assert report.count("<script") == 2 + 2 * 3 + 1 + 1 + 2
    assert report.count('<script type="module">') == 1 and report.count('type="application/json"') == 1 + 2
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', report)
    assert csp is not None and "default-src 'none'" in csp.group(1)
    images = _parse(report).images
    assert len(images) == 2 * 2 and all(src.startswith("data:image/") for src in images)  # picture, model input


def test_report_escapes_every_name(report: str, results) -> None:
    assert NASTY not in report and "<img src=x" not in report
    assert html.escape(NASTY) in report
    # the bad-named file decoded fine here (it is the cat): its section is there, under its escaped name
    assert results[1].ok and report.count(f"<h2>{html.escape(NASTY)}</h2>") == 1


def test_report_labels_are_escaped_in_tables_and_charts(lite0, results) -> None:
    labels = [f"<b>class {i}</b>" for i in range(1000)]
    page = inspector_report(results[:1], labels, model="m<x>", k=2, generated=WHEN)
    assert "<b>class" not in page and "&lt;b&gt;class 967&lt;/b&gt;" in page
    assert "m<x>" not in page and "m&lt;x&gt;" in page


def test_report_numbers_are_torchs(report: str, results) -> None:
    logits = results[0].logits.double()
    at_two, at_one = torch.softmax(logits / 2.0, -1), torch.softmax(logits, -1)
    top = torch.topk(logits, 3).indices.tolist()
    assert top[0] == ESPRESSO
    for index in top:
        assert f"{float(at_two[index]):.2%}" in report and f"{float(at_one[index]):.2%}" in report
        assert f"{float(logits[index]):.4f}" in report
    assert "T = 2, top-3, softmax" in report and "espresso" in report


def test_report_shows_a_failed_image_and_goes_on(lite0, sample, tmp_path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    results = analyse_files(lite0, [str(sample("coffee")), str(broken), str(tmp_path / "missing.png")])
    assert [r.ok for r in results] == [True, False, False]
    page = inspector_report(results, spec_labels(lite0.spec), model="m", generated=WHEN)
    assert page.count('class="error"') == 2 and "no such file" in page
    assert "espresso" in page


def test_report_is_reproducible(lite0, results) -> None:
    labels = spec_labels(lite0.spec)
    first = inspector_report(results, labels, model="m", generated=WHEN)
    assert first == inspector_report(results, labels, model="m", generated=WHEN)


def test_report_in_chinese(lite0, results) -> None:
    page = inspector_report(results[:1], spec_labels(lite0.spec, "zh"), model="m", lang="zh", generated=WHEN)
    assert '<html lang="zh-CN">' in page and "浓咖啡" in page and "健康检查" in page


def test_report_file_name() -> None:
    assert report_file_name("coffee.png") == "logitscope_report_coffee.png.html"
    assert report_file_name('../<x>"') == "logitscope_report_x.html"
    assert report_file_name("") == "logitscope_report_images.html"


# ---------------------------------------------------------------- the CLI
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_cli_report_names_both_top1_classes(sample, tmp_path, lite0) -> None:
    out = tmp_path / "two.html"
    run = _cli("report", str(sample("coffee")), str(sample("chelsea")), "-o", str(out), "--top-k", "3")
    assert run.returncode == 0, run.stderr
    page = out.read_text(encoding="utf-8")
    labels = builtin_labels("imagenet")
    for name, expected in (("coffee", {ESPRESSO}), ("chelsea", {TABBY, TIGER_CAT, EGYPTIAN_CAT})):
        logits = analyse(lite0, name, sample(name).read_bytes()).logits
        top = int(logits.argmax())
        assert top in expected
        assert f"{sample(name)}: {labels[top]}" in run.stdout
        # the summary row of this image names its top-1 class
        assert re.search(rf"<td>{re.escape(str(sample(name)))}</td><td>{re.escape(labels[top])}</td>", page)
    assert f"report written to {out} (2 images)" in run.stdout


def test_cli_report_in_chinese_at_a_temperature(sample, tmp_path, capsys) -> None:
    out = tmp_path / "zh.html"
    assert cli_main(["report", str(sample("coffee")), "-o", str(out), "--lang", "zh", "--temperature", "0.5"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "浓咖啡" in page and "T = 0.5" in page
    assert f"{sample('coffee')}: 浓咖啡" in capsys.readouterr().out


def test_cli_report_bad_arguments(sample, tmp_path, capsys) -> None:
    coffee = str(sample("coffee"))
    for args, message in (
        (["-o", str(tmp_path / "r.txt")], "must end in .html"),
        (["-o", str(tmp_path / "r.html"), "--temperature", "-1"], "temperature"),
        (["-o", str(tmp_path / "r.html"), "--model", "no_such_model"], "unknown model"),
        (["-o", str(tmp_path / "no_folder" / "r.html")], "cannot be written"),
    ):
        assert cli_main(["report", coffee, *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_cli_report_goes_on_past_a_missing_image(sample, tmp_path, capsys) -> None:
    out = tmp_path / "r.html"
    assert cli_main(["report", str(tmp_path / "nope.png"), str(sample("coffee")), "-o", str(out)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert "espresso" in out.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the evaluation report
@pytest.fixture(scope="module")
def evaluation() -> EvalResult:
    generator = torch.Generator().manual_seed(1)
    targets = torch.randint(0, 6, (60,), generator=generator)
    logits = torch.randn(60, 6, generator=generator) * 2
    logits[torch.arange(60), targets] += 2.5  # mostly right, some confident mistakes
    files = tuple(f"img_{i:02d}.png" for i in range(60))
    return EvalResult(files, targets, logits, model="toy<model>", source="set.zip")


def test_evaluation_report_metrics_match_scikit_learn(evaluation: EvalResult) -> None:
    labels = [f"class {i}" for i in range(6)]
    page = evaluation_report(evaluation, labels, temperature=1.0, generated=WHEN)
    y, z = evaluation.targets.numpy(), evaluation.logits.double()
    accuracy = accuracy_score(y, z.argmax(1).numpy())
    nll = log_loss(y, torch.softmax(z, 1).numpy(), labels=list(range(6)))
    assert f"{accuracy:.2%}" in page and f"{nll:.4f}" in page
    assert _external_references(page) == []
    assert "toy&lt;model&gt;" in page and "toy<model>" not in page


def test_evaluation_report_lists_the_most_confident_mistakes(evaluation: EvalResult) -> None:
    labels = [f"class {i}" for i in range(6)]
    page = evaluation_report(evaluation, labels, temperature=1.0, max_mistakes=3, generated=WHEN)
    probs = torch.softmax(evaluation.logits.double(), 1)
    confidence, predicted = probs.max(1)
    wrong = (predicted != evaluation.targets).nonzero().flatten().tolist()
    worst = sorted(wrong, key=lambda i: -float(confidence[i]))[:3]
    section = page[page.index('class="page mistakes"') :]
    found = re.findall(r"<td>(img_\d\d\.png)</td>", section)
    assert found == [evaluation.files[i] for i in worst]
    assert "Likely label errors" not in page  # not computed: no section


def test_evaluation_report_with_label_issues_and_thumbnails(evaluation: EvalResult) -> None:
    from core.diagnose.label_issues import label_issues

    labels = [f"class {i}" for i in range(6)]
    probs = torch.softmax(evaluation.logits.double(), 1).numpy()
    issues = label_issues(probs, evaluation.targets.numpy())
    assert not issues.empty
    thumb = next(iter(issues["index"]))
    png = b"\x89PNG\r\n\x1a\n fake"
    page = evaluation_report(
        evaluation, labels, label_issues=issues, thumbnails={evaluation.files[thumb]: png}, generated=WHEN
    )
    section = page[page.index('class="page issues"') :]
    assert re.findall(r"<td>(img_\d\d\.png)</td>", section)[: len(issues)] == [
        evaluation.files[i] for i in issues["index"].head(50)
    ]
    assert "data:image/png;base64," in section
    empty = pd.DataFrame(columns=["index", "given", "suggested", "confidence", "score"])
    assert "No likely label errors" in evaluation_report(evaluation, labels, label_issues=empty, generated=WHEN)


def test_a_one_class_or_one_image_report_says_in_one_line_why_no_label_errors(evaluation: EvalResult) -> None:
    labels = [f"class {i}" for i in range(6)]
    same = evaluation.targets == 2
    one_class = EvalResult(
        tuple(f for f, keep in zip(evaluation.files, same.tolist(), strict=True) if keep),
        evaluation.targets[same],
        evaluation.logits[same],
    )
    one_image = EvalResult(evaluation.files[:1], evaluation.targets[:1], evaluation.logits[:1])
    for result, reason in (
        (
            one_class,
            f"needs images of at least 2 classes to compare them; all {one_class.n} images here are labelled class 2",
        ),
        (one_image, "needs at least 2 images; this result has 1"),
    ):
        page = evaluation_report(result, labels, generated=WHEN)
        assert re.findall(r"<p>Likely label errors: not looked for \((.*?)\)\.</p>", page) == [reason]
        assert 'class="page issues"' not in page
    # a set where they could be computed but were not asked for says nothing about them
    assert "not looked for" not in evaluation_report(evaluation, labels, generated=WHEN)


def test_evaluation_report_with_many_classes_lists_pairs(evaluation: EvalResult) -> None:
    generator = torch.Generator().manual_seed(2)
    targets = torch.arange(40)
    logits = torch.randn(40, 40, generator=generator)
    result = EvalResult(tuple(f"f{i}" for i in range(40)), targets, logits)
    page = evaluation_report(result, [f"c{i}" for i in range(40)], generated=WHEN)
    assert "more than the 30 a heatmap can show" in page
    assert np.sum([page.count(f"<td>c{i}</td>") for i in range(40)]) > 0
