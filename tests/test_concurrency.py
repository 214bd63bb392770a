"""Sessions stay apart: concurrent calls on one shared model each get their own, correct result.

The server shares one model (and the caches) between every session; each session's script runs in its own
thread. These tests run the core calls the pages make from several threads at once and compare each
result with the same call made alone (the oracle): no cross-talk, no corruption, nothing lost.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import torch

from core.analysis import analyse
from core.datasets.readers import MemoryReader
from core.datasets.sets import LabelledSet
from core.datasets.sources import digits_set
from core.evaluate.run import evaluate
from core.labels import builtin_labels
from core.models.registry import load_model
from core.samples import sample_images

SESSIONS = 8
EVALUATIONS = 4


def test_eight_concurrent_analyses_of_different_photos_each_get_their_own_top1(lite0) -> None:
    photos = [s for s in sample_images()][:SESSIONS]
    data = {s.name: s.path.read_bytes() for s in photos}
    alone = {name: analyse(lite0, name, raw).logits for name, raw in data.items()}  # the oracle: one at a time
    labels = builtin_labels("imagenet")
    with ThreadPoolExecutor(max_workers=len(data)) as pool:
        futures = {name: pool.submit(analyse, lite0, name, raw) for name, raw in data.items()}
        together = {name: future.result(timeout=300) for name, future in futures.items()}
    for name, result in together.items():
        assert result.ok and result.name == name
        assert result.logits is not None and alone[name] is not None
        assert torch.allclose(result.logits, alone[name], atol=1e-4), name
        assert labels[int(result.logits.argmax())] == labels[int(alone[name].argmax())]
    # different photos really are told apart (espresso is not a cat)
    tops = {labels[int(r.logits.argmax())] for r in together.values() if r.logits is not None}
    assert len(tops) >= 5, tops


def _subset(full: LabelledSet, part: int, parts: int) -> LabelledSet:
    """Every `parts`-th image of the digits set, starting at `part`: four different sets of real digits."""
    files = full.files[part::parts]
    reader = MemoryReader({name: full.reader.read(name) for name in files})
    return LabelledSet(
        source=f"digits part {part}",
        files=files,
        targets=full.targets[part::parts],
        skipped=(),
        reader=reader,
        digest=f"part-{part}",
    )


def test_four_concurrent_dataset_evaluations_each_get_their_own_result() -> None:
    model = load_model("digits_cnn")
    full = digits_set("test")
    sets = [_subset(full, part, EVALUATIONS) for part in range(EVALUATIONS)]
    alone = [evaluate(model, labelled, num_workers=0) for labelled in sets]  # the oracle
    with ThreadPoolExecutor(max_workers=EVALUATIONS) as pool:
        futures = [pool.submit(evaluate, model, labelled, num_workers=0) for labelled in sets]
        together = [future.result(timeout=600) for future in futures]
    for labelled, one, many in zip(sets, alone, together, strict=True):
        assert many.n == len(labelled) == one.n
        assert many.files == labelled.files and many.targets.tolist() == list(labelled.targets)
        assert torch.allclose(many.logits, one.logits, atol=1e-5), labelled.source
    accuracies = [float((r.logits.argmax(1) == r.targets).float().mean()) for r in together]
    assert all(a > 0.9 for a in accuracies), accuracies  # real digits, a trained model: each run is right
    assert len({tuple(r.files) for r in together}) == EVALUATIONS  # four different sets came back
