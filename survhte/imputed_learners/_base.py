"""Shared plumbing of the imputation meta-learners: outcome, seeds, folds, weighted fits."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter

from .._base import SurvivalCATEEstimator
from .._nuisance import check_arm_events, make_folds, propensity_matrix, seeded_clone
from .._params import HasMethods, Options
from ._defaults import default_regressor
from ._outcome import IMPUTATIONS, training_outcome

#: Accepted forms of a regressor parameter (``base_learner``, ``effect_learner``).
REGRESSOR = [None, HasMethods(("fit", "predict"))]


def predict_columns(models: list[Any], X: np.ndarray) -> np.ndarray:
    """Each fitted regressor's prediction on ``X`` as a column, shape (n, len(models))."""
    return np.column_stack([model.predict(X) for model in models])


def one_hot(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Indicator matrix ``1{W_i = k}``, shape (n, K + 1)."""
    return (codes[:, None] == np.arange(n_levels)).astype(np.float64)


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
        outcome, weight = training_outcome(self.imputation, X, time, event, codes,
                                           self.target, self.horizon_)
        self._fit_learner(X, outcome, weight, codes)
        del self._rng

    def _seed(self) -> int:
        return int(self._rng.randint(np.iinfo(np.int32).max))

    #: Builds the regressor used where a learner parameter is ``None``.
    _default_regressor = staticmethod(default_regressor)

    def _regressor(self, spec: Any, name: str) -> Any:
        """Unfitted, seeded clone of regressor ``spec`` (``None``: ``_default_regressor()``)."""
        model = self._default_regressor() if spec is None else spec
        return seeded_clone(model, self._seed())

    def _fit_weighted(self, spec: Any, name: str, X: np.ndarray, y: np.ndarray,
                      weight: np.ndarray) -> Any:
        """Fit a clone of ``spec`` on the rows with positive weight, passing ``sample_weight``.

        Unit weights are not passed, so a regressor without ``sample_weight`` works where no
        weights are needed; where they are, such a regressor is a ``TypeError`` naming ``name``.
        """
        model = self._regressor(spec, name)
        rows = weight > 0
        if not rows.any():
            raise ValueError(
                f"no training row carries weight for {name}: every outcome is censored before "
                f"horizon={self.horizon_:g}; choose an earlier horizon."
            )
        if np.all(weight[rows] == 1):
            return model.fit(X[rows], y[rows])
        if not has_fit_parameter(model, "sample_weight"):
            raise TypeError(
                f"{name} {type(model).__name__} does not accept sample_weight in fit, which "
                f"{type(self).__name__} needs here (IPCW or residual weights); pass a regressor "
                "that does (e.g. HistGradientBoostingRegressor, RandomForestRegressor, Ridge)."
            )
        return model.fit(X[rows], y[rows], sample_weight=weight[rows])

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
            n_rows = int(np.sum(weight[rows] > 0))
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
