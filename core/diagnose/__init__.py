"""Debugging a labelled set from the logits (and features) one evaluation kept, without the model.

- `label_issues`: likely label errors, found by cleanlab from held-out probabilities;
- `classes`: per-class precision/recall/F1/support (scikit-learn) and the most-confused classes;
- `embedding`: 2-D maps of the penultimate-layer features (PCA, t-SNE), look-alikes, near-duplicates;
- `compare`: two models on the same images;
- `slices`: accuracy by simple image properties (brightness, contrast, size, ...), weakest first;
- `summary`: what `python -m core evaluate --json` adds (label_issues, per_class).
Per-image hardness, margin and mistakenness are `core.evaluate.scores`; figures are in `core.charts.diagnose`,
the page's tools in `ui.evaluation.diagnose`, the features in `core.features`.
"""
