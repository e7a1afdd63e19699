r"""Losses of a fitted CATE estimator on held-out rows of a censored outcome, without the truth.

Both losses compare predictions :math:`\hat\tau(X_i)` with quantities computed from the held-out
rows alone, with nuisance models cross-fitted *within* those rows (so the estimator's own fit
never sees them):

- **DR loss** :math:`\frac1{nK}\sum_i\sum_k (\Gamma_{ki} - \hat\tau_k(X_i))^2`, with
  :math:`\Gamma_{ki}` the doubly robust (AIPCW) scores of :func:`survhte.get_scores`. Since
  :math:`E[\Gamma_k \mid X] = \tau_k(X)`, its expectation is the CATE mean squared error plus
  a term that does not depend on :math:`\hat\tau`: differences between estimators estimate
  differences of their MSE (Saito & Yasui 2020; Kennedy 2023; EconML's ``DRScorer``).
- **R-loss** (Nie & Wager 2021), with the AIPCW-transformed outcome :math:`U_i` (its
  conditional mean given ``X`` and ``W = k`` is :math:`m_k(X)`), the cross-fitted generalised
  propensities :math:`e_k(X)` and :math:`m(X) = \sum_k e_k(X) m_k(X)`:
  :math:`\frac1n\sum_i \big(U_i - m(X_i) - \sum_{k \ge 1} (1\{W_i = k\} - e_k(X_i))
  \hat\tau_k(X_i)\big)^2` (the multi-arm R-loss with the vector of treatment indicators).

Each is reported with the loss of the best constant (the held-out ATE under that loss), so
that "improvement over the constant" is visible: a positive improvement says the estimator's
heterogeneity beats predicting one average effect for everyone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from joblib import hash as joblib_hash

from .._validation import check_treatment
from ..heterogeneity import get_scores
from ..inference import AIPCW

#: Nuisance settings of the held-out scores (those of :func:`survhte.get_scores`).
NUISANCE_DEFAULTS: dict[str, Any] = {
    "outcome_model": None,
    "censoring_model": "km",
    "propensity_model": None,
    "n_folds": 5,
    "random_state": 0,
}

#: How many held-out nuisance computations are kept: ``GridSearchCV`` scores every candidate
#: on the same test folds, and the scores depend only on the rows and the settings.
_CACHE_SIZE = 8
_cache: OrderedDict[str, Any] = OrderedDict()
_cache_lock = threading.Lock()  # GridSearchCV may score candidates in threads


class RResiduals(NamedTuple):
    """Cross-fitted residuals of the R-loss on held-out rows."""

    outcome: np.ndarray
    """``U_i - m(X_i)``, shape (n,)."""
    treatment: np.ndarray
    """``1{W_i = k} - e_k(X_i)`` for the treated levels ``k = 1..K``, shape (n, K)."""


def _as_columns(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values


def _cached(kind: str, estimator: Any, X: Any, y: Any, w: Any, settings: dict[str, Any],
            compute: Any) -> Any:
    """``compute()``, remembered for the same rows, estimand and settings (an integer
    ``random_state`` only: otherwise every call draws new folds)."""
    if not isinstance(settings["random_state"], Integral):
        return compute()
    estimand = (getattr(estimator, "target", None), getattr(estimator, "horizon_", None),
                np.asarray(getattr(estimator, "classes_", [])).tolist())
    key = joblib_hash((kind, X, y, w, estimand, settings))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def _settings(outcome_model: Any, censoring_model: Any, propensity_model: Any, n_folds: Any,
              random_state: Any) -> dict[str, Any]:
    return {"outcome_model": outcome_model, "censoring_model": censoring_model,
            "propensity_model": propensity_model, "n_folds": n_folds,
            "random_state": random_state}


def held_out_scores(estimator: Any, X: Any, y: Any, w: Any, settings: dict[str, Any]
                    ) -> np.ndarray:
    """Doubly robust scores of the rows for the estimator's estimand, shape (n, K)."""
    return _cached("dr", estimator, X, y, w, settings,
                   lambda: _as_columns(get_scores(estimator, X, y, w, **settings)))


