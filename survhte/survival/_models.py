"""The base survival-model interface of the survival meta-learners.

A base model is a scikit-learn estimator with

- ``fit(X, time, event, sample_weight=None) -> self``;
- ``predict_survival(X, times) -> ndarray (n, len(times))``: ``S(t | x)``, non-increasing in
  ``t``;
- and, after ``fit``, either ``unique_times_`` (sorted times at which its right-continuous step
  curves may jump: the learners integrate those curves exactly, with no time grid) or a
  ``restricted_mean(X, horizon)`` method (models with continuous curves and a closed-form or
  their own RMST).

:class:`CoxPH`, :class:`WeibullAFT`, :class:`KaplanMeierSurvival`,
:class:`LifelinesSurvivalModel` and :class:`TransformedSurvivalModel` follow it; so will the
survival forest of :mod:`survhte.forest`. Any other object that does plugs in unchanged.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._params import HasMethods
from .._validation import check_covariates, check_time_event

#: The ``_parameter_constraints`` form of a base survival model parameter: an object (not a
#: class) with ``fit`` and ``predict_survival``.
SURVIVAL_MODEL = HasMethods(("fit", "predict_survival"))


@runtime_checkable
class SurvivalModel(Protocol):
    """What a survival meta-learner needs from its base model.

    Examples
    --------
    Any object with these methods is a base model (a structural check, no subclassing):

    >>> from survhte.survival import CoxPH, KaplanMeier, SurvivalModel
    >>> isinstance(CoxPH(), SurvivalModel), isinstance(KaplanMeier(), SurvivalModel)
    (True, False)
    """

    def fit(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> SurvivalModel: ...

    def predict_survival(self, X: np.ndarray, times: np.ndarray) -> np.ndarray: ...


def check_survival_model(model: Any, name: str) -> None:
    """Raise ``TypeError`` naming parameter ``name`` when ``model`` lacks the interface."""
    if not SURVIVAL_MODEL.accepts(model):
        raise TypeError(
            f"{name} must have fit(X, time, event) and predict_survival(X, times); "
            f"got {type(model).__name__}."
        )


def check_fitted_curves(model: Any, name: str) -> None:
    """Raise ``TypeError`` when a fitted model has neither ``unique_times_`` nor
    ``restricted_mean``, so its RMST cannot be computed."""
    if not (hasattr(model, "unique_times_") or hasattr(model, "restricted_mean")):
        raise TypeError(
            f"{name} {type(model).__name__} has neither unique_times_ (jump times of step "
            "curves) nor restricted_mean(X, horizon) after fit: its RMST is undefined."
        )


def check_model_data(X: Any, time: Any, event: Any, sample_weight: Any = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """A base model's validated ``fit`` arguments: ``X``, ``time``, ``event``, ``sample_weight``
    (``None`` stays ``None``); ``ValueError`` when ``time`` and ``X`` differ in rows."""
    X, _ = check_covariates(X)
    time, event, weight = check_time_event(time, event, sample_weight)
    if time.shape[0] != X.shape[0]:
        raise ValueError(f"time has {time.shape[0]} rows but X has {X.shape[0]}.")
    return X, time, event, weight
