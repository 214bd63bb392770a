"""Shared test setup: the repository root on sys.path, never touch the network, real sample images."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")  # a test must never wait on a download


@pytest.fixture(scope="session")
def sample():
    """Path of a real sample image by name ("coffee", "chelsea", "camera", ...)."""
    from core.samples import sample_path

    return sample_path


@pytest.fixture(scope="session")
def lite0():
    """The embedded EfficientNet-Lite0, built once for the whole session."""
    from core.registry import load_model

    return load_model("efficientnet_lite0")
