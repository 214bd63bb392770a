"""Inference backends: what runs a model's forward passes.

- `choose`: `with_backend` attaches torch or a verified ONNX Runtime session to a `LoadedModel`;
- `eager`: torch (the oracle); `onnxruntime`: ONNX Runtime fp32 on the CPU;
- `export` (torch → ONNX, sessions), `verify` (probe batch, tolerance, verdict), `cache` (keys, files, `prepare_onnx`).
"""
