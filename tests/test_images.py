"""core.images: real sample files, every Pillow mode people upload, and files that are not images."""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.config import SETTINGS
from core.errors import ImageError, LogitscopeError
from core.images import DecodedImage, decode_image, read_image_file


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def pixels(decoded: DecodedImage) -> np.ndarray:
    assert decoded.image.mode == "RGB"
    return np.asarray(decoded.image).astype(int)


# ---------------------------------------------------------------- real files
@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("coffee", (600, 400)),
        ("chelsea", (451, 300)),
        ("camera", (512, 512)),
        ("rocket", (640, 427)),
        ("astronaut", (512, 512)),
        ("grace_hopper", (512, 600)),
        ("china", (640, 427)),
        ("flower", (640, 427)),
    ],
)
def test_real_samples_decode_to_rgb(sample, name: str, size: tuple[int, int]) -> None:
    path: Path = sample(name)
    decoded = decode_image(path.read_bytes(), path.name)
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == size == decoded.original_size
    assert decoded.name == path.name
    with Image.open(path) as reference:
        expected = np.asarray(reference.convert("RGB"))
    assert np.array_equal(np.asarray(decoded.image), expected)


def test_grayscale_sample_becomes_three_equal_channels(sample) -> None:
    decoded = read_image_file(sample("camera"))
    assert decoded.original_mode == "L"
    rgb = pixels(decoded)
    with Image.open(sample("camera")) as reference:
        gray = np.asarray(reference).astype(int)
    for channel in range(3):
        assert np.array_equal(rgb[:, :, channel], gray)


def test_horse_sample_with_alpha_is_composited_on_white(sample) -> None:
    decoded = read_image_file(sample("horse"))
    assert decoded.original_mode == "RGBA"
    with Image.open(sample("horse")) as reference:
        rgba = np.asarray(reference).astype(float)
    alpha = rgba[:, :, 3:] / 255
    expected = np.round(rgba[:, :, :3] * alpha + 255 * (1 - alpha))
    assert np.abs(pixels(decoded) - expected).max() <= 1
    if (rgba[:, :, 3] < 255).any():
        assert any("white" in note for note in decoded.notes)


def test_read_image_file_uses_the_path_as_name(sample) -> None:
    decoded = read_image_file(sample("coffee"))
    assert decoded.name == str(sample("coffee"))
    assert decoded.notes == ()


# ---------------------------------------------------------------- every mode becomes the right RGB
def test_grayscale_l() -> None:
    image = Image.fromarray(np.array([[0, 100], [200, 255]], dtype=np.uint8), mode="L")
    decoded = decode_image(encode(image, "PNG"), "gray.png")
    assert decoded.original_mode == "L"
    assert pixels(decoded)[:, :, 0].tolist() == [[0, 100], [200, 255]]
    assert (pixels(decoded)[:, :, 0] == pixels(decoded)[:, :, 2]).all()


def palette_image() -> Image.Image:
    image = Image.new("P", (4, 2))
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30] + [0] * (256 * 3 - 12))
    image.putdata([0, 1, 2, 3, 3, 2, 1, 0])
    return image


def test_palette_without_transparency() -> None:
    decoded = decode_image(encode(palette_image(), "PNG"), "palette.png")
    assert decoded.original_mode == "P"
    rgb = pixels(decoded)
    assert rgb[0].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]
    assert not any("white" in note for note in decoded.notes)


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_with_transparency_is_composited_on_white(fmt: str) -> None:
    data = encode(palette_image(), fmt, transparency=1)  # palette entry 1 (green) is transparent
    decoded = decode_image(data, f"palette.{fmt.lower()}")
    rgb = pixels(decoded)
    assert rgb[0, 1].tolist() == [255, 255, 255]  # was the transparent green
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[0, 2].tolist() == [0, 0, 255]
    assert any("composited on white" in note for note in decoded.notes)


def test_rgba_transparent_pixels_become_white() -> None:
    image = Image.new("RGBA", (3, 1))
    image.putdata([(255, 0, 0, 0), (0, 0, 255, 128), (0, 128, 0, 255)])
    decoded = decode_image(encode(image, "PNG"), "alpha.png")
    assert decoded.original_mode == "RGBA"
    rgb = pixels(decoded)
    assert rgb[0, 0].tolist() == [255, 255, 255]  # fully transparent red: white, not red, not black
    # half-transparent blue over white: 255 * (1 - 128/255) = 127 on red and green
    assert np.abs(rgb[0, 1] - [127, 127, 255]).max() <= 1
    assert rgb[0, 2].tolist() == [0, 128, 0]
    assert "transparent areas were composited on white" in decoded.notes


def test_opaque_rgba_has_no_note() -> None:
    image = Image.new("RGBA", (2, 2), (10, 20, 30, 255))
    decoded = decode_image(encode(image, "PNG"), "opaque.png")
    assert pixels(decoded)[0, 0].tolist() == [10, 20, 30]
    assert decoded.notes == ()


