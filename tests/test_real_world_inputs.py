"""A corpus of ordinary image and label files as phones, Windows, macOS, Excel, Keras and Caffe write them.

Every file is generated here from the real sample photos (scikit-image's coffee.png, an espresso, and camera.png,
a tripod) and checked for the RIGHT answer, not only for "no traceback": the oracle is the same picture stored the
plain way (upright, RGB, 8-bit, opaque) through EfficientNet-Lite0, exactly equal where the format is lossless and
within a stated tolerance where it is not. Each image goes through both the Inspector's path (`core.analysis
.analyse`) and the CLI (`python -m core predict --json`, in process), which must agree, notes included.
Zips, manifests and one-class sets are in test_real_world_sets.py.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.analysis import ImageResult, analyse
from core.cli.main import main
from core.image_formats import AVIF_AVAILABLE, FORMAT_NAMES, HEIF_AVAILABLE, IMAGE_TYPES
from core.labels import builtin_labels, parse_label_file
from core.samples import sample_path

ROOT = Path(__file__).resolve().parent.parent
IMAGENET = builtin_labels("imagenet", "en")
ESPRESSO, TRIPOD = IMAGENET.index("espresso"), IMAGENET.index("tripod")
T = Image.Transpose
# what a phone stores for each EXIF orientation: the upright picture turned the other way (EXIF says how to undo it)
STORED = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE, 6: T.ROTATE_90}
STORED |= {7: T.TRANSVERSE, 8: T.ROTATE_270}
# max |logit - twin's logit| of a lossy file; measured on coffee.png: JPEG/AVIF/HEIC at most 0.3, WebP at q85
# (4:2:0 chroma) 0.96. EXACT: a lossless file, the very same pixels and logits.
LOSSY, LOSSY_WEBP, EXACT = 0.5, 1.5, 0.0


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def exif(orientation: int) -> bytes:
    tags = Image.Exif()
    tags[0x0112] = orientation
    return tags.tobytes()


def coffee() -> Image.Image:
    return Image.open(sample_path("coffee")).convert("RGB")


def coffee_jpeg() -> Image.Image:
    """The upright photo as the phone would have saved it without turning it (the EXIF cases' twin)."""
    return Image.open(io.BytesIO(encode(coffee(), "JPEG", quality=92))).convert("RGB")


def camera() -> Image.Image:
    return Image.open(sample_path("camera")).convert("L")


def on_white(image: Image.Image) -> Image.Image:
    """The oracle for transparency: Pillow's own compositing over opaque white."""
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")


def sticker() -> Image.Image:
    """coffee.png with a soft transparent border, as a cut-out exported from an editor."""
    rgba = coffee().convert("RGBA")
    alpha = np.full((rgba.height, rgba.width), 255, np.uint8)
    alpha[:40], alpha[-40:], alpha[:, :40], alpha[:, -40:] = 0, 0, 0, 0
    alpha[40:-40, 40:60] = 128  # a half-transparent strip
    rgba.putalpha(Image.fromarray(alpha))
    return rgba


def palette_with_trns() -> Image.Image:
    """A 255-colour palette PNG whose index 255 is transparent (tRNS), as web graphics are."""
    quantized = coffee().quantize(colors=255)
    pixels = np.asarray(quantized).copy()
    pixels[:30], pixels[-30:] = 255, 255
    out = Image.fromarray(pixels, mode="P")
    out.putpalette([*(quantized.getpalette() or [])[: 255 * 3], 0, 0, 0])  # index 255: the transparent one
    out.info["transparency"] = 255
    return out


def sixteen_bit() -> tuple[Image.Image, Image.Image]:
    """A 16-bit scan of camera.png using part of the range, and the 8-bit image it should read as."""
    raw = np.asarray(camera(), np.float64) * 200 + 1000  # 1,000 .. 52,000 of 65,535
    low, high = raw.min(), raw.max()
    expected = np.clip(np.rint((raw - low) * 255 / (high - low)), 0, 255).astype(np.uint8)
    return Image.fromarray(raw.astype(np.uint16)), Image.fromarray(expected, mode="L")


def frames(fmt: str, **options: object) -> bytes:
    later = [camera().convert("RGB").resize(coffee().size), coffee().transpose(T.FLIP_TOP_BOTTOM)]
    return encode(coffee(), fmt, save_all=True, append_images=later, **options)


def heic() -> bytes:
    from pillow_heif import from_pillow

    buffer = io.BytesIO()
    from_pillow(coffee()).save(buffer, format="HEIF", quality=90)
    return buffer.getvalue()


# name -> (its bytes, the plain twin it must match, the logit tolerance (EXACT for lossless), the class)
Case = tuple[Callable[[], bytes], Callable[[], Image.Image], float, int]
IMAGES: dict[str, Case] = {
    **{
        f"IMG_000{o}.jpg": (
            lambda o=o: encode(coffee().transpose(STORED[o]), "JPEG", quality=92, exif=exif(o)),
            coffee_jpeg,
            LOSSY,
            ESPRESSO,
        )
        for o in range(2, 9)
    },
    "screenshot_rotated.png": (
        lambda: encode(coffee().transpose(T.ROTATE_90), "PNG", exif=exif(6)),
        coffee,
        EXACT,
        ESPRESSO,
    ),
    "print_cmyk.jpg": (lambda: encode(coffee().convert("CMYK"), "JPEG", quality=95), coffee, LOSSY, ESPRESSO),
    "print_cmyk.tif": (lambda: encode(coffee().convert("CMYK"), "TIFF"), coffee, EXACT, ESPRESSO),
    "scan_16bit.png": (lambda: encode(sixteen_bit()[0], "PNG"), lambda: sixteen_bit()[1], EXACT, TRIPOD),
    "scan_16bit.tif": (lambda: encode(sixteen_bit()[0], "TIFF"), lambda: sixteen_bit()[1], EXACT, TRIPOD),
    "cutout.png": (lambda: encode(sticker(), "PNG"), lambda: on_white(sticker()), EXACT, ESPRESSO),
    "web_palette_trns.png": (
        lambda: encode(palette_with_trns(), "PNG"),
        lambda: on_white(palette_with_trns()),
        EXACT,
        ESPRESSO,
    ),
    "gray_alpha.png": (
        lambda: encode(Image.merge("LA", (camera(), camera().point(lambda v: 255))), "PNG"),
        camera,
        EXACT,
        TRIPOD,
    ),
    "animated.gif": (
        lambda: frames("GIF"),
        lambda: Image.open(io.BytesIO(frames("GIF"))).convert("RGB"),
        EXACT,
        ESPRESSO,
    ),
    "animated.webp": (lambda: frames("WEBP", lossless=True), coffee, EXACT, ESPRESSO),
    "photo_lossy.webp": (lambda: encode(coffee(), "WEBP", quality=85), coffee, LOSSY_WEBP, ESPRESSO),
    "photo_lossless.webp": (lambda: encode(coffee(), "WEBP", lossless=True), coffee, EXACT, ESPRESSO),
    "pages.tif": (lambda: frames("TIFF"), coffee, EXACT, ESPRESSO),
    "lzw.tif": (lambda: encode(coffee(), "TIFF", compression="tiff_lzw"), coffee, EXACT, ESPRESSO),
    "windows.bmp": (lambda: encode(coffee(), "BMP"), coffee, EXACT, ESPRESSO),
    "gray.jpg": (lambda: encode(camera(), "JPEG", quality=92), camera, LOSSY, TRIPOD),
    "progressive.jpg": (lambda: encode(coffee(), "JPEG", quality=90, progressive=True), coffee, LOSSY, ESPRESSO),
    "favicon.ico": (
        lambda: encode(coffee(), "ICO", sizes=[(16, 16), (48, 48), (256, 256)]),
        lambda: Image.open(io.BytesIO(encode(coffee(), "ICO", sizes=[(256, 256)]))).convert("RGB"),
        EXACT,
        ESPRESSO,
    ),
}
if AVIF_AVAILABLE:
    IMAGES["phone.avif"] = (lambda: encode(coffee(), "AVIF", quality=90), coffee, LOSSY, ESPRESSO)
if HEIF_AVAILABLE:
    IMAGES["iphone.heic"] = (heic, coffee, LOSSY, ESPRESSO)

# what each must say about itself (a substring of one of its notes)
NOTES = {
    **{f"IMG_000{o}.jpg": f"EXIF orientation ({o})" for o in range(2, 9)},
    "screenshot_rotated.png": "EXIF orientation (6)",
    "print_cmyk.jpg": "CMYK colours were converted",
    "scan_16bit.png": "rescaled from [1000, 52000]",
    "cutout.png": "composited on white",
    "web_palette_trns.png": "composited on white",
    "animated.gif": "3 frames; the first one is used",
    "animated.webp": "3 frames; the first one is used",
    "pages.tif": "3 frames; the first one is used",
    "favicon.ico": "the icon holds 3 sizes; the largest (256 x 171) is used",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, (build, *_rest) in IMAGES.items():
        (folder / name).write_bytes(build())
    return folder


@pytest.fixture(scope="module")
def analysed(lite0, corpus: Path) -> dict[str, ImageResult]:
    return {name: analyse(lite0, name, (corpus / name).read_bytes()) for name in IMAGES}


@pytest.fixture(scope="module")
def cli_records(corpus: Path) -> dict[str, dict]:
    """One `predict --json` over the whole corpus (in process, torch backend: the same model as `lite0`)."""
    paths = [str(corpus / name) for name in IMAGES]
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", out)
        assert main(["predict", *paths, "--json", "--backend", "torch", "--top-k", "1"]) == 0
    return {Path(record["image"]).name: record for record in json.loads(out.getvalue())}


@pytest.fixture(scope="module")
def twins(lite0) -> Callable[[Image.Image], ImageResult]:
    """The plain twin's analysis, each distinct picture analysed once (most files are twins of coffee.png)."""
    done: dict[bytes, ImageResult] = {}

    def twin(image: Image.Image) -> ImageResult:
        data = encode(image, "PNG")
        if data not in done:
            done[data] = analyse(lite0, "twin.png", data)
        return done[data]

    return twin


@pytest.mark.parametrize("name", list(IMAGES))
def test_each_file_gives_the_class_of_its_plain_twin(name: str, analysed, cli_records, twins) -> None:
    _, twin, tolerance, expected = IMAGES[name]
    result = analysed[name]
    assert result.ok, result.error
    plain = twins(twin())
    assert int(result.logits.argmax()) == int(plain.logits.argmax()) == expected
    if tolerance == EXACT:  # a lossless format: the very same pixels, so the very same logits
        assert result.image.tobytes() == plain.image.tobytes()
        torch.testing.assert_close(result.logits, plain.logits)
    else:
        assert float((result.logits - plain.logits).abs().max()) < tolerance
    if name in NOTES:
        assert any(NOTES[name] in note for note in result.notes), result.notes
    record = cli_records[name]  # the CLI says the same thing
    assert record["top_k"][0]["index"] == expected and record["notes"] == list(result.notes)


def test_without_its_exif_tag_the_turned_photo_would_be_misread(lite0) -> None:
    """The EXIF oracle can fail: the stored pixels alone (tag stripped) are another picture to the model."""
    turned = encode(coffee().transpose(STORED[8]), "JPEG", quality=92)
    upright = analyse(lite0, "up.jpg", encode(coffee(), "JPEG", quality=92))
    stripped = analyse(lite0, "no_exif.jpg", turned)
    assert stripped.image.size == (400, 600) and float((stripped.logits - upright.logits).abs().max()) > 2.0


# ---------------------------------------------------------------- tiny, extreme and unreadable images
def test_tiny_and_extreme_images_are_predicted_with_the_same_notes_everywhere(lite0, tmp_path: Path) -> None:
    icon = coffee().resize((32, 32), Image.Resampling.LANCZOS)
    files = {
        "icon32.png": (icon, "upscaled 8× from 32 x 32 pixels: the model sees 28 x 28 of them stretched to 224 x 224"),
        "dot.png": (Image.new("RGB", (1, 1), (120, 80, 40)), "upscaled 256× from 1 x 1 pixels"),
        "strip.png": (
            Image.new("RGB", (20_000, 20), (120, 80, 40)),
            "the model sees only the centre 18 x 18 pixels of this 20000 x 20 image (0.08% of it)",
        ),
    }
    for name, (image, _) in files.items():
        (tmp_path / name).write_bytes(encode(image, "PNG"))
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", out)
        assert main(["predict", *(str(tmp_path / n) for n in files), "--json", "--backend", "torch"]) == 0
    records = {Path(r["image"]).name: r for r in json.loads(out.getvalue())}
    for name, (image, note) in files.items():
        result = analyse(lite0, name, (tmp_path / name).read_bytes())
        assert result.ok and any(note in n for n in result.notes), result.notes
        assert result.view.notes == result.notes == tuple(records[name]["notes"])
        # the oracle for what the model saw: the same preprocessing applied by hand
        torch.testing.assert_close(result.input, lite0.spec.preprocessing(image))


def test_vector_and_unsupported_images_get_one_clear_line(lite0, tmp_path: Path, capsys) -> None:
    svg = b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    result = analyse(lite0, "logo.svg", svg)
    assert result.error == "logo.svg: a vector image (SVG): export it as PNG"
    (tmp_path / "logo.svg").write_bytes(svg)
    assert main(["predict", str(tmp_path / "logo.svg"), "--backend", "torch"]) == 1
    assert "a vector image (SVG): export it as PNG" in capsys.readouterr().err
    # a DNG is a TIFF inside (Pillow would read its small preview) and a JPEG XL nothing Pillow knows: both are
    # refused by their name, with what to do, as the zip planner refuses them
    raw = analyse(lite0, "IMG_0042.DNG", encode(coffee(), "TIFF"))
    assert raw.error == "IMG_0042.DNG: a camera RAW file: export it as JPEG first"
    assert analyse(lite0, "photo.jxl", b"\xff\x0a" + bytes(64)).error == (
        "photo.jxl: JPEG XL is not supported: convert it to JPEG or PNG"
    )


def test_the_readme_lists_every_accepted_format() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = readme[readme.index("**Accepted images**") :].split("\n\n", 1)[0]  # that paragraph
    for kind in IMAGE_TYPES:  # the list this Pillow reads (AVIF needs libavif, HEIC pillow-heif)
        assert kind.name in line and all(f"`{ext}`" in line for ext in kind.extensions), kind
    assert FORMAT_NAMES.startswith("JPEG, PNG, WebP, GIF, BMP, TIFF")


# ---------------------------------------------------------------- label files people download or save
def imagenet_wnids() -> list[str]:
    return (ROOT / "labels" / "imagenet_wnids.txt").read_text(encoding="utf-8").split()


LABEL_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    # Keras' keras.applications imagenet_class_index.json: {"0": ["n01440764", "tench"], ...}
    "imagenet_class_index.json": (
        lambda: json.dumps(
            {str(i): [w, n.replace(" ", "_")] for i, (w, n) in enumerate(zip(imagenet_wnids(), IMAGENET, strict=True))}
        ).encode(),
        "espresso",
    ),
    # Caffe's synset_words.txt: the WordNet id, then the synonyms; CRLF as on Windows
    "synset_words.txt": (
        lambda: "".join(f"{w} {n}, {n.title()}\r\n" for w, n in zip(imagenet_wnids(), IMAGENET, strict=True)).encode(),
        "espresso",
    ),
    # the Python dict printed in imagenet1000_clsidx_to_labels.txt
    "imagenet1000_clsidx_to_labels.txt": (
        lambda: ("{" + ",\n ".join(f"{i}: {n + ', x'!r}" for i, n in enumerate(IMAGENET)) + "}").encode(),
        "espresso",
    ),
    # Notepad's "Unicode" (UTF-16 LE with BOM) and Excel's "CSV UTF-8" (BOM, ";" in European locales, CRLF)
    "labels_zh.txt": (lambda: "\r\n".join(builtin_labels("imagenet", "zh")).encode("utf-16"), "浓咖啡"),
    "labels_excel.csv": (
        lambda: ("\ufeffindex;name\r\n" + "".join(f"{i};{n}\r\n" for i, n in enumerate(IMAGENET))).encode(),
        "espresso",
    ),
    # Excel's "Unicode text": UTF-16, tab-separated
    "labels_unicode.tsv": (lambda: "".join(f"{i}\t{n}\n" for i, n in enumerate(IMAGENET)).encode("utf-16"), "espresso"),
    "config.json": (
        lambda: json.dumps({"id2label": dict(enumerate(IMAGENET)), "model_type": "x"}).encode(),
        "espresso",
    ),
}


@pytest.mark.parametrize("name", list(LABEL_FILES))
def test_label_files_name_the_espresso(name: str, twins) -> None:
    build, expected = LABEL_FILES[name]
    labels = parse_label_file(build(), name)
    logits = twins(coffee()).logits
    assert len(labels) == 1000 and labels[int(logits.argmax())] == expected


@pytest.mark.parametrize("name", ["imagenet_class_index.json", "synset_words.txt"])
def test_the_cli_prints_the_human_name_from_keras_and_caffe_files(name: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / name
    path.write_bytes(LABEL_FILES[name][0]())
    assert (
        main(["predict", str(sample_path("coffee")), "--labels", str(path), "--backend", "torch", "--top-k", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert "1. espresso (95.7%)" in out and "n07920052" not in out and "[" not in out


def test_a_gbk_label_file_is_refused_with_the_encoding_named(tmp_path: Path, capsys) -> None:
    path = tmp_path / "labels_gbk.txt"  # Notepad's "ANSI" on a Chinese Windows
    path.write_bytes("\r\n".join(builtin_labels("digits", "zh")).encode("gbk"))
    args = ["predict", str(sample_path("coffee")), "--model", "digits_cnn", "--labels", str(path), "--backend", "torch"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not UTF-8 text" in err and "GBK" in err and "save the file as UTF-8" in err
