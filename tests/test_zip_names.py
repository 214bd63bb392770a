"""The rule that reads zip member names not marked UTF-8 (core.datasets.zipnames), on names people really use.

The oracle is the codec itself: a name written with encoding E must come back as exactly the same text, and a real
DOS/Western-European name must never be "re-decoded" into CJK.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from core.datasets.zipnames import legacy_encoding, unicode_path

NAMES = {
    "gbk": [
        "数字0/a.png",
        "猫/照片.jpg",
        "浓缩咖啡/1.jpg",
        "新建文件夹 (2)/图1.png",
        "咖啡·拿铁/1.jpg",
        "猫（黑色）/a.png",
    ],
    "cp932": ["写真/a.jpg", "猫の画像/1.png", "エスプレッソ/x.jpg", "コーヒー/y.jpg", "表/a.png", "デジカメ/DSC1.JPG"],
    "cp950": ["數字0/a.png", "貓/照片.jpg", "咖啡/1.jpg", "測試圖片.jpg", "新增資料夾/圖1.png", "臺北/a.jpg"],
    "cp437": ["Größe/a.jpg", "café/b.png", "Müller/c.png", "España/d.jpg", "naïve/e.png", "Straße/g.png", "à/1.png"],
    "cp850": ["São Paulo/e.png", "Øresund/f.jpg", "Ærø/x.png", "João/b.png", "Þingvellir/c.png"],
    "utf-8": ["数字0/a.png", "café/b.png", "Кошка/1.jpg", "Ωμέγα/2.png", "エスプレッソ/x.jpg", "猫/a.png"],
}


@pytest.mark.parametrize("encoding", list(NAMES))
def test_each_name_alone_and_the_whole_archive_read_back_as_written(encoding: str) -> None:
    for name in NAMES[encoding]:
        found = legacy_encoding([name.encode(encoding)])
        assert found is not None and found[1], name
        assert name.encode(encoding).decode(found[0]) == name, (name, found)
    raws = [name.encode(encoding) for name in NAMES[encoding]]
    assert legacy_encoding(raws) == (encoding, True)


def test_shift_jis_backslash_trail_byte_is_part_of_the_character() -> None:
    raw = "表/a.png".encode("cp932")  # 表 is 0x95 0x5C: the second byte is "\" in ASCII
    assert b"\\" in raw and raw.decode(legacy_encoding([raw])[0]) == "表/a.png"  # type: ignore[index]


def test_ascii_names_need_nothing_and_unreadable_names_stay_cp437_with_a_flag() -> None:
    assert legacy_encoding([b"espresso/a.png", b"tripod/b.jpg"]) is None
    assert legacy_encoding([b"\x8f\xff\xfe/\x80.png"]) == ("cp437", False)


def test_a_unicode_path_field_is_used_only_when_its_crc_matches_the_stored_name() -> None:
    raw = "数字0/a.png".encode("gbk")
    utf8 = "数字0/a.png".encode()
    field = struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(raw)) + utf8
    assert unicode_path(b"\x01\x00\x00\x00" + field, raw) == "数字0/a.png"  # after another (empty) field
    assert unicode_path(field, raw + b"x") is None  # renamed after the field was written: stale
