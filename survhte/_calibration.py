"""Held-out calibration of CATE predictions on doubly robust scores (the BLP slope).

One place for the slope that the ensemble (``survhte.ensemble``) and the survival S/T-learners
(``survhte.survival_model_learners``) use to calibrate their predictions toward the average
effect: the OLS slope of unbiased signals ``g`` of the CATE (doubly robust scores) on held-out
predictions ``s`` (Chernozhukov et al. 2018's best linear predictor; grf's
``test_calibration`` differential term).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

#: One-sided 95% normal quantile: the upper confidence bound used by :func:`upper_slope`.
ONE_SIDED_95 = 1.6448536269514722


def blp_slope(s: np.ndarray, g: np.ndarray) -> tuple[float, float, float]:
    """OLS slope of ``g`` on ``s`` (with intercept), its HC1 standard error and the one-sided
    p-value of ``slope > 0`` (grf's ``test_calibration`` differential term; Chernozhukov et al.
    2018's BLP). A constant ``s`` gives ``(0, inf, 1)``."""
    n = s.size
    centred = s - s.mean()
    ss = float(np.sum(centred ** 2))
    if n < 3 or ss <= 1e-24 * max(1.0, float(np.sum(s ** 2))):
        return 0.0, float("inf"), 1.0
    slope = float(np.sum(centred * (g - g.mean())) / ss)
    residual = g - g.mean() - slope * centred
    variance = float(np.sum(centred ** 2 * residual ** 2)) / ss ** 2 * n / (n - 2)
    std_error = float(np.sqrt(variance))
    if std_error == 0:
        return slope, 0.0, 0.0 if slope > 0 else 1.0
    return slope, std_error, float(ndtr(-slope / std_error))


def upper_slope(s: np.ndarray, g: np.ndarray, z: float = ONE_SIDED_95) -> float:
    """The factor ``clip(b + z se, 0, 1)`` from :func:`blp_slope`'s slope ``b`` and standard
    error ``se``: below 1 only where the held-out slope is significantly below 1 (one-sided
    at 5% for the default ``z``), i.e. where the data show that the predictions' spread is
    partly noise; 1 where they do not (a constant ``s``: 1, nothing to scale)."""
    slope, std_error, _ = blp_slope(s, g)
    if not np.isfinite(std_error):
        return 1.0
    return float(np.clip(slope + z * std_error, 0.0, 1.0))
