"""One image path: bytes -> decoded image -> model input -> logits, each step done once, in `analyse`.

`analyse(model, name, data)` decodes the file once, builds the model's input tensor once (the
preprocessing's transform is itself built once per `Preprocessing`), runs one forward pass and returns
an `ImageResult` holding all of it: the view for the page, the logits, the decoded RGB image (for the
preprocessing check and a second model) and the exact input tensor (for Grad-CAM). A bad file is a
result too, with `error` set: it never raises for bad input, so a UI caches failures like successes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from torch import Tensor

from core.errors import LogitscopeError, first_line
from core.images import DecodedImage, decode_image
from core.inference import predict
from core.models.spec import LoadedModel
from core.numerics import as_logits
from core.preprocess import Preprocessing, input_notes, normalisation_variants

PREVIEW_SIDE = 640
# tiny model inputs are enlarged (nearest neighbour, so every input pixel stays one flat square) for display
DISPLAY_MIN_SIDE = 224
# unexpected errors from a model are shown to the user, shortened
_MAX_ERROR_CHARS = 300
# the three normalisations of the preprocessing check, in the order of core.preprocess.normalisation_variants
VARIANT_IDS = ("own", "imagenet", "none")


def digest(data: bytes) -> str:
    """A short stable id of some bytes (cache keys, widget keys, file names): sha256, 16 hex digits."""
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True)
class ImageView:
    """What the page shows of one image besides the numbers.

    Attributes:
        preview: the decoded image, shrunk to at most PREVIEW_SIDE pixels (for display only).
        model_input: the exact tensor the model sees, de-normalised back to an image (inputs smaller than
            DISPLAY_MIN_SIDE are enlarged by a whole factor, nearest neighbour).
        original_size: (width, height) after EXIF rotation.
        original_mode: the PIL mode of the file.
        input_shape: the model input's shape (C, H, W).
        notes: conversions made while decoding (first frame, alpha, EXIF, ...), then `input_notes`.
        input_notes: what this model's preprocessing does to the image (enlarged many times, little of it
            seen: `core.preprocess.input_notes`), also the last of `notes`.
    """

    preview: Image.Image
    model_input: Image.Image
    original_size: tuple[int, int]
    original_mode: str
    input_shape: tuple[int, ...]
    notes: tuple[str, ...] = ()
    input_notes: tuple[str, ...] = ()


def image_view(
    decoded: DecodedImage,
    pre: Preprocessing,
    *,
    tensor: Tensor | None = None,
    preview_side: int = PREVIEW_SIDE,
) -> ImageView:
    """The original (shrunk) and the model's input of a decoded image.

    Args:
        decoded: from `core.images.decode_image`.
        pre: the model's preprocessing.
        tensor: the model input `pre(decoded.image)` when the caller already has it (it is not rebuilt).
        preview_side: the preview's longest side.

    Any size is shown, a 1 x 1 image too: how much it was enlarged or cropped is said in the notes.
    """
    tensor = pre(decoded.image) if tensor is None else tensor
    preview = decoded.image.copy()
    preview.thumbnail((preview_side, preview_side))
    seen = input_notes(decoded.image.size, pre)  # a tiny image or a long strip: say what the model really sees
    model_input = pre.to_display_image(tensor)
    if max(model_input.size) < DISPLAY_MIN_SIDE:  # e.g. the digits model's 8x8: show its pixels as squares
        scale = -(-DISPLAY_MIN_SIDE // max(model_input.size))
        model_input = model_input.resize(
            (model_input.width * scale, model_input.height * scale), Image.Resampling.NEAREST
        )
    return ImageView(
        preview=preview,
        model_input=model_input,
        original_size=decoded.image.size,
        original_mode=decoded.original_mode,
        input_shape=tuple(tensor.shape),
        notes=(*decoded.notes, *seen),
        input_notes=seen,
    )


@dataclass(frozen=True)
class ImageResult:
    """One image's outcome: everything computed from its bytes, or the message saying why it failed.

    Attributes:
        name: the file name.
        key: sha256[:16] of the file's bytes (the cache key of everything computed from it).
        view: the image as shown, None on error.
        logits: the model's raw output (1-D, float32), None on error.
        image: the decoded RGB image (for the preprocessing check and a second model), None on error.
        input: the exact model input (C, H, W) the logits came from (for Grad-CAM), None on error.
        error: a sentence for the user, None on success.
        notes: conversions made while decoding (first frame, alpha, EXIF, ...) and what the model's
            preprocessing did to the image (enlarged, cropped): the view's notes.
    """

    name: str
    key: str
    view: ImageView | None = None
    logits: Tensor | None = field(default=None, repr=False)
    image: Image.Image | None = field(default=None, repr=False)
    input: Tensor | None = field(default=None, repr=False)
    error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def _image_nbytes(image: Image.Image | None) -> int:
    if image is None:
        return 0
    return image.width * image.height * max(1, len(image.getbands())) * (4 if image.mode in ("I", "F") else 1)


def result_nbytes(result: ImageResult) -> int:
    """About how much memory `result` holds: its decoded image, input tensor, logits and shown images (a cache's
    budget is counted in these; a 12-megapixel photo is about 37 MB, nearly all of it the decoded image)."""
    size = 512  # the object, its name, key and notes
    for tensor in (result.logits, result.input):
        if tensor is not None:
            size += tensor.numel() * tensor.element_size()
    size += _image_nbytes(result.image)
    if result.view is not None:
        size += _image_nbytes(result.view.preview) + _image_nbytes(result.view.model_input)
    return size


def error_message(name: str, exc: Exception) -> str:
    """The sentence shown for a failure: a LogitscopeError as is, anything else shortened and named."""
    if isinstance(exc, LogitscopeError):
        return str(exc)
    detail = first_line(exc, limit=_MAX_ERROR_CHARS)
    return f"{name}: the model could not process this image ({type(exc).__name__}: {detail})"


def _run(model: LoadedModel, name: str, key: str, decoded: DecodedImage) -> ImageResult:
    """The model's part of `analyse`: one input tensor shared by the view and one forward pass."""
    tensor = model.spec.preprocessing(decoded.image)  # built once: the view and the model both use it
    view = image_view(decoded, model.spec.preprocessing, tensor=tensor)
    logits = as_logits(predict(model, [tensor])[0]).reshape(-1)
    return ImageResult(name, key, view, logits, decoded.image, tensor, notes=view.notes)


