"""Survival X-learner: imputed individual effects from the other arm's survival model."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import clone

from .._nuisance import PROPENSITY_CLIP, clip_propensity
from ._effect_regression import OutcomeModelEffectLearner
from ._fitting import arm_summaries, fit_arm_models, prepare_base_model
from ._nuisance import censoring_weights, known_outcome


class SurvivalXLearner(OutcomeModelEffectLearner):
    """X-learner for censored outcomes (Kuenzel et al. 2019; survlearners' ``surv_xl_*``).

    1. A survival model per arm gives ``mu_w(x) = E[f(T(w)) | x]``, with ``f(T) = min(T, h)``
       (``target="rmst"``) or ``1{T > h}`` (``target="survival"``).
    2. Imputed effects on the rows whose ``f(T)`` is observed (an event, or follow-up to
       ``h``): ``D_i = f(Y_i) - mu_0(x_i)`` for treated rows, ``D_i = mu_1(x_i) - f(Y_i)`` for
       controls. Each arm's ``D`` is regressed on ``X`` with ``effect_model``, weighted by the
       inverse probability of censoring ``1 / G(min(Y_i, h)- | x_i, w_i)`` (cross-fitted
       ``censoring_model``) so that the complete cases stand for everyone: ``tau_1(x)``,
       ``tau_0(x)``.
    3. ``tau(x) = e(x) tau_0(x) + (1 - e(x)) tau_1(x)`` with the propensity ``e(x)``.

    Estimand: ``E[f(T(1)) - f(T(0)) | X = x]``. Needs unconfoundedness, positivity and
    censoring independent of ``T`` given ``(X, W)`` with ``G`` correctly modelled.

    Parameters
    ----------
    base_model : survival model, default None
        Per-arm outcome model (``None``: :func:`default_base_model`).
    effect_model : scikit-learn regressor, default None
        Second-stage regressor accepting ``sample_weight`` (``None``:
        :func:`default_effect_model`, a random forest).
    censoring_model : survival model, default None
        Model of ``G(t | x, w)``, fitted on ``[X, W]`` (``None``: :func:`default_censoring_model`,
        ``CoxPH``; ``KaplanMeierSurvival()`` for covariate-independent censoring).
    propensity_model : classifier or float, default None
        ``e(x)`` (``None``: :func:`default_propensity_model`); a number is a known constant
        propensity (randomised trials).
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        As in :class:`SurvivalTLearner`.
    n_folds : int, default 5
        Cross-fitting folds of the censoring model.
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
        Seeds the folds and the bootstrap.
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    models_ : list of two fitted base models (control, treated)
    effect_models_ : list of two fitted regressors (``tau_0``, ``tau_1``)
    propensity_model_ : fitted classifier, or the constant
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Kuenzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating
    heterogeneous treatment effects using machine learning. *PNAS*, 116(10), 4156-4165.
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
        self.models_ = fit_arm_models(base, X, time, event, codes, 2)
        mu = arm_summaries(self.models_, X, self.target, self.horizon_)
        outcome, _ = known_outcome(time, event, self.target, self.horizon_)
        weight = censoring_weights(self._censoring_model(), X, codes, time, event,
                                   self.horizon_, folds)
        treated = codes == 1
        imputed = np.where(treated, outcome - mu[:, 0], mu[:, 1] - outcome)
        self.effect_models_ = [
            self._fit_effect(X, imputed, weight * (codes == code)) for code in (0, 1)
        ]
        propensity = self._propensity_model()
        if isinstance(propensity, Real):
            self.propensity_model_ = float(propensity)
        else:
            self.propensity_model_ = clone(propensity).fit(X, codes)

    def _propensity(self, X: np.ndarray) -> np.ndarray:
        if isinstance(self.propensity_model_, float):
            return np.full(X.shape[0], self.propensity_model_)
        score = self.propensity_model_.predict_proba(X)[:, 1]
        return clip_propensity(score, PROPENSITY_CLIP, stacklevel=5)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        e = self._propensity(X)
        tau0, tau1 = (model.predict(X) for model in self.effect_models_)
        return (e * tau0 + (1 - e) * tau1)[:, None]
