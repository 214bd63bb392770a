"""The pipelined runner: a thread decodes ahead of the model, in order, stops when the run stops; both
backends give the same evaluation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import torch

from core.backends.choose import backend_info, with_backend
from core.datasets.sources import digits_set
from core.errors import InputError
from core.evaluate.result import Progress
from core.evaluate.run import evaluate, overlaps_decoding, prefetch
from core.features import features_backend
from core.images import decode_image
from core.models.registry import load_model


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "logitscope-prefetch"]


def test_prefetch_keeps_order_and_runs_ahead() -> None:
    made: list[int] = []

    def items() -> Iterator[int]:
        for i in range(10):
            made.append(i)
            yield i

    out = prefetch(items(), depth=2)
    assert next(out) == 0
    deadline = time.monotonic() + 10  # hang guard, not a timing assertion
    while len(made) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(made) >= 3  # the producer went ahead of the consumer
    assert list(out) == list(range(1, 10))


def test_prefetch_raises_the_producers_error_in_the_consumer() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    out = prefetch(items())
    assert next(out) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(out)


def test_closing_stops_the_producer() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    out = prefetch(endless(), depth=1)
    assert next(out) == 0
    out.close()
    assert not _prefetch_threads()
    with pytest.raises(InputError):
        next(prefetch(iter([1]), depth=0))


def test_a_stopped_run_leaves_no_decoding_thread(tmp_path) -> None:
    model = with_backend(load_model("digits_cnn"), "onnxruntime", folder=tmp_path)
    seen: list[int] = []

    def cancel(progress: Progress) -> None:
        seen.append(len(_prefetch_threads()))
        if progress.done >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(model, digits_set("test"), batch_size=50, num_workers=0, on_progress=cancel)
    assert max(seen) == 1  # a thread decoded ahead while ONNX Runtime ran
    assert not _prefetch_threads()


def test_torch_on_the_cpu_decodes_inline(tmp_path) -> None:
    """torch's spinning OpenMP threads and a decoding thread fight for the cores: torch decodes inline."""
    oracle = load_model("digits_cnn")
    assert not overlaps_decoding(oracle)
    assert overlaps_decoding(with_backend(oracle, "onnxruntime", folder=tmp_path))
    seen: list[int] = []
    result = evaluate(
        oracle,
        digits_set("test"),
        batch_size=50,
        num_workers=0,
        on_progress=lambda p: seen.append(len(_prefetch_threads())),
    )
    assert result.n == 540 and max(seen) == 0


def test_evaluate_on_onnxruntime_equals_torch(tmp_path) -> None:
    oracle = load_model("digits_cnn")
    fast = with_backend(oracle, "onnxruntime", folder=tmp_path)
    assert backend_info(fast).name == "onnxruntime"
    labelled = digits_set("test")
    want = evaluate(oracle, labelled, batch_size=64, num_workers=0)
    got = evaluate(fast, labelled, batch_size=64, num_workers=0)
    assert got.files == want.files and torch.equal(got.targets, want.targets)
    assert float((got.logits - want.logits).abs().max()) <= 1e-4 * max(1.0, float(want.logits.abs().max()))
    assert torch.equal(got.logits.argmax(dim=1), want.logits.argmax(dim=1))
    # and the one-image-at-a-time torch loop is the same evaluation
    single = torch.cat([oracle.module(x[None]) for x in _inputs(oracle, labelled)]).detach()
    assert torch.allclose(single, want.logits, atol=1e-4)


def test_evaluate_with_features_on_onnxruntime_equals_torch(tmp_path) -> None:
    oracle = load_model("digits_cnn")
    fast = with_backend(oracle, "onnxruntime", folder=tmp_path)
    labelled = digits_set("test")
    want = evaluate(oracle, labelled, batch_size=64, num_workers=0, features=True)
    got = evaluate(fast, labelled, batch_size=64, num_workers=0, features=True)
    assert features_backend(fast) == "onnxruntime" and features_backend(oracle) == "torch"
    assert got.features is not None and want.features is not None
    assert got.features.dtype == want.features.dtype == torch.float16 and got.features.shape == want.features.shape
    torch.testing.assert_close(got.features.float(), want.features.float(), rtol=2e-3, atol=2e-3)
    assert float((got.logits - want.logits).abs().max()) <= 1e-4 * max(1.0, float(want.logits.abs().max()))
    assert torch.equal(got.logits.argmax(dim=1), want.logits.argmax(dim=1))


def _inputs(model, labelled) -> list[torch.Tensor]:
    transform = model.spec.preprocessing.transform()
    return [transform(decode_image(labelled.reader.read(name), name).image) for name in labelled.files]
