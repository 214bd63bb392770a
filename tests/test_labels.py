"""core.labels: the shipped ImageNet names (English = torchvision's, Chinese hand-written) and user label files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from torchvision.models import ResNet50_Weights

from core.errors import LabelError, LogitscopeError
from core.labels import LABELS_DIR, builtin_labels, parse_label_file, read_label_file, read_labels, validate_labels
from core.models.labels import choose_labels, spec_labels
from core.models.registry import get_spec
from core.models.spec import ModelSpec

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
ESPRESSO = 967


# ---------------------------------------------------------------- shipped files
def test_english_names_equal_torchvision_categories() -> None:
    english = read_label_file(LABELS_DIR / "imagenet_en.txt")
    assert len(english) == 1000
    assert english == list(ResNet50_Weights.DEFAULT.meta["categories"])
    assert builtin_labels("imagenet", "en") == english
    assert english[ESPRESSO] == "espresso"


def test_chinese_names_are_complete_distinct_and_chinese() -> None:
    raw = json.loads((LABELS_DIR / "imagenet_zh.json").read_text(encoding="utf-8"))
    chinese = builtin_labels("imagenet", "zh")
    assert len(chinese) == 1000
    if isinstance(raw, dict):
        assert sorted(int(k) for k in raw) == list(range(1000))
    assert all(name.strip() == name and name for name in chinese)
    assert len(set(chinese)) == 1000  # no accidental duplicates
    assert not [name for name in chinese if name.isascii()]  # no English left untranslated
    assert not [name for name in chinese if not CJK.search(name)]
    assert chinese[ESPRESSO] == "浓咖啡"
    assert chinese[:3] == ["丁鲷", "金鱼", "大白鲨"]


def test_builtin_label_errors() -> None:
    with pytest.raises(LabelError, match="unknown label set"):
        builtin_labels("coco")
    with pytest.raises(LabelError, match="language"):
        builtin_labels("imagenet", "fr")
    # a copy is returned: editing it does not change the shipped names
    names = builtin_labels("imagenet")
    names[0] = "changed"
    assert builtin_labels("imagenet")[0] == "tench"


# ---------------------------------------------------------------- parsing user files
@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"cat\ndog\nbird\n", "labels.txt"),
        (b"cat\r\ndog\r\nbird", "labels.txt"),
        (b"  cat \ndog\nbird\n\n\n  \n", "labels.txt"),  # trailing blank lines, stray spaces
        (b"cat\ndog\nbird", "labels"),  # no suffix: one per line
        (b'["cat", "dog", "bird"]', "labels.json"),
        (b'{"0": "cat", "1": "dog", "2": "bird"}', "label_map.json"),
        (b'{"2": "bird", "0": "cat", "1": "dog"}', "label_map.json"),  # order of keys does not matter
        (b"0,cat\n1,dog\n2,bird\n", "labels.csv"),
        (b"index,name\n0,cat\n1,dog\n2,bird\n", "labels.csv"),
        (b"2,bird\n0,cat\n1,dog\n\n", "labels.csv"),
        (b"id,label\n0, cat\n1 ,dog\n2,bird", "LABELS.CSV"),
    ],
    ids=[
        "txt",
        "crlf",
        "trailing",
        "no-suffix",
        "json-list",
        "json-dict",
        "json-unordered",
        "csv",
        "csv-header",
        "csv-unordered",
        "csv-spaces",
    ],
)
def test_label_formats(data: bytes, name: str) -> None:
    assert parse_label_file(data, name) == ["cat", "dog", "bird"]


@pytest.mark.parametrize("name", ["labels.txt", "labels.json", "labels.csv"])
def test_utf8_with_bom(name: str) -> None:
    body = {
        "labels.txt": "猫\n狗\n",
        "labels.json": '{"0": "猫", "1": "狗"}',
        "labels.csv": "index,name\n0,猫\n1,狗\n",
    }[name]
    assert parse_label_file(b"\xef\xbb\xbf" + body.encode("utf-8"), name) == ["猫", "狗"]
    assert parse_label_file(body.encode("utf-8"), name) == ["猫", "狗"]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ("\ufeffcat\r\ndog\r\nbird\r\n".encode("utf-16-le"), "labels.txt"),  # Notepad's "Unicode"
        ("cat\ndog\nbird\n".encode("utf-16"), "labels.txt"),  # UTF-16 with the platform's BOM
        ("cat\ndog\nbird\n".encode("utf-32"), "labels.txt"),
        ("index\tname\n0\tcat\n1\tdog\n2\tbird\n".encode("utf-16"), "labels.csv"),  # Excel's "Unicode text"
        (b"0;cat\n1;dog\n2;bird\n", "labels.csv"),  # Excel in European locales
        (b"index;name\r\n0;cat\r\n1;dog\r\n2;bird\r\n", "labels.csv"),
        (b"0\tcat\n1\tdog\n2\tbird\n", "labels.tsv"),
        (b"name\ncat\ndog\nbird\n", "labels.csv"),  # one column under a header
        (b"cat\ndog\nbird\n", "labels.csv"),  # one column, no header
        (b"name,index\ndog,1\ncat,0\nbird,2\n", "labels.csv"),  # columns found by their header
        (b"class,name\n0,cat\n1,dog\n2,bird\n", "labels.csv"),  # an unnamed index column
        (b'{"id2label": {"0": "cat", "1": "dog", "2": "bird"}, "model_type": "vit"}', "config.json"),
    ],
    ids=[
        "utf16-le-bom",
        "utf16",
        "utf32",
        "excel-unicode-text",
        "semicolon",
        "semicolon-header",
        "tsv",
        "one-column-header",
        "one-column",
        "named-columns",
        "class-name",
        "transformers-config",
    ],
)
def test_more_label_shapes(data: bytes, name: str) -> None:
    assert parse_label_file(data, name) == ["cat", "dog", "bird"]


def test_keras_caffe_and_the_printed_python_dict_give_the_human_names_and_keep_the_ids() -> None:
    keras = read_labels(b'{"1": ["n01443537", "goldfish"], "0": ["n01440764", "tench"]}', "imagenet_class_index.json")
    assert keras.names == ("tench", "goldfish") and keras.wnids == ("n01440764", "n01443537")
    assert keras.shape == "keras class index"
    caffe = read_labels(
        b"n01440764 tench, Tinca tinca\r\nn01443537 goldfish, Carassius auratus\r\n", "synset_words.txt"
    )
    assert caffe.names == ("tench", "goldfish") and caffe.wnids == ("n01440764", "n01443537")
    printed = b"{0: 'tench, Tinca tinca',\n 1: 'goldfish, Carassius auratus',\n 2: \"potter's wheel\"}"
    assert parse_label_file(printed, "imagenet1000_clsidx_to_labels.txt") == ["tench", "goldfish", "potter's wheel"]
    csv = read_labels(b"0,n01440764,tench\n1,n01443537,goldfish\n", "classes.csv")
    assert csv.names == ("tench", "goldfish") and csv.wnids == ("n01440764", "n01443537")
    with pytest.raises(LabelError, match=r"l.json: class 0 is a list, not a name"):
        parse_label_file(b'[["a", "b", "c"], ["x", "y", "z"]]', "l.json")


def test_csv_names_with_commas_and_quotes() -> None:
    data = b'0,"tabby, tabby cat"\n1,"say ""hi"""\n'
    assert parse_label_file(data, "l.csv") == ["tabby, tabby cat", 'say "hi"']


