"""Shared second stage of the X-, M- and R-learners: weighted regressions of pseudo-effects."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.utils import check_random_state

from .._base import SurvivalCATEEstimator
from .._nuisance import check_n_folds, make_folds, seeded_clone
from ..survival import SurvivalModel
from ._defaults import default_censoring_model, default_effect_model, default_propensity_model
from ._fitting import learner_seed
from ._nuisance import check_binary


class WeightedEffectLearner(SurvivalCATEEstimator):
    """Base of the learners that regress IPCW-weighted pseudo-effects on ``X`` (binary ``w``).

    Subclasses store ``effect_model``, ``censoring_model``, ``propensity_model``, ``n_folds``
    and ``random_state`` (plus the estimator parameters of :class:`SurvivalCATEEstimator`).
    ``_predict_core`` is the fitted ``effect_model_``'s prediction unless overridden.
    """

    def _prepare(self, codes: np.ndarray) -> list:
        """Check the treatment and parameters; return the cross-fitting folds."""
        check_binary(self.classes_, type(self).__name__)
        n_folds = check_n_folds(self.n_folds)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return make_folds(codes, n_folds, seed)

    def _censoring_model(self) -> Any:
        model = default_censoring_model() if self.censoring_model is None else self.censoring_model
        if not hasattr(model, "get_params"):
            return model  # not clonable: check_survival_model names the problem
        return seeded_clone(model, learner_seed(self.random_state))

    def _propensity_model(self) -> Any:
        return (default_propensity_model() if self.propensity_model is None
                else self.propensity_model)

    def _fit_effect(self, X: np.ndarray, target: np.ndarray, weight: np.ndarray) -> Any:
        """Fit a clone of ``effect_model`` to ``target`` on the rows with positive weight."""
        model = default_effect_model() if self.effect_model is None else self.effect_model
        if not (is_regressor(model) or hasattr(model, "predict")):
            raise TypeError(
                f"effect_model must be a scikit-learn regressor; got {type(model).__name__}."
            )
        rows = weight > 0
        if not rows.any():
            raise ValueError(
                "no row has a known outcome at the horizon (every row is censored before it); "
                "choose a shorter horizon."
            )
        return clone(model).fit(X[rows], target[rows], sample_weight=weight[rows])

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return self.effect_model_.predict(X)[:, None]


class OutcomeModelEffectLearner(WeightedEffectLearner):
    """Base of the X- and R-learners, which add per-arm outcome models (``base_model``) to the
    nuisances: their shared parameters (documented on each learner)."""

    def __init__(
        self,
        base_model: SurvivalModel | None = None,
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
        self.base_model = base_model
        self.effect_model = effect_model
        self.censoring_model = censoring_model
        self.propensity_model = propensity_model
        self.target = target
        self.horizon = horizon
        self.n_folds = n_folds
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control
