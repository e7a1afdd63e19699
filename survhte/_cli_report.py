"""Summaries printed by ``survhte estimate``: KM contrasts, CATE quantiles, effect drivers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import norm

from ._kernels.step_function import step_values
from .survival import kaplan_meier_by_group, rmst_difference

CATE_QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
N_DRIVERS = 5


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


def cate_drivers(
    cate: np.ndarray, X: np.ndarray, names: Sequence[str]
) -> tuple[pd.DataFrame, float]:
    """Least-squares projection of the predicted CATE on standardised covariates.

    Fits ``cate ~ 1 + z_1 + ... + z_p`` by OLS with ``z_j`` covariate ``j`` centred and scaled to
    unit standard deviation, so each coefficient is the change in predicted CATE per standard
    deviation of the covariate holding the others fixed (a descriptive best linear projection;
    Semenova & Chernozhukov 2021). Constant covariates are left out.

    Returns
    -------
    table : DataFrame
        Columns ``covariate`` and ``coef``, sorted by decreasing ``|coef|``.
    r_squared : float
        Share of the CATE variance the linear projection explains.
    """
    scale = X.std(axis=0)
    keep = scale > 0
    Z = (X[:, keep] - X[:, keep].mean(axis=0)) / scale[keep]
    fit = sm.OLS(cate, sm.add_constant(Z, has_constant="add")).fit()
    table = pd.DataFrame({"covariate": np.asarray(names)[keep], "coef": fit.params[1:]})
    order = np.argsort(-np.abs(table["coef"].to_numpy()), kind="stable")
    return table.iloc[order].reset_index(drop=True), float(fit.rsquared)


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


def format_drivers(
    table: pd.DataFrame, r_squared: float, num: Callable[[float], str]
) -> list[str]:
    """Lines ranking the top covariates by absolute projection coefficient."""
    width = max(len(str(c)) for c in table["covariate"].head(N_DRIVERS))
    lines = [
        f"    {rank}. {row.covariate!s:<{width}}  {'+' if row.coef >= 0 else ''}"
        f"{num(row.coef)} per SD  ({'larger' if row.coef > 0 else 'smaller'} effect when "
        f"{row.covariate} is higher)"
        for rank, row in enumerate(table.head(N_DRIVERS).itertuples(), start=1)
    ]
    lines.append(f"    (R^2 of the linear projection: {r_squared:.2f})")
    return lines


def format_interval(lower: float, upper: float, num: Callable[[float], str]) -> str:
    """``[lower, upper]``."""
    return f"[{num(lower)}, {num(upper)}]"