def test_json_list_keeps_non_string_names_as_text() -> None:
    assert parse_label_file(b"[0, 1, 2]", "digits.json") == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("data", "name", "pattern"),
    [
        ("猫\n狗\n".encode("gbk"), "labels.txt", "UTF-8"),
        (b"c\x00a\x00t\x00\n\x00d\x00o\x00g\x00", "labels.txt", "UTF-16 text without a byte-order mark"),
        (b'["cat", "dog"', "labels.json", "not valid JSON"),
        (b'{"zero": "cat", "one": "dog"}', "labels.json", "integer keys"),
        (b'"cat"', "labels.json", "list of names"),
        (b'{"0": "cat", "2": "bird"}', "labels.json", r"missing \[1\]"),
        (b'{"0": "cat", "00": "dog"}', "labels.json", r"repeated \[0\]"),
        (b'{"1": "cat", "2": "dog"}', "labels.json", "0..1"),
        (b"0,cat\n2,bird\n", "labels.csv", r"missing \[1\]"),
        (b"0,cat\n0,dog\n1,bird\n", "labels.csv", r"repeated \[0\]"),
        (b"0,cat\nx,dog\n", "labels.csv", "not a class index"),
        (b"0,cat\n1\n", "labels.csv", "no name"),
        (b"cat\n\ndog\n", "labels.txt", "class 1 has an empty name"),
        (b'["cat", "", "dog"]', "labels.json", "class 1 has an empty name"),
        (b'["cat", "dog", null]', "labels.json", "class 2 has an empty name"),
        (b'{"0": "cat", "1": "   "}', "labels.json", "class 1 has an empty name"),
        (b"0,cat\n1,\n", "labels.csv", "class 1 has an empty name"),
        (b"", "labels.txt", "no names"),
        (b"\n\n  \n", "labels.txt", "no names"),
        (b"[]", "labels.json", "no names"),
        (b"index,wnid\n0,n01440764\n", "labels.csv", "no column of names"),
    ],
    ids=[
        "gbk",
        "utf16-no-bom",
        "bad-json",
        "non-int-keys",
        "json-string",
        "json-gap",
        "json-repeat",
        "json-start-1",
        "csv-gap",
        "csv-repeat",
        "csv-bad-index",
        "csv-no-name",
        "txt-blank",
        "json-blank",
        "json-null",
        "json-spaces",
        "csv-blank",
        "empty",
        "only-blank",
        "json-empty",
        "csv-no-name-column",
    ],
)
def test_bad_label_files(data: bytes, name: str, pattern: str) -> None:
    with pytest.raises(LabelError, match=pattern) as caught:
        parse_label_file(data, name)
    assert str(caught.value).startswith(f"{name}: ")
    assert isinstance(caught.value, LogitscopeError)


