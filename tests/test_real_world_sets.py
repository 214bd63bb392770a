"""The corpus, part two: labelled sets as people zip and save them (Windows on a Chinese, Japanese or Taiwanese
system, macOS Finder, Info-ZIP, Excel manifests), one-class and one-image sets.

The oracle for a zip is its twin: the same images in a zip whose names are marked UTF-8 (what Python writes), which
must give the very same files, classes and logits; and that twin is itself checked against scikit-learn's digits
under plain folder names "0".."9". Images and label files are in test_real_world_inputs.py.
"""

from __future__ import annotations

import io
import json
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest
import torch
from PIL import Image

from core.cli.main import main
from core.datasets.classes import resolver_for
from core.datasets.sets import LabelledSet
from core.datasets.sources import digits_set, open_folder, open_zip
from core.diagnose.availability import availability
from core.diagnose.summary import diagnosis
from core.evaluate.result import EvalResult
from core.evaluate.run import evaluate
from core.evaluate.scores import per_image_scores
from core.labels import builtin_labels
from core.models.registry import get_spec, load_model
from core.samples import sample_path

ROOT = Path(__file__).resolve().parent.parent
ZH = builtin_labels("digits", "zh")  # 数字0 .. 数字9
JA = ["ゼロ", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう"]  # ゼ: a kana with a voicing mark
TW = [f"數字{i}" for i in range(10)]  # traditional characters: Big5
FR = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]
IMAGENET = builtin_labels("imagenet", "en")
ESPRESSO, TRIPOD = IMAGENET.index("espresso"), IMAGENET.index("tripod")
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)


@pytest.fixture(scope="module")
def digits_model():
    return load_model("digits_cnn")


def held_out_digits(per_class: int = 5) -> dict[str, bytes]:
    """`per_class` held-out digits of each class, as "<digit>/<index>.png"."""
    full = digits_set("test")
    chosen = [f for d in range(10) for f in [f for f in full.files if f.startswith(f"{d}/")][:per_class]]
    return {f: full.reader.read(f) for f in chosen}


@pytest.fixture(scope="module")
def digits() -> dict[str, bytes]:
    """Five held-out digits of each class."""
    return held_out_digits()


def renamed(files: dict[str, bytes], names: list[str], *, sep: str = "/") -> dict[str, bytes]:
    """The digits under class folders named by `names` ("数字3/0042.png")."""
    return {f"{names[int(f.split('/')[0])]}{sep}{f.split('/')[1]}": data for f, data in files.items()}


