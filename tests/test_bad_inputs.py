"""A corpus of bad inputs: each one gets a clear message fast, never a traceback, a hang or gigabytes.

Every case runs its core call (the one the UI and the CLI both make) in a worker thread with a
generous hang bound measured here (`HANG_S`): a call still running then is a failure, not a slow pass.
The message must name the problem (a pattern per case) and must be a `LogitscopeError`'s text, or, for
inputs that are usable with a warning, the note or skip reason the user is shown. CLI cases run
`core.cli.main` and read its stderr; page cases are in `test_bad_inputs_pages` below (AppTest); the
memory case measures a subprocess's peak RSS.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save as save_safetensors

from core.analysis import analyse
from core.datasets.classes import ClassResolver
from core.datasets.sources import open_zip
from core.errors import LogitscopeError
from core.evaluate.run import evaluate
from core.images import decode_image
from core.lab.parse import parse_pasted, parse_upload
from core.labels import builtin_labels, parse_label_file
from core.links.lab import LabControls, decode_query
from core.models.checkpoint import load_checkpoint
from core.models.registry import load_model
from core.safe_io import detect_delimiter, json_depth, load_json

ROOT = Path(__file__).resolve().parent.parent
HANG_S = 10.0  # a call still running after this is a hang (every case answers in well under 1 s here)
SLOW_S = 5.0  # and one that answers, but only after this, is too slow for a shared server


# ---------------------------------------------------------------- builders of bad files
def png(width: int, height: int, mode: str = "RGB", color: object = 128) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def digit_png(value: int) -> bytes:
    """A real 8 x 8 digit from scikit-learn's digits (what the digits model was trained on)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    index = int(np.flatnonzero(digits.target == value)[0])
    pixels = (digits.images[index] * 255 / 16).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header (with a valid CRC) claims `width` x `height` pixels and holds one row of data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def bad_crc_zip(members: dict[str, bytes], damaged: str) -> bytes:
    """A stored zip in which one byte of `damaged`'s data is flipped: its CRC no longer matches."""
    data = bytearray(zip_of(members))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(damaged)
    # local header: 30 bytes + name + extra, then the stored data
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    return bytes(data)