def test_read_label_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "classes.txt"
    path.write_text("a\nb\n", encoding="utf-8")
    assert read_label_file(path) == ["a", "b"]
    with pytest.raises(LabelError, match="no such label file"):
        read_label_file(tmp_path / "missing.txt")
    with pytest.raises(LabelError):
        read_label_file(tmp_path)  # a folder


def test_validate_labels_reports_both_counts() -> None:
    validate_labels(["a", "b", "c"], 3)
    with pytest.raises(LabelError) as caught:
        validate_labels(["a", "b"], 1000, source="my_labels.txt")
    message = str(caught.value)
    assert "my_labels.txt" in message and "2 names" in message and "1000 classes" in message
    with pytest.raises(LabelError, match="1001 names"):
        validate_labels(["x"] * 1001, 1000)


# ---------------------------------------------------------------- choosing labels for a model
def test_spec_labels_of_the_builtin_models() -> None:
    lite0 = get_spec("efficientnet_lite0")
    assert spec_labels(lite0) == builtin_labels("imagenet", "en")
    assert spec_labels(lite0, "zh")[ESPRESSO] == "浓咖啡"
    digits = get_spec("digits_cnn")
    assert spec_labels(digits) == [str(i) for i in range(10)]
    resnet = get_spec("resnet50")
    assert spec_labels(resnet, "zh") == builtin_labels("imagenet", "zh")  # torchvision ImageNet models get Chinese too


@pytest.mark.parametrize("mode", ["en", "zh", "both"])
def test_choose_builtin_languages(mode: str) -> None:
    choice = choose_labels(get_spec("efficientnet_lite0"), mode)
    assert choice.warning is None
    assert len(choice.labels) == 1000
    expected_main = "浓咖啡" if mode == "zh" else "espresso"
    assert choice.labels[ESPRESSO] == expected_main
    if mode == "both":
        assert choice.other is not None and choice.other[ESPRESSO] == "浓咖啡"
    else:
        assert choice.other is None


def test_choose_a_label_file() -> None:
    spec = get_spec("digits_cnn")
    names = [f"digit {i}" for i in range(10)]
    data = "\n".join(names).encode()
    choice = choose_labels(spec, "file", file_data=data, file_name="mine.txt")
    assert choice.labels == names and choice.warning is None


def test_wrong_length_label_file_falls_back_with_a_warning() -> None:
    spec = get_spec("efficientnet_lite0")
    choice = choose_labels(spec, "file", file_data=b"cat\ndog\n", file_name="two.txt")
    assert choice.labels == builtin_labels("imagenet", "en")  # the model's own, not a padded list
    assert choice.warning is not None
    assert "two.txt" in choice.warning and "2 names" in choice.warning and "1000 classes" in choice.warning


def test_unreadable_label_file_falls_back_with_a_warning() -> None:
    spec = get_spec("digits_cnn")
    choice = choose_labels(spec, "file", file_data=b"[broken", file_name="bad.json")
    assert choice.labels == spec_labels(spec)
    assert choice.warning is not None and "not valid JSON" in choice.warning


def test_file_mode_without_a_file_says_so() -> None:
    choice = choose_labels(get_spec("digits_cnn"), "file")
    assert choice.labels == spec_labels(get_spec("digits_cnn"))
    assert choice.warning is not None and "No label file" in choice.warning


def test_model_without_chinese_names_warns_in_zh_mode() -> None:
    base = get_spec("digits_cnn")
    spec = ModelSpec(
        name="custom",
        title="custom",
        source="checkpoint",
        num_classes=2,
        preprocessing=base.preprocessing,
        label_set=None,
        builder=base.builder,
        availability=base.availability,
        categories=("left", "right"),
    )
    choice = choose_labels(spec, "zh")
    assert choice.labels == ["left", "right"]
    assert choice.warning is not None and "custom" in choice.warning
    assert choose_labels(spec, "en").warning is None
