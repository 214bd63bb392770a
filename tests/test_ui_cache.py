"""The UI's analysis cache is bounded by memory, evicts the least recently used, and analyses once per key."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from core.analysis import analyse, result_nbytes
from core.samples import sample_images
from ui.cache import _Analyses


def _photo(width: int, height: int) -> bytes:
    pixels = (np.random.default_rng(0).random((height, width, 3)) * 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def test_result_nbytes_counts_what_the_result_holds(lite0) -> None:
    result = analyse(lite0, "phone.jpg", _photo(4000, 3000))  # a 12-megapixel phone photo
    assert result.ok and result.image is not None and result.input is not None and result.view is not None
    held = (
        len(result.image.tobytes())
        + result.input.numpy().nbytes
        + result.logits.numpy().nbytes
        + len(result.view.preview.tobytes())
        + len(result.view.model_input.tobytes())
    )
    assert held == pytest.approx(result_nbytes(result), rel=0.01)
    assert result_nbytes(result) > 36_000_000  # the decoded image is nearly all of it


def test_the_cache_keeps_to_its_budget_least_recently_used_first(lite0) -> None:
    samples = [(s.path.name, s.path.read_bytes()) for s in sample_images()[:6]]
    sizes = [result_nbytes(analyse(lite0, name, data)) for name, data in samples]
    budget = sum(sizes[:3]) + sizes[3] // 2  # room for three of them, not four
    cache = _Analyses(budget)
    for name, data in samples[:3]:
        cache("lite0", name, name, lite0, data)
    assert len(cache) == 3
    cache("lite0", samples[0][0], samples[0][0], lite0, samples[0][1])  # touched: now the most recent
    cache("lite0", samples[3][0], samples[3][0], lite0, samples[3][1])
    assert cache.nbytes <= budget
    kept = {key[2] for key in cache._results}
    assert samples[0][0] in kept and samples[3][0] in kept and samples[1][0] not in kept  # the oldest went
    # one result over the whole budget is returned, and not kept
    tiny = _Analyses(1_000_000)
    big = tiny("lite0", "phone", "phone.jpg", lite0, _photo(2000, 1500))
    assert big.ok and len(tiny) == 0


def test_sessions_asking_at_once_analyse_once(lite0, analyse_calls: list[str]) -> None:
    calls = analyse_calls
    cache = _Analyses(10**9)
    data = sample_images()[0].path.read_bytes()
    start = threading.Barrier(8)
    got: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(cache("lite0", "k", "coffee.png", lite0, data))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert calls == ["coffee.png"] and len(got) == 8 and all(r is got[0] for r in got)
