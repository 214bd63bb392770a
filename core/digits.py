"""The bundled `digits_cnn` model: scikit-learn's 8x8 digits as real images, a small CNN, and its weights.

Everything the registry needs for the model lives here: its preprocessing, its architecture, where its
weights are, and the labelled images it was trained and tested on (no network needed). The weights are
made by `python -m core.train_digits`, which trains on exactly what `PREPROCESSING` yields from
`digits_images("train")`, so inference through the registry sees the same input as training did.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file
from torch import Tensor, nn

from core.preprocess import Preprocessing

NUM_CLASSES = 10
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "digits_cnn.safetensors"

# pixel mean/std of the train split after scaling to [0, 1] (0.306, 0.376), rounded
PREPROCESSING = Preprocessing(
    resize=8,
    crop=8,
    mean=(0.31,),
    std=(0.38,),
    interpolation="bilinear",  # with antialias (Preprocessing always sets it) larger photos shrink smoothly
    grayscale=True,
)

SPLITS = ("train", "test")
TEST_FRACTION = 0.3
SPLIT_SEED = 0
# sklearn's digits count ink in 4x4 blocks: 0 (background) .. 16 (full)
_SKLEARN_MAX = 16.0


class DigitsCNN(nn.Module):
    """Two 3x3 conv layers (16, 32 channels) and a linear head: 1x8x8 image -> 10 logits (~10k parameters)."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8 -> 4x4: a little shift tolerance, a 4x smaller head
        )
        self.head = nn.Linear(32 * 4 * 4, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, num_classes) for a batch (N, 1, 8, 8) of normalised images."""
        out: Tensor = self.head(self.features(x).flatten(1))
        return out


def build_digits_cnn() -> nn.Module:
    """DigitsCNN with the shipped weights from `WEIGHTS_PATH`, in eval mode, on CPU."""
    model = DigitsCNN()
    model.load_state_dict(load_file(WEIGHTS_PATH, device="cpu"), strict=True)
    return model.eval()


def _to_image(block_counts: np.ndarray) -> Image.Image:
    # 0..16 -> 0..255, rounded; light ink on a dark background, as in sklearn
    pixels = np.round(block_counts * (255.0 / _SKLEARN_MAX)).astype(np.uint8)
    return Image.fromarray(pixels, mode="L")


def split_indices(split: str) -> np.ndarray:
    """Indices into `load_digits()` of the "train" or "test" split (stratified, fixed seed)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    target = load_digits().target
    train, test = train_test_split(
        np.arange(len(target)), test_size=TEST_FRACTION, stratify=target, random_state=SPLIT_SEED
    )
    chosen: np.ndarray = train if split == "train" else test
    return chosen


def digits_images(split: str) -> tuple[list[Image.Image], list[int]]:
    """scikit-learn's digits as 8x8 8-bit grayscale PIL images with their labels.

    Args:
        split: "train" (1257 images) or "test" (540 held-out images); the same split on every call.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    indices = split_indices(split)
    images = [_to_image(data.images[i]) for i in indices]
    labels = [int(data.target[i]) for i in indices]
    return images, labels


def to_batch(images: Sequence[Image.Image], pre: Preprocessing = PREPROCESSING) -> Tensor:
    """Apply `pre` to each image and stack: a (N, C, crop, crop) float tensor."""
    transform = pre.transform()  # build once, not per image
    return torch.stack([transform(image) for image in images])


def write_digits_folder(root: Path, split: str = "test") -> Path:
    """Write a split as PNGs in ImageFolder layout `root/<digit>/<index>.png`; returns `root`.

    The index is the image's position in `digits_images(split)`, zero-padded so names sort in order.
    """
    images, labels = digits_images(split)
    for digit in range(NUM_CLASSES):
        # every class folder exists, so ImageFolder maps folder "k" to class index k
        (root / str(digit)).mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        image.save(root / str(label) / f"{index:04d}.png")
    return root
