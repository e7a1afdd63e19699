"""Shared plumbing of the imputation meta-learners: outcome, seeds, folds, weighted fits."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace, device
from sklearn import get_config
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter

from .._base import SurvivalCATEEstimator
from .._nuisance import check_arm_events, make_folds, propensity_matrix, seeded_clone
from .._params import HasMethods, Options
from ._cv import calibration_slope
from ._defaults import default_regressor
from ._outcome import IMPUTATIONS, training_outcome

#: Accepted forms of a regressor parameter (``base_learner``, ``effect_learner``).
REGRESSOR = [None, HasMethods(("fit", "predict"))]


def predict_columns(models: list[Any], X: np.ndarray) -> np.ndarray:
    """Each fitted regressor's prediction on ``X`` as a column, shape (n, len(models)), in
    ``X``'s namespace."""
    xp = array_namespace(X)
    return xp.stack([model.predict(X) for model in models], axis=1)


def one_hot(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Indicator matrix ``1{W_i = k}``, shape (n, K + 1), in the namespace of ``codes``."""
    xp = array_namespace(codes)
    levels = xp.arange(n_levels, dtype=codes.dtype, device=device(codes))
    return xp.astype(xp.expand_dims(codes, axis=1) == levels, xp.float64)


def honest(model: Any) -> bool:
    """Whether a fitted regressor predicts its own training rows out of fold."""
    return hasattr(model, "predict_out_of_fold")


def honest_predictions(model: Any, X: np.ndarray, fitted_rows: np.ndarray) -> np.ndarray:
    """``model``'s prediction on every row of ``X``, out of fold on the rows it was fitted on
    (boolean mask ``fitted_rows``, in the order they were passed to ``fit``)."""
    out = model.predict(X)
    out[fitted_rows] = model.predict_out_of_fold(X[fitted_rows])
    return out


def arm_pseudo_outcomes(means: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                        codes: np.ndarray) -> np.ndarray:
    """AIPW pseudo-outcome of each level vs control with the arms' shares as propensities,
    ``weight``-scaled, shape (n, K): the honest signal of the CATE used to calibrate the
    T-, S- and X-learners (``means``: out-of-fold level means, shape (n, K + 1))."""
    n_levels = means.shape[1]
    shares = np.bincount(codes, minlength=n_levels) / codes.size
    augmented = means + one_hot(codes, n_levels) / shares * (outcome[:, None] - means)
    return weight[:, None] * (augmented[:, 1:] - augmented[:, [0]])


class ImputedMetaLearner(SurvivalCATEEstimator):
    """Base of the meta-learners that regress a target-scale outcome of censored data.

    ``fit`` validates (``SurvivalCATEEstimator``), checks each arm's events up to the horizon,
    builds the training outcome and weights (:func:`training_outcome`: an imputation fitted
    within each arm on the training rows, or IPCW complete cases), then calls the subclass's
    ``_fit_learner(X, outcome, weight, codes)``. Subclasses implement that and
    ``_predict_core(X) -> (n, K)``; they store ``imputation``, ``random_state`` and their
    learner parameters, and call :meth:`_regressor` / :meth:`_fit_weighted` for every
    regression so that defaults, seeding and ``sample_weight`` are handled alike.
    Hyperparameters are checked from ``_parameter_constraints`` at ``fit``.
    """

    _parameter_constraints: ClassVar[dict] = {
        **SurvivalCATEEstimator._parameter_constraints,
        "base_learner": REGRESSOR,
        "imputation": [Options(IMPUTATIONS), HasMethods(("fit", "transform", "get_params"))],
    }

    def _fit_core(self, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                  codes: np.ndarray) -> None:
        check_arm_events(event, time, codes, self.classes_, self.horizon_, min_rows=2,
                         model="its imputed outcomes and outcome model")
        self._rng = check_random_state(self.random_state)
        self.calibration_slope_ = self.calibration_center_ = None
        outcome, weight = training_outcome(self.imputation, X, time, event, codes,
                                           self.target, self.horizon_)
        self._fit_learner(X, outcome, weight, codes)
        del self._rng

    def _keep_namespace(self) -> bool:
        """Array-API inputs keep their namespace only under scikit-learn's
        ``array_api_dispatch``, as scikit-learn's own estimators do: only then do its
        regressors accept them (otherwise they are NumPy arrays, as before)."""
        return self._keeps_namespace and bool(get_config().get("array_api_dispatch", False))

    def _seed(self) -> int:
        return int(self._rng.randint(np.iinfo(np.int32).max))

    #: Builds the regressor used where a learner parameter (the key) is ``None``.
    _default_regressors: ClassVar[dict] = {"base_learner": default_regressor,
                                           "effect_learner": default_regressor}

    def _regressor(self, spec: Any, name: str) -> Any:
        """Unfitted, seeded clone of regressor ``spec`` (``None``: the default for ``name``)."""
        model = self._default_regressors[name]() if spec is None else spec
        return seeded_clone(model, self._seed())

    def _fit_weighted(self, spec: Any, name: str, X: np.ndarray, y: np.ndarray,
                      weight: np.ndarray) -> Any:
        """Fit a clone of ``spec`` on the rows with positive weight, passing ``sample_weight``.

        Unit weights are not passed, so a regressor without ``sample_weight`` works where no
        weights are needed; where they are, such a regressor is a ``TypeError`` naming ``name``.
        """
        model = self._regressor(spec, name)
        xp = array_namespace(weight)
        rows = weight > 0
        if not bool(xp.any(rows)):
            raise ValueError(
                f"no training row carries weight for {name}: every outcome is censored before "
                f"horizon={self.horizon_:g}; choose an earlier horizon."
            )
        if bool(xp.all(weight[rows] == 1)):
            return model.fit(X[rows], y[rows])
        if not has_fit_parameter(model, "sample_weight"):
            raise TypeError(
                f"{name} {type(model).__name__} does not accept sample_weight in fit, which "
                f"{type(self).__name__} needs here (IPCW or residual weights); pass a regressor "
                "that does (e.g. HistGradientBoostingRegressor, RandomForestRegressor, Ridge)."
            )
        return model.fit(X[rows], y[rows], sample_weight=weight[rows])

    def _honest_arm_means(self, models: list[Any], X: np.ndarray, weight: np.ndarray,
                          codes: np.ndarray) -> np.ndarray | None:
        """(n, K + 1) level means, each row's own level's out of fold (the other levels' models
        never saw it); ``None`` unless every model predicts out of fold."""
        if not all(honest(model) for model in models):
            return None
        means = predict_columns(models, X)
        for code, model in enumerate(models):
            rows = (codes == code) & (weight > 0)
            means[rows, code] = model.predict_out_of_fold(X[rows])
        return means

    def _calibrate(self, honest_tau: np.ndarray | None, means: np.ndarray | None,
                   outcome: np.ndarray, weight: np.ndarray, codes: np.ndarray,
                   fitted_tau: np.ndarray) -> None:
        """Set ``calibration_slope_`` (K,): the slope of the AIPW pseudo-outcome
        (:func:`arm_pseudo_outcomes`) on the out-of-fold CATE ``honest_tau``, clipped to
        ``[0, 1]``, and ``calibration_center_``: the mean fitted CATE of the training rows.
        ``None`` inputs (a regressor without out-of-fold predictions): no calibration."""
        if honest_tau is None or means is None:
            self.calibration_slope_ = self.calibration_center_ = None
            return
        phi = arm_pseudo_outcomes(means, outcome, weight, codes)
        self.calibration_slope_ = np.array([calibration_slope(phi[:, k], honest_tau[:, k])
                                            for k in range(phi.shape[1])])
        self.calibration_center_ = fitted_tau.mean(axis=0)

    def _half_sample_cate(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                          codes: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Each row's CATE and level means from a fit (``_fit_stages``) on the other half of
        the rows (two folds stratified by level), shapes (n, K) and (n, K + 1): honest for
        learners whose stages reuse each row's outcome (the X-learner). ``(None, None)`` when
        a half cannot be fitted (an arm too small)."""
        n_levels = len(self.classes_)
        tau = np.empty((codes.size, n_levels - 1))
        means = np.empty((codes.size, n_levels))
        try:
            for train, test in make_folds(codes, 2, self._seed(), self.classes_):
                half = clone(self)
                half.classes_, half.horizon_, half._rng = self.classes_, self.horizon_, self._rng
                half.calibration_slope_ = half.calibration_center_ = None
                half._fit_stages(X[train], outcome[train], weight[train], codes[train])
                tau[test] = half._predict_core(X[test])
                means[test] = half._level_means(X[test])
        except ValueError:
            return None, None
        return tau, means

    def _calibrated(self, tau: np.ndarray) -> np.ndarray:
        """``center + slope * (tau - center)`` per level (unchanged without calibration)."""
        if getattr(self, "calibration_slope_", None) is None:
            return tau
        return self.calibration_center_ + self.calibration_slope_ * (tau - self.calibration_center_)

    def _folds(self, codes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Cross-fitting folds stratified by treatment level."""
        return make_folds(codes, self.n_folds, self._seed(), self.classes_)

    def _propensity(self, X: np.ndarray, codes: np.ndarray,
                    folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Cross-fitted ``r_k(X_i)`` of the training rows, shape (n, K + 1), clipped."""
        return propensity_matrix(self.propensity_model, X, codes, len(self.classes_), folds,
                                 self.propensity_clip, self._seed())

    def _arm_means(self, spec: Any, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                   codes: np.ndarray, fold: bool = False) -> list[Any]:
        """One fitted regression of the outcome per treatment level, on that level's rows
        (``fold``: the rows are a cross-fitting training fold). An arm with fewer than 2
        weighted rows is refused by name."""
        models = []
        for code in range(len(self.classes_)):
            rows = codes == code
            n_rows = int(array_namespace(weight).count_nonzero(weight[rows] > 0))
            if n_rows < 2:
                where, remedy = (
                    (f"a cross-fitting training fold (n_folds={self.n_folds})",
                     "lower n_folds or collect more rows of that arm") if fold else
                    ("the training data", "collect more rows of that arm"))
                raise ValueError(
                    f"treatment arm {self.classes_.tolist()[code]!r} has {n_rows} row(s) with a "
                    f"known or imputed outcome in {where}: its outcome regression needs at "
                    f"least 2; {remedy}."
                )
            models.append(self._fit_weighted(spec, "base_learner", X[rows], outcome[rows],
                                             weight[rows]))
        return models


class OneStageLearner(ImputedMetaLearner):
    """Base of the T- and S-learners, whose only regression is the outcome's: their shared
    parameters (documented on each learner)."""

    def __init__(
        self,
        base_learner: Any = None,
        *,
        imputation: Any = "pseudo",
        target: str = "rmst",
        horizon: float | None = None,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_learner = base_learner
        self.imputation = imputation
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control