def utf8_zip(members: dict[str, bytes]) -> bytes:
    """A zip as Python writes it: non-ASCII names are UTF-8 with the flag set."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def legacy_zip(members: dict[str, bytes], encoding: str, *, unicode_field: bool = False) -> bytes:
    """A zip whose names are stored as `encoding` bytes with the UTF-8 flag clear, as Windows' built-in zip and macOS
    write them. CPython always flags a non-ASCII name as UTF-8, so each member is written under an ASCII stand-in of
    the same length, then the stand-in is replaced by the real bytes in the local header and the central directory.
    `unicode_field` adds the Info-ZIP Unicode Path extra field (0x7075) that Info-ZIP and 7-Zip write."""
    buffer = io.BytesIO()
    swaps: dict[bytes, bytes] = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (name, data) in enumerate(members.items()):
            raw = name.encode(encoding)
            stand_in = (b"@%05d@" % i + b"~" * len(raw))[: len(raw)]
            assert len(raw) >= 7 and stand_in not in swaps
            info = zipfile.ZipInfo(stand_in.decode("ascii"))
            if unicode_field:
                utf8 = name.encode("utf-8")
                info.extra = struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(raw)) + utf8
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
            swaps[stand_in] = raw
    out = buffer.getvalue()
    for stand_in, raw in swaps.items():
        assert out.count(stand_in) == 2  # the local header and the central directory, nowhere else
        out = out.replace(stand_in, raw)
    return out


def run(model, labelled: LabelledSet) -> EvalResult:
    return evaluate(model, labelled, num_workers=0)


def same_run(a: EvalResult, b: EvalResult) -> None:
    assert a.files == b.files
    assert torch.equal(a.targets, b.targets) and torch.equal(a.logits, b.logits)


@pytest.fixture(scope="module")
def baseline(digits_model, digits) -> EvalResult:
    """The UTF-8-flagged zip of Chinese class folders, checked against the digits under folders "0".."9"."""
    spec = get_spec("digits_cnn")
    plain = run(digits_model, open_zip(utf8_zip(digits), resolver_for(spec, [str(i) for i in range(10)])))
    chinese = run(digits_model, open_zip(utf8_zip(renamed(digits, ZH)), resolver_for(spec, ZH), name="utf8.zip"))
    assert chinese.n == plain.n == 50 and torch.equal(chinese.logits, plain.logits)
    assert torch.equal(chinese.targets, plain.targets)
    accuracy = float((chinese.logits.argmax(1) == chinese.targets).float().mean())
    assert accuracy > 0.9  # the digits model is good on held-out digits: a real set, not noise
    return chinese


# ---------------------------------------------------------------- zips from Windows, macOS, Info-ZIP
LEGACY = {
    # name: (class names, the encoding of the stored names, with a Unicode path field, the note it must carry)
    "windows_zh_gbk.zip": (ZH, "gbk", False, "read as GBK (Chinese Windows)"),
    "windows_ja_sjis.zip": (JA, "cp932", False, "read as Shift-JIS (Japanese Windows)"),
    "windows_tw_big5.zip": (TW, "cp950", False, "read as Big5 (Traditional Chinese Windows)"),
    "dos_fr_cp437.zip": (FR, "cp437", False, "read as cp437 (DOS)"),
    "infozip_unicode_field.zip": (ZH, "gbk", True, "Unicode path fields"),
}


@pytest.mark.parametrize("name", list(LEGACY))
def test_a_zip_without_the_utf8_flag_evaluates_exactly_like_its_utf8_twin(name: str, digits_model, digits) -> None:
    names, encoding, field, note = LEGACY[name]
    resolver = resolver_for(get_spec("digits_cnn"), names)
    members = renamed(digits, names)
    twin = run(digits_model, open_zip(utf8_zip(members), resolver))
    data = legacy_zip(members, encoding, unicode_field=field)
    labelled = open_zip(data, resolver, name=name)
    assert labelled.skipped == () and len(labelled.notes) == 1 and note in labelled.notes[0]
    same_run(run(digits_model, labelled), twin)
    assert sum(f.startswith(names[0] + "/") for f in labelled.files) == 5  # the names as written, not mojibake
    # a member is still found by the name Python's zipfile lists (cp437 mojibake for these zips)
    for listed in zipfile.ZipFile(io.BytesIO(data)).namelist()[:3]:
        shown = listed.encode("cp437").decode(encoding)
        assert labelled.reader.read(listed) == labelled.reader.read(shown) == members[shown]


def test_the_gbk_zip_through_the_cli_matches_the_utf8_zip(tmp_path: Path, digits, baseline, capsys) -> None:
    reports = {}
    for name, data in {
        "utf8.zip": utf8_zip(renamed(digits, ZH)),
        "gbk.zip": legacy_zip(renamed(digits, ZH), "gbk"),
    }.items():
        (tmp_path / name).write_bytes(data)
        args = [
            "evaluate",
            str(tmp_path / name),
            "--model",
            "digits_cnn",
            "--labels",
            str(ROOT / "labels" / "digits_zh.txt"),
        ]
        assert main([*args, "--json", "--backend", "torch"]) == 0
        reports[name] = json.loads(capsys.readouterr().out)
    utf8, gbk = reports["utf8.zip"], reports["gbk.zip"]
    assert gbk["n"] == utf8["n"] == baseline.n and gbk["top1"] == utf8["top1"] and gbk["errors"] == []
    assert gbk["per_class"] == utf8["per_class"] and gbk["label_issues"] == utf8["label_issues"]
    assert utf8["notes"] == [] and gbk["notes"] == [
        "file names are not marked as UTF-8 in the zip; they were read as GBK (Chinese Windows)"
    ]


def test_a_macos_finder_zip_gives_one_note_line_and_the_clean_result(digits_model, digits) -> None:
    """Archive Utility: UTF-8 names without the flag, decomposed (NFD) as HFS+/APFS keep them, a __MACOSX/ folder of
    AppleDouble "._" files and a .DS_Store per folder."""
    resolver = resolver_for(get_spec("digits_cnn"), JA)
    clean = renamed(digits, JA)
    finder: dict[str, bytes] = {}
    for name, data in clean.items():
        decomposed = unicodedata.normalize("NFD", name)
        folder, file = decomposed.split("/")
        finder[f"digits/{decomposed}"] = data
        finder[f"__MACOSX/digits/{folder}/._{file}"] = APPLE_DOUBLE
        finder[f"digits/{folder}/.DS_Store"] = b"\x00\x00\x00\x01Bud1" + bytes(32)
    assert "ゼロ" not in "".join(finder)  # stored decomposed: ゼ is セ + a combining mark
    labelled = open_zip(legacy_zip(finder, "utf-8"), resolver, name="Archive.zip")
    system = len(finder) - len(clean)
    assert labelled.skipped == () and labelled.notes == (
        "file names are not marked as UTF-8 in the zip; they were read as UTF-8 (as macOS and Linux write it)",
        f"{system} system files (macOS/Windows metadata) left out",
    )
    twin = run(digits_model, open_zip(utf8_zip({f"digits/{n}": d for n, d in clean.items()}), resolver))
    same_run(run(digits_model, labelled), twin)
    # with plain ASCII names the Finder zip says exactly one line: its metadata
    ascii_finder = {f"digits/{n}": d for n, d in digits.items()}
    ascii_finder |= {f"__MACOSX/digits/{n.split('/')[0]}/._{n.split('/')[1]}": APPLE_DOUBLE for n in digits}
    plain = open_zip(utf8_zip(ascii_finder), resolver_for(get_spec("digits_cnn"), [str(i) for i in range(10)]))
    assert plain.skipped == () and plain.notes == ("50 system files (macOS/Windows metadata) left out",)


def test_windows_backslashes_and_thumbs_db_in_a_gbk_zip(digits_model, digits, baseline) -> None:
    members = {f"我的数字\\{name}": data for name, data in renamed(digits, ZH, sep="\\").items()}
    members["我的数字\\数字0\\Thumbs.db"] = b"\xd0\xcf\x11\xe0" + bytes(60)
    members["我的数字\\desktop.ini"] = b"[.ShellClassInfo]\r\n"
    labelled = open_zip(legacy_zip(members, "gbk"), resolver_for(get_spec("digits_cnn"), ZH))
    assert labelled.skipped == () and labelled.notes[-1] == "2 system files (macOS/Windows metadata) left out"
    result = run(digits_model, labelled)
    assert torch.equal(result.logits, baseline.logits) and torch.equal(result.targets, baseline.targets)


def test_a_folder_copied_from_a_mac_counts_its_metadata_in_one_line(digits_model, digits, baseline, tmp_path) -> None:
    for name, data in renamed(digits, ZH).items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        (path.parent / f"._{path.name}").write_bytes(APPLE_DOUBLE)
        (path.parent / ".DS_Store").write_bytes(b"Bud1")
    labelled = open_folder(tmp_path, resolver_for(get_spec("digits_cnn"), ZH))
    assert labelled.skipped == () and labelled.notes == ("60 system files (macOS/Windows metadata) left out",)
    same_run(run(digits_model, labelled), baseline)


# ---------------------------------------------------------------- labels.csv manifests as Excel saves them
MANIFESTS = {
    "comma_utf8.csv": lambda rows: ("filename,label\n" + "".join(f"{f},{c}\n" for f, c in rows)).encode(),
    "excel_semicolon.csv": lambda rows: (
        "\ufefffilename;label\r\n" + "".join(f"{f};{c}\r\n" for f, c in rows)
    ).encode(),
    "excel_tab.csv": lambda rows: ("filename\tlabel\r\n" + "".join(f"{f}\t{c}\r\n" for f, c in rows)).encode(),
    "excel_unicode_text.csv": lambda rows: ("filename\tlabel\r\n" + "".join(f"{f}\t{c}\r\n" for f, c in rows)).encode(
        "utf-16"
    ),
}


@pytest.mark.parametrize("name", list(MANIFESTS))
def test_a_manifest_in_any_excel_form_evaluates_like_the_folders(name: str, digits_model, digits, baseline) -> None:
    members = {f"images/{f.replace('/', '_')}": data for f, data in digits.items()}
    rows = [(f"images/{f.replace('/', '_')}", ZH[int(f.split("/")[0])]) for f in digits]
    members["labels.csv"] = MANIFESTS[name](rows)
    labelled = open_zip(utf8_zip(members), resolver_for(get_spec("digits_cnn"), ZH), name=name)
    assert labelled.skipped == () and len(labelled) == 50
    result = run(digits_model, labelled)
    # the same images in the same order (file names sort the same way) with the same classes and logits
    assert torch.equal(result.targets, baseline.targets) and torch.equal(result.logits, baseline.logits)


# ---------------------------------------------------------------- formats in a zip, one class, one image
def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def phone_folder_zip() -> bytes:
    """A phone's folder of espresso photos (HEIC, AVIF, an upper-case .JPG), one long strip, a logo as SVG."""
    from pillow_heif import from_pillow

    coffee = Image.open(sample_path("coffee")).convert("RGB")
    heic = io.BytesIO()
    from_pillow(coffee).save(heic, format="HEIF", quality=90)
    return utf8_zip(
        {
            "espresso/IMG_0001.HEIC": heic.getvalue(),
            "espresso/IMG_0002.avif": _encode(coffee, "AVIF", quality=90),
            "espresso/IMG_0003.JPG": _encode(coffee, "JPEG", quality=90),
            "espresso/panorama.png": _encode(coffee.resize((6000, 200)), "PNG"),
            "espresso/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
            "espresso/.DS_Store": b"Bud1",
        }
    )


