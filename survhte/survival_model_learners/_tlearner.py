"""Survival T-learner: one survival model per treatment arm."""

from __future__ import annotations

import numpy as np

from ._arm_curves import ArmCurvesLearner, arm_last_times
from ._fitting import arm_summaries, fit_arm_models, prepare_base_model


class SurvivalTLearner(ArmCurvesLearner):
    """T-learner for censored outcomes: a separate survival model in each treatment arm.

    For each level ``k`` a copy of ``base_model`` is fitted on the rows with ``W = k`` and gives
    ``S_k(t | x)``. The CATE of level ``k`` vs control (level 0) is

    - ``target="rmst"``: ``tau_k(x) = integral_0^h (S_k - S_0)(t | x) dt
      = E[min(T(k), h) - min(T(0), h) | X = x]``, each curve integrated exactly (step curves
      over their jump times, continuous ones by the model's ``restricted_mean``);
    - ``target="survival"``: ``tau_k(x) = S_k(h | x) - S_0(h | x)``.

    Identification needs unconfoundedness, positivity and censoring independent of the event
    time given ``(X, W)``; the estimate is consistent when every arm's model is correctly
    specified (e.g. proportional hazards with a log-linear risk for :class:`CoxPH`).

    Parameters
    ----------
    base_model : survival model, default None
        Unfitted estimator with ``fit(X, time, event)``, ``predict_survival(X, times)`` and,
        after fitting, ``unique_times_`` or ``restricted_mean`` (see
        :mod:`survhte.survival_model_learners`). ``None`` means
        :func:`~survhte.survival_model_learners.default_arm_model` (linear Cox at three
        penalties or Weibull AFT, one for every arm, chosen by a cross-validated IPCW Brier
        score up to the horizon). It is cloned for every arm and never modified.
    target : {"rmst", "survival"}, default "rmst"
        Estimand: restricted mean survival time difference or survival probability difference.
    horizon : float, default None
        ``h`` above, in the units of the observed times; at most the last observed time of every
        arm. ``None`` uses the smallest, over arms, of each arm's last observed time (survRM2's
        default).
    calibrate : bool, default True
        Calibrate the CATE toward its average: ``center + b (tau(x) - center)`` per level,
        ``center`` the mean fitted CATE of the training rows and ``b`` the upper one-sided 95%
        confidence bound of the slope of cross-fitted doubly robust (AIPCW) scores on the
        CATE of fits on the other rows (5 folds), clipped to ``[0, 1]``: the spread is
        scaled down only where the held-out slope is significantly below 1 (the difference of
        two separately fitted arm models carries noise that does not cancel). Costs five
        fits on 80% of the rows (held-out CATEs) and a cross-fitted AIPCW (with a survival
        forest as ``base_model``, five forest refits: ``calibrate=False`` saves them);
        bootstrap refits keep the factor. Curves (:meth:`predict_survival`) are never
        calibrated. Measured (CATE MSE / var(tau), mean of seeds 0-2, RMST): four-arm stress design
        (``stress_design("trial_4arm")``) T 1.29 -> 1.02, S 1.00 -> 0.88 (the
        estimated-ATE constant 1.14); ``small_arm`` T 0.63 -> 0.67, S 0.42 -> 0.46;
        SurvHTE-Bench RCT-50 E (n = 2000) T 1.66 -> 1.79, S 0.69 -> 0.71; within 0.01 on
        ``nonlinear``, ``heavy_censoring``, RCT-50 C, OBS-CPS A and D. With the slope itself
        (no upper bound) trial_4arm gained more (T 0.87) but RCT-50 C lost (T 0.65 -> 0.89).
    n_bootstrap : int, default 200
        Bootstrap refits used by :meth:`ate_interval` (0 disables it).
    random_state : int, RandomState or None, default None
        Seeds the bootstrap resampling.
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    models_ : list of fitted base models
        ``models_[k]`` was fitted on the rows with ``W = classes_[k]``.
    classes_ : ndarray
        Treatment labels; ``classes_[0]`` is the control.
    horizon_ : float
        The horizon used.
    calibration_slope_, calibration_center_ : ndarray of shape (K,) or None
        The calibration factor ``b`` and centre of each level (``None`` with
        ``calibrate=False`` or when calibration was not possible, with a warning).
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
    >>> from survhte.survival_model_learners import SurvivalTLearner
    >>> data = load_rossi()
    >>> est = SurvivalTLearner(horizon=52, n_bootstrap=50, random_state=0)
    >>> est.fit(data.X, data.y, data.w).predict(data.X).shape
    (432,)
    """

    def _fit_curves(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        base = prepare_base_model(self.base_model, time, event, codes, self.classes_,
                                  self.horizon_, self.random_state)
        self.models_ = fit_arm_models(base, X, time, event, codes, self.classes_.size)
        self.arm_last_time_ = arm_last_times(time, codes, self.classes_.size)

    def _arm_outcomes(self, X: np.ndarray) -> np.ndarray:
        """Each arm's RMST or survival probability at the horizon, shape (n, K + 1)."""
        return arm_summaries(self.models_, X, self.target, self.horizon_)

    def _arm_survival(self, X: np.ndarray, code: int, times: np.ndarray) -> np.ndarray:
        return self.models_[code].predict_survival(X, times)
