"""State shared between sessions stays safe, and `import core` stays light.

The registry's built-in specs are one cached mapping for every caller (read-only), a zip reader kept in a
cross-session cache is read from many threads at once, and `core`/`core.evaluate` import on first use.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import threading
import zipfile

import pytest

from core.datasets.readers import ZipReader
from core.models.builtin import builtin_specs
from core.models.registry import get_spec, list_models


def test_the_builtin_specs_cannot_be_changed_by_a_caller() -> None:
    specs = builtin_specs()
    with pytest.raises(TypeError):
        specs["efficientnet_lite0"] = specs["digits_cnn"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del specs["digits_cnn"]  # type: ignore[attr-defined]
    assert get_spec("efficientnet_lite0").name == "efficientnet_lite0"
    assert list_models()[:2] == ["efficientnet_lite0", "digits_cnn"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_one_zip_reader_serves_many_threads() -> None:
    members = {f"class_{i % 4}/img_{i}.bin": bytes([i % 256]) * (5_000 + 97 * i) for i in range(64)}
    reader = ZipReader(_zip(members))  # never opened yet: the threads race for the lazy open
    errors: list[BaseException] = []
    wrong: list[str] = []
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        try:
            start.wait()
            for round_ in range(4):
                for i, (name, data) in enumerate(members.items()):
                    if (i + offset + round_) % 2 == 0 and reader.read(name) != data:
                        wrong.append(name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and not wrong


def test_a_zip_reader_pickles_without_its_archive_or_lock() -> None:
    reader = ZipReader(_zip({"a/x.bin": b"abc"}))
    assert reader.read("a/x.bin") == b"abc"  # opened here
    copy = pickle.loads(pickle.dumps(reader))  # what a spawned DataLoader worker receives
    assert copy.read("a/x.bin") == b"abc"
    assert copy._zip is not reader._zip


def test_the_light_modules_stay_light() -> None:
    # the softmax path and the evaluation's data types load neither pandas nor plotly (nor torchvision for softmax)
    code = (
        "import sys\n"
        "heavy = ('torchvision', 'plotly', 'pandas')\n"
        "from core.numerics import softmax\n"
        "from core.config import SETTINGS\n"
        "from core.errors import InputError\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "from core.evaluate.run import Progress\n"  # the data path needs torchvision, not the tables or figures
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "['torchvision']"], out.stdout + out.stderr
