"""ruff (lint + format) over the repository and mypy over core/, run as part of the test command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],  # files = ["core"] in pyproject.toml
    ],
    ids=["ruff-check", "ruff-format", "mypy-core"],
)
def test_code_quality(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_core_never_imports_streamlit():
    pattern = re.compile(r"^\s*(import|from)\s+streamlit\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "core").rglob("*.py") if pattern.search(path.read_text("utf-8"))
    ]
    assert offenders == []