def torch_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def deep_json(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


BIG_INT = "1" + "0" * 400  # 1e400 written out as digits
MANY_SPACES = " " * 20_000


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def digits_model():
    return load_model("digits_cnn")


@pytest.fixture(scope="module")
def digit_files() -> dict[int, bytes]:
    return {value: digit_png(value) for value in range(10)}


def digits_resolver() -> ClassResolver:
    return ClassResolver(builtin_labels("digits"))


# ---------------------------------------------------------------- the runner
@dataclass(frozen=True)
class Outcome:
    message: str
    seconds: float


def answer(call: Callable[[], object]) -> Outcome:
    """Run `call` in a thread; its message (a LogitscopeError's text, or the string it returns).

    Fails on a hang (still running after HANG_S), on any other exception (a traceback for the user), and
    on an answer slower than SLOW_S.
    """
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # every exception is reported below
            box["error"] = exc

    start = time.perf_counter()
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(HANG_S)
    seconds = time.perf_counter() - start
    assert not worker.is_alive(), f"hang: no answer after {HANG_S:.0f} s"
    error = box.get("error")
    if error is not None and not isinstance(error, LogitscopeError):
        raise AssertionError(f"a traceback instead of a message: {type(error).__name__}: {error}") from error
    assert seconds < SLOW_S, f"answered after {seconds:.1f} s"
    message = str(error) if error is not None else str(box.get("value"))
    assert "Traceback" not in message and message.strip(), message
    return Outcome(message, seconds)


def check(call: Callable[[], object], pattern: str) -> Outcome:
    outcome = answer(call)
    assert re.search(pattern, outcome.message), f"{outcome.message!r} does not match {pattern!r}"
    return outcome


# ---------------------------------------------------------------- images
def notes_of(data: bytes, name: str) -> str:
    return "; ".join(decode_image(data, name).notes)


IMAGE_CASES: dict[str, tuple[Callable[[], object], str]] = {
    "empty-file": (lambda: decode_image(b"", "a.png"), "empty"),
    "pdf-named-jpg": (lambda: decode_image(b"%PDF-1.7\n%...", "scan.jpg"), "PDF"),
    "html-named-png": (lambda: decode_image(b"<!DOCTYPE html><html></html>", "page.png"), "HTML"),
    "zip-named-png": (lambda: decode_image(zip_of({"a.txt": b"x"}), "photo.png"), "zip"),
    "random-bytes": (lambda: decode_image(bytes(range(256)) * 4, "noise.jpg"), "not a recognised image"),
    "truncated-png": (lambda: decode_image(png(64, 64)[:60], "cut.png"), "truncated|damaged|cannot be decoded"),
    # a PNG header claiming 100,000 x 100,000 pixels: refused before one pixel is decoded
    "bomb-header": (lambda: decode_image(png_claiming(100_000, 100_000), "bomb.png"), "megapixel"),
    "one-pixel": (lambda: notes_of(png(1, 1), "dot.png"), "only 1 x 1 pixels"),
    "svg-with-doctype": (
        lambda: decode_image(b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN">\n<svg/>', "logo.png"),
        "a vector image \\(SVG\\): export it as PNG",
    ),
}


@pytest.mark.parametrize("case", IMAGE_CASES, ids=list(IMAGE_CASES))
def test_bad_images(case: str) -> None:
    call, pattern = IMAGE_CASES[case]
    check(call, pattern)


def test_a_long_strip_is_classified_with_a_note_on_how_little_the_model_saw(lite0) -> None:
    outcome = check(
        lambda: "; ".join(analyse(lite0, "strip.png", png(20_000, 20)).view.notes),
        r"sees only the centre 18 x 18 pixels of this 20000 x 20 image \(0\.08% of it\)",
    )
    assert outcome.seconds < SLOW_S


def test_a_20000_by_2_strip_costs_a_normal_input(lite0) -> None:
    """The input the model gets is its usual 224 x 224 (the resize no longer builds 256 x 2,560,000)."""
    result = answer(lambda: analyse(lite0, "line.png", png(20_000, 2)).input.shape)  # type: ignore[union-attr]
    assert result.message == "torch.Size([3, 224, 224])"


# ---------------------------------------------------------------- label files (sidebar upload, CLI --labels)
LABEL_CASES: dict[str, tuple[bytes, str, str]] = {
    "deep-json": (deep_json(5000), "labels.json", "nested more than 32 levels"),
    "huge-int-key": (f'{{"{BIG_INT}": "cat", "0": "dog"}}'.encode(), "labels.json", "no gaps|class indices"),
    "huge-int-value": (f'["cat", {BIG_INT}]'.encode(), "labels.json", "a number with 401 characters"),
    "json-over-16mb": (b'["' + b"a" * (17 * 2**20) + b'"]', "labels.json", "over the 16,777,216-byte limit"),
    "csv-field-over-128kb": (b"0," + b"a" * 200_000 + b"\n", "labels.csv", "line 1 has a field longer than"),
    "csv-unclosed-quote": (b'0,"cat\n' + b"1,dog\n" * 30_000, "labels.csv", "field longer than|unclosed quote"),
    "csv-10-million-gap": (b"0,near\n10000000,far\n", "labels.csv", r"missing \[1, 2, 3, 4, 5\]"),
    "csv-30000-one-missing": (
        "".join(f"{i},class {i}\n" for i in range(30_001) if i != 15_000).encode(),
        "labels.csv",
        r"missing \[15000\]",
    ),
    "csv-superscript-index": (b"0,cat\n\xc2\xb2,dog\n", "labels.csv", "not a class index"),
    "json-superscript-key": ('{"0": "cat", "²": "dog"}'.encode(), "labels.json", "integer keys"),
    "csv-header-only": (b"index,name\n", "labels.csv", "no names"),
    "not-utf8": ("猫\n狗\n".encode("gbk"), "labels.txt", "UTF-8"),
}


@pytest.mark.parametrize("case", LABEL_CASES, ids=list(LABEL_CASES))
def test_bad_label_files(case: str) -> None:
    data, name, pattern = LABEL_CASES[case]
    outcome = check(lambda: parse_label_file(data, name), pattern)
    assert outcome.message.startswith(f"{name}: ")


@pytest.mark.parametrize("case", ["deep-json", "csv-field-over-128kb", "csv-10-million-gap"])
def test_bad_label_files_in_the_cli(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], sample) -> None:
    from core.cli.main import main

    data, name, pattern = LABEL_CASES[case]
    path = tmp_path / name
    path.write_bytes(data)
    rc = main(["predict", str(sample("coffee")), "--labels", str(path)])
    err = capsys.readouterr().err
    assert rc == 2 and re.search(pattern, err) and "Traceback" not in err, err


def test_label_checks_are_linear_not_quadratic() -> None:
    """30,000 rows with one index missing used to take 12 s (a list.count per index)."""
    data = LABEL_CASES["csv-30000-one-missing"][0]
    start = time.perf_counter()
    for _ in range(2):
        with pytest.raises(LogitscopeError):
            parse_label_file(data, "labels.csv")
    assert time.perf_counter() - start < 2 * SLOW_S


# ---------------------------------------------------------------- zips and manifests (Evaluation page, CLI evaluate)
def test_a_member_with_a_bad_crc_is_skipped_as_damaged(digits_model, digit_files) -> None:
    members = {f"{v}/{v}.png": digit_files[v] for v in range(10)}
    data = bad_crc_zip(members, "3/3.png")
    labelled = open_zip(data, digits_resolver(), name="digits.zip")
    result = answer(lambda: evaluate(digits_model, labelled, num_workers=0))
    run = evaluate(digits_model, labelled, num_workers=0)
    assert result.message
    assert run.n == 9  # every other member is evaluated
    (damaged,) = [e for e in run.errors if e.name == "3/3.png"]
    assert damaged.reason.startswith("damaged") and "CRC" in damaged.reason


def test_a_bad_crc_in_the_cli_is_a_skip_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], digit_files) -> None:
    from core.cli.main import main

    members = {f"{v}/{v}.png": digit_files[v] for v in range(10)}
    path = tmp_path / "digits.zip"
    path.write_bytes(bad_crc_zip(members, "5/5.png"))
    start = time.perf_counter()
    rc = main(["evaluate", str(path), "--model", "digits_cnn", "--backend", "torch"])
    out, err = capsys.readouterr()
    assert time.perf_counter() - start < 30
    assert rc == 0 and "Traceback" not in err
    assert re.search(r"5/5\.png: damaged: .*CRC", out), out