@pytest.fixture(scope="module")
def espresso_zip() -> bytes:
    return phone_folder_zip()


def test_a_one_class_folder_of_phone_photos_evaluates_and_says_what_it_cannot_do(lite0, espresso_zip) -> None:
    labelled = open_zip(espresso_zip, resolver_for(get_spec("efficientnet_lite0"), IMAGENET), name="misses.zip")
    assert {s.name: s.reason for s in labelled.skipped} == {
        "espresso/logo.svg": "a vector image (SVG): export it as PNG"
    }
    assert labelled.notes == ("1 system file (macOS/Windows metadata) left out",)
    result = run(lite0, labelled)
    predicted = dict(zip(result.files, result.logits.argmax(1).tolist(), strict=True))
    assert [predicted[f"espresso/IMG_000{i}.{ext}"] for i, ext in ((1, "HEIC"), (2, "avif"), (3, "JPG"))] == [
        ESPRESSO
    ] * 3
    assert any("sees only the centre" in n for n in result.file_notes["espresso/panorama.png"])
    assert set(result.file_notes) == {"espresso/panorama.png"}
    # what works on one class still works
    assert per_image_scores(result.logits, result.targets).shape[0] == 4
    diagnosed = diagnosis(result, IMAGENET)
    espresso_row = next(r for r in diagnosed["per_class"] if r["index"] == ESPRESSO)
    hits = sum(index == ESPRESSO for index in predicted.values())
    assert espresso_row["support"] == 4 and espresso_row["recall"] == pytest.approx(hits / 4)
    # and what needs two classes says so, as data
    reason = "needs images of at least 2 classes to compare them; all 4 images here are labelled espresso"
    assert diagnosed["label_issues"] == [] and diagnosed["unavailable"] == {"label_issues": reason}
    tools = availability(result, IMAGENET)
    assert str(tools["label_issues"]) == reason and tools["per_class"] is None and tools["per_image"] is None
    assert str(tools["tsne_map"]).startswith("the run kept no features")


def test_one_class_and_one_image_in_the_cli(tmp_path: Path, capsys) -> None:
    data = {f"espresso/{n}.jpg": sample_path("coffee").read_bytes() for n in ("a", "b")}
    (tmp_path / "two.zip").write_bytes(utf8_zip(data))
    (tmp_path / "one.zip").write_bytes(utf8_zip({"espresso/a.jpg": data["espresso/a.jpg"]}))
    for name, reason in (
        ("two.zip", "needs images of at least 2 classes to compare them; all 2 images here are labelled espresso"),
        ("one.zip", "needs at least 2 images; this result has 1"),
    ):
        assert main(["evaluate", str(tmp_path / name), "--json", "--backend", "torch"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert (
            report["top1"] == 1.0 and report["label_issues"] == [] and report["unavailable"] == {"label_issues": reason}
        )
        # prediction sets need a calibration half and a test half: one image gets the section, with its reason
        assert ("unavailable" in report["conformal"]) == (name == "one.zip")
        assert report["conformal"]["coverage"] is None if name == "one.zip" else report["conformal"]["test_n"] == 1
        assert main(["evaluate", str(tmp_path / name), "--backend", "torch"]) == 0
        assert f"likely label errors: not looked for ({reason})" in capsys.readouterr().out
