"""grf's calibration test, in doubly robust form, for any fitted CATE estimator."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._inputs import resolve, score_options, stack_levels
from ._ols import hc3_table


def test_calibration(
    estimator: Any,
    X: Any = None,
    y: Any = None,
    w: Any = None,
    *,
    scores: Any = None,
    target: str = "rmst",
    horizon: float | None = None,
    control: Any = None,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = None,
) -> pd.DataFrame:
    r"""Omnibus test of calibration and of heterogeneity (grf's ``test_calibration``).

    With :math:`\hat\tau_i` the CATE predictions on rows the estimator did not learn from
    (held-out rows, or cross-fitted / out-of-bag predictions passed in) and
    :math:`\bar\tau` their mean, the OLS without intercept of the doubly robust scores

    .. math::

        \psi_i = \alpha\,\bar\tau + \beta\,(\hat\tau_i - \bar\tau) + \varepsilon_i

    gives ``mean_prediction`` :math:`\alpha` (1: the average prediction is right) and
    ``differential_prediction`` :math:`\beta` (1: the predicted heterogeneity is well
    calibrated; 0: the predictions' variation carries no signal). HC3 errors; p-values are
    one-sided, :math:`H_1`: coefficient > 0, for both rows as grf reports them, so the
    differential row's p-value tests "no heterogeneity captured" against "some"
    (Chernozhukov, Demirer, Duflo & Fernandez-Val 2018's BLP test). grf regresses the
    R-learner residuals on the treatment residual times the predictions; this doubly robust
    version uses :math:`E[\psi \mid X] = \tau(X)` instead, which serves every estimator and
    K levels, and survival outcomes through the AIPCW scores.

    Constant predictions (an estimator that found no heterogeneity) leave the differential
    row undefined: it is NaN, with a warning.

    Predictions on the estimator's own training rows are over-fitted: the test is then
    anti-conservative. Use held-out rows, or pass cross-fitted predictions (e.g. a forest's
    ``oob_prediction_``) as ``estimator`` with the scores of the same rows.

    Parameters
    ----------
    estimator : fitted CATE estimator, or array of shape (n,) or (n, K)
        An estimator is asked for ``predict(X)``; an array is the predictions themselves.
    X, y, w : the held-out rows
        Needed for the scores unless ``scores`` is given; ``X`` for an estimator's predictions.
    scores : array of shape (n,) or (n, K), optional
        Doubly robust scores of the rows (:func:`get_scores`); default computed from
        ``X, y, w``.
    target, horizon, control, outcome_model, censoring_model, propensity_model
        Options of the scores (:func:`doubly_robust_scores`); with an estimator, its target,
        ``horizon_`` and control are used.
    n_folds, random_state
        Cross-fitting folds and seed of the scores (:func:`doubly_robust_scores`).

    Returns
    -------
    DataFrame
        Rows ``mean_prediction``, ``differential_prediction``; columns ``estimate``,
        ``std_error``, ``t_value``, ``p_value``. K treated levels: a (level, term)
        MultiIndex.

    References
    ----------
    Chernozhukov, V., Demirer, M., Duflo, E. & Fernandez-Val, I. (2018). Generic machine
    learning inference on heterogeneous treatment effects in randomized experiments.
    arXiv:1712.04802.
    Athey, S. & Wager, S. (2019). Estimating treatment effects with causal forests: an
    application. *Observational Studies*, 5.

    Examples
    --------
    >>> from survhte import CausalSurvivalForest, test_calibration
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=1000, random_state=0)
    >>> est = CausalSurvivalForest(100, horizon=1.0, random_state=0).fit(d.X[:500], d.y[:500],
    ...                                                                  d.w[:500])
    >>> table = test_calibration(est, d.X[500:], d.y[500:], d.w[500:], random_state=0)
    >>> list(table.index)
    ['mean_prediction', 'differential_prediction']
    """
    options = score_options(target, horizon, control, outcome_model, censoring_model,
                            propensity_model, n_folds, random_state)
    inputs = resolve(estimator, X, y, w, scores, options, first_name="estimator",
                     first_is="predictions")
    frames = []
    for k in range(inputs.scores.shape[1]):
        tau = inputs.predictions[:, k]
        mean = tau.mean()
        constant = np.ptp(tau) <= 1e-12 * max(1.0, abs(mean))
        if constant:
            where = f" of level {inputs.levels[k]}" if len(inputs.levels) > 1 else ""
            warnings.warn(
                f"the predictions{where} are constant ({mean:.4g}): the estimator predicts no "
                "heterogeneity, so differential_prediction is undefined (NaN); only the mean "
                "prediction is tested.",
                UserWarning,
                stacklevel=2,
            )
            design = np.full((tau.size, 1), mean)
        else:
            design = np.column_stack([np.full_like(tau, mean), tau - mean])
        table = hc3_table(inputs.scores[:, k], design,
                          ["mean_prediction", "differential_prediction"][:design.shape[1]])
        table = _one_sided(table, inputs.scores.shape[0] - design.shape[1])
        frames.append(table.reindex(["mean_prediction", "differential_prediction"]))
    return stack_levels(frames, inputs.levels)


test_calibration.__test__ = False  # a public name, not a pytest test


def _one_sided(table: pd.DataFrame, df: int) -> pd.DataFrame:
    """grf's conversion: p-value of H1 coefficient > 0."""
    out = table[["estimate", "std_error", "t_value"]].copy()
    out["p_value"] = stats.t.sf(out["t_value"].to_numpy(), df)
    return out
