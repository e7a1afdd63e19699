"""Data-generating rules of the SurvHTE-Bench synthetic designs.

Deterministic parts only (no random draws): the causal configurations, the
propensity scores, the event-time parameters of the five survival scenarios and
the censoring parameters. The rules follow SurvHTE-Bench (Noroozizadeh et al.,
"SurvHTE-Bench: A Benchmark for Heterogeneous Treatment Effect Estimation in
Survival Analysis", ICLR 2026), with the floating-point operations in the order of
the original generator so that ``legacy=True`` draws reproduce its rows bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta

CONFIGS: tuple[str, ...] = (
    "RCT-50",
    "RCT-5",
    "OBS-CPS",
    "OBS-UConf",
    "OBS-NoPos",
    "OBS-CPS-IC",
    "OBS-UConf-IC",
    "OBS-NoPos-IC",
)
"""The eight causal configurations (treatment assignment x censoring mechanism)."""

SCENARIOS: tuple[str, ...] = ("A", "B", "C", "D", "E")
"""The five survival scenarios (event- and censoring-time models)."""

N_FEATURES = 5
"""Number of observed covariates X1..X5."""

EVENT_FAMILY: dict[str, str] = {
    "A": "weibull",
    "B": "lognormal",
    "C": "poisson",
    "D": "lognormal",
    "E": "poisson",
}
"""Distribution of T(w) given (X, U) per scenario; see :func:`event_parameter`."""

WEIBULL_SHAPE = 0.5
"""Shape k of the Weibull-Cox event model of scenario A (scale 1)."""

CENSORING_WEIBULL_SHAPE = 2.0
"""Shape of the Weibull-Cox censoring model of scenarios B and D (scale 1)."""

RCT_TREATED_FRACTION: dict[str, float] = {"RCT-50": 0.5, "RCT-5": 0.05}

INFORMATIVE_RATE_BASE = 0.1
INFORMATIVE_RATE_SLOPE = 0.05
"""Informative censoring: C ~ Exponential(rate = 0.1 + 0.05 T), T the factual time."""

NEVER_CENSORED_PROB = 0.6
"""Scenario C: probability that C = +inf."""


def base_config(config: str) -> str:
    """Return the treatment-assignment part of ``config`` (the name without ``-IC``)."""
    return config.removesuffix("-IC")


def informative_censoring(config: str) -> bool:
    """Whether ``config`` censors informatively (the ``-IC`` configurations)."""
    return config.endswith("-IC")


def hidden_confounding(config: str) -> bool:
    """Whether ``config`` has unobserved confounding through U1 (OBS-UConf[-IC])."""
    return base_config(config) == "OBS-UConf"


def confounding_shift(config: str, X: np.ndarray, u1: np.ndarray) -> np.ndarray:
    """Additive shift c of the event-time parameter.

    c = 0.5 (U1 - X2) in the unobserved-confounding configurations, 0 otherwise.
    ``u1`` broadcasts against ``X[:, 1]`` (shape (n,), or (q, 1) for q quadrature nodes).
    """
    x2 = X[:, 1]
    if hidden_confounding(config):
        return 0.5 * (u1 - x2)
    return np.zeros_like(x2)


def propensity(config: str, X: np.ndarray, U: np.ndarray) -> np.ndarray:
    """True treatment probability P(W = 1 | X, U) of each row.

    Parameters
    ----------
    config : str
        One of :data:`CONFIGS`.
    X : ndarray of shape (n, 5)
        Observed covariates.
    U : ndarray of shape (n, 2)
        Unobserved confounders (only U1 enters, and only in OBS-UConf[-IC]).

    Returns
    -------
    ndarray of shape (n,)
        ``e(X)`` (or ``e(X, U)`` for OBS-UConf): a constant for the RCTs,
        ``(1 + BetaPDF(X1; 2, 4)) / 4`` for OBS-CPS, ``(1 + BetaPDF(0.3 X1 + 0.7 U1; 2, 4)) / 4``
        for OBS-UConf and 0 / 0.5 / 1 for X1 < 0.2 / in between / X1 > 0.8 for OBS-NoPos.
    """
    base = base_config(config)
    x1 = X[:, 0]
    if base in RCT_TREATED_FRACTION:
        return np.full(x1.shape, RCT_TREATED_FRACTION[base])
    if base == "OBS-CPS":
        return (1 + beta.pdf(x1, 2, 4)) / 4
    if base == "OBS-UConf":
        return (1 + beta.pdf(0.3 * x1 + 0.7 * U[:, 0], 2, 4)) / 4
    return np.where(x1 > 0.8, 1.0, np.where(x1 < 0.2, 0.0, 0.5))


def event_parameter(
    scenario: str, X: np.ndarray, w: np.ndarray | int, shift: np.ndarray | float = 0.0
) -> np.ndarray:
    """Parameter of the event-time distribution of T(w) given X (and the shift c).

    Scenario A (Weibull-Cox, shape 0.5, scale 1): the linear predictor
    ``lp = X1 + (-0.5 + X2) w + c``, S(t) = exp(-exp(lp) t^0.5).
    Scenarios B and D (log-normal AFT): ``mu`` with log T ~ N(mu, 1).
    Scenarios C and E (Poisson): the mean ``lam`` of T ~ Poisson(lam).

    ``shift`` (c) broadcasts against the per-row parameter (e.g. shape (q, n) for q
    values of U1 per row).
    """
    x1, x2, x3 = X[:, 0], X[:, 1], X[:, 2]
    if scenario == "A":
        param = x1 + (-0.5 + x2) * w
    elif scenario == "B":
        low = x1 < 0.5
        param = -1.85 - 0.8 * low + 0.7 * np.sqrt(x2) + 0.2 * x3
        param = param + (0.7 - 0.4 * low - 0.4 * np.sqrt(x2)) * w
    elif scenario == "D":
        low = x1 < 0.5
        param = 0.3 - 0.5 * low + 0.5 * np.sqrt(x2) + 0.2 * x3
        param = param + (1 - 0.8 * low - 0.8 * np.sqrt(x2)) * w
    else:
        param = x2**2 + x3 + 6 + 2 * (np.sqrt(x1) - 0.3) * w
    param = param + shift
    if scenario == "E":
        param = param + 1
    return param


def censoring_linear_predictor(scenario: str, X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Linear predictor of the Weibull-Cox (shape 2) censoring model of scenarios B and D."""
    x1, x2, x3 = X[:, 0], X[:, 1], X[:, 2]
    if scenario == "B":
        lp = -1.75 - 0.5 * np.sqrt(x2) + 0.2 * x3
    else:
        lp = -0.9 + 2 * np.sqrt(x2) + 2 * x3
    return lp + (1.15 + 0.5 * (x1 < 0.5) - 0.3 * np.sqrt(x2)) * w


def censoring_poisson_mean(X: np.ndarray) -> np.ndarray:
    """Mean of the Poisson censoring time of scenario E: 3 + log(1 + exp(2 X2 + X3))."""
    return 3 + np.log1p(np.exp(2 * X[:, 1] + X[:, 2]))
