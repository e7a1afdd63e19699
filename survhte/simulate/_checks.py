"""Argument validation shared by the simulation helpers."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .._validation import check_covariates as check_finite_covariates
from ._designs import CONFIGS, N_FEATURES, SCENARIOS


def check_config(config: object) -> str:
    """Return ``config`` if it names a causal configuration, else raise ValueError."""
    if config not in CONFIGS:
        raise ValueError(f"config must be one of {list(CONFIGS)}; got {config!r}")
    return str(config)


def check_scenario(scenario: object) -> str:
    """Return ``scenario`` if it names a survival scenario, else raise ValueError."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {list(SCENARIOS)}; got {scenario!r}")
    return str(scenario)


def check_n(n: object) -> int:
    """Return ``n`` as an int if it is a positive integer, else raise ValueError."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    return int(n)


def check_horizon(horizon: object, target: str) -> float:
    """Validate the horizon h of ``target``.

    RMST accepts ``None`` or ``inf`` (untruncated mean) and any positive h;
    the survival target needs a positive finite h.
    """
    if horizon is None and target == "rmst":
        return math.inf
    if isinstance(horizon, bool) or not isinstance(horizon, Real) or not horizon > 0:
        raise ValueError(f"horizon must be a positive number; got {horizon!r}")
    h = float(horizon)
    if target == "survival" and not math.isfinite(h):
        raise ValueError(f"horizon must be finite for target='survival'; got {horizon!r}")
    return h


def check_treatment(w: object) -> int:
    """Return the treatment arm ``w`` (0 or 1), else raise ValueError."""
    if isinstance(w, bool) or not isinstance(w, Integral) or w not in (0, 1):
        raise ValueError(f"w must be 0 (control) or 1 (treated); got {w!r}")
    return int(w)


def check_covariates(X: object) -> np.ndarray:
    """Return ``X`` as a float64 (n, 5) array of values in [0, 1], else raise ValueError."""
    arr, _ = check_finite_covariates(X, n_features=N_FEATURES)
    if not np.all((arr >= 0) & (arr <= 1)):
        raise ValueError("X must hold values in [0, 1] (the designs' covariate support)")
    return arr
