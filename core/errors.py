"""Errors that carry a message meant for the person using the tool.

Every failure a user can cause (a bad file, a bad number, an unavailable model) raises a subclass of
`LogitscopeError`; the UI and the CLI show `str(error)` as it is, never a traceback.
"""

from __future__ import annotations

import re


class LogitscopeError(Exception):
    """Base class: the message is complete and safe to show to the user."""


class InputError(LogitscopeError, ValueError):
    """A number, tensor or argument the user gave cannot be used (NaN, T <= 0, empty, ...)."""


class ImageError(LogitscopeError):
    """An uploaded file is not a usable image (not an image, truncated, too large, ...)."""


class LabelError(LogitscopeError):
    """A label file cannot be read, or its length does not match the model."""


class ModelUnavailableError(LogitscopeError):
    """A model is known but cannot be built here (weights missing and no network, ...)."""


class CheckpointError(InputError):
    """A user's model (a checkpoint, a folder, a zip, an ONNX file) cannot be loaded safely or does not fit: bad
    input, so the CLI exits with 2 like any other."""


def first_line(exc: BaseException, *, limit: int = 200) -> str:
    """The first line of an exception's message for a person: colour codes removed, at most `limit` characters
    (with "…" when cut), the exception's type name when it has no message."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    line = (text.splitlines() or [""])[0] or type(exc).__name__
    return line if len(line) <= limit else line[:limit] + "…"
