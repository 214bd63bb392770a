"""Inference backends: torch eager (the oracle) and ONNX Runtime (fp32), verified against torch before use.

A model runs on ONNX Runtime only after its export has been checked on a probe batch (real sample images and
seeded random inputs): max |Δlogit| ≤ 1e-4 of the logits' scale and the same top-5 as torch. The exported
file and that verdict are cached on disk, keyed by the model's name, a hash of its weights and the
torch/onnxruntime versions, so each model is exported and verified once per machine. A failed export or
verification, or a missing onnxruntime, leaves the model on torch with the reason in `BackendInfo.reason`.

    model = with_backend(load_model("efficientnet_lite0"), "auto")
    model.backend.info.describe()  # "onnxruntime · max |Δlogit| 5e-06 vs torch"

Files are written atomically (a temporary file, then a rename), the .onnx named by its content's hash, so
several processes may export at once. A truncated, corrupt or stale cached file fails its recorded hash and
is exported again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch
from PIL import Image
from torch import Tensor, nn

from core.errors import InputError

if TYPE_CHECKING:
    from core.registry import LoadedModel

BACKENDS = ("auto", "torch", "onnxruntime")
DEFAULT_BACKEND = "auto"  # the CLI's and the UI's default; the library's load_model defaults to torch
CACHE_ENV = "LOGITSCOPE_CACHE_DIR"
THREADS_ENV = "LOGITSCOPE_ORT_THREADS"
RELATIVE_TOLERANCE = 1e-4  # of max(1, max |logit|): fp32 reorderings move logits by ~1e-6 of their scale
TOP_K = 5
PROBE_SAMPLES = 4  # real photos in the probe batch
PROBE_RANDOM = 3  # seeded random inputs beside them
PROBE_SEED = 0
OPSET = 17
FORMAT_VERSION = 1  # bump when the export or the verdict's meaning changes: older files become stale
_TRACER_HINT = "Converting a tensor to a Python"


@dataclass(frozen=True)
class BackendInfo:
    """Which backend runs a model, how far it is from torch, and why when it is not the one asked for.

    Attributes:
        name: what runs: "torch" or "onnxruntime".
        requested: what was asked for: "auto", "torch" or "onnxruntime".
        max_abs_dlogit: the verified max |logit difference| against torch on the probe batch (None on torch).
        reason: why torch runs although onnxruntime was asked for or possible ("" otherwise).
    """

    name: str
    requested: str = "torch"
    max_abs_dlogit: float | None = None
    reason: str = ""

    def describe(self) -> str:
        """One line for a person, e.g. "onnxruntime · max |Δlogit| 5e-06 vs torch" or "torch (eager)"."""
        if self.name == "onnxruntime" and self.max_abs_dlogit is not None:
            return f"onnxruntime · max |Δlogit| {self.max_abs_dlogit:.0e} vs torch"
        return "torch (eager)"


@dataclass(frozen=True)
class Verdict:
    """The outcome of exporting and verifying one model, stored as JSON beside its .onnx file.

    Attributes:
        key: the cache key it belongs to (model name, weights hash, versions).
        ok: whether the export may be used.
        max_abs_dlogit: largest |ONNX Runtime logit - torch logit| over the probe batch.
        scale: largest |torch logit| over the probe batch (the tolerance is relative to it).
        top5_equal: whether every probe input got the same top-5 classes.
        reason: why it failed ("" when ok).
        exporter: "legacy" (TorchScript tracing) or "dynamo" (torch.export).
        onnx_sha256: hash of the .onnx file's bytes ("" when there is none): a changed file is stale.
    """

    key: str
    ok: bool
    max_abs_dlogit: float = float("nan")
    scale: float = float("nan")
    top5_equal: bool = False
    reason: str = ""
    exporter: str = ""
    onnx_sha256: str = ""


class Backend(Protocol):
    """Runs a preprocessed batch through a model: float32 CPU logits (n, num_classes)."""

    info: BackendInfo

    def logits(self, batch: Tensor) -> Tensor: ...


class TorchBackend:
    """torch eager on the model's own device: the oracle every other backend is checked against."""

    def __init__(self, module: nn.Module, device: torch.device, info: BackendInfo) -> None:
        self.module = module
        self.device = device
        self.info = info

    def logits(self, batch: Tensor) -> Tensor:
        with torch.inference_mode():
            out = self.module(batch.to(self.device))
        if isinstance(out, tuple):  # e.g. GoogLeNet/Inception aux outputs in some modes
            out = out[0]
        return out.float().cpu()