def skipped_reason(data: bytes, member: str) -> str:
    labelled = open_zip(data, digits_resolver(), name="set.zip")
    return next(s.reason for s in labelled.skipped if s.name == member)


ZIP_CASES: dict[str, tuple[Callable[[bytes], object], str]] = {
    # each builder gets a real digit PNG and returns the message for the user
    "superscript-folder": (
        lambda img: skipped_reason(zip_of({"1/a.png": img, "²/b.png": img}), "²/b.png"),
        "'²' is not a class of this model",
    ),
    "index-out-of-range": (
        lambda img: skipped_reason(zip_of({"1/a.png": img, "12/b.png": img}), "12/b.png"),
        "class index 12 is out of range",
    ),
    "markdown-image-name": (
        lambda img: skipped_reason(
            zip_of({"1/a.png": img, "![t](http://127.0.0.1:9/track.png)": img}), "![t](http://127.0.0.1:9/track.png)"
        ),
        "not inside a class folder|not an image",
    ),
    "zip-slip": (lambda img: skipped_reason(zip_of({"1/a.png": img, "../evil.png": img}), "../evil.png"), "unsafe"),
    "nested-zip": (
        lambda img: skipped_reason(zip_of({"1/a.png": img, "1/inner.zip": zip_of({"x": b"y"})}), "1/inner.zip"),
        "nested archive",
    ),
    "zip-bomb-member": (
        lambda img: skipped_reason(
            zip_of({"1/a.png": img, "1/bomb.png": b"\0" * (30 * 2**20)}, compression=zipfile.ZIP_DEFLATED),
            "1/bomb.png",
        ),
        "zip bomb",
    ),
    "not-a-zip": (lambda img: open_zip(img, digits_resolver(), name="set.zip"), "not a zip archive"),
    "empty-zip": (lambda img: open_zip(zip_of({}), digits_resolver(), name="set.zip"), "empty"),
    "manifest-field-over-128kb": (
        lambda img: open_zip(
            zip_of({"a.png": img, "labels.csv": b"filename,label\na.png," + b"1" * 200_000 + b"\n"}),
            digits_resolver(),
            name="set.zip",
        ),
        "labels.csv: line 2 has a field longer than",
    ),
    "manifest-bad-crc": (
        lambda img: open_zip(
            bad_crc_zip({"a.png": img, "labels.csv": b"filename,label\n" + b"a.png,1\n" * 50}, "labels.csv"),
            digits_resolver(),
            name="set.zip",
        ),
        "labels.csv is damaged",
    ),
    "manifest-traversal": (
        lambda img: skipped_reason(
            zip_of({"a.png": img, "labels.csv": b"filename,label\na.png,1\n../../etc/passwd,1\n"}),
            "../../etc/passwd",
        ),
        "unsafe",
    ),
    "manifest-superscript-label": (
        lambda img: skipped_reason(zip_of({"a.png": img, "labels.csv": "filename,label\na.png,²\n".encode()}), "a.png"),
        "'²' is not a class",
    ),
}


