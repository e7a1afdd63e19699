"""Survival R-learner: IPCW-weighted Robinson residual-on-residual loss; for K arms pairwise or
the joint R-loss of Acharki et al. (2023)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._nuisance import PROPENSITY_CLIP, propensity_matrix
from .._params import Options
from .._rloss import backfit, fit_stacked, linear_parts
from ..survival import SurvivalModel
from ._effect_regression import OutcomeModelEffectLearner
from ._fitting import prepare_base_model, selected_candidate
from ._nuisance import arm_outcomes, censoring_weights, known_outcome


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

    With treatment levels ``0..K``:

    - ``multi_arm="pairwise"`` (default): level ``k``'s effect is this binary R-learner on
      the rows of levels 0 and ``k`` (``W = 1{level k}``) with the propensity
      ``e_k / (e_0 + e_k)`` from the generalised propensity of all levels and
      ``m_k = e mu_k + (1 - e) mu_0`` on those rows (the multi-level forests of
      :mod:`survhte.forest` do the same);
    - ``multi_arm="joint"``: Acharki et al. (2023)'s joint R-loss over all rows,
      ``sum_i omega_i (f(Y_i) - m(x_i) - sum_k (1{W_i = k} - e_k(x_i)) tau_k(x_i))^2`` with
      ``m = sum_k e_k mu_k`` (all levels) and the clipped generalised propensity ``e_k``:
      one stacked least-squares fit when ``effect_model`` is linear in a fixed basis (a
      ``sklearn.linear_model`` regressor, alone or last in a ``Pipeline``), backfitting over
      the levels otherwise, started from the joint linear solve on ``[1, X]``
      (:mod:`survhte._rloss`; as :class:`~survhte.imputed_learners.RLearner`).

    With one treated level both are the binary R-learner, bit for bit.

    Parameters
    ----------
    base_model : survival model, default None
        Per-arm outcome model for ``m`` (``None``: :func:`default_arm_model`, chosen once on
        all rows, then cross-fitted).
    effect_model : scikit-learn regressor, default None
        Regressor accepting ``sample_weight`` (``None``: :func:`default_effect_model`, a
        forest shrunk toward the average effect).
    censoring_model : survival model, default None
        Model of ``G(t | x, w)`` on ``[X, W]`` (``None``: :func:`default_censoring_model`).
    propensity_model : classifier, "constant", float or array, default None
        Generalised propensity ``e_k(x) = P(W = k | x)``: a classifier with ``predict_proba``
        (``None``: :func:`default_propensity_model`), cross-fitted, or a known design:
        ``"constant"`` (each arm's share of the rows), a number (``P(W = classes_[1])`` of a
        binary treatment) or one probability per level.
    propensity_clip : float, default 0.01
        Estimated propensities are clipped to ``[propensity_clip, 1 - propensity_clip]``,
        with a warning naming the share of rows clipped (poor overlap).
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
    n_folds : int, default 5
        Cross-fitting folds of ``m``, ``e`` and ``G``.
    multi_arm : {"pairwise", "joint"}, default "pairwise"
        The ``K > 1`` form (above); ignored for a binary treatment.
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    effect_models_ : list of K fitted regressors of the Robinson pseudo-outcome, one per
        treated level (the joint linear solve: ``LevelEffect`` objects)
    joint_model_ : fitted linear model of the stacked design, or None
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Nie, X. & Wager, S. (2021). Quasi-oracle estimation of heterogeneous treatment effects.
    *Biometrika*, 108(2), 299-319.
    Xu, Y., Ignatiadis, N., Sverdrup, E., Fleming, S., Wager, S. & Shah, N. (2023). Treatment
    heterogeneity with survival outcomes. In *Handbook of Matching and Weighting Adjustments for
    Causal Inference*. Chapman & Hall.
    Acharki, N., Lugo, R., Bertoncello, A. & Garnier, J. (2023). Comparison of meta-learners
    for estimating multi-valued treatment heterogeneous effects. *ICML*, PMLR 202.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival_model_learners import SurvivalRLearner
    >>> data = load_rossi()
    >>> est = SurvivalRLearner(horizon=52, n_bootstrap=0, random_state=0)
    >>> est.fit(data.X, data.y, data.w).predict(data.X).shape
    (432,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **OutcomeModelEffectLearner._parameter_constraints,
        "multi_arm": [Options({"pairwise", "joint"})],
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
        multi_arm: str = "pairwise",
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        super().__init__(base_model, effect_model=effect_model, censoring_model=censoring_model,
                         propensity_model=propensity_model, propensity_clip=propensity_clip,
                         target=target, horizon=horizon, n_folds=n_folds,
                         n_bootstrap=n_bootstrap, random_state=random_state, control=control)
        self.multi_arm = multi_arm

    def _fit_core(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        folds, seed = self._prepare(codes)
        base = prepare_base_model(self.base_model, time, event, codes, self.classes_,
                                  self.horizon_, self.random_state)
        base = selected_candidate(base, X, time, event, codes, self.classes_.size)
        joint = self.multi_arm == "joint" and self.classes_.size > 2
        if joint:
            clip = self._clip()
            probs = propensity_matrix(self.propensity_model, X, codes, self.classes_.size,
                                      folds, 0.0 if clip is None else clip, seed)
        else:
            share = self._pair_propensities(X, codes, folds, seed)
        mu = arm_outcomes(base, X, time, event, codes, self.target, self.horizon_, folds)
        weight = censoring_weights(self._censoring_model(), X, codes, time, event,
                                   self.horizon_, folds)
        outcome, _ = known_outcome(time, event, self.target, self.horizon_)
        self.joint_model_ = None
        if joint:
            self._fit_joint(X, outcome - (probs * mu).sum(axis=1),
                            (codes[:, None] == np.arange(1, self.classes_.size)) - probs[:, 1:],
                            weight)
            return
        self.effect_models_ = []
        for k in range(share.shape[1]):
            e = share[:, k]
            m = e * mu[:, k + 1] + (1 - e) * mu[:, 0]
            residual = (codes == k + 1).astype(np.float64) - e
            pair = (codes == 0) | (codes == k + 1)
            self.effect_models_.append(self._fit_effect(
                X, (outcome - m) / residual, np.where(pair, weight * residual**2, 0.0)))

    def _fit_joint(self, X: np.ndarray, residual: np.ndarray, exposure: np.ndarray,
                   weight: np.ndarray) -> None:
        """The joint R-loss: stacked linear solve, or backfitting (:mod:`survhte._rloss`)."""
        parts = None if self.effect_model is None else linear_parts(self.effect_model)
        if parts is not None:
            self.joint_model_, self.effect_models_ = fit_stacked(parts, X, residual, exposure,
                                                                 weight)
            return
        self.effect_models_ = backfit(lambda target, w: self._fit_effect(X, target, w),
                                      X, residual, exposure, weight)