class OnnxRuntimeBackend:
    """ONNX Runtime fp32 on the CPU (CPUExecutionProvider); `run` is thread-safe, so one session is shared."""

    def __init__(self, session: Any, info: BackendInfo) -> None:
        self.session = session
        self.input_name = str(session.get_inputs()[0].name)
        self.info = info

    def logits(self, batch: Tensor) -> Tensor:
        array = batch.detach().to("cpu", torch.float32).contiguous().numpy()
        out = self.session.run(None, {self.input_name: array})[0]
        return torch.from_numpy(out).float()


# ---------------------------------------------------------------- keys and files
def cache_dir() -> Path:
    """Where exported models live: $LOGITSCOPE_CACHE_DIR, else ~/.cache/logitscope/onnx."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "logitscope" / "onnx"


def weights_digest(module: nn.Module) -> str:
    """sha256 of a module's state dict: every name, dtype, shape and the raw bytes, in name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{value.dtype}|{tuple(value.shape)}|".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _ort_version() -> str:
    try:
        import onnxruntime
    except ImportError:
        return "none"
    return str(onnxruntime.__version__)


def cache_key(name: str, digest: str) -> str:
    """A file-name-safe key: model name, weights hash, torch and onnxruntime versions, format version."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model"
    return f"{safe}-{digest[:16]}-torch{torch.__version__}-ort{_ort_version()}-v{FORMAT_VERSION}"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is readable like any other
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_verdict(path: Path) -> Verdict | None:
    """The verdict stored at `path`, or None when it is missing or not a verdict file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        fields = {f.name for f in dataclasses.fields(Verdict)}
        return Verdict(**{k: v for k, v in raw.items() if k in fields})
    except (OSError, ValueError, TypeError):
        return None


def _store(path: Path, data: bytes) -> None:
    with contextlib.suppress(OSError):  # a read-only cache folder only costs a re-export next time
        _write_atomic(path, data)


# ---------------------------------------------------------------- export
def _input_shape(model: LoadedModel) -> tuple[int, int, int]:
    pre = model.spec.preprocessing
    return (1 if pre.grayscale else 3, pre.crop, pre.crop)


