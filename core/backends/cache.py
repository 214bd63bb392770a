"""The export cache: each model exported and verified once per machine, the verdict stored with the file.

Keys hold the model's name, a hash of its weights and the torch/onnxruntime versions. Files are written
atomically (a temporary file, then a rename), the .onnx named by its content's hash, so several processes
may export at once. A truncated, corrupt or stale cached file fails its recorded hash and is exported again.

An export "with features" has a second output, the input of the classifier head (`core.features`), so a
labelled set's embedding map comes from ONNX Runtime too; it is cached and verified on its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from core.backends.export import export_onnx
from core.backends.verify import Verdict, compare_logits, feature_deviation, probe_batch
from core.errors import first_line
from core.features import WithFeatures, head_module
from core.models.spec import LoadedModel
from core.ort import ort_session

CACHE_ENV = "LOGITSCOPE_CACHE_DIR"
FORMAT_VERSION = 1  # bump when the export or the verdict's meaning changes: older files become stale
FEATURES_SUFFIX = "-features"


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


def cache_key(name: str, digest: str, *, features: bool = False) -> str:
    """A file-name-safe key: model name, weights hash, torch and onnxruntime versions, format version
    (and "-features" for the export that also outputs the head's input)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model"
    key = f"{safe}-{digest[:16]}-torch{torch.__version__}-ort{_ort_version()}-v{FORMAT_VERSION}"
    return key + (FEATURES_SUFFIX if features else "")


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


def onnx_file(folder: Path, verdict: Verdict) -> Path:
    """Where the export a verdict vouches for lives: named by its key and its content's hash, so two processes
    exporting at once each write a whole file of their own and the verdict always names one that matches."""
    return folder / f"{verdict.key}-{verdict.onnx_sha256[:16]}.onnx"


def prepare_onnx(
    model: LoadedModel, *, digest: str | None = None, folder: Path | None = None, features: bool = False
) -> tuple[Any, Verdict]:
    """A verified ONNX Runtime session for `model` (None when it may not be used) and its verdict.

    Reuses the cached export when its verdict matches this model's key and the file its recorded hash;
    otherwise exports, verifies against torch on `probe_batch` and stores both. Never raises for a
    model that cannot be exported: the verdict says why. With `features`, the session's second output is
    the input of the model's head (pooled, float32), as `core.features.forward_with_features` gives it.
    """
    digest = digest or weights_digest(model.module)
    key = cache_key(model.spec.name, digest, features=features)
    root = folder or cache_dir()
    verdict_path = root / f"{key}.json"
    stored = read_verdict(verdict_path)
    if stored is not None and stored.key == key:
        if not stored.ok:
            return None, stored  # export or verification already failed for these weights and versions
        session = _cached_session(onnx_file(root, stored), stored)
        if session is not None:
            return session, stored
    return _export_and_verify(model, key, root, verdict_path, features=features)


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


def _export_and_verify(
    model: LoadedModel, key: str, root: Path, verdict_path: Path, *, features: bool
) -> tuple[Any, Verdict]:
    probe = probe_batch(model)
    try:
        module, outputs = _exported_module(model, features=features)
        with torch.inference_mode():
            out = module(probe.to(model.device))
        reference = tuple(out) if features else (out[0] if isinstance(out, tuple) else out,)
        data, exporter = export_onnx(module, probe[:2].to(model.device), outputs=outputs)
        session = ort_session(data)
        candidate = _ort_outputs(session, probe)
    except Exception as exc:  # export_onnx explains itself; a session that will not load is a failure too
        message = str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {first_line(exc)}"
        verdict = Verdict(key, False, reason=message)
        _store(verdict_path, _verdict_bytes(verdict))
        return None, verdict
    verdict = dataclasses.replace(compare_logits(reference[0].float().cpu(), candidate[0], key=key), exporter=exporter)
    if verdict.ok and features:
        delta, reason = feature_deviation(reference[1].float().cpu(), candidate[1])
        verdict = dataclasses.replace(verdict, ok=not reason, reason=reason, max_abs_dfeature=delta)
    if verdict.ok:
        verdict = dataclasses.replace(verdict, onnx_sha256=hashlib.sha256(data).hexdigest())
        _store(onnx_file(root, verdict), data)  # the file first: a verdict never names a missing file
    _store(verdict_path, _verdict_bytes(verdict))
    return (session if verdict.ok else None), verdict


def _exported_module(model: LoadedModel, *, features: bool) -> tuple[nn.Module, tuple[str, ...]]:
    """What is exported: the model itself (logits), or the model with its head's input beside them."""
    if not features:
        return model.module, ("logits",)
    return WithFeatures(model.module, head_module(model)), ("logits", "features")


def _ort_outputs(session: Any, batch: Tensor) -> tuple[Tensor, ...]:
    """Every output of `session` on `batch`: one image, then the rest, so the dynamic batch axis is exercised
    with two sizes."""
    name = session.get_inputs()[0].name
    parts = [session.run(None, {name: part.numpy()}) for part in (batch[:1], batch[1:])]
    return tuple(torch.cat([torch.from_numpy(p[i]) for p in parts]) for i in range(len(parts[0])))


def _verdict_bytes(verdict: Verdict) -> bytes:
    return json.dumps(dataclasses.asdict(verdict), indent=2).encode("utf-8")
