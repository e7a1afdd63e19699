"""Base survival models inside the learners: the default, checked fits, per-arm summaries.

Every survival meta-learner with a ``base_model`` resolves it, fits clones of it and reads
their curves through these helpers, so the checks and their messages are the same everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._nuisance import check_arm_events, seeded_clone
from ..survival import arm_summary, check_fitted_curves
from ._defaults import default_base_model


def prepare_base_model(spec: Any, time: np.ndarray, event: np.ndarray, codes: np.ndarray,
                       classes: np.ndarray, horizon: float, random_state: Any = None) -> Any:
    """``spec`` (``None``: :func:`default_base_model`; its interface was checked by the
    learner's ``_parameter_constraints``), after every treatment arm is checked to have an
    event up to ``horizon`` (:func:`check_arm_events`).

    A random base model (a survival forest) whose ``random_state`` is None is seeded from the
    learner's ``random_state``, so a seeded learner is reproducible, as scikit-learn's
    ensembles seed their estimators.
    """
    check_arm_events(event, time, codes, classes, horizon)
    base = default_base_model() if spec is None else spec
    return seeded_clone(base, learner_seed(random_state))


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
    """One fitted clone of ``base`` per treatment level, on that level's rows."""
    return [fit_curves(base, X[rows], time[rows], event[rows])
            for rows in (codes == code for code in range(n_levels))]


def arm_summaries(models: list[Any], X: np.ndarray, target: str, horizon: float) -> np.ndarray:
    """Each model's RMST or survival probability at ``horizon`` for every row, shape
    (n, len(models))."""
    return np.column_stack([arm_summary(model, X, target, horizon) for model in models])
