"""Train the bundled `digits_cnn` on scikit-learn's digits and save its weights (safetensors).

Run `python -m core.train_digits [--out PATH] [--epochs N] [--seed S]`. Deterministic for a given seed
(single CPU thread); takes a few seconds. The inputs are exactly what `digits.PREPROCESSING` makes of
the PIL images, the same path the registry uses at inference.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from core.digits import WEIGHTS_PATH, DigitsCNN, digits_images, to_batch

DEFAULT_EPOCHS = 30
DEFAULT_SEED = 0
BATCH_SIZE = 64
LEARNING_RATE = 3e-3


def accuracy(model: nn.Module, inputs: Tensor, labels: Tensor) -> float:
    """Fraction of `inputs` whose arg-max logit equals the label."""
    model.eval()
    with torch.inference_mode():
        predicted = model(inputs).argmax(dim=1)
    return float((predicted == labels).float().mean())


def train_epoch(
    model: nn.Module, optimiser: torch.optim.Optimizer, inputs: Tensor, labels: Tensor, *, generator: torch.Generator
) -> float:
    """One pass over the shuffled training set; returns the mean cross-entropy."""
    model.train()
    order = torch.randperm(len(labels), generator=generator)
    total = 0.0
    for start in range(0, len(order), BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        loss = nn.functional.cross_entropy(model(inputs[batch]), labels[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        total += loss.item() * len(batch)  # weight by batch size: the last batch is smaller
    return total / len(order)


def train(*, epochs: int = DEFAULT_EPOCHS, seed: int = DEFAULT_SEED, out: Path = WEIGHTS_PATH) -> float:
    """Train DigitsCNN on the "train" split, save its weights to `out`, return held-out accuracy.

    Args:
        epochs: passes over the 1257 training images.
        seed: seeds the weight initialisation and the shuffling.
        out: the safetensors file to write (its folder is created).
    """
    torch.manual_seed(seed)  # weight init
    generator = torch.Generator().manual_seed(seed)  # shuffling, independent of anything else drawing numbers
    train_images, train_labels = digits_images("train")
    test_images, test_labels = digits_images("test")
    x_train, y_train = to_batch(train_images), torch.tensor(train_labels)
    x_test, y_test = to_batch(test_images), torch.tensor(test_labels)

    model = DigitsCNN()
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    for epoch in range(1, epochs + 1):
        loss = train_epoch(model, optimiser, x_train, y_train, generator=generator)
        print(f"epoch {epoch:3d}/{epochs}  loss {loss:.4f}")

    held_out = accuracy(model, x_test, y_test)
    print(f"held-out accuracy {held_out:.4f} ({len(test_labels)} test images)")
    out.parent.mkdir(parents=True, exist_ok=True)
    # contiguous copies: safetensors refuses views that share storage
    save_file({name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}, str(out))
    return held_out


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Train the bundled digits_cnn model.")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="safetensors file to write")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    torch.set_num_threads(1)  # bit-for-bit repeatable runs; the model is too small to gain from threads
    started = time.perf_counter()
    train(epochs=args.epochs, seed=args.seed, out=args.out)
    print(f"saved {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