def analyse(model: LoadedModel, name: str, data: bytes, *, key: str | None = None) -> ImageResult:
    """Decode `data` once, run `model` on it once, and return everything as an `ImageResult`.

    Never raises for a bad file or a model failure: the result then has `error` set (a LogitscopeError's
    message as is; anything else shortened). The shared `model` is used read-only.

    Args:
        model: from `core.models.registry.load_model` (or a checkpoint).
        name: the file name, for messages.
        data: the file's bytes.
        key: `digest(data)` when the caller has already hashed the bytes (they are not hashed again).
    """
    key = digest(data) if key is None else key
    try:
        return _run(model, name, key, decode_image(data, name))
    except Exception as exc:  # one bad image must never take down the others or the page
        return ImageResult(name, key, error=error_message(name, exc))


def analyse_with(model: LoadedModel, result: ImageResult) -> ImageResult:
    """The same image through another model (e.g. the compare tab's second one), without decoding it again.

    The decoded image of `result` goes through `model`'s own preprocessing; a failed `result` is returned
    as is. Never raises, like `analyse`.
    """
    if result.image is None or result.view is None:
        return result
    view = result.view
    decoding = tuple(note for note in result.notes if note not in view.input_notes)  # the other model's are its own
    decoded = DecodedImage(result.image, result.name, view.original_mode, view.original_size, decoding)
    try:
        return _run(model, result.name, result.key, decoded)
    except Exception as exc:  # as in analyse: a failure is a result
        return ImageResult(result.name, result.key, error=error_message(result.name, exc))


def normalisation_logits(
    model: LoadedModel, image: Image.Image, *, own_input: Tensor | None = None, own_logits: Tensor | None = None
) -> dict[str, Tensor]:
    """The model's logits for one image under its own normalisation, ImageNet mean/std, and none.

    Keys are VARIANT_IDS ("own", "imagenet", "none"); one batched forward pass, the model unchanged.
    `image` is the decoded RGB image (`ImageResult.image`). What the caller already has is not computed
    again: `own_input` (`ImageResult.input`) is used as the own variant's input, and `own_logits`
    (`ImageResult.logits`) as its logits, so only the two other variants then run through the model.
    """
    variants = list(normalisation_variants(model.spec.preprocessing).values())
    others = [pre(image) for pre in variants[1:]]
    if own_logits is not None:
        logits = [as_logits(own_logits).reshape(-1), *predict(model, others)]
    else:
        own = variants[0](image) if own_input is None else own_input
        logits = list(predict(model, [own, *others]))
    return dict(zip(VARIANT_IDS, logits, strict=True))


def analyse_files(model: LoadedModel, paths: Sequence[str]) -> list[ImageResult]:
    """`analyse` for files on disk (the CLI's report): a missing or unreadable file is a result too."""
    results = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or type(exc).__name__
            results.append(ImageResult(path, digest(path.encode()), error=f"{path}: cannot be read ({reason})"))
            continue
        results.append(analyse(model, path, data))
    return results
