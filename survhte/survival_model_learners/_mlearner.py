"""Survival M-learner: IPCW-weighted modified (transformed) outcome regression."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..survival import SurvivalModel
from ._effect_regression import WeightedEffectLearner
from ._nuisance import censoring_weights, known_outcome, propensity_scores


class SurvivalMLearner(WeightedEffectLearner):
    """M-learner (modified outcome) for censored outcomes, as survlearners' ``surv_fl_*``.

    On the rows whose ``f(T)`` is observed (``f(T) = min(T, h)`` for ``target="rmst"``,
    ``1{T > h}`` for ``"survival"``; an event, or follow-up to ``h``), the modified outcome

    ``Z_i = f(Y_i) (W_i / e(x_i) - (1 - W_i) / (1 - e(x_i)))``

    has ``E[Z | x] = tau(x)`` under unconfoundedness (Athey & Imbens 2016's transformed outcome,
    Signorovitch 2007). ``Z`` is regressed on ``X`` with ``effect_model``, weighted by the
    inverse probability of censoring ``1 / G(min(Y_i, h)- | x_i, w_i)``. Nuisances ``e`` and ``G``
    are cross-fitted. Unbiased but high-variance (inverse propensities); no outcome model.

    Parameters
    ----------
    effect_model : scikit-learn regressor, default None
        Regressor accepting ``sample_weight`` (``None``: :func:`default_effect_model`).
    censoring_model : survival model, default None
        Model of ``G(t | x, w)`` on ``[X, W]`` (``None``: :func:`default_censoring_model`).
    propensity_model : classifier or float, default None
        ``e(x)`` (``None``: :func:`default_propensity_model`); a number is a known constant.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
    n_folds : int, default 5
        Cross-fitting folds of ``e`` and ``G``.
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    effect_model_ : fitted regressor of ``Z``
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Xu, Y., Ignatiadis, N., Sverdrup, E., Fleming, S., Wager, S. & Shah, N. (2023). Treatment
    heterogeneity with survival outcomes. In *Handbook of Matching and Weighting Adjustments for
    Causal Inference*. Chapman & Hall.
    Athey, S. & Imbens, G. (2016). Recursive partitioning for heterogeneous causal effects.
    *PNAS*, 113(27), 7353-7360.
    """

    def __init__(
        self,
        *,
        effect_model: Any = None,
        censoring_model: SurvivalModel | None = None,
        propensity_model: Any = None,
        target: str = "rmst",
        horizon: float | None = None,
        n_folds: int = 5,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.effect_model = effect_model
        self.censoring_model = censoring_model
        self.propensity_model = propensity_model
        self.target = target
        self.horizon = horizon
        self.n_folds = n_folds
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control

    def _fit_core(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        folds = self._prepare(codes)
        e = propensity_scores(self._propensity_model(), X, codes, folds)
        weight = censoring_weights(self._censoring_model(), X, codes, time, event,
                                   self.horizon_, folds)
        outcome, _ = known_outcome(time, event, self.target, self.horizon_)
        modified = outcome * (codes / e - (1 - codes) / (1 - e))
        self.effect_model_ = self._fit_effect(X, modified, weight)
