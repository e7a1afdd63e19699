"""Best linear projection of the CATE on chosen covariates (grf's
``best_linear_projection``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._inputs import resolve, score_options, stack_levels
from ._ols import hc3_table


def best_linear_projection(
    estimator_or_scores: Any,
    X: Any,
    y: Any = None,
    w: Any = None,
    covariates: Sequence[str | int] | None = None,
    *,
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
    r"""Doubly robust best linear projection of the CATE on covariates ``A``.

    Estimand: :math:`\beta = \arg\min_b E[(\tau(X) - b_0 - A^\top b_1)^2]`, the best linear
    summary of how the effect varies with ``A`` (a subset of ``X``). Since the doubly robust
    score satisfies :math:`E[\psi \mid X] = \tau(X)`, the OLS of the scores :math:`\psi_i` on
    :math:`(1, A_i)` estimates :math:`\beta`, with heteroskedasticity-robust HC3 errors
    (Semenova & Chernozhukov 2021; grf's ``best_linear_projection``; Cui et al. 2023 for the
    censored-outcome scores). The intercept alone (``covariates=[]``) is the AIPCW ATE.
    No part of the fitted estimator's predictions enters: only its estimand (target, horizon,
    control) when an estimator is given, so the projection is valid on any rows, training
    rows included.

    Parameters
    ----------
    estimator_or_scores : fitted CATE estimator, or array of shape (n,) or (n, K)
        An estimator: the scores are :func:`get_scores` of ``X, y, w`` for its estimand.
        An array: the doubly robust scores themselves (e.g. from :func:`get_scores`); ``y``
        and ``w`` are then not needed.
    X : array-like or DataFrame of shape (n, p)
    y, w : outcome and treatment of the rows (for the scores)
    covariates : sequence of column names or integer positions of ``X``, optional
        ``A``; default every column. ``[]``: the intercept only.
    alpha : float, default 0.05
        Intervals at level ``1 - alpha``.
    target, horizon, control, outcome_model, censoring_model, propensity_model
        Options of the scores (:func:`doubly_robust_scores`); with an estimator, its target,
        ``horizon_`` and control are used.
    n_folds, random_state
        Cross-fitting folds and seed of the scores (:func:`doubly_robust_scores`).

    Returns
    -------
    DataFrame
        Rows ``intercept`` and each covariate; columns ``estimate``, ``std_error``,
        ``t_value``, ``p_value`` (two-sided), ``ci_lower``, ``ci_upper``. With K treated
        levels, a (level, term) MultiIndex: one block per level.

    References
    ----------
    Semenova, V. & Chernozhukov, V. (2021). Debiased machine learning of conditional average
    treatment effects and other causal functions. *The Econometrics Journal*, 24(2).
    MacKinnon, J. G. & White, H. (1985). Some heteroskedasticity-consistent covariance
    matrix estimators with improved finite sample properties. *J. Econometrics*, 29(3).

    Examples
    --------
    >>> from survhte import best_linear_projection
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> blp = best_linear_projection(None, d.X, d.y, d.w, covariates=[0, 1], horizon=1.0,
    ...                              random_state=0)
    >>> list(blp.index)
    ['intercept', 'x0', 'x1']
    """
    options = score_options(target, horizon, control, outcome_model, censoring_model,
                            propensity_model, n_folds, random_state)
    inputs = resolve(estimator_or_scores, X, y, w, None, options,
                     first_name="estimator_or_scores", first_is="scores")
    if inputs.X is None:
        raise ValueError("best_linear_projection needs X (the covariates to project on).")
    columns = _covariate_columns(covariates, inputs.feature_names)
    terms = ["intercept", *[inputs.feature_names[j] for j in columns]]
    design = np.column_stack([np.ones(inputs.X.shape[0]), inputs.X[:, columns]])
    frames = [hc3_table(inputs.scores[:, k], design, terms, alpha)
              for k in range(inputs.scores.shape[1])]
    return stack_levels(frames, inputs.levels)


def _covariate_columns(covariates: Any, names: list[str]) -> list[int]:
    """Positions of the chosen covariates (names or integer positions)."""
    if covariates is None:
        return list(range(len(names)))
    if isinstance(covariates, str | int | np.integer):
        covariates = [covariates]
    columns = []
    for item in covariates:
        if isinstance(item, int | np.integer) and not isinstance(item, bool):
            if not -len(names) <= item < len(names):
                raise ValueError(f"covariates: position {item} is outside X's {len(names)} "
                                 "columns.")
            columns.append(int(item) % len(names))
        elif str(item) in names:
            columns.append(names.index(str(item)))
        else:
            raise ValueError(f"covariates: {item!r} is not a column of X; its columns are "
                             f"{names}.")
    if len(set(columns)) != len(columns):
        raise ValueError(f"covariates names a column twice: {list(covariates)}.")
    return columns