@pytest.mark.parametrize("case", ZIP_CASES, ids=list(ZIP_CASES))
def test_bad_zips_and_manifests(case: str, digit_files) -> None:
    build, pattern = ZIP_CASES[case]
    check(lambda: build(digit_files[1]), pattern)


# ---------------------------------------------------------------- checkpoints (sidebar upload)
def resnet_head(shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
    return {"fc.weight": torch.zeros(shape), "fc.bias": torch.zeros(shape[:1])}


CHECKPOINT_CASES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "scalar-head": (lambda: save_safetensors({"fc.weight": torch.tensor(1.0)}), "w.safetensors", r"shape \(\)"),
    "head-100000000-by-0": (
        lambda: save_safetensors(resnet_head((100_000_000, 0))),
        "w.safetensors",
        r"shape \(100000000, 0\), but resnet18 needs \(classes, 512\)",
    ),
    "zero-classes": (lambda: save_safetensors(resnet_head((0, 512))), "w.safetensors", "0 classes"),
    "wrong-in-features": (lambda: save_safetensors(resnet_head((10, 511))), "w.safetensors", r"needs \(classes, 512\)"),
    # a pickled view with stride 0: 4 bytes of storage claiming 100,000,000 x 512 floats
    "stride-0-view": (
        lambda: torch_bytes({"fc.weight": torch.zeros(1).expand(100_000_000, 512)}),
        "w.pth",
        "more data than the file holds",
    ),
    "pickled-code": (
        lambda: torch_bytes({"fc.weight": torch.zeros(2, 512), "hook": threading.Thread}),
        "w.pth",
        "refused",
    ),
    "not-safetensors": (lambda: b"\x00" * 64, "w.safetensors", "not a valid safetensors file"),
    "wrong-suffix": (lambda: b"weights", "w.onnx", "expected a .safetensors"),
}


@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=list(CHECKPOINT_CASES))
def test_bad_checkpoints(case: str) -> None:
    build, name, pattern = CHECKPOINT_CASES[case]
    data = build()
    check(lambda: load_checkpoint("resnet18", data, name), pattern)


# ---------------------------------------------------------------- Logits Lab: imports, paste box, links
LAB_UPLOADS: dict[str, tuple[str, bytes, str]] = {
    "deep-json": ("logits.json", deep_json(5000), "nested more than 32 levels"),
    "huge-integer": ("logits.json", f"[{BIG_INT}, 1]".encode(), "a number with 401 characters"),
    "huge-float-literal": ("logits.json", b"[1e400, 1]", "finite"),
    "bad-json": ("logits.json", b'{"logits": [1, 2', "not valid JSON"),
    "csv-field-over-128kb": ("t.csv", b"label,logit\n" + b"a" * 200_000 + b",1\n", "field longer than"),
    # csv.Sniffer's regexes backtrack quadratically on a long first line of ',"' (40 ms at 2 KB, minutes at 200 KB)
    "csv-sniffer-worst-case": ("t.csv", b',"' * 100_000 + b"\n1\n2\n", "not a number|columns|field|cells"),
    "csv-ragged": ("t.csv", b"a,1\nb,2,3\n", "3 cells"),
    "npy-object": ("x.npy", npy_bytes(np.array([1, "os.system"], dtype=object)), "Python objects"),
    "too-large": ("x.csv", b"1," * 3_000_000, "reads files up to"),
}