def held_out_residuals(estimator: Any, X: Any, y: Any, w: Any, settings: dict[str, Any]
                       ) -> RResiduals:
    """The R-loss residuals of the rows for the estimator's estimand (cross-fitted AIPCW
    nuisances of :class:`survhte.inference.AIPCW`)."""

    def compute() -> RResiduals:
        # get_scores checks the estimand (fitted, target, horizon_) and the levels; its
        # scores are cached for the DR loss of the same rows.
        held_out_scores(estimator, X, y, w, settings)
        classes = np.asarray(estimator.classes_)
        model = AIPCW(estimator.target, float(estimator.horizon_), control=classes[0],
                      **settings).fit(X, y, w)
        probabilities = model.propensity_
        if probabilities.ndim == 1:
            probabilities = np.column_stack([1 - probabilities, probabilities])
        codes, _ = check_treatment(w, n_samples=probabilities.shape[0], control=classes[0])
        indicators = (codes[:, None] == np.arange(1, len(model.classes_))).astype(np.float64)
        marginal = np.sum(probabilities * model.arm_outcome_means_, axis=1)
        return RResiduals(model.transformed_outcome_ - marginal,
                          indicators - probabilities[:, 1:])

    return _cached("r", estimator, X, y, w, settings, compute)


def _predictions(estimator: Any, X: Any, n_levels: int) -> np.ndarray:
    tau = _as_columns(estimator.predict(X))
    if tau.shape[1] != n_levels:
        raise ValueError(f"the estimator predicts {tau.shape[1]} effect(s) per row but the rows "
                         f"have {n_levels} treated level(s).")
    return tau


