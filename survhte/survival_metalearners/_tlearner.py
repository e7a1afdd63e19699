"""Survival T-learner: one survival model per treatment arm."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .._base import SurvivalCATEEstimator
from .._validation import check_covariates, check_time
from ._base_models import CoxPH, SurvivalModel
from ._curves import rmst, survival_at


class SurvivalTLearner(SurvivalCATEEstimator):
    """T-learner for censored outcomes: a separate survival model in each treatment arm.

    For each level ``k`` a copy of ``base_model`` is fitted on the rows with ``W = k`` and gives
    ``S_k(t | x)``. The CATE of level ``k`` vs control (level 0) is

    - ``target="rmst"``: ``tau_k(x) = integral_0^h (S_k - S_0)(t | x) dt
      = E[min(T(k), h) - min(T(0), h) | X = x]``, each curve integrated exactly as a step
      function over its jump times;
    - ``target="survival"``: ``tau_k(x) = S_k(h | x) - S_0(h | x)``.

    Identification needs unconfoundedness, positivity and censoring independent of the event
    time given ``(X, W)``; the estimate is consistent when every arm's model is correctly
    specified (e.g. proportional hazards with a log-linear risk for :class:`CoxPH`).

    Parameters
    ----------
    base_model : survival model, default None
        Unfitted estimator with ``fit(X, time, event)``, ``predict_survival(X, times)`` and,
        after fitting, ``unique_times_`` (see :mod:`survhte.survival_metalearners`). ``None``
        means ``CoxPH()``. It is cloned for every arm and never modified.
    target : {"rmst", "survival"}, default "rmst"
        Estimand: restricted mean survival time difference or survival probability difference.
    horizon : float, default None
        ``h`` above, in the units of the observed times; at most the last observed time of every
        arm. ``None`` uses the smallest, over arms, of each arm's last observed time (survRM2's
        default).
    n_bootstrap : int, default 200
        Bootstrap refits used by :meth:`ate_interval` (0 disables it).
    random_state : int, RandomState or None, default None
        Seeds the bootstrap resampling.

    Attributes
    ----------
    models_ : list of fitted base models
        ``models_[k]`` was fitted on the rows with ``W = classes_[k]``.
    classes_ : ndarray
        Treatment labels; ``classes_[0]`` is the control.
    horizon_ : float
        The horizon used.
    arm_last_time_ : ndarray of shape (K + 1,)
        Each arm's last observed time (the limit of :meth:`predict_survival`).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    The fitted estimator keeps its validated training data (for :meth:`ate` and the bootstrap of
    :meth:`ate_interval`), so a pickle of it contains the covariates and outcomes.

    References
    ----------
    Kuenzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating
    heterogeneous treatment effects using machine learning. *PNAS*, 116(10), 4156-4165.
    Xu, Y., Ignatiadis, N., Sverdrup, E., Fleming, S., Wager, S. & Shah, N. (2023). Treatment
    heterogeneity with survival outcomes. In *Handbook of Matching and Weighting Adjustments for
    Causal Inference*. Chapman & Hall.
    Noroozizadeh, S. et al. (2026). SurvHTE-Bench. ICLR. arXiv:2603.05483.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival_metalearners import SurvivalTLearner
    >>> data = load_rossi()
    >>> est = SurvivalTLearner(horizon=52, n_bootstrap=50, random_state=0)
    >>> est.fit(data.X, data.y, data.w).predict(data.X).shape
    (432,)
    """

    def __init__(
        self,
        base_model: SurvivalModel | None = None,
        *,
        target: str = "rmst",
        horizon: float | None = None,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.base_model = base_model
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def _fit_core(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        base = CoxPH() if self.base_model is None else self.base_model
        if not isinstance(base, SurvivalModel):
            raise TypeError(
                "base_model must have fit(X, time, event) and predict_survival(X, times); "
                f"got {type(base).__name__}."
            )
        models = []
        for code, label in enumerate(self.classes_.tolist()):
            rows = codes == code
            if not event[rows].any():
                raise ValueError(
                    f"treatment arm {label!r} has no events: its survival curve cannot be "
                    "estimated."
                )
            models.append(clone(base).fit(X[rows], time[rows], event[rows]))
        self.models_ = models
        self.arm_last_time_ = np.array([time[codes == code].max() for code in range(len(models))])

    def _arm_outcomes(self, X: np.ndarray) -> np.ndarray:
        """Each arm's RMST or survival probability at the horizon, shape (n, K + 1)."""
        summary = rmst if self.target == "rmst" else survival_at
        return np.column_stack([summary(model, X, self.horizon_) for model in self.models_])

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        outcomes = self._arm_outcomes(X)
        return outcomes[:, 1:] - outcomes[:, [0]]

    def _code(self, level: Any, name: str) -> int:
        """Position of treatment label ``level`` in ``classes_``."""
        matches = np.flatnonzero(self.classes_ == level)
        if matches.size != 1:
            raise ValueError(
                f"{name}={level!r} is not a treatment level; levels are {self.classes_.tolist()}."
            )
        return int(matches[0])

    def predict_survival(self, X: Any, w: Any, times: Any) -> np.ndarray:
        """Predicted survival curves ``S_w(t | x)`` under treatment level ``w``.

        Parameters
        ----------
        X : array-like of shape (n, p)
        w : treatment label
            One of ``classes_``.
        times : array-like of shape (m,)
            Times within arm ``w``'s follow-up (``<= arm_last_time_``).

        Returns
        -------
        ndarray of shape (n, m)
        """
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        code = self._code(w, "w")
        times = check_time(np.atleast_1d(times), name="times")
        last = self.arm_last_time_[code]
        if times.max() > last:
            label = self.classes_.tolist()[code]
            raise ValueError(
                f"times go up to {times.max():g}, beyond the last observed time {last:g} in "
                f"treatment arm {label!r}, where the survival curve is unknown."
            )
        return self.models_[code].predict_survival(X, times)

    def effect(self, X: Any, t0: Any = None, t1: Any = None) -> np.ndarray:
        """CATE of level ``t1`` vs level ``t0`` (same estimand as :meth:`predict`).

        Parameters
        ----------
        X : array-like of shape (n, p)
        t0, t1 : treatment labels, default ``classes_[0]`` and ``classes_[1]``

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        first = 0 if t0 is None else self._code(t0, "t0")
        second = 1 if t1 is None else self._code(t1, "t1")
        outcomes = self._arm_outcomes(X)
        return outcomes[:, second] - outcomes[:, first]
