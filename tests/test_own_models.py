"""A user's own model, in the format it lives in, against its library as the oracle.

transformers folders (a 2-layer ViT, a tiny ConvNeXt) and timm hub folders (a resnet18 with 7 classes), as folders
and as zips: our input tensor equals the library's own preprocessing exactly, and our logits on real photos equal
the library's own inference path (processor -> model(...).logits; create_transform(resolve_data_config) -> model) to
1e-5, through `core.analysis.analyse` (the one image path of the UI and the CLI). An ONNX file exported from a
torchvision model gives that model's logits within the backend rule (`compare_logits`) and says it has no torch
oracle; a torchvision checkpoint with --arch gives the torch model's logits. Downstream: features (the head's
input), Grad-CAM (or a clear "not available"), the ONNX Runtime export verified against torch, a spec that pickles
as its path.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save as save_safetensors

from core.analysis import analyse, normalisation_logits
from core.attribution import AttributionError, grad_cam
from core.backends.choose import with_backend
from core.backends.verify import compare_logits
from core.features import forward_with_features, head_module
from core.images import read_image_file
from core.inference import predict
from core.models.labels import spec_labels
from core.models.reference import describe_model, model_from_upload, resolve_model
from core.models.registry import load_model
from tests import own_models

PHOTOS = ("coffee", "chelsea", "camera", "astronaut")
ATOL = 1e-5


@pytest.fixture(scope="module")
def photos(sample) -> list[Image.Image]:
    return [read_image_file(sample(name)).image for name in PHOTOS]


@pytest.fixture(scope="module")
def photo_bytes(sample) -> list[tuple[str, bytes]]:
    return [(f"{name}.png", Path(sample(name)).read_bytes()) for name in PHOTOS]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, own_models.Oracle]:
    """Each library's tiny model in its own folder, plus a zip of each folder."""
    root = tmp_path_factory.mktemp("own")
    oracles = {
        "vit": own_models.transformers_vit(root / "tiny-vit"),
        "convnext": own_models.transformers_convnext(root / "tiny-convnext"),
        "timm": own_models.timm_resnet(root / "tiny-timm"),
    }
    for name, oracle in list(oracles.items()):
        zipped = own_models.zip_folder(oracle.path, root / f"{oracle.path.name}.zip")
        oracles[f"{name}-zip"] = own_models.Oracle(zipped, oracle.model, oracle.inputs, oracle.names)
    return oracles


LIBRARY_MODELS = ("vit", "convnext", "timm", "vit-zip", "convnext-zip", "timm-zip")


@pytest.mark.parametrize("kind", LIBRARY_MODELS)
def test_our_input_and_logits_are_the_librarys_own(kind, made, photos, photo_bytes) -> None:
    oracle = made[kind]
    spec = resolve_model(str(oracle.path))
    assert spec.source == ("timm" if kind.startswith("timm") else "transformers")
    assert spec_labels(spec) == list(oracle.names)  # the model's own names, from id2label / label_names
    model = load_model(spec)
    expected_inputs = oracle.inputs(photos)
    expected = oracle.logits(photos)
    for i, (name, data) in enumerate(photo_bytes):
        result = analyse(model, name, data)  # decode, the spec's preprocessing, one forward pass
        assert result.ok, result.error
        assert result.input is not None and result.logits is not None
        assert result.input.shape == expected_inputs[i].shape
        assert torch.equal(result.input, expected_inputs[i])  # exactly the library's tensor
        torch.testing.assert_close(result.logits, expected[i], rtol=0, atol=ATOL)
    assert predict(model, photos).argmax(1).tolist() == expected.argmax(1).tolist()


def test_an_uploaded_zip_is_the_same_model_as_the_folder(made, photos) -> None:
    oracle = made["timm"]
    data = made["timm-zip"].path.read_bytes()
    spec = model_from_upload("tiny-timm.zip", data)
    torch.testing.assert_close(predict(load_model(spec), photos), oracle.logits(photos), rtol=0, atol=ATOL)
    assert spec.title.startswith("tiny-timm ")  # named after the upload, not the temporary folder
    again = pickle.loads(pickle.dumps(spec))  # the Evaluation page's Ray run: the bytes travel, each actor unpacks
    assert again.name == spec.name
    torch.testing.assert_close(predict(load_model(again), photos), oracle.logits(photos), rtol=0, atol=ATOL)


def test_what_was_found_is_described(made) -> None:
    vit = describe_model(resolve_model(str(made["vit"].path)))
    assert vit["kind"] == "transformers" and vit["architecture"] == "ViTForImageClassification"
    assert (vit["classes"], vit["input_size"], vit["normalisation"]) == (3, 32, "scale to [-1, 1]")
    assert vit["labels_source"] == "id2label in config.json (transformers)"
    assert vit["preprocessing"].startswith("transformers ViTImageProcessor: Resize 32 x 32 (bilinear)")
    convnext = describe_model(resolve_model(str(made["convnext"].path)))
    # the processor's own rule: shortest edge 64 / crop_pct 0.875 = 73, then the centre 64, bicubic
    assert "Resize 73 (bicubic) → CenterCrop 64" in str(convnext["preprocessing"])
    timm = describe_model(resolve_model(str(made["timm"].path)))
    assert (timm["kind"], timm["architecture"], timm["classes"], timm["input_size"]) == ("timm", "resnet18", 7, 224)
    assert "crop_pct 0.95" in str(timm["preprocessing"]) and "Resize 235 (bicubic)" in str(timm["preprocessing"])
    assert timm["labels_source"] == "label_names in config.json (timm)"


