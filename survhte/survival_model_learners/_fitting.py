"""Base survival models inside the learners: the default, checked fits, per-arm summaries.

Every survival meta-learner with a ``base_model`` resolves it, fits clones of it and reads
their curves through these helpers, so the checks and their messages are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._nuisance import check_arm_events, seeded_clone
from ..survival import SelectedSurvivalModel, arm_summary, check_fitted_curves
from ._defaults import default_arm_model


def prepare_base_model(spec: Any, time: np.ndarray, event: np.ndarray, codes: np.ndarray,
                       classes: np.ndarray, horizon: float, random_state: Any = None,
                       default: Callable[[], Any] = default_arm_model) -> Any:
    """``spec`` (``None``: ``default()``, e.g. :func:`default_base_model` for a pooled model
    on ``[X, W]``; its interface was checked by the learner's ``_parameter_constraints``),
    after every treatment arm is checked to have an event up to ``horizon``
    (:func:`check_arm_events`).

    A random base model (a survival forest) whose ``random_state`` is None is seeded from the
    learner's ``random_state``, so a seeded learner is reproducible, as scikit-learn's
    ensembles seed their estimators. A :class:`~survhte.survival.SelectedSurvivalModel`
    without a horizon selects at the learner's.
    """
    check_arm_events(event, time, codes, classes, horizon)
    if spec is None:
        spec = default()
    base = seeded_clone(spec, learner_seed(random_state))
    if isinstance(base, SelectedSurvivalModel) and base.horizon is None:
        base.set_params(horizon=float(horizon))
    return base


def learner_seed(random_state: Any) -> int:
    """An int seed for a learner's random components, drawn from its ``random_state``."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def fit_curves(model: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
               name: str = "base_model") -> Any:
    """A clone of ``model`` fitted on ``(X, time, event)``, checked to give an RMST."""
    fitted = clone(model).fit(X, time, event)
    check_fitted_curves(fitted, name)
    return fitted


def fit_arm_models(base: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                   codes: np.ndarray, n_levels: int) -> list[Any]:
    """One fitted clone of ``base`` per treatment level, on that level's rows.

    A :class:`~survhte.survival.SelectedSurvivalModel` base uses one candidate in every arm:
    the one with the smallest held-out loss summed over the arms' rows. Different models per
    arm add their own, independent errors to the difference of the arms' curves (measured on
    ``stress_design("small_arm")``, seed 0: T-learner CATE RMSE / sd 0.75 with each arm's own
    choice, 0.65 with linear Cox in both).
    """
    arms = [codes == code for code in range(n_levels)]
    models = [fit_curves(base, X[rows], time[rows], event[rows]) for rows in arms]
    if not all(isinstance(model, SelectedSurvivalModel) for model in models):
        return models
    pairs = list(zip(models, arms, strict=True))
    common = set.intersection(*(set(model.cv_losses_) for model in models))
    if not common:  # every arm's candidates failed differently: keep each arm's own
        return models
    total = {name: sum(model.cv_losses_[name] * rows.sum() for model, rows in pairs)
             for name in sorted(common)}
    best = min(total, key=lambda name: np.inf if np.isnan(total[name]) else total[name])
    for model, rows in pairs:
        if model.best_name_ != best:
            model.refit_candidate(best, X[rows], time[rows], event[rows])
    return models


def selected_candidate(base: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                       codes: np.ndarray, n_levels: int) -> Any:
    """``base``, or for a :class:`~survhte.survival.SelectedSurvivalModel` the unfitted
    candidate it chooses on all rows (:func:`fit_arm_models`' joint choice), for learners
    that then cross-fit it: selecting once instead of in every fold cut the R-learner's fit
    on ``stress_design("nonlinear")`` (n = 4,000, 5 folds) several-fold."""
    if not isinstance(base, SelectedSurvivalModel):
        return base
    chosen = fit_arm_models(base, X, time, event, codes, n_levels)[0]
    return chosen.candidates_[chosen.best_name_]


def arm_summaries(models: list[Any], X: np.ndarray, target: str, horizon: float) -> np.ndarray:
    """Each model's RMST or survival probability at ``horizon`` for every row, shape
    (n, len(models))."""
    return np.column_stack([arm_summary(model, X, target, horizon) for model in models])
