"""Doubly robust (AIPCW) scores of each row: grf's ``get_scores`` for censored outcomes."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._warnings import user_stacklevel
from ..inference import AIPCW


def doubly_robust_scores(
    X: Any,
    y: Any,
    w: Any,
    *,
    target: str = "rmst",
    horizon: float | None = None,
    control: Any = None,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = None,
) -> np.ndarray:
    r"""Cross-fitted doubly robust (AIPCW) scores :math:`\psi_i` of each row.

    For each treated level ``k`` vs the control and ``f(T) = min(T, h)`` (``"rmst"``) or
    ``1{T > h}`` (``"survival"``), the efficient-influence-function score

    .. math::

        \psi_{ki} = m_k(X_i) - m_0(X_i)
            + \frac{1\{W_i = k\}}{r_k(X_i)}\big(U_i - m_k(X_i)\big)
            - \frac{1\{W_i = 0\}}{r_0(X_i)}\big(U_i - m_0(X_i)\big),

    with cross-fitted outcome, censoring and propensity models and :math:`U_i` the augmented
    IPCW transformation of the censored outcome (:class:`survhte.inference.AIPCW`, whose
    ``scores_`` these are). :math:`E[\psi_{ki} \mid X_i] = \tau_k(X_i)` when the nuisances
    are correct, so the scores are the "outcomes" that the heterogeneity tools regress,
    rank and average (grf's ``get_scores``; Tsiatis 2006; Cui et al. 2023). Their mean is
    the AIPCW ATE.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, p)
    y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
    w : array-like of shape (n,)
        Treatment labels; ``control`` names the reference level.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        ``None``: the smallest arm's last observed time.
    control : label, optional
        The reference level (default 0 for integer codes).
    outcome_model, censoring_model, propensity_model, n_folds, random_state
        As :class:`survhte.inference.AIPCW` (Cox outcome model, Kaplan-Meier censoring,
        spline-logistic propensity, 5 folds).

    Returns
    -------
    ndarray of shape (n,) for a binary treatment, (n, K) for K treated levels
        Column ``k - 1`` is level ``k`` (in the order of the sorted labels, control first)
        vs the control.

    References
    ----------
    Tsiatis, A. A. (2006). *Semiparametric Theory and Missing Data*. Springer, ch. 10.
    Athey, S., Tibshirani, J. & Wager, S. (2019). Generalized random forests. *Annals of
    Statistics*, 47(2) (grf's ``get_scores``).

    Examples
    --------
    >>> from survhte import doubly_robust_scores
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> psi = doubly_robust_scores(d.X, d.y, d.w, horizon=1.0, random_state=0)
    >>> psi.shape
    (600,)
    """
    model = AIPCW(target, horizon, outcome_model=outcome_model, censoring_model=censoring_model,
                  propensity_model=propensity_model, n_folds=n_folds,
                  random_state=random_state, control=control)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = model.fit(X, y, w).scores_
    for item in caught:  # AIPCW's warnings (overlap, censoring floor) at the user's line
        warnings.warn(item.message, item.category, stacklevel=user_stacklevel())
    return scores


def get_scores(
    estimator: Any,
    X: Any,
    y: Any,
    w: Any,
    *,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = None,
) -> np.ndarray:
    """Doubly robust scores of the rows ``X, y, w`` for a fitted estimator's estimand.

    grf's ``get_scores``: the AIPCW scores (:func:`doubly_robust_scores`) of the fitted
    estimator's ``target``, ``horizon_`` and control (``classes_[0]``), so that they estimate
    the same effect as its ``predict`` and can be compared with it row by row. Pass held-out
    rows (not the rows the estimator was fitted on) to judge its predictions honestly.

    Parameters
    ----------
    estimator : fitted survival CATE estimator
        Anything with ``target``, ``horizon_`` and ``classes_`` (every survhte CATE
        estimator of a censored outcome).
    X, y, w : the rows to score
        ``w`` must contain exactly the estimator's treatment levels.
    outcome_model, censoring_model, propensity_model, n_folds, random_state
        As :func:`doubly_robust_scores`.

    Returns
    -------
    ndarray of shape (n,) or (n, K)
        Columns in the order of ``estimator.classes_[1:]``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from survhte import TLearner, get_scores
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> est = TLearner(Ridge(), horizon=1.0, random_state=0).fit(d.X[:300], d.y[:300],
    ...                                                          d.w[:300])
    >>> get_scores(est, d.X[300:], d.y[300:], d.w[300:], random_state=0).shape
    (300,)
    """
    target, horizon, classes = estimand_of(estimator)
    levels = np.unique(np.asarray(w))
    if not (levels.size == classes.size and np.isin(levels, classes).all()):
        raise ValueError(
            f"w has the levels {levels.tolist()} but the estimator was fitted on "
            f"{classes.tolist()}; score rows with every fitted level (and no other)."
        )
    return doubly_robust_scores(
        X, y, w, target=target, horizon=horizon, control=classes[0],
        outcome_model=outcome_model, censoring_model=censoring_model,
        propensity_model=propensity_model, n_folds=n_folds, random_state=random_state,
    )


def estimand_of(estimator: Any) -> tuple[str, float, np.ndarray]:
    """``(target, horizon_, classes_)`` of a fitted survival CATE estimator."""
    if not hasattr(estimator, "predict"):
        raise TypeError(
            f"estimator must be a fitted CATE estimator with predict; got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator, "classes_")
    missing = [name for name in ("target", "horizon_") if not hasattr(estimator, name)]
    if missing:
        raise TypeError(
            f"{type(estimator).__name__} has no {' or '.join(missing)}: the doubly robust "
            "scores need an estimator of a censored outcome's RMST or survival effect."
        )
    return estimator.target, float(estimator.horizon_), np.asarray(estimator.classes_)