@pytest.mark.parametrize("case", LAB_UPLOADS, ids=list(LAB_UPLOADS))
def test_bad_lab_uploads(case: str) -> None:
    name, data, pattern = LAB_UPLOADS[case]
    check(lambda: parse_upload(name, data), pattern)


LAB_PASTES: dict[str, tuple[str, str]] = {
    "many-spaces-one-letter": (MANY_SPACES + "a", "'a', is not a number"),
    "letter-many-spaces-letter": ("a" + MANY_SPACES + "b", "not a number"),
    "label-spaces-value-many-lines": ("\n".join(f"cat{MANY_SPACES[:2000]}x" for _ in range(20)), "not a number"),
    "many-spaces-then-dtype": (MANY_SPACES + "dtype" + MANY_SPACES + "x", "not a number"),
    "nothing": ("   \n\t ", "no numbers"),
    "nan": ("1, nan, 2", "finite"),
}


@pytest.mark.parametrize("case", LAB_PASTES, ids=list(LAB_PASTES))
def test_bad_lab_pastes(case: str) -> None:
    text, pattern = LAB_PASTES[case]
    check(lambda: parse_pasted(text), pattern)


def link_problem(params: dict[str, list[str]]) -> str:
    state = decode_query(params)
    return "; ".join(p.message("en") for p in state.problems)


LAB_LINKS: dict[str, tuple[dict[str, list[str]], str]] = {
    "k-superscript": ({"logits": ["1,2,3"], "k": ["²"]}, "k = '²' is not a whole number"),
    "k-5000-digits": ({"logits": ["1,2,3"], "k": ["9" * 5000]}, "is not a whole number"),
    "T-nan": ({"logits": ["1,2"], "T": ["nan"]}, "not a temperature"),
    "rest-not-base64": ({"logits": ["1,2"], "rest": ["!!!"]}, "other classes"),
    "logits-too-many": ({"logits": [",".join(["1"] * 10_001)]}, "at most 10,000 classes"),
    "logits-spaces": ({"logits": [MANY_SPACES + "x"]}, "cannot be used"),
}


@pytest.mark.parametrize("case", LAB_LINKS, ids=list(LAB_LINKS))
def test_bad_lab_links(case: str) -> None:
    params, pattern = LAB_LINKS[case]
    check(lambda: link_problem(params), pattern)


def test_k_superscript_keeps_the_default_k() -> None:
    state = decode_query({"logits": ["1,2,3"], "k": ["²"]})
    assert state.table is not None and state.table.logits == (1.0, 2.0, 3.0)
    assert state.controls.k == LabControls().k


# ---------------------------------------------------------------- the safe readers themselves
def test_json_depth_matches_the_parser_on_real_documents() -> None:
    """The pre-scan's depth against json.loads's own structure (the oracle), brackets in strings ignored."""

    def depth(value: object) -> int:
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        if isinstance(value, dict):
            return 1 + max((depth(v) for v in value.values()), default=0)
        return 0

    documents = [
        '[1, [2, [3]], {"a": {"b": []}}]',
        '{"[[[": "]]]", "x": ["\\"[", 1]}',
        '"[[[["',
        "3",
        '[{"a": [{"b": [[]]}]}]',
    ]
    for document in documents:
        assert json_depth(document) == depth(json.loads(document)), document
    assert load_json(b'\xef\xbb\xbf{"a": [1, 2.5]}', name="x.json") == {"a": [1, 2.5]}


def test_delimiter_is_read_from_the_first_line_outside_quotes() -> None:
    assert detect_delimiter("label;logit\ncat;1,5\n") == ";"
    assert detect_delimiter('"a,b,c"\t1\n') == "\t"
    assert detect_delimiter("1.5\n2.5\n") == ","
    assert detect_delimiter("\n\n a,b;c,d\n") == ","


def test_pasted_pairs_split_as_the_old_regex_did() -> None:
    """The linear splitter against the regex it replaced (the oracle), on every short line of a small alphabet."""
    import itertools

    from core.lab.parse import _split_labelled

    oracle = re.compile(r"^\s*(?P<label>.*?\S)\s*(?:[\t,;:=|]\s*|\s+)(?P<value>[^\s,;:=|\t]+)\s*$")
    alphabet = [" ", "\t", "a", "1", ",", ";", ":", "=", "|", '"', "\u3000"]
    for length in range(7):
        for chars in itertools.product(alphabet, repeat=length):
            line = "".join(chars)
            match = oracle.match(line)
            expected = None if match is None else (match.group("label"), match.group("value"))
            assert _split_labelled(line) == expected, repr(line)


