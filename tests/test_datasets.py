"""Labelled sets: label resolution (names, WordNet ids, indices), zip/folder layouts, and the safety cases.

Every bad member must be skipped with its own reason while the good ones are still evaluated.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from core.datasets.classes import ClassResolver, imagenet_wnids, resolver_for
from core.datasets.sets import EmptyDatasetError, Limits
from core.datasets.sources import digits_set, open_folder, open_path, open_zip
from core.digits import write_digits_folder
from core.errors import InputError
from core.labels import builtin_labels
from core.models.registry import get_spec

IMAGENET = builtin_labels("imagenet", "en")
DIGITS = [str(i) for i in range(10)]


def png(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (12, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def reasons(labelled_or_error) -> dict[str, str]:
    return {s.name: s.reason for s in labelled_or_error.skipped}


@pytest.fixture(scope="module")
def imagenet() -> ClassResolver:
    return resolver_for(get_spec("efficientnet_lite0"), IMAGENET)


@pytest.fixture(scope="module")
def digits() -> ClassResolver:
    return resolver_for(get_spec("digits_cnn"), DIGITS)


# ---------------------------------------------------------------- WordNet ids and resolution
def test_wnids_are_imagenets_1000_in_class_order() -> None:
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 == len(set(wnids))
    assert all(re.fullmatch(r"n\d{8}", w) for w in wnids)
    # ImageNet-1k class indices are the sorted order of the wnids (the torchvision ImageNet convention)
    assert list(wnids) == sorted(wnids)
    # an independent oracle: torchvision's Imagenette names its 10 wnids; each lands on that class name
    from torchvision.datasets.imagenette import Imagenette

    for wnid, names in Imagenette._WNID_TO_CLASS.items():
        assert IMAGENET[wnids.index(wnid)] == names[0], wnid


def test_resolver_accepts_names_wnids_indices_and_chinese(imagenet: ClassResolver) -> None:
    espresso = IMAGENET.index("espresso")
    assert imagenet.resolve("espresso") == espresso
    assert imagenet.resolve("Espresso") == espresso  # case
    assert imagenet.resolve("great_white_shark") == IMAGENET.index("great white shark")  # keras-style names
    assert imagenet.resolve("n07920052") == espresso  # WordNet id
    assert imagenet.resolve("n01440764") == 0
    assert imagenet.resolve("967") == 967  # class index
    assert imagenet.resolve("浓咖啡") == espresso  # the Chinese label set
    assert imagenet.resolve("1000") is None and "out of range" in imagenet.why_not("1000")
    assert imagenet.resolve("n99999999") is None and "WordNet" in imagenet.why_not("n99999999")
    assert imagenet.resolve("not a class") is None


def test_ambiguous_names_match_only_exactly(imagenet: ClassResolver) -> None:
    # ImageNet has a dog "Cardigan" (Welsh corgi) and a sweater "cardigan": case decides, loosely it is ambiguous
    dog, sweater = IMAGENET.index("Cardigan"), IMAGENET.index("cardigan")
    assert dog != sweater
    assert imagenet.resolve("Cardigan") == dog and imagenet.resolve("cardigan") == sweater
    assert imagenet.resolve("CARDIGAN") is None


def test_wnids_only_for_imagenet_models(digits: ClassResolver) -> None:
    assert digits.resolve("7") == 7 and digits.resolve("数字7") == 7
    assert digits.resolve("n01440764") is None
    assert "not ImageNet" in digits.why_not("n01440764")


# ---------------------------------------------------------------- zip layouts
def test_imagefolder_zip_with_names_wnids_indices_and_a_top_folder(imagenet: ClassResolver) -> None:
    data = make_zip(
        {
            "mydata/espresso/a.png": png(),
            "mydata/n02123045/b.jpg": png((1, 2, 3)),  # tabby
            "mydata/872/c.png": png(),  # tripod by index
            "mydata/espresso/deeper/d.png": png(),  # ImageFolder walks sub-folders of a class
        }
    )
    labelled = open_zip(data, imagenet, name="set.zip")
    assert labelled.files == (
        "mydata/872/c.png",
        "mydata/espresso/a.png",
        "mydata/espresso/deeper/d.png",
        "mydata/n02123045/b.jpg",
    )
    espresso = IMAGENET.index("espresso")
    assert labelled.targets == (872, espresso, espresso, IMAGENET.index("tabby"))
    assert labelled.skipped == ()
    assert labelled.reader.read("mydata/espresso/a.png") == png()
    assert len(labelled.digest) == 64 and open_zip(data, imagenet).digest == labelled.digest


def test_windows_backslash_names_are_folders(imagenet: ClassResolver) -> None:
    labelled = open_zip(make_zip({"photos\\espresso\\a.png": png(), "photos\\tripod\\b.png": png()}), imagenet)
    assert labelled.targets == (IMAGENET.index("espresso"), IMAGENET.index("tripod"))
    assert labelled.reader.read(labelled.files[0]) == png()  # read back under its own member name


def test_zip_reader_survives_pickling_for_spawned_workers(imagenet: ClassResolver) -> None:
    labelled = open_zip(make_zip({"espresso/a.png": png()}), imagenet)
    labelled.reader.read("espresso/a.png")  # opens the archive in this process
    clone = pickle.loads(pickle.dumps(labelled.reader))
    assert clone.read("espresso/a.png") == png()


def test_manifest_csv_names_wnids_indices_and_its_mistakes(imagenet: ClassResolver) -> None:
    manifest = (
        "filename,label\n"
        "img/1.png,espresso\n"
        "img/2.png,n02123045\n"
        "img/3.png,872\n"
        "img/missing.png,espresso\n"  # named but not in the zip
        "img/4.png,no such class\n"
        "../outside.png,espresso\n"  # traversal inside the manifest
        "img/1.png,tabby\n"  # listed twice
    )
    data = make_zip(
        {
            "labels.csv": manifest.encode(),
            "img/1.png": png(),
            "img/2.png": png(),
            "img/3.png": png(),
            "img/4.png": png(),
            "img/unlisted.png": png(),
        }
    )
    labelled = open_zip(data, imagenet)
    assert dict(zip(labelled.files, labelled.targets, strict=True)) == {
        "img/1.png": IMAGENET.index("espresso"),
        "img/2.png": IMAGENET.index("tabby"),
        "img/3.png": 872,
    }
    why = reasons(labelled)
    assert "line 5" in why["img/missing.png"] and "not found" in why["img/missing.png"]
    assert "line 6" in why["img/4.png"] and "not a class" in why["img/4.png"]
    assert "unsafe" in why["../outside.png"]
    assert "listed twice" in why["img/1.png"]
    assert why["img/unlisted.png"] == "not listed in labels.csv"


# ---------------------------------------------------------------- the safety cases
def test_path_traversal_and_absolute_names_are_skipped_never_read(
    imagenet: ClassResolver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_zip(
        {
            "../../evil/espresso.png": png(),
            "/etc/espresso/abs.png": png(),
            "espresso/..\\..\\win.png": png(),
            "C:/espresso/drive.png": png(),
            "espresso/good.png": png(),
        }
    )
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    monkeypatch.chdir(tmp_path)  # had anything been extracted relative to the working folder, it would land here
    labelled = open_zip(data, imagenet)
    assert labelled.files == ("espresso/good.png",)
    why = reasons(labelled)
    assert set(why) == {
        "../../evil/espresso.png",
        "/etc/espresso/abs.png",
        "espresso/..\\..\\win.png",
        "C:/espresso/drive.png",
    }
    assert all("unsafe path" in reason for reason in why.values())
    assert list(tmp_path.iterdir()) == [] and sorted(p.name for p in tmp_path.parent.iterdir()) == before


def test_zip_bomb_by_ratio_and_by_declared_size(imagenet: ClassResolver) -> None:
    bomb = bytes(20 * 2**20)  # 20 MB of zeros deflates to ~20 KB: a ratio near 1000:1
    data = make_zip({"espresso/bomb.png": bomb, "espresso/good.png": png()})
    assert len(data) < 200_000
    labelled = open_zip(data, imagenet)
    assert labelled.files == ("espresso/good.png",)
    assert "zip bomb" in reasons(labelled)["espresso/bomb.png"]

    small = Limits(max_member_bytes=len(png()) - 1)
    with pytest.raises(EmptyDatasetError) as caught:
        open_zip(make_zip({"espresso/a.png": png()}), imagenet, limits=small)
    assert "over the" in reasons(caught.value)["espresso/a.png"]


def test_total_uncompressed_cap_keeps_the_first_members(imagenet: ClassResolver) -> None:
    one = len(png())
    data = make_zip({f"espresso/{i}.png": png() for i in range(5)})
    labelled = open_zip(data, imagenet, limits=Limits(max_total_bytes=2 * one))
    assert labelled.files == ("espresso/0.png", "espresso/1.png")
    assert all("total uncompressed limit" in reasons(labelled)[f"espresso/{i}.png"] for i in (2, 3, 4))


def test_member_count_cap_refuses_the_archive(imagenet: ClassResolver) -> None:
    data = make_zip({f"espresso/{i}.png": png() for i in range(4)})
    with pytest.raises(InputError, match="over the limit of 3"):
        open_zip(data, imagenet, limits=Limits(max_members=3))


def test_nested_junk_non_images_and_unknown_classes_are_listed(imagenet: ClassResolver) -> None:
    data = make_zip(
        {
            "__MACOSX/espresso/._a.png": b"\x00\x05\x16\x07",
            "espresso/.DS_Store": b"junk",
            "espresso/.git/config": b"[core]",
            "espresso/notes.txt": b"hello",
            "espresso/inner.zip": make_zip({"espresso/x.png": png()}),
            "espresso/a.png": png(),
            "loose.png": png(),
            "README.md": b"# read me",
            "cats_and_dogs/b.png": png(),
            "1000/c.png": png(),
        }
    )
    labelled = open_zip(data, imagenet)
    assert labelled.files == ("espresso/a.png",)
    why = reasons(labelled)
    assert "__MACOSX/espresso/._a.png" not in why and "espresso/.DS_Store" not in why
    assert labelled.notes == ("2 system files (macOS/Windows metadata) left out",)
    assert why["espresso/.git/config"] == "hidden file or folder"
    assert why["espresso/notes.txt"] == "not an image file (.txt)"
    assert why["espresso/inner.zip"] == "a nested archive: not opened"
    assert why["loose.png"] == "not inside a class folder"
    assert why["README.md"] == "not an image file (.md)"
    assert "'cats_and_dogs' is not a class of this model" in why["cats_and_dogs/b.png"]
    assert "out of range" in why["1000/c.png"]


def test_encrypted_members_are_skipped(imagenet: ClassResolver) -> None:
    data = bytearray(make_zip({"espresso/locked.png": png(), "espresso/open.png": png()}))
    # set the "encrypted" bit of the first member in its local header and its central directory entry
    data[data.find(b"PK\x03\x04") + 6] |= 0x1
    data[data.find(b"PK\x01\x02") + 8] |= 0x1
    labelled = open_zip(bytes(data), imagenet)
    assert labelled.files == ("espresso/open.png",)
    assert "encrypted" in reasons(labelled)["espresso/locked.png"]


def test_empty_and_useless_zips_and_non_zips(imagenet: ClassResolver) -> None:
    with pytest.raises(EmptyDatasetError, match="empty"):
        open_zip(make_zip({}), imagenet)
    with pytest.raises(EmptyDatasetError, match="empty"):
        open_zip(make_zip({"only/a/folder/": b""}), imagenet)
    with pytest.raises(EmptyDatasetError, match="no labelled images") as caught:
        open_zip(make_zip({"notes.txt": b"x", "unknown_class/a.png": png()}), imagenet)
    assert len(caught.value.skipped) == 2
    with pytest.raises(InputError, match="not a zip"):
        open_zip(b"%PDF-1.4 not a zip", imagenet)


# ---------------------------------------------------------------- folders and the digits set
def test_digits_folder_and_the_in_memory_digits_set(digits: ClassResolver, tmp_path: Path) -> None:
    root = write_digits_folder(tmp_path / "digits")
    folder = open_path(root, digits)
    memory = digits_set("test")
    assert len(folder) == len(memory) == 540
    assert folder.files == memory.files  # both "digit/index.png", sorted
    assert folder.targets == memory.targets == tuple(int(f.split("/")[0]) for f in memory.files)
    assert folder.reader.read(folder.files[0]) == (root / folder.files[0]).read_bytes()


def test_folder_skips_links_and_junk_and_zip_on_disk_opens(digits: ClassResolver, tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(png())
    root = tmp_path / "set"
    (root / "3").mkdir(parents=True)
    (root / "3" / "a.png").write_bytes(png())
    (root / "3" / "link.png").symlink_to(outside)
    (root / "3" / "notes.txt").write_text("x")
    labelled = open_folder(root, digits)
    assert labelled.files == ("3/a.png",) and labelled.targets == (3,)
    assert reasons(labelled) == {
        "3/link.png": "a symbolic link: not followed",
        "3/notes.txt": "not an image file (.txt)",
    }

    archive = tmp_path / "set.zip"
    archive.write_bytes(make_zip({"7/x.png": png()}))
    assert open_path(archive, digits).targets == (7,)
    with pytest.raises(InputError, match="no such file"):
        open_path(tmp_path / "missing", digits)
