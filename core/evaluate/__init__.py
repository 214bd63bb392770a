"""Evaluating a model on a labelled set, and everything computed from the logits it keeps.

- `run`: the data path (`evaluate`, `EvalResult`, `Progress`), `ray` + `ray_cluster`: the same on Ray Data;
- `metrics`: accuracy, NLL, Brier, ECE/MCE, temperature fitting (`calibrate`);
- `scores`: per-image hardness, margin, mistakenness; `records`: per-image, per-class and confusion tables;
- `rescore`: everything shown at one temperature; `files`: results files; `summary`: the CLI's JSON.

Its figures are in `core.charts.evaluate`; debugging a set (label issues, embeddings, ...) is `core.diagnose`.
"""
