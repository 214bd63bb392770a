"""The image types logitscope accepts: one list shared by the decoder, the zip/folder planner, the uploaders and
the README.

Pillow reads JPEG, PNG, WebP, GIF, BMP, TIFF and ICO itself, and AVIF where it was built with libavif (the
wheels of Pillow 11.3 and later are). HEIC/HEIF, what iPhones write by default, is read by pillow-heif, whose
opener is registered with Pillow once, the first time a HEIC file is decoded. A type that cannot be read here
is left out of `IMAGE_TYPES` and has a one-line reason in `unsupported_reason` instead (SVG, HEIC without
pillow-heif, camera RAW, ...), so an uploader, a zip listing and the decoder all say the same thing.
"""

from __future__ import annotations

import functools
import importlib.util
import posixpath
from dataclasses import dataclass
from typing import Final

from PIL import features


@dataclass(frozen=True)
class ImageType:
    """One accepted type: its name for people and the file suffixes (lower case, with the dot) that mark it."""

    name: str
    extensions: tuple[str, ...]


def _heif_installed() -> bool:
    return importlib.util.find_spec("pillow_heif") is not None


def _avif_built_in() -> bool:
    # a Pillow older than 11.2 has no "avif" module at all (asking it would warn)
    return "avif" in features.modules and bool(features.check_module("avif"))


HEIF_AVAILABLE: Final = _heif_installed()
AVIF_AVAILABLE: Final = _avif_built_in()

IMAGE_TYPES: Final[tuple[ImageType, ...]] = (
    ImageType("JPEG", (".jpg", ".jpeg", ".jpe", ".jfif")),
    ImageType("PNG", (".png",)),
    ImageType("WebP", (".webp",)),
    ImageType("GIF", (".gif",)),
    ImageType("BMP", (".bmp",)),
    ImageType("TIFF", (".tif", ".tiff")),
    *((ImageType("AVIF", (".avif",)),) if AVIF_AVAILABLE else ()),
    ImageType("ICO", (".ico",)),
    *((ImageType("HEIC", (".heic", ".heif")),) if HEIF_AVAILABLE else ()),
)
IMAGE_EXTENSIONS: Final = tuple(ext for kind in IMAGE_TYPES for ext in kind.extensions)
# what `st.file_uploader(type=...)` takes: the suffixes without their dot
UPLOAD_TYPES: Final = [ext.lstrip(".") for ext in IMAGE_EXTENSIONS]
FORMAT_NAMES: Final = ", ".join(kind.name for kind in IMAGE_TYPES)

_HEIC_REASON = "HEIC is not supported here (pillow-heif is not installed): convert it to JPEG"
_AVIF_REASON = "AVIF is not supported by this Pillow (built without libavif): convert it to JPEG or PNG"
_RAW_REASON = "a camera RAW file: export it as JPEG first"
# suffixes of images in a format we do not read, with what to do instead
_UNSUPPORTED: Final[dict[str, str]] = {
    ".svg": "a vector image (SVG): export it as PNG",
    ".svgz": "a vector image (SVG): export it as PNG",
    ".eps": "a vector image (EPS): export it as PNG",
    ".jxl": "JPEG XL is not supported: convert it to JPEG or PNG",
    ".psd": "a Photoshop document: export it as PNG or JPEG",
    **dict.fromkeys((".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf"), _RAW_REASON),
    **({} if HEIF_AVAILABLE else dict.fromkeys((".heic", ".heif"), _HEIC_REASON)),
    **({} if AVIF_AVAILABLE else {".avif": _AVIF_REASON}),
}
# what an uploader lets through besides `UPLOAD_TYPES`: images we cannot read, so that the decoder says why in one
# line on the page (a browser's own refusal is a red mark on the file chip, its reason only on hover)
EXPLAINED_UPLOAD_TYPES: Final = [ext.lstrip(".") for ext in _UNSUPPORTED]

# ISO base media files name their kind in the "ftyp" box: bytes 4..8 are b"ftyp", 8..12 the major brand
_HEIF_BRANDS: Final = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def unsupported_reason(name: str) -> str | None:
    """Why a file named `name` is an image we cannot read (with what to do instead), or None."""
    return _UNSUPPORTED.get(posixpath.splitext(name.replace("\\", "/"))[1].lower())


def is_heif(data: bytes) -> bool:
    """Whether `data` starts like a HEIC/HEIF file (an ISO base media "ftyp" box with a HEIF brand)."""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def sniff_unsupported(data: bytes) -> str | None:
    """Why these bytes are an image in a format we cannot read, from their first bytes, or None."""
    head = data[:512].lstrip()
    if head.lower().startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in head:
        return _UNSUPPORTED[".svg"]
    if is_heif(data) and not HEIF_AVAILABLE:
        return _HEIC_REASON
    return None


@functools.cache
def register_heif() -> bool:
    """Register pillow-heif's HEIC/HEIF opener with Pillow, once per process; False when it is not installed."""
    if not HEIF_AVAILABLE:
        return False
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return True
