"""Which doubt tools a result can feed, and why not: as data, for the CLI's JSON and the page alike.

Conformal sets need a calibration half and a test half, so two images at least; the risk–coverage curve and its
area need two images to have an area; the out-of-distribution scores, their separation and the calibration views
work from one image (the outside set is checked where it is given). A reason is a `core.diagnose.availability`
`Unavailable`: `str()` is the English sentence, `message(lang)` the page's.
"""

from __future__ import annotations

from typing import Final

from core.diagnose.availability import Unavailable

TOOLS: Final = ("selective", "conformal", "ood", "depth")
MIN_CONFORMAL_IMAGES: Final = 2  # one to calibrate on, one to measure the coverage on
MIN_SELECTIVE_IMAGES: Final = 2  # AURC is an area over coverages 1/n..1


def conformal_unavailable(n: int) -> Unavailable | None:
    """Why no calibration and test halves can be made of `n` images, or None when they can."""
    if n < MIN_CONFORMAL_IMAGES:
        return Unavailable("unc.unavailable.conformal", {"need": MIN_CONFORMAL_IMAGES, "n": n})
    return None


def doubt_availability(n: int) -> dict[str, Unavailable | None]:
    """For each of `TOOLS`, None when it can run on a result of `n` images, else why not."""
    few = Unavailable("unc.unavailable.selective", {"need": MIN_SELECTIVE_IMAGES, "n": n})
    return {
        "selective": few if n < MIN_SELECTIVE_IMAGES else None,
        "conformal": conformal_unavailable(n),
        "ood": None,
        "depth": None,
    }
