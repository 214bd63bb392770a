"""ONNX Runtime sessions: fp32 on the CPU (CPUExecutionProvider), threads set deliberately, so a decoding thread
beside the model gets the cores back. Used by the export cache (`core.backends.cache`) and by ONNX-file models
(`core.models.onnx_file`); onnxruntime itself is imported only when a session is opened.
"""

from __future__ import annotations

import os
from typing import Any

THREADS_ENV = "LOGITSCOPE_ORT_THREADS"


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