def dr_losses(scores: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row DR losses (averaged over levels) of ``tau`` and of the best constant (the mean
    score of each level), each shape (n,)."""
    scores = _as_columns(scores)
    tau = _as_columns(tau)
    constant = scores.mean(axis=0)
    return (np.mean((scores - tau) ** 2, axis=1),
            np.mean((scores - constant) ** 2, axis=1))


def r_losses(residuals: RResiduals, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row R-losses of ``tau`` and of the best constant (the least-squares effect of the
    treatment residuals on the outcome residuals), each shape (n,)."""
    outcome, treatment = residuals
    tau = _as_columns(tau)
    constant = np.linalg.lstsq(treatment, outcome, rcond=None)[0]
    return ((outcome - np.sum(treatment * tau, axis=1)) ** 2,
            (outcome - treatment @ constant) ** 2)


def dr_loss(
    estimator: Any,
    X: Any,
    y: Any,
    w: Any,
    *,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = 0,
) -> float:
    r"""Doubly robust loss of a fitted CATE estimator on held-out rows of a censored outcome.

    :math:`\frac1{nK}\sum_{i,k} (\Gamma_{ki} - \hat\tau_k(X_i))^2`, averaged over the ``K``
    treated levels, where :math:`\Gamma_{ki}` are the cross-fitted AIPCW scores of the rows
    (:func:`survhte.get_scores`, nuisances fitted on the given rows only) of the estimator's
    ``target`` at its ``horizon_``, vs its control. Since :math:`E[\Gamma_k \mid X] =
    \tau_k(X)`, the loss is the CATE mean squared error plus a term that is the same for
    every estimator of the same rows: lower is better, and differences between estimators
    estimate differences of their MSE (Saito & Yasui 2020; Kennedy 2023).

    Parameters
    ----------
    estimator : fitted survival CATE estimator
        Anything with ``predict``, ``target``, ``horizon_`` and ``classes_``.
    X, y, w : held-out rows (not the rows the estimator was fitted on)
        ``w`` must contain every fitted treatment level; every arm needs follow-up to
        ``horizon_`` and events before it.
    outcome_model, censoring_model, propensity_model, n_folds, random_state
        The nuisances of the scores, as :func:`survhte.doubly_robust_scores`. The default
        ``random_state=0`` fixes the folds, so that estimators scored on the same rows are
        compared against the same scores (they are computed once and reused).

    Returns
    -------
    float

    See Also
    --------
    cate_losses : both losses with the best constant's loss and the improvement over it.
    make_dr_scorer : the loss as a scikit-learn scorer.

    References
    ----------
    Saito, Y. & Yasui, S. (2020). Counterfactual cross-validation: stable model selection
    procedure for causal inference models. *ICML*.
    Kennedy, E. H. (2023). Towards optimal doubly robust estimation of heterogeneous causal
    effects. *Electronic Journal of Statistics*, 17(2), 3008-3049.

    Examples
    --------
    >>> from survhte import TLearner
    >>> from survhte.metrics import dr_loss
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=800, random_state=0)
    >>> est = TLearner(horizon=1.0, random_state=0).fit(d.X[:400], d.y[:400], d.w[:400])
    >>> loss = dr_loss(est, d.X[400:], d.y[400:], d.w[400:])
    """
    settings = _settings(outcome_model, censoring_model, propensity_model, n_folds,
                         random_state)
    scores = held_out_scores(estimator, X, y, w, settings)
    return float(np.mean(dr_losses(scores, _predictions(estimator, X, scores.shape[1]))[0]))


def r_loss(
    estimator: Any,
    X: Any,
    y: Any,
    w: Any,
    *,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = 0,
) -> float:
    r"""R-loss (Nie & Wager 2021) of a fitted CATE estimator on held-out censored rows.

    .. math::

        \frac1n \sum_i \Big(U_i - m(X_i)
            - \sum_{k=1}^K \big(1\{W_i = k\} - e_k(X_i)\big)\,\hat\tau_k(X_i)\Big)^2,

    with :math:`U_i` the augmented IPCW transformation of row ``i``'s censored outcome
    (:math:`E[U \mid X, W = k] = m_k(X)`, the arm's mean of ``min(T, h)`` or ``1{T > h}``),
    :math:`e_k` the generalised propensities and :math:`m = \sum_k e_k m_k`, all cross-fitted
    on the given rows (:class:`survhte.inference.AIPCW`'s ``transformed_outcome_``,
    ``arm_outcome_means_`` and ``propensity_``). The true CATE minimises its expectation;
    unlike the DR loss it weighs rows by :math:`(W - e(X))^2` (the overlap weights) and does
    not divide by the propensity, so it is steadier under poor overlap. Lower is better.

    Parameters
    ----------
    estimator, X, y, w, outcome_model, censoring_model, propensity_model, n_folds, random_state
        As :func:`dr_loss`.

    Returns
    -------
    float

    References
    ----------
    Nie, X. & Wager, S. (2021). Quasi-oracle estimation of heterogeneous treatment effects.
    *Biometrika*, 108(2), 299-319.

    Examples
    --------
    >>> from survhte import TLearner
    >>> from survhte.metrics import r_loss
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=800, random_state=0)
    >>> est = TLearner(horizon=1.0, random_state=0).fit(d.X[:400], d.y[:400], d.w[:400])
    >>> loss = r_loss(est, d.X[400:], d.y[400:], d.w[400:])
    """
    settings = _settings(outcome_model, censoring_model, propensity_model, n_folds,
                         random_state)
    residuals = held_out_residuals(estimator, X, y, w, settings)
    tau = _predictions(estimator, X, residuals.treatment.shape[1])
    return float(np.mean(r_losses(residuals, tau)[0]))


def cate_losses(
    estimator: Any,
    X: Any,
    y: Any,
    w: Any,
    *,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = 0,
) -> pd.DataFrame:
    """DR loss and R-loss of a fitted CATE estimator on held-out rows, against the constant.

    The constant is the best single effect for everyone under each loss on these rows: the
    mean DR score of each level (the held-out AIPCW ATE) for the DR loss, the least-squares
    effect of the treatment residuals for the R-loss. ``improvement = constant_loss - loss``:
    for the DR loss it estimates ``MSE(constant) - MSE(estimator)``, i.e. roughly the
    variance of the true CATE minus the estimator's MSE. A positive improvement several
    ``std_error`` wide says the estimator's heterogeneity predicts better than one average
    effect; zero or negative says it does not (its CATE is mostly noise).

    Parameters
    ----------
    estimator, X, y, w, outcome_model, censoring_model, propensity_model, n_folds, random_state
        As :func:`dr_loss`.

    Returns
    -------
    DataFrame
        Rows ``"dr"`` and ``"r"``; columns ``loss``, ``constant_loss``, ``improvement`` and
        ``std_error`` (of the improvement: the standard deviation of the per-row loss
        differences over ``sqrt(n)``, nuisances and the constant taken as fixed).

    Examples
    --------
    >>> from survhte import TLearner
    >>> from survhte.metrics import cate_losses
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=800, random_state=0)
    >>> est = TLearner(horizon=1.0, random_state=0).fit(d.X[:400], d.y[:400], d.w[:400])
    >>> table = cate_losses(est, d.X[400:], d.y[400:], d.w[400:])
    >>> list(table.columns)
    ['loss', 'constant_loss', 'improvement', 'std_error']
    """
    settings = _settings(outcome_model, censoring_model, propensity_model, n_folds,
                         random_state)
    scores = held_out_scores(estimator, X, y, w, settings)
    residuals = held_out_residuals(estimator, X, y, w, settings)
    tau = _predictions(estimator, X, scores.shape[1])
    rows = {}
    for name, (model, constant) in (("dr", dr_losses(scores, tau)),
                                    ("r", r_losses(residuals, tau))):
        difference = constant - model
        rows[name] = {
            "loss": float(model.mean()),
            "constant_loss": float(constant.mean()),
            "improvement": float(difference.mean()),
            "std_error": float(difference.std(ddof=1) / np.sqrt(difference.size)),
        }
    return pd.DataFrame.from_dict(rows, orient="index")
