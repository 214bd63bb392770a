"""Which debugging tools a result can feed, and why not: as data, the same for the CLI's JSON and the page.

cleanlab compares each class with the others, so it needs images of at least two classes (it raises "Labels must
contain at least 2 classes" otherwise); a map, look-alikes and near-duplicates need features and two images; t-SNE
needs five. Everything that works on one class (accuracy, mistakes, per-image scores, the per-class table, a
second model) is always available. A reason is an `Unavailable`: `str()` is the English sentence, `message(lang)`
the page's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.i18n import t
from core.labels import label_of

if TYPE_CHECKING:  # only its attributes are read: this module stays a leaf that label_issues can import
    from core.evaluate.result import EvalResult

# the tools, by the core function each one calls
TOOLS = (
    "label_issues",
    "per_image",
    "per_class",
    "pca_map",
    "tsne_map",
    "lookalikes",
    "near_duplicates",
    "slices",
    "compare",
)
TSNE_MIN_IMAGES = 5  # core.diagnose.embedding.tsne_map's own floor


@dataclass(frozen=True)
class Unavailable:
    """Why a tool cannot run: an i18n key and its values."""

    key: str
    params: dict[str, object] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        """The sentence in `lang`."""
        return t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message("en")


def label_issues_unavailable(
    targets: np.ndarray, num_classes: int, labels: Sequence[str] | None = None
) -> Unavailable | None:
    """Why cleanlab cannot look for label issues among these given labels, or None when it can."""
    y = np.asarray(targets).reshape(-1)
    if len(y) < 2:
        return Unavailable("diag.unavailable.few_images", {"need": 2, "n": len(y)})
    if num_classes < 2:
        return Unavailable("diag.unavailable.model_classes", {"n": num_classes})
    present = np.unique(y)
    if len(present) < 2:
        only = int(present[0])
        name = label_of(labels, only) if labels is not None else f"class {only}"
        return Unavailable("diag.unavailable.one_class", {"n": len(y), "label": name})
    return None


def availability(result: EvalResult, labels: Sequence[str] | None = None) -> dict[str, Unavailable | None]:
    """For each of `TOOLS`, None when it can run on `result`, else why not (`labels` name the one class)."""
    n = result.n
    few = Unavailable("diag.unavailable.few_images", {"need": 2, "n": n}) if n < 2 else None
    no_features = Unavailable("diag.unavailable.no_features") if result.features is None else None
    tsne_few = Unavailable("diag.unavailable.few_images", {"need": TSNE_MIN_IMAGES, "n": n})
    return {
        "label_issues": label_issues_unavailable(result.targets.numpy(), result.num_classes, labels),
        "per_image": None,
        "per_class": None,
        "pca_map": no_features or few,
        "tsne_map": no_features or (tsne_few if n < TSNE_MIN_IMAGES else None),
        "lookalikes": no_features or few,
        "near_duplicates": no_features or few,
        "slices": few,
        "compare": None,
    }
