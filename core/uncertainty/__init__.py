"""What the logits say about doubt: out-of-distribution scores, conformal prediction sets, selective prediction,
calibration beyond equal-width bins.

- `core.uncertainty.ood`: per-image scores (max softmax probability, max logit, energy, entropy), how well they
  separate an inside set from an outside one (AUROC, FPR at 95% TPR), a threshold, the outside images that fool
  the model most;
- `core.uncertainty.conformal`: split conformal prediction sets (LAC, APS) with their coverage;
- `core.uncertainty.selective`: the risk–coverage curve, AURC, abstaining below a confidence threshold;
- `core.uncertainty.calibration`: adaptive (equal-mass) and classwise ECE with their reliability tables.

Every function takes logits (n, classes) and works on them in row blocks (`core.uncertainty.rows`), so 50,000
images × 1,000 classes never need a full float64 copy. Import names from the module that defines them.
"""
