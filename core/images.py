"""Safe decoding of uploaded image bytes into RGB PIL images.

Handles what real uploads contain: EXIF rotation, grayscale, palette, alpha (composited on white),
CMYK, 16-bit and float modes, animated GIFs and multi-page TIFFs (first frame, with a note), icons with
several sizes (the largest), HEIC through pillow-heif. The accepted types are `core.image_formats.IMAGE_TYPES`.
Refuses decompression bombs from the header, before any pixel is decoded.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.config import SETTINGS
from core.errors import ImageError
from core.image_formats import FORMAT_NAMES, is_heif, register_heif, sniff_unsupported, unsupported_reason

# A quick look at the first bytes names the common non-image files people upload by mistake.
_NOT_IMAGE_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (or an Office document)",
    b"\x7fELF": "a program",
    b"<!DOCTYPE": "an HTML page",
    b"<html": "an HTML page",
    b"{": "a JSON or text file",
}


@dataclass(frozen=True)
class DecodedImage:
    """An image ready for a model, with what was done to get there.

    Attributes:
        image: the RGB image.
        name: the file name it came from (for messages).
        original_mode: the PIL mode of the file (e.g. "P", "RGBA", "I;16", "CMYK").
        original_size: (width, height) as stored, before EXIF rotation.
        notes: plain sentences about conversions made (first frame used, alpha composited, ...).
    """

    image: Image.Image
    name: str
    original_mode: str
    original_size: tuple[int, int]
    notes: tuple[str, ...] = field(default=())


def _sniff_non_image(data: bytes) -> str | None:
    head = data[:16].lstrip()
    for signature, kind in _NOT_IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


def _to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB the way a person would expect to see it."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        alpha_low = rgba.getchannel("A").getextrema()[0]
        if isinstance(alpha_low, (int, float)) and alpha_low < 255:  # only say so when some pixel really is transparent
            notes.append("transparent areas were composited on white")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit / 32-bit grayscale: stretch the stored range to 0..255 (PIL's convert clips instead)
        array = np.asarray(image, dtype=np.float64)
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        scale = 255.0 / (high - low) if high > low else 0.0
        array8 = np.clip(np.rint((array - low) * scale), 0, 255).astype(np.uint8)  # round, don't truncate
        notes.append(f"{mode} grayscale was rescaled from [{low:g}, {high:g}] to 8 bits")
        return Image.fromarray(array8, mode="L").convert("RGB")
    if mode == "CMYK":
        notes.append("CMYK colours were converted to RGB")
    return image.convert("RGB")


def decode_image(data: bytes, name: str = "image", *, max_pixels: int = SETTINGS.max_image_pixels) -> DecodedImage:
    """Decode uploaded bytes into an RGB image, or raise ImageError with a clear message.

    Args:
        data: the file's bytes.
        name: the file name, used in messages.
        max_pixels: largest width x height accepted; checked from the header, before decoding.
    """
    if not data:
        raise ImageError(f"{name}: the file is empty")
    if len(data) > SETTINGS.max_upload_bytes:
        raise ImageError(
            f"{name}: the file is {len(data) / 1e6:.0f} MB, over the {SETTINGS.max_upload_bytes / 1e6:.0f} MB limit"
        )
    # first: an SVG may start like an HTML page; a RAW file by its name, as in a zip (Pillow would read some as TIFF)
    unsupported = unsupported_reason(name) or sniff_unsupported(data)
    if unsupported is not None:
        raise ImageError(f"{name}: {unsupported}")
    kind = _sniff_non_image(data)
    if kind is not None:
        raise ImageError(f"{name}: this is {kind}, not an image")
    if is_heif(data):
        register_heif()  # pillow-heif's opener, registered with Pillow on the first HEIC file
    try:
        with warnings.catch_warnings():
            # PIL warns (and errors above 2x) on bombs; we check the size ourselves with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    f"{name}: {width} x {height} pixels ({width * height / 1e6:.0f} megapixels) is over the "
                    f"{max_pixels / 1e6:.0f} megapixel limit; refused before decoding (possible decompression bomb)"
                )
            if width < 1 or height < 1:
                raise ImageError(f"{name}: the image has no pixels ({width} x {height})")
            notes: list[str] = []
            sizes = image.info.get("sizes") if image.format == "ICO" else None
            if sizes and len(sizes) > 1:  # Pillow opens an icon at its largest size
                notes.append(f"the icon holds {len(sizes)} sizes; the largest ({width} x {height}) is used")
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                image.seek(0)
                notes.append(f"the file has {frames} frames; the first one is used")
            original_mode, original_size = image.mode, image.size
            image.load()  # decode now, so truncation shows up here and not later in a transform
            orientation = image.getexif().get(0x0112, 1)  # the EXIF Orientation tag; 1 means upright
            upright = ImageOps.exif_transpose(image) or image
            if orientation not in (None, 1):
                notes.append(f"turned upright according to its EXIF orientation ({orientation})")
            rgb = _to_rgb(upright, notes)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow itself refuses in Image.open above twice its own cap, before our check sees the size
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(claimed.group(1)) / 1e6:.0f} megapixels" if claimed else "too many pixels"
        raise ImageError(
            f"{name}: the header claims {size}, over the {max_pixels / 1e6:.0f} megapixel limit; "
            "refused before decoding (possible decompression bomb)"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a recognised image (supported: {FORMAT_NAMES})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        detail = str(exc) or type(exc).__name__
        if "truncated" in detail.lower() or isinstance(exc, EOFError):
            raise ImageError(f"{name}: the file is truncated or damaged ({detail})") from None
        raise ImageError(f"{name}: the image cannot be decoded ({detail})") from None
    if min(rgb.size) < 2:
        notes.append(f"the image is only {rgb.size[0]} x {rgb.size[1]} pixels; the prediction will mean little")
    return DecodedImage(rgb, name, original_mode, original_size, tuple(notes))


def read_image_file(path: str | os.PathLike[str]) -> DecodedImage:
    """Read and decode an image file from disk (CLI), with ImageError for missing or unreadable files."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{p}: is a folder, not an image file") from None
    except OSError as exc:
        raise ImageError(f"{p}: cannot be read ({exc.strerror})") from None
    return decode_image(data, str(p))


def thumbnail(image: Image.Image, *, size: int = 160, square: bool = False) -> Image.Image:
    """A small RGB copy of `image`, at most `size` pixels on a side (galleries).

    `square` centre-crops it to `size` x `size` first (the sample gallery's tiles). Tiny images (8 x 8
    digits) are enlarged with sharp pixels rather than blurred; larger ones are shrunk with Lanczos.
    """
    rgb = image.convert("RGB")
    if square:
        short = min(rgb.size)
        left, top = (rgb.width - short) // 2, (rgb.height - short) // 2
        rgb = rgb.crop((left, top, left + short, top + short))
    scale = size / max(rgb.size)
    target = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
    return rgb.resize(target, resample)


def image_bytes(image: Image.Image, *, fmt: str = "PNG") -> bytes:
    """Encode a PIL image (e.g. a thumbnail) for caching, display or download."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
