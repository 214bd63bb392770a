"""Shared test setup: the repository root on sys.path, never touch the network, real sample images."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")  # a test must never wait on a download
# ONNX exports go to one folder per test session (the CLI's subprocesses inherit it), never the user's cache
os.environ.setdefault("LOGITSCOPE_CACHE_DIR", tempfile.mkdtemp(prefix="logitscope-onnx-"))

# CI: the same examples every run (a failure reproduces) and no per-example deadline (a loaded 2-core machine
# is slow, not wrong). Local runs keep hypothesis' random exploration.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def sample():
    """Path of a real sample image by name ("coffee", "chelsea", "camera", ...)."""
    from core.samples import sample_path

    return sample_path


@pytest.fixture(scope="session")
def lite0():
    """The embedded EfficientNet-Lite0, built once for the whole session."""
    from core.models.registry import load_model

    return load_model("efficientnet_lite0")


@pytest.fixture
def analyse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names the UI's analysis cache (`ui.cache.analysed`) really analysed, in order: its misses."""
    import ui.cache

    calls: list[str] = []
    real = ui.cache.analyse

    def counting(model, name, data, *, key=None):
        calls.append(name)
        return real(model, name, data, key=key)

    monkeypatch.setattr(ui.cache, "analyse", counting)
    return calls