# ---------------------------------------------------------------- memory: a tiny hostile file costs little
MEMORY_SCRIPT = r"""
import io, resource, sys, zipfile
import torch
from PIL import Image
from safetensors.torch import save
from core.models.checkpoint import load_checkpoint
from core.errors import LogitscopeError
from core.labels import parse_label_file
from core.models.registry import get_spec

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def png(w, h):
    buffer = io.BytesIO()
    Image.new("RGB", (w, h), 128).save(buffer, format="PNG")
    return buffer.getvalue()

pre = get_spec("efficientnet_lite0").preprocessing
pre(Image.new("RGB", (640, 480)))  # warm the transform and torch's allocator on a normal photo
try:
    load_checkpoint("resnet18", save({"fc.weight": torch.zeros(7, 512)}), "warm.safetensors")
except LogitscopeError:
    pass
base = peak_mb()
files = {
    "20000x2.png": png(20_000, 2),
    "200000x2.png": png(200_000, 2),
}
for name, data in files.items():
    pre(Image.open(io.BytesIO(data)).convert("RGB"))
for data, name in [(b"0,near\n10000000,far\n", "labels.csv"), (b"[" * 100_000 + b"]" * 100_000, "labels.json")]:
    try:
        parse_label_file(data, name)
    except LogitscopeError:
        pass
for head in [(100_000_000, 0), (0, 512)]:
    try:
        load_checkpoint("resnet18", save({"fc.weight": torch.zeros(head)}), "hostile.safetensors")
    except LogitscopeError:
        pass
print(f"{peak_mb() - base:.1f}")
"""
MAX_GROWTH_MB = 150  # before the fixes: 2,000 MB (20,000 x 2 PNG), 1,000 MB (label gap), 400 GB asked (head)


def test_tiny_hostile_files_cannot_raise_peak_rss_by_more_than_150_mb() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr
    growth = float(completed.stdout.strip().splitlines()[-1])
    assert growth < MAX_GROWTH_MB, f"peak RSS grew by {growth:.0f} MB"


# ---------------------------------------------------------------- a shared link with tail bytes
def test_link_rest_with_nan_bytes_is_refused() -> None:
    raw = base64.urlsafe_b64encode(np.array([np.nan], dtype="<f4").tobytes()).decode().rstrip("=")
    check(lambda: link_problem({"logits": ["1,2"], "rest": [raw]}), "NaN or inf")


# ---------------------------------------------------------------- pages: a bad input leaves the page answering
LAB_PAGE = str(ROOT / "pages" / "2_Logits_Lab.py")
APP = str(ROOT / "app.py")
INSPECTOR_PAGE = str(ROOT / "pages" / "1_Image_Inspector.py")
EVALUATION_PAGE = str(ROOT / "pages" / "3_Dataset_Evaluation.py")


def timed_run(step: Callable[[], object]) -> None:
    """A page rerun, with the hang bound (AppTest's own timeout raises past it)."""
    start = time.perf_counter()
    step()
    assert time.perf_counter() - start < 60


def lab_labels(at) -> list[str]:
    """The Lab's classes as its table shows them (the explorer's, in the softmax view)."""
    from tests.explorer_state import explorer_data

    return list(explorer_data(at, "lab_explorer")["labels"])


def page_messages(at) -> str:
    return " | ".join(e.value for e in [*at.error, *at.warning, *at.info, *at.success])


def paste_and_use(at, text: str) -> None:
    at.text_area(key="lab_paste").set_value(text).run()
    at.button[[b.label for b in at.button].index("Use these numbers")].click().run()


