"""Survival R-learner: IPCW-weighted Robinson residual-on-residual loss."""

from __future__ import annotations

import numpy as np

from ._effect_regression import OutcomeModelEffectLearner
from ._fitting import prepare_base_model
from ._nuisance import arm_outcomes, censoring_weights, known_outcome, propensity_scores


class SurvivalRLearner(OutcomeModelEffectLearner):
    """R-learner for censored outcomes, as survlearners' ``surv_rl_*`` (Xu et al. 2023).

    Minimises the IPCW-weighted Robinson loss over the complete cases (rows whose ``f(T)`` is
    observed: an event, or follow-up to ``h``):

    ``sum_i [known_i / G(min(Y_i, h)- | x_i, w_i)] ((f(Y_i) - m(x_i)) - (W_i - e(x_i)) tau(x_i))^2``

    with ``f(T) = min(T, h)`` (``target="rmst"``) or ``1{T > h}`` (``"survival"``),
    ``m(x) = e(x) mu_1(x) + (1 - e(x)) mu_0(x)`` from one survival model per arm, and the
    propensity ``e``, all cross-fitted (Nie & Wager 2021). Any weighted regressor minimises it
    as the regression of ``(f(Y) - m) / (W - e)`` with weights ``(W - e)^2 / G``. Robust to
    errors in ``m`` (Neyman-orthogonal in ``m`` and ``e``).

    Parameters
    ----------
    base_model : survival model, default None
        Per-arm outcome model for ``m`` (``None``: :func:`default_base_model`).
    effect_model : scikit-learn regressor, default None
        Regressor accepting ``sample_weight`` (``None``: :func:`default_effect_model`).
    censoring_model : survival model, default None
        Model of ``G(t | x, w)`` on ``[X, W]`` (``None``: :func:`default_censoring_model`).
    propensity_model : classifier or float, default None
        ``e(x)`` (``None``: :func:`default_propensity_model`); a number is a known constant.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
    n_folds : int, default 5
        Cross-fitting folds of ``m``, ``e`` and ``G``.
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    effect_model_ : fitted regressor of the Robinson pseudo-outcome
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Nie, X. & Wager, S. (2021). Quasi-oracle estimation of heterogeneous treatment effects.
    *Biometrika*, 108(2), 299-319.
    Xu, Y., Ignatiadis, N., Sverdrup, E., Fleming, S., Wager, S. & Shah, N. (2023). Treatment
    heterogeneity with survival outcomes. In *Handbook of Matching and Weighting Adjustments for
    Causal Inference*. Chapman & Hall.
    """

    def _fit_core(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        folds = self._prepare(codes)
        base = prepare_base_model(self.base_model, event, codes, self.classes_,
                                  self.random_state)
        e = propensity_scores(self._propensity_model(), X, codes, folds)
        mu = arm_outcomes(base, X, time, event, codes, self.target, self.horizon_, folds)
        m = e * mu[:, 1] + (1 - e) * mu[:, 0]
        weight = censoring_weights(self._censoring_model(), X, codes, time, event,
                                   self.horizon_, folds)
        outcome, _ = known_outcome(time, event, self.target, self.horizon_)
        residual = codes - e
        self.effect_model_ = self._fit_effect(X, (outcome - m) / residual, weight * residual**2)
