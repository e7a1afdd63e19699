"""Survival X-learner: imputed individual effects from the other arm's survival model."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._nuisance import PROPENSITY_CLIP, fit_propensity, predict_propensity
from .._params import Options
from ..survival import SurvivalModel
from ._defaults import default_outcome_model
from ._effect_regression import OutcomeModelEffectLearner
from ._fitting import arm_summaries, fit_arm_models, prepare_base_model
from ._nuisance import censoring_weights, known_outcome, pair_propensities


class SurvivalXLearner(OutcomeModelEffectLearner):
    """X-learner for censored outcomes (Kuenzel et al. 2019; survlearners' ``surv_xl_*``), with
    treatment levels ``0..K`` as in Acharki et al. (2023).

    1. A survival model per arm gives ``mu_w(x) = E[f(T(w)) | x]``, with ``f(T) = min(T, h)``
       (``target="rmst"``) or ``1{T > h}`` (``target="survival"``).
    2. For each treated level ``k``, imputed effects on the rows whose ``f(T)`` is observed
       (an event, or follow-up to ``h``): ``D_i = f(Y_i) - mu_0(x_i)`` on the rows of level
       ``k``, ``D_i = mu_k(x_i) - f(Y_i)`` on the controls. Each arm's ``D`` is regressed on
       ``X`` with ``effect_model``, weighted by the inverse probability of censoring
       ``1 / G(min(Y_i, h)- | x_i, w_i)`` (cross-fitted ``censoring_model``) so that the
       complete cases stand for everyone: ``tau_{k,k}(x)`` and ``tau_{k,0}(x)``.
    3. ``tau_k(x) = g_k(x) tau_{k,0}(x) + (1 - g_k(x)) tau_{k,k}(x)`` with the generalised
       propensities' pair share ``g_k = e_k / (e_0 + e_k)`` (``e(x)`` of a binary treatment),
       which leans on the regression fitted in the larger of the two arms at ``x``.

    Estimand: ``E[f(T(k)) - f(T(0)) | X = x]`` for each treated level ``k``. Needs
    unconfoundedness, positivity and censoring independent of ``T`` given ``(X, W)`` with
    ``G`` correctly modelled.

    Parameters
    ----------
    base_model : survival model, default None
        Per-arm outcome model (``None``: :func:`default_outcome_model`).
    effect_model : scikit-learn regressor, default None
        Second-stage regressor accepting ``sample_weight`` (``None``:
        :func:`default_effect_model`, a random forest shrunk toward the average effect).
    censoring_model : survival model, default None
        Model of ``G(t | x, w)``, fitted on ``[X, W]`` (``None``: :func:`default_censoring_model`,
        ``CoxPH``; ``KaplanMeierSurvival()`` for covariate-independent censoring).
    propensity_model : classifier, "constant", float or array, default None
        Generalised propensity ``e_k(x) = P(W = k | x)``: a classifier with ``predict_proba``
        fitted on ``(X, W)`` (``None``: :func:`default_propensity_model`), or a known design
        (randomised trials): ``"constant"`` (each arm's share of the rows), a number
        (``P(W = classes_[1])`` of a binary treatment) or one probability per level.
    propensity_clip : float, default 0.01
        Estimated propensities are clipped to ``[propensity_clip, 1 - propensity_clip]``,
        with a warning naming the share of rows clipped (poor overlap).
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        As in :class:`SurvivalTLearner`.
    n_folds : int, default 5
        Cross-fitting folds of the censoring model.
    multi_arm : {"naive", "all_units"}, default "naive"
        The ``K > 1`` form (above); ignored for a binary treatment.
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
        Seeds the folds and the bootstrap.
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    models_ : list of K + 1 fitted base models, one per level
    effect_models_ : list of K pairs of fitted regressors
        ``effect_models_[k - 1]`` is (``tau_{k,0}``, ``tau_{k,k}``); all units: one fitted
        regressor per treated level.
    propensity_model_ : fitted classifier, the known level probabilities (K + 1,), or None
        (all units)
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Kuenzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating
    heterogeneous treatment effects using machine learning. *PNAS*, 116(10), 4156-4165.
    Xu, Y., Ignatiadis, N., Sverdrup, E., Fleming, S., Wager, S. & Shah, N. (2023). Treatment
    heterogeneity with survival outcomes. In *Handbook of Matching and Weighting Adjustments for
    Causal Inference*. Chapman & Hall.
    Acharki, N., Lugo, R., Bertoncello, A. & Garnier, J. (2023). Comparison of meta-learners
    for estimating multi-valued treatment heterogeneous effects. *ICML*, PMLR 202.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival_model_learners import SurvivalXLearner
    >>> data = load_rossi()
    >>> est = SurvivalXLearner(horizon=52, n_bootstrap=0, random_state=0)
    >>> est.fit(data.X, data.y, data.w).predict(data.X).shape
    (432,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **OutcomeModelEffectLearner._parameter_constraints,
        "multi_arm": [Options({"naive", "all_units"})],
    }

    def __init__(
        self,
        base_model: SurvivalModel | None = None,
        *,
        effect_model: Any = None,
        censoring_model: SurvivalModel | None = None,
        propensity_model: Any = None,
        propensity_clip: float = PROPENSITY_CLIP,
        target: str = "rmst",
        horizon: float | None = None,
        n_folds: int = 5,
        multi_arm: str = "naive",
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        super().__init__(base_model, effect_model=effect_model, censoring_model=censoring_model,
                         propensity_model=propensity_model, propensity_clip=propensity_clip,
                         target=target, horizon=horizon, n_folds=n_folds,
                         n_bootstrap=n_bootstrap, random_state=random_state, control=control)
        self.multi_arm = multi_arm

    def _all_units(self) -> bool:
        return self.multi_arm == "all_units" and self.classes_.size > 2

    def _fit_core(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        folds, seed = self._prepare(codes)
        base = prepare_base_model(self.base_model, time, event, codes, self.classes_,
                                  self.horizon_, self.random_state, default_outcome_model)
        n_levels = self.classes_.size
        self.models_ = fit_arm_models(base, X, time, event, codes, n_levels)
        mu = arm_summaries(self.models_, X, self.target, self.horizon_)
        outcome, _ = known_outcome(time, event, self.target, self.horizon_)
        weight = censoring_weights(self._censoring_model(), X, codes, time, event,
                                   self.horizon_, folds)
        self.effect_models_ = []
        if self._all_units():
            own = mu[np.arange(codes.size), codes]
            for level in range(1, n_levels):
                imputed = np.where(codes == level, outcome - mu[:, 0],
                                   mu[:, level] - outcome + own - mu[:, 0])
                self.effect_models_.append(self._fit_effect(X, imputed, weight))
            self.propensity_model_ = None
            return
        for level in range(1, n_levels):
            imputed = np.where(codes == level, outcome - mu[:, 0], mu[:, level] - outcome)
            self.effect_models_.append([
                self._fit_effect(X, imputed, weight * (codes == code)) for code in (0, level)
            ])
        self.propensity_model_ = fit_propensity(self.propensity_model, X, codes, n_levels,
                                                seed)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        if self._all_units():
            return np.column_stack([model.predict(X) for model in self.effect_models_])
        probs = predict_propensity(self.propensity_model_, X, self.classes_.size)
        share = pair_propensities(probs, self._clip())
        return np.column_stack([
            share[:, k] * tau0.predict(X) + (1 - share[:, k]) * tau1.predict(X)
            for k, (tau0, tau1) in enumerate(self.effect_models_)
        ])
