"""Your own model, per format, next to the built-in EfficientNet-Lite0 in one run: load time, preprocessing and
forward time.

Random-initialised models of real sizes are written by their own libraries into a temporary folder (not timed):
a transformers ViT-S/16 (22M parameters) as a folder and a zip, a timm resnet50 (26M) as a folder and a zip, a
torchvision resnet50 exported to ONNX, and the same resnet50 as a safetensors checkpoint with --arch. Then, per
format: the load (`resolve_model` + `load_model`: reading the files, unpacking a zip, building, loading the
weights; median of --loads), the preprocessing of one photo (the library's own pipeline for transformers and timm,
ours for the others) and the forward pass of a batch on the model's backend (torch, or ONNX Runtime for the ONNX
file), per image. The first import of transformers and timm is printed on its own (a registry model never pays it).

    python benchmarks/bench_models.py [--batch 8] [--repeats 5] [--loads 3]

Figures on a shared 2-core machine are noisy: compare the rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOGITSCOPE_OFFLINE", "1")

from core.backends.choose import backend_info, with_backend
from core.images import read_image_file
from core.inference import forward
from core.models import reference
from core.models.files import offline_library
from core.models.registry import load_model
from core.models.spec import LoadedModel
from core.samples import sample_path


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _make(root: Path) -> dict[str, tuple[str, str | None]]:
    """The models' files: format -> (the --model PATH, the --arch)."""
    import timm
    import torchvision
    from safetensors.torch import save_file
    from timm.models._hub import save_for_hf
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    from tests.own_models import zip_folder

    torch.manual_seed(0)
    vit = root / "vit-small"
    config = ViTConfig(
        hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536, num_labels=1000
    )
    ViTForImageClassification(config).eval().save_pretrained(vit)
    ViTImageProcessor(size={"height": 224, "width": 224}).save_pretrained(vit)
    timm_folder = root / "timm-resnet50"
    save_for_hf(timm.create_model("resnet50", pretrained=False).eval(), timm_folder, safe_serialization=True)
    resnet = torchvision.models.resnet50().eval()
    onnx_path = root / "resnet50.onnx"
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            resnet,
            (torch.zeros(1, 3, 224, 224),),
            buffer,
            dynamo=False,
            opset_version=17,
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            input_names=["input"],
            output_names=["logits"],
        )
    onnx_path.write_bytes(buffer.getvalue())
    weights = root / "resnet50.safetensors"
    save_file({k: v.contiguous() for k, v in resnet.state_dict().items()}, weights)
    return {
        "transformers folder (ViT-S/16)": (str(vit), None),
        "transformers zip (ViT-S/16)": (str(zip_folder(vit, root / "vit-small.zip")), None),
        "timm folder (resnet50)": (str(timm_folder), None),
        "timm zip (resnet50)": (str(zip_folder(timm_folder, root / "timm-resnet50.zip")), None),
        "ONNX file (resnet50)": (str(onnx_path), None),
        "checkpoint + --arch (resnet50)": (str(weights), "resnet50"),
    }


def _size_mb(path: str) -> float:
    p = Path(path)
    files = [f for f in p.iterdir() if f.is_file()] if p.is_dir() else [p]
    return sum(f.stat().st_size for f in files) / 2**20


def _load(path: str | None, arch: str | None) -> LoadedModel:
    if path is None:
        return load_model("efficientnet_lite0")
    reference._path_spec.cache_clear()  # a real load each time: the files read again
    return load_model(reference.resolve_model(path, arch=arch))


def _row(name: str, path: str | None, arch: str | None, args: argparse.Namespace, photo: object) -> None:
    loads = [_seconds(lambda: _load(path, arch)) for _ in range(args.loads)]
    model = with_backend(_load(path, arch), "torch")
    pre = model.spec.preprocessing
    pre(photo)  # type: ignore[arg-type]  # warm-up: the first call builds the transform's own caches
    prep = [_seconds(lambda: pre(photo)) for _ in range(args.repeats)]  # type: ignore[arg-type]
    batch = torch.stack([pre(photo)] * args.batch)  # type: ignore[arg-type]
    with torch.inference_mode():
        forward(model, batch)  # warm-up: kernels, buffers
        passes = [_seconds(lambda: forward(model, batch)) for _ in range(args.repeats)]
    size = "-" if path is None else f"{_size_mb(path):7.1f}"
    print(
        f"{name:<32} {size:>8} {statistics.median(loads):8.2f} {1000 * statistics.median(prep):10.1f} "
        f"{1000 * statistics.median(passes) / args.batch:12.1f}   {backend_info(model).name}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=8, help="images per forward pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed preprocessing and forward passes")
    parser.add_argument("--loads", type=int, default=3, help="timed loads per format")
    args = parser.parse_args()
    torch.manual_seed(0)
    photo = read_image_file(sample_path("coffee")).image
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, photo 600 x 400")
    for library in ("transformers", "timm"):
        print(f"first import of {library}: {_seconds(lambda lib=library: offline_library(lib)):.2f} s (once a process)")
    with tempfile.TemporaryDirectory(prefix="bench-models-") as folder:
        made = _make(Path(folder))
        print()
        print(f"{'format':<32} {'files MB':>8} {'load s':>8} {'prep ms/img':>10} {'forward ms/img':>12}   backend")
        _row("built-in efficientnet_lite0", None, None, args, photo)
        for name, (path, arch) in made.items():
            _row(name, path, arch, args, photo)


if __name__ == "__main__":
    main()
