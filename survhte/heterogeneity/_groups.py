"""Effects by predicted-CATE group (sorted group average treatment effects, GATES)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._inputs import resolve, score_options, stack_levels


def cate_group_effects(
    estimator: Any,
    X: Any = None,
    y: Any = None,
    w: Any = None,
    n_groups: int = 5,
    *,
    scores: Any = None,
    alpha: float = 0.05,
    target: str = "rmst",
    horizon: float | None = None,
    control: Any = None,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = None,
) -> pd.DataFrame:
    r"""Doubly robust average effect within each quantile group of the predicted CATE.

    The rows are cut into ``n_groups`` groups of (nearly) equal size by the rank of their
    predicted CATE :math:`\hat\tau_i` (tied predictions stay in one group); in group ``g``
    the estimand is :math:`E[\tau(X) \mid G = g]`, estimated by the mean of the doubly
    robust scores with the Wald interval ``mean -+ z sd / sqrt(n_g)`` (the sorted group
    average treatment effects of Chernozhukov, Demirer, Duflo & Fernandez-Val 2018, in the
    AIPW form). Calibrated predictions put each group's estimate near its mean prediction
    (:func:`survhte.plotting.calibration_plot` draws the two); estimates that rise with the
    group show heterogeneity the estimator ranks correctly. As for
    :func:`test_calibration`, use held-out rows or cross-fitted predictions.

    Parameters
    ----------
    estimator : fitted CATE estimator, or array of shape (n,) or (n, K)
        An estimator is asked for ``predict(X)``; an array is the predictions themselves.
    X, y, w : the held-out rows
    n_groups : int, default 5
    scores : array of shape (n,) or (n, K), optional
        Doubly robust scores of the rows (:func:`get_scores`).
    alpha : float, default 0.05
    target, horizon, control, outcome_model, censoring_model, propensity_model
        Options of the scores (:func:`doubly_robust_scores`).
    n_folds, random_state
        Cross-fitting folds and seed of the scores (:func:`doubly_robust_scores`).

    Returns
    -------
    DataFrame
        Index ``group`` 1 (lowest predictions) .. ``n_groups``; columns ``n``,
        ``mean_prediction``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``. With K
        treated levels a (level, group) MultiIndex.

    References
    ----------
    Chernozhukov, V., Demirer, M., Duflo, E. & Fernandez-Val, I. (2018). Generic machine
    learning inference on heterogeneous treatment effects in randomized experiments.
    arXiv:1712.04802.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte import cate_group_effects
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=1000, random_state=0)
    >>> groups = cate_group_effects(d.X[:, 0], d.X, d.y, d.w, n_groups=4, horizon=1.0,
    ...                            random_state=0)
    >>> groups.shape
    (4, 6)
    """
    if isinstance(n_groups, bool) or not isinstance(n_groups, int | np.integer) \
            or n_groups < 1:
        raise ValueError(f"n_groups must be an integer >= 1; got {n_groups!r}.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    options = score_options(target, horizon, control, outcome_model, censoring_model,
                            propensity_model, n_folds, random_state)
    inputs = resolve(estimator, X, y, w, scores, options, first_name="estimator",
                     first_is="predictions")
    n = inputs.scores.shape[0]
    if n < 2 * n_groups:
        raise ValueError(f"{n} rows are too few for n_groups={n_groups} (at least 2 a group).")
    z = stats.norm.ppf(1 - alpha / 2)
    frames = []
    for k in range(inputs.scores.shape[1]):
        tau, psi = inputs.predictions[:, k], inputs.scores[:, k]
        group = quantile_groups(tau, n_groups)
        rows = []
        for g in np.unique(group):
            mask = group == g
            mean = psi[mask].mean()
            se = psi[mask].std(ddof=1) / np.sqrt(mask.sum()) if mask.sum() > 1 else np.nan
            rows.append({"group": int(g), "n": int(mask.sum()),
                         "mean_prediction": tau[mask].mean(), "estimate": mean,
                         "std_error": se, "ci_lower": mean - z * se, "ci_upper": mean + z * se})
        frames.append(pd.DataFrame(rows).set_index("group"))
    return stack_levels(frames, inputs.levels).rename_axis(
        index=["level", "group"] if len(frames) > 1 else "group")


def quantile_groups(values: np.ndarray, n_groups: int) -> np.ndarray:
    """Group ``1..n_groups`` of each value by its average rank (ties share a group)."""
    ranks = stats.rankdata(values, method="average")
    return np.clip(np.ceil(ranks * n_groups / values.size), 1, n_groups).astype(np.int64)
