"""Survival S-learner: one survival model with the treatment as a covariate."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..survival import arm_summary
from ._arm_curves import ArmCurvesLearner, arm_last_times
from ._defaults import default_base_model
from ._fitting import fit_curves, prepare_base_model


def with_treatment(X: np.ndarray, code: int | np.ndarray, n_levels: int,
                   interactions: bool = False) -> np.ndarray:
    """``[X, 1{W = 1}, ..., 1{W = K}]``: covariates with the treatment's indicator columns,
    then, with ``interactions``, ``1{W = k} X`` for ``k = 1..K``."""
    codes = np.broadcast_to(code, (X.shape[0],))
    indicators = (codes[:, None] == np.arange(1, n_levels)[None, :]).astype(np.float64)
    columns = [X, indicators]
    if interactions:
        columns += [indicators[:, [k]] * X for k in range(n_levels - 1)]
    return np.column_stack(columns).astype(np.float64)


class SurvivalSLearner(ArmCurvesLearner):
    """S-learner for censored outcomes: one survival model on the covariates and the treatment.

    ``base_model`` is fitted on ``[X, 1{W = 1}, ..., 1{W = K}]`` and gives ``S(t | x, w)``; the
    arm curves are its predictions with the indicators set to each level, and the CATE of level
    ``k`` vs control is ``integral_0^h (S(t | x, k) - S(t | x, 0)) dt`` (``target="rmst"``) or
    ``S(h | x, k) - S(h | x, 0)`` (``target="survival"``).

    Pooling the arms shares strength across them and shrinks the effect towards what the model
    can express through the treatment columns: with a proportional hazards model the hazard
    ratio is constant in ``x`` (the RMST and survival differences still vary with the baseline
    risk). Identification as for :class:`SurvivalTLearner`.

    Parameters
    ----------
    base_model : survival model, default None
        As in :class:`SurvivalTLearner`; ``None`` means
        :func:`~survhte.survival_model_learners.default_base_model`.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        As in :class:`SurvivalTLearner`.
    treatment_interactions : bool, default False
        Also give the base model the products ``1{W = k} x_j``. A tree ensemble then splits
        on effect modification directly; without them its effect at ``x`` comes only from
        the trees that split on ``W`` along ``x``'s path, and shrinks towards 0. On
        SurvHTE-Bench (``censored_forest_model(200)``, RCT-50 / OBS-CPS) they brought the
        CATE MSE / best constant's from 0.51 / 1.21 to 0.30 / 0.42 on scenario C and from
        1.65 / 1.95 to 0.88 / 1.19 on E. The default quadratic Cox model has them already.
    calibrate : bool, default True
        As in :class:`SurvivalTLearner`.
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    model_ : fitted base model
        Fitted on ``[X, treatment indicators]`` (and their products with ``X``).
    calibration_slope_, calibration_center_ : ndarray of shape (K,) or None
        As in :class:`SurvivalTLearner`.
    classes_, horizon_, arm_last_time_, n_features_in_, feature_names_in_
        As in :class:`SurvivalTLearner`.

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
    >>> from survhte.survival_model_learners import SurvivalSLearner
    >>> data = load_rossi()
    >>> est = SurvivalSLearner(horizon=52, n_bootstrap=0).fit(data.X, data.y, data.w)
    >>> est.predict_survival(data.X[:3], 1, [10.0, 52.0]).shape
    (3, 2)
    """

    _parameter_constraints: ClassVar[dict] = {
        **ArmCurvesLearner._parameter_constraints,
        "treatment_interactions": ["boolean"],
    }

    def __init__(
        self,
        base_model: Any = None,
        *,
        target: str = "rmst",
        horizon: float | None = None,
        treatment_interactions: bool = False,
        calibrate: bool = True,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        super().__init__(base_model, target=target, horizon=horizon, calibrate=calibrate,
                         n_bootstrap=n_bootstrap, random_state=random_state, control=control)
        self.treatment_interactions = treatment_interactions

    def _design(self, X: np.ndarray, code: int | np.ndarray) -> np.ndarray:
        return with_treatment(X, code, self.classes_.size, self.treatment_interactions)

    def _fit_curves(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        base = prepare_base_model(self.base_model, time, event, codes, self.classes_,
                                  self.horizon_, self.random_state, default_base_model)
        self.model_ = fit_curves(base, self._design(X, codes), time, event)
        self.arm_last_time_ = arm_last_times(time, codes, self.classes_.size)

    def _arm_outcomes(self, X: np.ndarray) -> np.ndarray:
        n_levels = self.classes_.size
        return np.column_stack([
            arm_summary(self.model_, self._design(X, code), self.target, self.horizon_)
            for code in range(n_levels)
        ])

    def _arm_survival(self, X: np.ndarray, code: int, times: np.ndarray) -> np.ndarray:
        return self.model_.predict_survival(self._design(X, code), times)