class _FirstOutput(nn.Module):
    """Exports only the logits of a model whose forward returns a tuple (aux heads)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        out = self.module(x)
        return out[0] if isinstance(out, tuple) else out


def export_onnx(module: nn.Module, example: Tensor) -> tuple[bytes, str]:
    """The ONNX bytes of `module` with a dynamic batch axis, and which exporter made them.

    The TorchScript tracer (legacy, fast) goes first; a trace that turned a tensor into a Python value (the
    graph would follow one branch of data-dependent control flow) is redone with torch.export (dynamo), which
    captures such code or refuses it. Raises RuntimeError with the reason when neither gives a usable graph.
    """
    wrapped = _FirstOutput(module).eval()
    names = {"input_names": ["input"], "output_names": ["logits"]}
    hint = ""
    try:
        buffer = io.BytesIO()
        with warnings.catch_warnings(record=True) as caught, torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("always")
            torch.onnx.export(
                wrapped,
                (example,),
                buffer,  # type: ignore[arg-type]  # a file-like object is accepted at run time
                dynamo=False,
                opset_version=OPSET,
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                **names,  # type: ignore[arg-type]
            )
        hints = [str(w.message) for w in caught if _TRACER_HINT in str(w.message)]
        if not hints:
            return buffer.getvalue(), "legacy"
        hint = hints[0].split(". ")[0]
    except Exception as exc:  # the tracer raises many types; each means "not exportable this way"
        hint = f"{type(exc).__name__}: {_first_line(exc)}"
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            torch.inference_mode(False),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                wrapped,
                (example,),
                dynamo=True,
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                verbose=False,
                **names,  # type: ignore[arg-type]
            )
            if program is None:
                raise RuntimeError("torch.onnx.export returned no program")
        return program.model_proto.SerializeToString(), "dynamo"
    except Exception as exc:  # torch.export raises many types for unsupported code
        raise RuntimeError(
            f"the export failed ({hint}; torch.export: {type(exc).__name__}: {_first_line(exc)}). "
            "Data-dependent Python control flow in forward() cannot be exported."
        ) from None


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return (text.splitlines() or [""])[0][:200]


def ort_threads() -> int:
    """ONNX Runtime intra-op threads: $LOGITSCOPE_ORT_THREADS, else the cores this process may use."""
    configured = os.environ.get(THREADS_ENV)
    if configured and configured.isdecimal() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def ort_session(data: bytes, *, threads: int | None = None) -> Any:
    """An fp32 CPUExecutionProvider session with its threads set deliberately (no spinning between runs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or ort_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # idle threads sleep instead of spinning: a decoding thread beside the model gets the cores back
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------- verification
def probe_batch(model: LoadedModel, *, samples: int = PROBE_SAMPLES, random: int = PROBE_RANDOM) -> Tensor:
    """Real sample photos through the model's preprocessing, then seeded standard-normal inputs."""
    from core.samples import sample_images

    pre = model.spec.preprocessing
    transform = pre.transform()
    inputs: list[Tensor] = []
    for sample in sample_images()[:samples]:
        with Image.open(sample.path) as image:
            inputs.append(transform(image.convert("RGB")))
    generator = torch.Generator().manual_seed(PROBE_SEED)
    inputs += list(torch.randn((random, *_input_shape(model)), generator=generator))
    return torch.stack(inputs)


def compare_logits(reference: Tensor, candidate: Tensor, *, key: str = "") -> Verdict:
    """Whether `candidate` logits may stand for `reference` (torch's): within tolerance, the same top-5.

    A top-5 difference counts only when the swapped classes' torch logits differ by more than the tolerance
    (two classes tied to 1e-6 may come out in either order from any two fp32 computations).
    """
    if candidate.shape != reference.shape:
        return Verdict(key, False, reason=f"output shape {tuple(candidate.shape)}, torch {tuple(reference.shape)}")
    ref, cand = reference.double(), candidate.double()
    if not bool(torch.isfinite(cand).all()):
        return Verdict(key, False, reason="onnxruntime returned NaN or infinite logits")
    delta = float((cand - ref).abs().max())
    scale = float(ref.abs().max())
    tolerance = RELATIVE_TOLERANCE * max(1.0, scale)
    k = min(TOP_K, ref.shape[1])
    ref_top, cand_top = ref.topk(k, dim=1).indices, cand.topk(k, dim=1).indices
    gap = (ref.gather(1, ref_top) - ref.gather(1, cand_top)).abs()
    top_equal = bool(((ref_top == cand_top) | (gap <= tolerance)).all())
    ok = delta <= tolerance and top_equal
    reason = ""
    if not ok:
        reason = (
            f"verification against torch failed: max |Δlogit| {delta:.2g} (tolerance {tolerance:.2g}), "
            f"top-{k} {'identical' if top_equal else 'different'}"
        )
    return Verdict(key, ok, delta, scale, top_equal, reason)


# ---------------------------------------------------------------- the cached, verified session
def prepare_onnx(model: LoadedModel, *, digest: str | None = None, folder: Path | None = None) -> tuple[Any, Verdict]:
    """A verified ONNX Runtime session for `model` (None when it may not be used) and its verdict.

    Reuses the cached export when its verdict matches this model's key and the file its recorded hash;
    otherwise exports, verifies against torch on `probe_batch` and stores both. Never raises for a
    model that cannot be exported: the verdict says why.
    """
    digest = digest or weights_digest(model.module)
    key = cache_key(model.spec.name, digest)
    root = folder or cache_dir()
    verdict_path = root / f"{key}.json"
    stored = read_verdict(verdict_path)
    if stored is not None and stored.key == key:
        if not stored.ok:
            return None, stored  # export or verification already failed for these weights and versions
        session = _cached_session(onnx_file(root, stored), stored)
        if session is not None:
            return session, stored
    return _export_and_verify(model, key, root, verdict_path)


def _cached_session(path: Path, verdict: Verdict) -> Any:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != verdict.onnx_sha256:
        return None  # truncated, corrupt or replaced: export again
    try:
        return ort_session(data)
    except Exception:  # onnxruntime raises its own types for an unreadable model
        return None


def onnx_file(folder: Path, verdict: Verdict) -> Path:
    """Where the export a verdict vouches for lives: named by its key and its content's hash, so two processes
    exporting at once each write a whole file of their own and the verdict always names one that matches."""
    return folder / f"{verdict.key}-{verdict.onnx_sha256[:16]}.onnx"


def _export_and_verify(model: LoadedModel, key: str, root: Path, verdict_path: Path) -> tuple[Any, Verdict]:
    probe = probe_batch(model)
    reference = _torch_logits(model, probe)
    try:
        data, exporter = export_onnx(model.module, probe[:2].to(model.device))
        session = ort_session(data)
        candidate = _ort_logits(session, probe)
    except Exception as exc:  # export_onnx explains itself; a session that will not load is a failure too
        message = str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {_first_line(exc)}"
        verdict = Verdict(key, False, reason=message)
        _store(verdict_path, _verdict_bytes(verdict))
        return None, verdict
    verdict = dataclasses.replace(compare_logits(reference, candidate, key=key), exporter=exporter)
    if verdict.ok:
        verdict = dataclasses.replace(verdict, onnx_sha256=hashlib.sha256(data).hexdigest())
        _store(onnx_file(root, verdict), data)  # the file first: a verdict never names a missing file
    _store(verdict_path, _verdict_bytes(verdict))
    return (session if verdict.ok else None), verdict


def _torch_logits(model: LoadedModel, batch: Tensor) -> Tensor:
    with torch.inference_mode():
        out = model.module(batch.to(model.device))
    return (out[0] if isinstance(out, tuple) else out).float().cpu()


def _ort_logits(session: Any, batch: Tensor) -> Tensor:
    # one image, then the rest: the dynamic batch axis is exercised with two sizes
    name = session.get_inputs()[0].name
    parts = [session.run(None, {name: part.numpy()})[0] for part in (batch[:1], batch[1:])]
    return torch.cat([torch.from_numpy(p) for p in parts])


def _verdict_bytes(verdict: Verdict) -> bytes:
    return json.dumps(dataclasses.asdict(verdict), indent=2).encode("utf-8")


# ---------------------------------------------------------------- choosing a backend
def check_backend(name: str) -> str:
    """`name` if it is one of BACKENDS, else InputError listing them."""
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return name


def with_backend(
    model: LoadedModel, backend: str = "auto", *, digest: str | None = None, folder: Path | None = None
) -> LoadedModel:
    """`model` with the backend that will run it attached (`model.backend`); `model.module` stays torch.

    Args:
        model: from `core.registry.load_model` or `core.checkpoint.load_checkpoint`.
        backend: "torch"; "onnxruntime" (falls back to torch with a reason when the export or its
            verification fails); or "auto": onnxruntime on a CPU model whose export is verified, torch on CUDA.
        digest: the weights' `weights_digest` when the caller already has it.
        folder: the export cache (default `cache_dir()`).
    """
    requested = check_backend(backend)
    chosen: Backend = TorchBackend(model.module, model.device, BackendInfo("torch", requested))
    if requested == "auto" and model.device.type == "cuda":
        pass  # the GPU is faster than any CPU runtime: torch it is
    elif requested != "torch":
        chosen = _onnx_or_torch(model, requested, digest=digest, folder=folder)
    return dataclasses.replace(model, backend=chosen)


def _onnx_or_torch(model: LoadedModel, requested: str, *, digest: str | None, folder: Path | None) -> Backend:
    def torch_because(reason: str) -> Backend:
        return TorchBackend(model.module, model.device, BackendInfo("torch", requested, reason=reason))

    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return torch_because("onnxruntime is not installed")
    session, verdict = prepare_onnx(model, digest=digest, folder=folder)
    if session is None:
        return torch_because(verdict.reason)
    return OnnxRuntimeBackend(session, BackendInfo("onnxruntime", requested, verdict.max_abs_dlogit))


def backend_info(model: LoadedModel) -> BackendInfo:
    """What runs `model`: its attached backend's info, or plain torch when none is attached."""
    attached = getattr(model, "backend", None)
    return attached.info if attached is not None else BackendInfo("torch")


def run_logits(model: LoadedModel, batch: Tensor) -> Tensor:
    """Float32 CPU logits of a preprocessed batch on the model's backend (torch when none is attached)."""
    attached = getattr(model, "backend", None)
    if attached is not None:
        return attached.logits(batch)
    return _torch_logits(model, batch)
