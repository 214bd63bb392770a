"""The uncertainty sections of `python -m core evaluate` (a contract): the JSON and the lines a person reads.

JSON keys, as issue 21 names them: "selective" {aurc, aurc_fitted_t, ...}, "conformal" {method, alpha, threshold,
coverage, mean_set_size, calibration_n, test_n, seed} and, with outside images, "ood" {n_in, n_out, auroc, fpr95,
...}; null where a number does not exist (too few images).
"""

from __future__ import annotations

from torch import Tensor

from core.uncertainty.availability import conformal_unavailable
from core.uncertainty.conformal import DEFAULT_ALPHA, conformal_summary
from core.uncertainty.ood import SCORE_NAMES, ood_summary
from core.uncertainty.selective import selective_summary


def doubt_summary(
    logits: Tensor,
    targets: Tensor,
    *,
    fitted_temperature: float,
    method: str = "lac",
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
    outside_logits: Tensor | None = None,
    temperature: float = 1.0,
) -> dict[str, object]:
    """The "selective", "conformal" and, with `outside_logits`, "ood" sections (the evaluated set is the inside)."""
    n = int(targets.shape[0])
    reason = conformal_unavailable(n)
    if reason is None:
        conformal = conformal_summary(logits, targets, method=method, alpha=alpha, seed=seed)
    else:  # no calibration half and test half to make: the section says so, with the same keys (issue 22)
        conformal = dict.fromkeys(("threshold", "coverage", "mean_set_size"))
        conformal |= {"method": method, "alpha": alpha, "calibration_n": 0, "test_n": 0, "seed": seed}
        conformal["unavailable"] = str(reason)
    report: dict[str, object] = {
        "selective": selective_summary(logits, targets, fitted_temperature=fitted_temperature),
        "conformal": conformal,
    }
    if outside_logits is not None:
        report["ood"] = ood_summary(logits, outside_logits, temperature=temperature)
    return report


def _number(value: object, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def doubt_lines(report: dict[str, object]) -> list[str]:
    """The same numbers as text lines for the CLI's plain output."""
    selective, conformal = report["selective"], report["conformal"]
    assert isinstance(selective, dict) and isinstance(conformal, dict)
    lines = [
        f"selective: AURC {_number(selective['aurc'], '.4f')} (max probability, T = 1), "
        f"{_number(selective['aurc_fitted_t'], '.4f')} at the fitted T, max logit "
        f"{_number(selective['aurc_max_logit'], '.4f')}, energy {_number(selective['aurc_energy'], '.4f')}",
        f"conformal ({conformal['method']}, {1 - conformal['alpha']:.0%} sets): threshold "
        f"{_number(conformal['threshold'], '.6g')}, coverage {_number(conformal['coverage'], '.2%')} on "
        f"{conformal['test_n']} test images (calibrated on {conformal['calibration_n']}), mean set size "
        f"{_number(conformal['mean_set_size'], '.2f')}",
    ]
    ood = report.get("ood")
    if isinstance(ood, dict):
        scores = ", ".join(f"{name} {ood['auroc'][name]:.3f}" for name in SCORE_NAMES)
        lines.append(f"out of distribution ({ood['n_in']} inside vs {ood['n_out']} outside): AUROC {scores}")
    return lines
