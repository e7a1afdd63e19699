"""Summaries printed by ``survhte estimate``: KM contrasts, CATE quantiles, heterogeneity tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from ._kernels.step_function import step_values
from .survival import kaplan_meier_by_group, rmst_difference

CATE_QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


@dataclass(frozen=True)
class KMContrast:
    """Model-free Kaplan-Meier contrast of one treated arm with the control arm."""

    treated: float
    control: float
    difference: float
    lower: float
    upper: float


def km_contrast(
    time: np.ndarray,
    event: np.ndarray,
    codes: np.ndarray,
    level: int,
    horizon: float,
    target: str,
    alpha: float = 0.05,
) -> KMContrast:
    """Kaplan-Meier RMST (or survival at ``horizon``) of arm ``level`` minus arm 0.

    Greenwood variances per arm, summed (independent arms), and a Wald ``1 - alpha`` interval.
    Unadjusted: it estimates the ATE only when treatment was randomized.
    """
    rows = (codes == 0) | (codes == level)
    if target == "rmst":
        result = rmst_difference(time[rows], event[rows], codes[rows], horizon)
        lower, upper = result.confidence_interval(alpha)
        return KMContrast(result.rmst[1], result.rmst[0], result.difference, lower, upper)
    control, treated = kaplan_meier_by_group(time[rows], event[rows], codes[rows]).values()
    at = np.array([horizon])
    variance = sum(
        step_values(km.timeline_, km.survival_variance_, at, 0.0)[0] for km in (control, treated)
    )
    difference = treated.predict(horizon) - control.predict(horizon)
    half = norm.ppf(1 - alpha / 2) * np.sqrt(variance)
    return KMContrast(
        treated.predict(horizon), control.predict(horizon), difference,
        difference - half, difference + half,
    )


def number_format(scale: float) -> Callable[[float], str]:
    """Fixed-decimal formatter for effects on a scale of ``scale`` (the horizon for RMST, 1 for
    probabilities): 3 decimals at scale 1, one fewer per factor of 10, at least 2."""
    decimals = max(2, 3 - int(np.floor(np.log10(scale))))
    return lambda value: f"{value:.{decimals}f}"


def format_cate_quantiles(cate: np.ndarray, num: Callable[[float], str]) -> str:
    """One line: min, 10%, 25%, median, 75%, 90%, max of ``cate``."""
    values = np.quantile(cate, CATE_QUANTILES)
    names = ("min", "10%", "25%", "50%", "75%", "90%", "max")
    return "  ".join(f"{n} {num(v)}" for n, v in zip(names, values, strict=True))


def format_interval(lower: float, upper: float, num: Callable[[float], str]) -> str:
    """``[lower, upper]``."""
    return f"[{num(lower)}, {num(upper)}]"


#: Significance level of the heterogeneity verdict.
HETEROGENEITY_ALPHA = 0.05


def heterogeneity_detected(differential_p: float, rate_lower: float) -> bool:
    """Evidence that the predictions rank real effect variation: the calibration test's
    differential-prediction term (one-sided p < 0.05) or the RATE's 95% interval above 0."""
    return bool((np.isfinite(differential_p) and differential_p < HETEROGENEITY_ALPHA)
                or rate_lower > 0)


def format_heterogeneity(
    calibration: pd.DataFrame, rate: tuple[float, float, float],
    num: Callable[[float], str],
) -> list[str]:
    """Lines of the calibration test, the RATE and the verdict for one treated level.

    ``rate``: (estimate, lower, upper) of the AUTOC.
    """
    mean_row = calibration.loc["mean_prediction"]
    diff_row = calibration.loc["differential_prediction"]
    estimate, lower, upper = rate
    diff_p = float(diff_row["p_value"])
    lines = [
        f"    calibration test (grf's test_calibration, HC3): mean prediction "
        f"{mean_row['estimate']:.2f} (SE {mean_row['std_error']:.2f}), differential "
        + (f"prediction {diff_row['estimate']:.2f} (SE {diff_row['std_error']:.2f}), "
           f"one-sided p = {diff_p:.3g}" if np.isfinite(diff_p)
           else "prediction undefined (the held-out predictions are constant)"),
        "      (1 = calibrated; a differential coefficient > 0 with p < 0.05: the predicted "
        "differences are real)",
        f"    RATE (AUTOC: excess effect when treating by predicted CATE first) {num(estimate)}"
        f"  95% CI {format_interval(lower, upper, num)}",
    ]
    if heterogeneity_detected(diff_p, lower):
        lines.append(
            "    => heterogeneity detected: the held-out predictions rank rows by their effect "
            "better than chance.")
    else:
        lines.append(
            "    => heterogeneity NOT detected: differential p >= 0.05 and the RATE interval "
            "covers 0 (or lies below it). The per-row CATEs are not distinguishable from the "
            "average effect; report the average effect above.")
    return lines


def format_blp(table: pd.DataFrame, num: Callable[[float], str]) -> list[str]:
    """Lines of the best linear projection (one treated level), per SD of each covariate."""
    width = max(9, *(len(str(term)) for term in table.index))
    lines = [f"      {'term':<{width}}  {'estimate':>9}  {'SE':>8}  {'95% CI':>21}  p-value"]
    for term, row in table.iterrows():
        interval = format_interval(row["ci_lower"], row["ci_upper"], num)
        lines.append(f"      {term!s:<{width}}  {num(row['estimate']):>9}  "
                     f"{num(row['std_error']):>8}  {interval:>21}  {row['p_value']:.3g}")
    return lines