def test_la_transparent_pixels_become_white() -> None:
    image = Image.new("LA", (2, 1))
    image.putdata([(0, 0), (40, 255)])
    decoded = decode_image(encode(image, "PNG"), "la.png")
    assert decoded.original_mode == "LA"
    assert pixels(decoded)[0].tolist() == [[255, 255, 255], [40, 40, 40]]


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(fmt: str) -> None:
    image = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # no cyan, full magenta + yellow: red
    image.paste((255, 0, 0, 0), (4, 0, 8, 8))  # full cyan: (0, 255, 255)
    decoded = decode_image(encode(image, fmt), f"cmyk.{fmt.lower()}")
    assert decoded.original_mode == "CMYK"
    rgb = pixels(decoded)
    assert np.abs(rgb[4, 1] - [255, 0, 0]).max() <= 3
    assert np.abs(rgb[4, 6] - [0, 255, 255]).max() <= 3
    assert any("CMYK" in note for note in decoded.notes)


def test_16_bit_grayscale_range_is_stretched() -> None:
    values = np.array([[1000, 2000], [3000, 4000]], dtype=np.uint16)
    image = Image.fromarray(values)
    assert image.mode.startswith("I;16")
    decoded = decode_image(encode(image, "PNG"), "depth.png")
    assert decoded.original_mode.startswith("I;16") or decoded.original_mode == "I"
    gray = pixels(decoded)[:, :, 0]
    # the stored range [1000, 4000] fills 0..255 (a plain convert would clip everything to 255)
    assert gray.tolist() == [[0, 85], [170, 255]]
    assert any("[1000, 4000]" in note for note in decoded.notes)


def test_16_bit_full_range_keeps_its_shape() -> None:
    ramp = np.linspace(0, 65535, 256).astype(np.uint16).reshape(16, 16)
    decoded = decode_image(encode(Image.fromarray(ramp), "PNG"), "ramp.png")
    gray = pixels(decoded)[:, :, 0].ravel()
    assert gray[0] == 0 and gray[-1] == 255
    assert (np.diff(gray) >= 0).all()  # monotonic, no wrap-around
    assert np.abs(gray - ramp.ravel() / 65535 * 255).max() <= 1


def test_float_f_is_stretched() -> None:
    image = Image.fromarray(np.array([[-1.0, 0.0], [1.0, 3.0]], dtype=np.float32), mode="F")
    decoded = decode_image(encode(image, "TIFF"), "float.tif")
    assert decoded.original_mode == "F"
    assert pixels(decoded)[:, :, 0].tolist() == [[0, 64], [128, 255]]


def test_constant_16_bit_image_does_not_divide_by_zero() -> None:
    image = Image.fromarray(np.full((3, 3), 500, dtype=np.uint16))
    decoded = decode_image(encode(image, "PNG"), "flat.png")
    assert np.isfinite(pixels(decoded)).all()
    assert len(np.unique(pixels(decoded))) == 1


# ---------------------------------------------------------------- EXIF orientation
def oriented(fmt: str, orientation: int) -> tuple[bytes, np.ndarray]:
    stored = np.zeros((30, 60, 3), dtype=np.uint8)  # 60 wide, 30 high
    stored[:, :] = (0, 0, 255)
    stored[:15, :20] = (255, 0, 0)  # red block in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    params = {"quality": 95} if fmt == "JPEG" else {}
    return encode(Image.fromarray(stored), fmt, exif=exif, **params), stored


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize(("orientation", "turns"), [(6, -1), (8, 1)])  # EXIF 6: turn 90° clockwise; 8: anticlockwise
def test_exif_orientation_rotates(fmt: str, orientation: int, turns: int) -> None:
    data, stored = oriented(fmt, orientation)
    decoded = decode_image(data, f"phone.{fmt.lower()}")
    assert decoded.original_size == (60, 30)
    assert decoded.image.size == (30, 60)  # width and height swapped
    expected = np.rot90(stored, k=turns).astype(int)
    tolerance = 40 if fmt == "JPEG" else 0
    assert np.abs(pixels(decoded) - expected).mean() <= (4 if fmt == "JPEG" else 0)
    # orientation 6: the red corner ends top-right; orientation 8: bottom-left
    corner = (5, 25) if orientation == 6 else (55, 5)  # (row, column)
    other = (55, 5) if orientation == 6 else (5, 25)
    assert np.abs(pixels(decoded)[corner] - [255, 0, 0]).max() <= tolerance
    assert np.abs(pixels(decoded)[other] - [0, 0, 255]).max() <= tolerance
    assert f"turned upright according to its EXIF orientation ({orientation})" in decoded.notes


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_3_turns_upside_down_and_says_so(fmt: str) -> None:
    data, stored = oriented(fmt, 3)
    decoded = decode_image(data, f"phone.{fmt.lower()}")
    assert decoded.image.size == (60, 30)  # same size: only a note can tell the user it was turned
    assert np.abs(pixels(decoded) - np.rot90(stored, k=2).astype(int)).mean() <= (4 if fmt == "JPEG" else 0)
    assert "turned upright according to its EXIF orientation (3)" in decoded.notes


