"""The Logits Lab's examples and the Image Inspector's handoff, as `LabTable`s."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Final

import numpy as np
import torch

from core.config import SETTINGS
from core.i18n import t
from core.lab.logit_table import LabInputError, LabTable, make_table
from core.labels import index_labels
from core.numerics import order

PRESETS: Final[tuple[str, ...]] = (
    "news", "pets", "four", "ten", "near_tie", "overflow", "uniform", "random", "inspector",
)  # fmt: skip


_PRESET_LOGITS: Final[dict[str, tuple[float, ...]]] = {
    "news": (2.0, 1.0, 0.1),
    "pets": (2.0, 1.0, 0.5),
    "four": (2.0, 1.0, 0.1, 0.5),
    "ten": (2.1, -1.3, 5.8, 0.9, -3.2, 4.7, 1.0, -0.5, 6.2, -2.1),
    "near_tie": (12.1, 11.9, 11.8),
    "overflow": (1000.0, 1001.0, 1002.0),
    "uniform": (0.0, 0.0, 0.0, 0.0, 0.0),
}


TEN_LABELS: Final = ("猫", "狗", "笔记本电脑", "椅子", "天空", "办公室工作场景", "咖啡杯", "窗台", "白领女性", "楼梯")


RANDOM_CLASSES: Final = 8


def preset_table(name: str, *, lang: str = "en", seed: int = 0) -> LabTable:
    """The example called `name` (see `PRESETS`; "inspector" comes from `table_from_inspector`).

    Labels are in `lang`, except the ten-class example whose labels are Chinese by design.
    "random" draws 8 logits from N(0, 2.5²) with `seed`, rounded to 2 decimals so links stay short.
    """
    source = t(f"lab.preset.{name}", lang)
    if name == "random":
        generator = torch.Generator().manual_seed(int(seed))
        logits = (torch.randn(RANDOM_CLASSES, generator=generator, dtype=torch.float64) * 2.5).round(decimals=2)
        labels = [t("lab.class_n", lang, i=i) for i in range(RANDOM_CLASSES)]
        return make_table(logits.tolist(), labels, source=f"{source} · seed {seed}")
    if name not in _PRESET_LOGITS:
        raise LabInputError("lab.err.preset", name=name)
    logits_list = _PRESET_LOGITS[name]
    if name == "ten":
        labels = list(TEN_LABELS)
    elif name in {"overflow", "uniform"}:
        labels = [t("lab.class_n", lang, i=i) for i in range(len(logits_list))]
    else:
        labels = [part.strip() for part in t(f"lab.preset.{name}.labels", lang).split(",")]
    return make_table(logits_list, labels, source=source)


def table_from_inspector(payload: object, *, editable: int = 10, max_count: int = SETTINGS.max_logits) -> LabTable:
    """The Image Inspector's logits: the `editable` highest become rows, the rest stay as a fixed tail.

    `payload` is {"labels": list[str], "logits": list[float], "source": str}; the tail keeps float32
    values (what the model produced), so a shared link restores them exactly.

    Raises:
        LabInputError: nothing handed over, or a payload of the wrong shape.
    """
    if payload is None:
        raise LabInputError("lab.err.no_handoff")
    if not isinstance(payload, Mapping) or "logits" not in payload:
        raise LabInputError("lab.err.bad_handoff", detail="expected a dict with 'labels' and 'logits'")
    try:
        z = np.asarray(payload["logits"], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise LabInputError("lab.err.bad_handoff", detail=str(exc)[:120]) from None
    raw_labels = payload.get("labels")
    labels = [str(x) for x in raw_labels] if isinstance(raw_labels, (list, tuple)) else []
    if len(labels) != z.size:
        labels = index_labels(z.size)
    if z.size > max_count:
        raise LabInputError("lab.err.too_many", count=int(z.size), limit=max_count)
    if not np.isfinite(z).all():
        raise LabInputError("lab.err.bad_handoff", detail="the logits contain NaN or inf")
    ranked = order(torch.from_numpy(z)).numpy()  # the one stable ranking: ties by index
    head, tail = ranked[: max(1, editable)], ranked[max(1, editable) :]
    source = str(payload.get("source", "")) or "Image Inspector"
    return make_table(
        z[head].tolist(),
        [labels[i] for i in head],
        rest_logits=z[tail].astype(np.float32).astype(np.float64).tolist(),
        rest_labels=[labels[i] for i in tail],
        source=source,
        max_count=max_count,
    )


def handoff_fingerprint(payload: object) -> str:
    """A short digest of a handoff payload, to notice when the Inspector hands over a new image."""
    try:
        text = json.dumps(payload, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(payload)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
