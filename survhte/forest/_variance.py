"""Little-bag variance of forest estimates (Sexton & Laake 2009; Athey, Tibshirani & Wager 2019).

Trees come in groups of ``ci_group_size`` grown on a common half-sample. With ``psi_b`` a tree's
linearised estimate at ``x``, the variance of the group means across groups,
``var_between``, estimates ``Var[theta(x)]`` plus the Monte Carlo noise of averaging only
``ci_group_size`` trees, ``group_noise``, which the within-group spread measures. The
difference can be negative; grf's objective-Bayes debiaser keeps it positive.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx


def debias(var_between: np.ndarray, group_noise: np.ndarray, n_groups: np.ndarray) -> np.ndarray:
    """Posterior mean of the variance ``S >= 0`` given ``var_between - group_noise``.

    The method-of-moments estimate ``D = var_between - group_noise`` is treated as Gaussian
    around ``S`` with standard error ``max(var_between, group_noise) sqrt(2 / n_groups)`` and
    ``S`` gets a flat prior on ``[0, inf)``: the estimate is ``D + se phi(r) / Phi(r)`` with
    ``r = D / se`` (grf's ``ObjectiveBayesDebiaser``). ``phi / Phi`` is evaluated as
    ``sqrt(2 / pi) / erfcx(-r / sqrt(2))``, stable for very negative ``r``.

    Returns
    -------
    ndarray
        Non-negative variances; 0 where both moments are 0, NaN where ``n_groups`` is 0.
    """
    initial = var_between - group_noise
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.maximum(var_between, group_noise) * np.sqrt(2.0 / n_groups)
        ratio = initial / se
        correction = se * np.sqrt(2.0 / np.pi) / erfcx(-ratio / np.sqrt(2.0))
    variance = np.where(se > 0, initial + correction, 0.0)
    return np.where(n_groups > 0, np.maximum(variance, 0.0), np.nan)