def test_a_path_spec_pickles_as_its_path_and_rebuilds(made, photos) -> None:
    spec = resolve_model(str(made["vit-zip"].path))
    again = pickle.loads(pickle.dumps(spec))  # what a Ray actor receives
    assert again.name == spec.name and again.preprocessing.describe() == spec.preprocessing.describe()
    torch.testing.assert_close(predict(load_model(again), photos), made["vit"].logits(photos), rtol=0, atol=ATOL)


# ---------------------------------------------------------------- downstream: features, Grad-CAM, checks
def _head_input(module: torch.nn.Module, head: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """The oracle of the features: the head's input recorded by a plain forward hook on the library's model."""
    caught: list[torch.Tensor] = []
    handle = head.register_forward_pre_hook(lambda _m, args: caught.append(args[0]))
    with torch.inference_mode():
        module(batch)
    handle.remove()
    x = caught[0]
    return (x.mean(dim=tuple(range(2, x.ndim))) if x.ndim > 2 else x).flatten(1)


@pytest.mark.parametrize("kind", ["vit", "convnext", "timm"])
def test_features_are_the_heads_input(kind, made, photos) -> None:
    oracle = made[kind]
    model = load_model(resolve_model(str(oracle.path)))
    batch = oracle.inputs(photos)
    logits, features = forward_with_features(model, batch)
    library_head = oracle.model.get_classifier() if kind == "timm" else oracle.model.classifier
    expected = _head_input(oracle.model, library_head, batch)
    torch.testing.assert_close(features.float(), expected, rtol=0, atol=2e-3)  # stored as float16
    torch.testing.assert_close(logits, oracle.logits(photos), rtol=0, atol=ATOL)
    assert head_module(model) is not None


def test_gradcam_on_conv_models_and_a_clear_no_for_a_vit(made, photos) -> None:
    for kind in ("timm", "convnext"):
        model = load_model(resolve_model(str(made[kind].path)))
        heat = grad_cam(model, model.spec.preprocessing(photos[0]), 0)
        crop = model.spec.preprocessing.crop
        assert heat.shape == (crop, crop) and float(heat.min()) >= 0 and float(heat.max()) <= 1
    vit = load_model(resolve_model(str(made["vit"].path)))
    with pytest.raises(AttributionError, match="not available for this architecture"):
        grad_cam(vit, vit.spec.preprocessing(photos[0]), 0)


def test_the_preprocessing_check_renormalises_the_librarys_input(made, photos) -> None:
    """The "wrong Normalize" variants of a processor-based model: the library's tensor, its normalisation swapped."""
    oracle = made["vit"]
    model = load_model(resolve_model(str(oracle.path)))
    variants = normalisation_logits(model, photos[0])
    torch.testing.assert_close(variants["own"], oracle.logits(photos[:1])[0], rtol=0, atol=ATOL)
    pixels = oracle.inputs(photos[:1]) * 0.5 + 0.5  # the processor's [-1, 1] back to [0, 1]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.inference_mode():
        imagenet = oracle.model(pixel_values=(pixels - mean) / std).logits[0]
        none = oracle.model(pixel_values=pixels).logits[0]
    torch.testing.assert_close(variants["imagenet"], imagenet, rtol=0, atol=1e-4)
    torch.testing.assert_close(variants["none"], none, rtol=0, atol=1e-4)


@pytest.mark.parametrize("kind", ["vit", "timm"])
def test_onnxruntime_export_is_verified_against_torch(kind, made, photos, tmp_path) -> None:
    model = with_backend(load_model(resolve_model(str(made[kind].path))), "onnxruntime", folder=tmp_path)
    assert model.backend is not None and model.backend.info.name == "onnxruntime", model.backend.info.reason
    logits = predict(model, photos)
    assert compare_logits(made[kind].logits(photos), logits).ok


# ---------------------------------------------------------------- ONNX files and torchvision checkpoints
@pytest.fixture(scope="module")
def torch_model() -> torch.nn.Module:
    return own_models.torchvision_resnet(classes=5)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_an_onnx_file_gives_the_torch_models_logits(layout, torch_model, photos, tmp_path) -> None:
    path = own_models.onnx_file(tmp_path / f"r18-{layout}.onnx", torch_model, size=128, layout=layout)
    spec = resolve_model(str(path))
    assert (spec.source, spec.runtime, spec.num_classes, spec.preprocessing.crop) == ("onnx", "onnxruntime", 5, 128)
    assert dict(spec.details)["input"] == (
        "'pixels' NCHW float32, batch x 3 x 128 x 128"
        if layout == "NCHW"
        else "'pixels' NHWC float32, batch x 128 x 128 x 3"
    )
    model = with_backend(load_model(spec), "auto")
    assert model.backend is not None and model.backend.info.describe().startswith("onnxruntime · an ONNX file")
    batch = torch.stack([spec.preprocessing(p) for p in photos])
    with torch.inference_mode():
        expected = torch_model(batch)
    assert compare_logits(expected, predict(model, photos)).ok  # the backend rule
    _logits, features = forward_with_features(model, batch)  # the graph's own head input
    expected_features = _head_input(torch_model, torch_model.fc, batch)
    torch.testing.assert_close(features.float(), expected_features, rtol=0, atol=2e-3)
    with pytest.raises(AttributionError, match="not available for an ONNX file"):
        grad_cam(model, batch[0], 0)


@pytest.mark.parametrize(
    "normalize, mean", [(None, 0.485), ("minus-one-one", 0.5), ("zero-one", 0.0), ("0.1/0.2", 0.1)]
)
def test_an_onnx_files_normalisation_is_the_chosen_preset(normalize, mean, torch_model, tmp_path) -> None:
    path = own_models.onnx_file(tmp_path / "r18.onnx", torch_model, size=64)
    spec = resolve_model(str(path), normalize=normalize)
    assert spec.preprocessing.mean[0] == pytest.approx(mean)
    note = describe_model(spec)["notes"]
    assert note and "carries no preprocessing" in note[0]


def test_a_torchvision_checkpoint_with_its_architecture(torch_model, photos, tmp_path) -> None:
    path = tmp_path / "mine.safetensors"
    path.write_bytes(save_safetensors({k: v.contiguous() for k, v in torch_model.state_dict().items()}))
    spec = resolve_model(str(path), arch="resnet18")
    assert (spec.source, spec.architecture, spec.num_classes) == ("checkpoint", "resnet18", 5)
    batch = torch.stack([spec.preprocessing(p) for p in photos])
    with torch.inference_mode():
        expected = torch_model(batch)
    torch.testing.assert_close(predict(load_model(spec), photos), expected, rtol=0, atol=ATOL)


def test_a_timm_architecture_with_a_bare_weights_file(made, photos, tmp_path) -> None:
    oracle = made["timm"]
    path = tmp_path / "weights.safetensors"
    path.write_bytes(save_safetensors({k: v.contiguous() for k, v in oracle.model.state_dict().items()}))
    spec = resolve_model(str(path), arch="timm:resnet18")
    assert (spec.architecture, spec.num_classes, spec.head) == ("resnet18", 7, "fc")
    # its pipeline is timm's for the architecture's default config: the same as the folder's
    torch.testing.assert_close(predict(load_model(spec), photos), oracle.logits(photos), rtol=0, atol=ATOL)


def test_a_transformers_model_without_names_gets_the_librarys_defaults(tmp_path, photos) -> None:
    """transformers omits id2label from config.json when it holds its defaults: the library's reading is the truth."""
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(1)
    config = ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, image_size=32)
    model = ViTForImageClassification(config).eval()
    model.save_pretrained(tmp_path / "plain")
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path / "plain")
    spec = resolve_model(str(tmp_path / "plain"))
    assert spec_labels(spec) == ["LABEL_0", "LABEL_1"]  # transformers' own default: 2 labels
    assert spec.labels_source == "none in the model's files (transformers' default LABEL_i names)"
    processor = ViTImageProcessor.from_pretrained(tmp_path / "plain")
    with torch.inference_mode():
        expected = model(**processor(images=photos, return_tensors="pt")).logits
    torch.testing.assert_close(predict(load_model(spec), photos), expected, rtol=0, atol=ATOL)


def test_files_changed_in_place_are_read_again(tmp_path, photos) -> None:
    first = own_models.transformers_vit(tmp_path / "vit", seed=0)
    before = resolve_model(str(first.path))
    second = own_models.transformers_vit(tmp_path / "other", seed=1)
    (first.path / "model.safetensors").write_bytes((second.path / "model.safetensors").read_bytes())
    after = resolve_model(str(first.path))  # same folder, same size: its files' times changed
    assert after.name != before.name
    torch.testing.assert_close(predict(load_model(after), photos), second.logits(photos), rtol=0, atol=ATOL)


def test_an_onnx_file_in_a_zip_or_a_folder_takes_its_normalisation(torch_model, tmp_path) -> None:
    folder = tmp_path / "exported"
    folder.mkdir()
    own_models.onnx_file(folder / "model.onnx", torch_model, size=64)
    zipped = own_models.zip_folder(folder, tmp_path / "exported.zip")
    for path in (folder, zipped):
        spec = resolve_model(str(path), normalize="zero-one")
        assert (spec.source, spec.preprocessing.mean, spec.num_classes) == ("onnx", (0.0, 0.0, 0.0), 5)