def test_exif_orientation_1_changes_nothing() -> None:
    data, stored = oriented("PNG", 1)
    decoded = decode_image(data, "upright.png")
    assert np.array_equal(pixels(decoded), stored.astype(int))
    assert decoded.notes == ()


# ---------------------------------------------------------------- several frames
def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(io.BytesIO(data)) as check:
        assert check.n_frames == 3  # the test file really is animated
    decoded = decode_image(data, "anim.gif")
    assert pixels(decoded)[4, 4].tolist() == [255, 0, 0]
    assert any("3 frames" in note and "first" in note for note in decoded.notes)


def test_multi_page_tiff_uses_the_first_page() -> None:
    first = Image.new("RGB", (10, 6), (0, 200, 0))
    second = Image.new("RGB", (20, 20), (200, 0, 0))
    data = encode(first, "TIFF", save_all=True, append_images=[second])
    decoded = decode_image(data, "scan.tif")
    assert decoded.image.size == (10, 6)
    assert pixels(decoded)[3, 3].tolist() == [0, 200, 0]
    assert any("2 frames" in note for note in decoded.notes)


def test_one_pixel_image_works_with_a_note() -> None:
    decoded = decode_image(encode(Image.new("RGB", (1, 1), (9, 8, 7)), "PNG"), "dot.png")
    assert decoded.image.size == (1, 1)
    assert pixels(decoded)[0, 0].tolist() == [9, 8, 7]
    assert any("1 x 1" in note for note in decoded.notes)


# ---------------------------------------------------------------- not images
def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", b"not really")
    return buffer.getvalue()


def noise_bytes() -> bytes:
    data = random.Random(1234).randbytes(4096)
    assert data.lstrip()[:1] not in (b"{", b"<", b"%")
    return data


def truncated(fmt: str) -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), fmt)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", "invoice.jpg", ["PDF"]),
        (zip_bytes(), "photos.png", ["zip"]),
        (noise_bytes(), "noise.jpg", ["not a recognised image"]),
        (b"", "empty.png", ["empty"]),
        (truncated("JPEG"), "cut.jpg", ["truncated"]),
        (truncated("PNG"), "cut.png", []),
        (b'{"not": "an image"}', "data.png", ["JSON"]),
        (b"<!DOCTYPE html><html></html>", "page.jpg", ["HTML"]),
        (b"GIF89a", "stub.gif", []),
    ],
    ids=["pdf", "zip", "random", "empty", "truncated-jpeg", "truncated-png", "json", "html", "gif-header-only"],
)
def test_bad_files_give_an_image_error_naming_the_file(data: bytes, name: str, words: list[str]) -> None:
    with pytest.raises(ImageError) as caught:
        decode_image(data, name)
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    for word in words:
        assert word in message
    assert "Traceback" not in message and len(message) < 300
    assert isinstance(caught.value, LogitscopeError)


def test_truncated_png_says_damaged_or_truncated() -> None:
    with pytest.raises(ImageError, match=r"cut\.png: .*(truncated|damaged|cannot be decoded)"):
        decode_image(truncated("PNG"), "cut.png")


# ---------------------------------------------------------------- decompression bombs
def png_header(width: int, height: int) -> bytes:
    """A valid PNG whose header claims width x height pixels, with almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height", "megapixels"),
    [(100_000, 100_000, "10000"), (10_000, 8_000, "80"), (60_000, 1_000, "60")],
)
def test_decompression_bomb_is_refused_before_decoding(width: int, height: int, megapixels: str) -> None:
    data = png_header(width, height)
    assert len(data) < 200
    start = time.perf_counter()
    with pytest.raises(ImageError) as caught:
        decode_image(data, "bomb.png")
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    assert elapsed < 1.0  # refused from the header: decoding 10 gigapixels would take minutes and ~30 GB
    assert message.startswith("bomb.png: ")
    assert f"{megapixels} megapixels" in message
    assert f"{SETTINGS.max_image_pixels / 1e6:.0f} megapixel" in message
    assert "before decoding" in message


def test_pixel_limit_is_a_parameter() -> None:
    data = encode(Image.new("RGB", (40, 40)), "PNG")
    assert decode_image(data, "ok.png", max_pixels=1600).image.size == (40, 40)
    with pytest.raises(ImageError, match="megapixel"):
        decode_image(data, "small-limit.png", max_pixels=1599)


# ---------------------------------------------------------------- reading from disk
def test_read_image_file_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    with pytest.raises(ImageError, match="no such file") as caught:
        read_image_file(missing)
    assert str(missing) in str(caught.value)


def test_read_image_file_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="folder") as caught:
        read_image_file(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_read_image_file_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(ImageError) as caught:
        read_image_file(path)
    assert str(path) in str(caught.value)