def test_lab_page_keeps_its_last_valid_table_after_each_bad_input_and_answers_the_next() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(LAB_PAGE, default_timeout=60)
    timed_run(at.run)
    paste_and_use(at, "cat 3\ndog 1\nbird -2")
    assert lab_labels(at) == ["cat", "dog", "bird"]
    for name, data, fragment in [
        ("deep.json", deep_json(5000), "nested more than 32 levels"),
        ("huge.json", f"[{BIG_INT}, 1]".encode(), "a number with 401 characters"),
        ("wide.csv", b"label,logit\n" + b"a" * 200_000 + b",1\n", "field longer than"),
        ("sniff.csv", b',"' * 200_000 + b"\n1\n2\n", ""),
    ]:
        timed_run(at.file_uploader(key="lab_upload").upload(name, data).run)
        assert not at.exception, name
        assert fragment in at.error[0].value and "The table was not changed" in at.error[0].value
        assert lab_labels(at) == ["cat", "dog", "bird"], name
    timed_run(lambda: paste_and_use(at, MANY_SPACES + "a"))
    assert not at.exception and "not a number" in page_messages(at)
    assert lab_labels(at) == ["cat", "dog", "bird"]
    timed_run(lambda: paste_and_use(at, "x 1\ny 5"))  # the next action still works
    assert not at.exception and lab_labels(at) == ["x", "y"]


def test_lab_link_with_k_superscript_opens_with_a_message_and_the_default_k() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(LAB_PAGE, default_timeout=60)
    at.query_params.update(logits="1,2,3", labels=["a", "b", "c"], k="²")
    timed_run(at.run)
    assert not at.exception
    assert "k = '²' is not a whole number" in page_messages(at)
    assert lab_labels(at) == ["a", "b", "c"]
    timed_run(lambda: paste_and_use(at, "p 1\nq 2"))
    assert not at.exception and lab_labels(at) == ["p", "q"]


@pytest.mark.parametrize("case", ["deep-json", "huge-int-value", "csv-field-over-128kb", "csv-10-million-gap"])
def test_inspector_label_file_gets_a_message_and_the_page_keeps_predicting(case: str) -> None:
    from streamlit.testing.v1 import AppTest

    data, name, pattern = LABEL_CASES[case]
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["label_mode"] = "file"
    timed_run(at.run)
    timed_run(at.switch_page(INSPECTOR_PAGE).run)
    timed_run(at.file_uploader(key="_w_label_upload").set_value((name, data, "text/plain")).run)
    assert not at.exception
    warnings = " ".join(re.sub(r"\\(.)", r"\1", w.value) for w in at.warning)
    assert re.search(pattern, warnings), warnings
    from tests.explorer_state import explorer_data, top_label

    # the sample still predicted, with the model's own labels
    assert top_label(explorer_data(at, "inspector_explorer")) == "espresso"


def test_evaluation_page_lists_a_damaged_member_and_still_evaluates(digit_files) -> None:
    from streamlit.testing.v1 import AppTest

    members = {f"{v}/{v}.png": digit_files[v] for v in range(10)}
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["model"] = "digits_cnn"
    timed_run(at.run)
    timed_run(at.switch_page(EVALUATION_PAGE).run)
    timed_run(at.segmented_control(key="eval_source").set_value("zip").run)
    data = bad_crc_zip(members, "3/3.png")
    timed_run(at.file_uploader(key="eval_zip").upload("digits.zip", data, "application/zip").run)
    assert not at.exception
    timed_run(next(b for b in at.button if b.label.startswith("Evaluate 10 images")).click().run)
    assert not at.exception
    skipped = [d.value for d in at.dataframe if "reason" in d.value.columns]
    assert skipped, "no skipped-files table"
    reasons = dict(zip(skipped[0].iloc[:, 0], skipped[0]["reason"], strict=True))
    assert reasons["3/3.png"].startswith("damaged") and "CRC" in reasons["3/3.png"]


# ---------------------------------------------------------------- large label spaces stay interactive
def test_the_distribution_chart_of_50000_classes_draws_a_bounded_curve_that_matches_torch() -> None:
    from core.charts.prediction import distribution_figure

    probs = torch.softmax(torch.randn(50_000, generator=torch.Generator().manual_seed(0)) * 3, dim=0)
    trace = distribution_figure(probs, [f"class {i}" for i in range(50_000)]).data[0]
    ranks = np.asarray(trace.x)
    assert len(ranks) <= 1000 and ranks[0] == 1 and ranks[-1] == 50_000 and (np.diff(ranks) > 0).all()
    expected = torch.sort(probs.double(), descending=True).values.numpy()[ranks - 1]  # torch as the oracle
    assert np.allclose(np.asarray(trace.y), expected)
    small = distribution_figure(probs[:30] / probs[:30].sum(), [f"c{i}" for i in range(30)]).data[0]
    assert list(small.x) == list(range(1, 31))  # a small label space: every class drawn
