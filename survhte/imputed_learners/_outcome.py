"""The training outcome of the meta-learners: an imputed target, or IPCW-weighted complete cases.

Either way each training row gets an outcome on the target's scale (``min(T, h)`` for RMST,
``1{T > h}`` for survival) and a weight; every regression of the learners uses both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace
from sklearn.base import clone

from .._validation import to_namespace
from ..imputation import IPCWT, IPCWeights, Margin, PseudoObservations, to_target_scale

#: Names accepted by the ``imputation`` parameter.
IMPUTATIONS = ("pseudo", "pseudo-cox", "margin", "ipcwt", "ipcw")
_IMPUTERS = {"pseudo": PseudoObservations, "margin": Margin, "ipcwt": IPCWT}


def make_imputer(spec: Any, target: str, horizon: float) -> Any:
    """Unfitted imputer (or :class:`IPCWeights`) for ``spec`` at the learner's target/horizon.

    An instance is cloned; its ``target``/``horizon`` parameters, where it has them, are set
    to the learner's so that every stage works on the same scale.
    """
    if isinstance(spec, str):
        if spec not in IMPUTATIONS:
            raise ValueError(
                f"imputation must be one of {IMPUTATIONS} or an imputer; got {spec!r}."
            )
        if spec == "ipcw":
            return IPCWeights(censoring="km", horizon=horizon)
        if spec == "pseudo-cox":
            return PseudoObservations(target=target, horizon=horizon, censoring="cox")
        return _IMPUTERS[spec](target=target, horizon=horizon)
    if not (hasattr(spec, "fit") and hasattr(spec, "transform") and hasattr(spec, "get_params")):
        raise TypeError(
            "imputation must be one of "
            f"{IMPUTATIONS}, an imputer with fit(y)/transform(y) or an IPCWeights instance; got "
            f"{type(spec).__name__}."
        )
    params = spec.get_params(deep=False)
    update = {key: value for key, value in (("target", target), ("horizon", horizon))
              if key in params}
    return clone(spec).set_params(**update)


def training_outcome(spec: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                     codes: np.ndarray, target: str, horizon: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and weight of every training row.

    Imputers are fitted within each treatment arm (censoring may differ between arms) on the
    training rows only; training rows get ``fit_transform`` (leave-one-out pseudo-values for
    :class:`PseudoObservations`, which also gets the arm's ``X`` for its censoring model) and
    weight 1. :class:`IPCWeights` gives the observed
    ``f(min(Y, h))`` with weight ``1 / G(min(Y, h)- | x, w)`` where it is known, 0 elsewhere.

    Arrays of a non-NumPy array-API namespace stay there: ``"pseudo"`` (Kaplan-Meier) and
    ``"ipcw"`` (Kaplan-Meier censoring) compute in it; the other imputers run on host copies
    and their outcomes are moved to the namespace and device of ``time``.

    Returns
    -------
    outcome, weight : ndarrays of shape (n,)
    """
    imputer = make_imputer(spec, target, horizon)
    if isinstance(imputer, IPCWeights):
        weight = to_namespace(imputer.fit_transform((time, event), X, codes), time)
        return to_target_scale(time, time, event, target, horizon), weight
    xp = array_namespace(time)
    outcome = xp.empty_like(time)
    levels = xp.unique_values(codes)
    for i in range(levels.shape[0]):
        rows = codes == levels[i]
        if isinstance(imputer, PseudoObservations):  # its censoring model may use X
            values = clone(imputer).fit_transform((time[rows], event[rows]), X[rows])
        else:
            values = clone(imputer).fit_transform((time[rows], event[rows]))
        outcome[rows] = to_namespace(values, time)
    return outcome, xp.ones_like(time)
