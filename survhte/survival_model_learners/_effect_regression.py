"""Shared second stage of the X-, M- and R-learners: weighted regressions of pseudo-effects,
one per treated level, and their nuisances (propensity, censoring, folds)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._base import SurvivalCATEEstimator
from .._nuisance import (
    NUISANCE_CONSTRAINTS,
    PROPENSITY_CLIP,
    make_folds,
    propensity_matrix,
    seeded_clone,
)
from .._params import HasMethods, Interval
from ..survival import SURVIVAL_MODEL, SurvivalModel
from ._defaults import default_censoring_model, default_effect_model
from ._fitting import learner_seed
from ._nuisance import pair_propensities


def estimated(spec: Any) -> bool:
    """Whether propensity spec ``spec`` is a model to fit (``None`` or a classifier), not a
    known design (``"constant"``, a probability, an array of level probabilities)."""
    return spec is None or hasattr(spec, "predict_proba")


class WeightedEffectLearner(SurvivalCATEEstimator):
    """Base of the learners that regress IPCW-weighted pseudo-effects on ``X``, one
    regression (or pair, for the X-learner) per treated level.

    Subclasses store ``effect_model``, ``censoring_model``, ``propensity_model``,
    ``propensity_clip``, ``n_folds`` and ``random_state`` (plus the estimator parameters of
    :class:`SurvivalCATEEstimator`). ``_predict_core`` stacks the fitted ``effect_models_``'
    predictions unless overridden.
    """

    _parameter_constraints: ClassVar[dict] = {
        **SurvivalCATEEstimator._parameter_constraints,
        "effect_model": [None, HasMethods(("fit", "predict"))],
        "censoring_model": [None, SURVIVAL_MODEL],
        "propensity_model": NUISANCE_CONSTRAINTS["propensity_model"],
        "propensity_clip": [Interval(float, 0, 0.5, closed="left")],
        "n_folds": NUISANCE_CONSTRAINTS["n_folds"],
    }

    def _prepare(self, codes: np.ndarray) -> tuple[list, int]:
        """The cross-fitting folds, stratified by arm (an arm smaller than ``n_folds`` is
        refused, naming it), and the seed they were drawn with."""
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return make_folds(codes, self.n_folds, seed, classes=self.classes_), int(seed)

    def _clip(self) -> float | None:
        """``propensity_clip`` for an estimated propensity, ``None`` for a known design."""
        return self.propensity_clip if estimated(self.propensity_model) else None

    def _pair_propensities(self, X: np.ndarray, codes: np.ndarray, folds: list,
                           seed: int) -> np.ndarray:
        """Cross-fitted ``e_k / (e_0 + e_k)`` of every training row, shape (n, K)."""
        probs = propensity_matrix(self.propensity_model, X, codes, self.classes_.size, folds,
                                  0.0, seed)  # unclipped: pair_propensities clips
        return pair_propensities(probs, self._clip())

    def _censoring_model(self) -> Any:
        model = default_censoring_model() if self.censoring_model is None else self.censoring_model
        return seeded_clone(model, learner_seed(self.random_state))

    def _fit_effect(self, X: np.ndarray, target: np.ndarray, weight: np.ndarray) -> Any:
        """Fit a clone of ``effect_model`` to ``target`` on the rows with positive weight."""
        model = default_effect_model() if self.effect_model is None else self.effect_model
        rows = weight > 0
        if not rows.any():
            raise ValueError(
                "no row has a known outcome at the horizon (every row is censored before it); "
                "choose a shorter horizon."
            )
        return clone(model).fit(X[rows], target[rows], sample_weight=weight[rows])

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([model.predict(X) for model in self.effect_models_])


class OutcomeModelEffectLearner(WeightedEffectLearner):
    """Base of the X- and R-learners, which add per-arm outcome models (``base_model``) to the
    nuisances: their shared parameters (documented on each learner)."""

    _parameter_constraints: ClassVar[dict] = {
        **WeightedEffectLearner._parameter_constraints,
        "base_model": [None, SURVIVAL_MODEL],
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
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_model = base_model
        self.effect_model = effect_model
        self.censoring_model = censoring_model
        self.propensity_model = propensity_model
        self.propensity_clip = propensity_clip
        self.target = target
        self.horizon = horizon
        self.n_folds = n_folds
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control
