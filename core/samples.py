"""Real sample images that ship inside installed packages (scikit-image, matplotlib, scikit-learn).

They make the gallery, the tests and the benchmarks work offline on real photographs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """A sample image and what it shows.

    Attributes:
        name: short identifier, e.g. "coffee".
        path: where the file is.
        description: what is in the picture.
        package: which package ships it.
    """

    name: str
    path: Path
    description: str
    package: str


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


_CANDIDATES: tuple[tuple[str, str, str, str], ...] = (
    ("coffee", "skimage", "data/coffee.png", "a cup of espresso"),
    ("chelsea", "skimage", "data/chelsea.png", "Chelsea the cat"),
    ("camera", "skimage", "data/camera.png", "a photographer with a camera on a tripod (grayscale)"),
    ("rocket", "skimage", "data/rocket.jpg", "a rocket on its launch pad"),
    ("astronaut", "skimage", "data/astronaut.png", "astronaut Eileen Collins"),
    ("horse", "skimage", "data/horse.png", "a horse silhouette (binary)"),
    ("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "Grace Hopper in uniform"),
    ("china", "sklearn", "datasets/images/china.jpg", "a Chinese temple"),
    ("flower", "sklearn", "datasets/images/flower.jpg", "a flower"),
)


@cache
def sample_images() -> tuple[Sample, ...]:
    """The sample images present on this machine, in a fixed order."""
    found = []
    for name, package, relative, description in _CANDIDATES:
        root = _package_dir(package)
        if root is not None and (root / relative).is_file():
            found.append(Sample(name, root / relative, description, package))
    return tuple(found)


def sample_path(name: str) -> Path:
    """Path of the sample called `name` (KeyError if that package is not installed)."""
    for sample in sample_images():
        if sample.name == name:
            return sample.path
    raise KeyError(f"sample image {name!r} is not available")
