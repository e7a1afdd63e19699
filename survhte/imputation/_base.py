"""Shared plumbing of the outcome imputers: reading ``y``, target and horizon, target scale."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import (
    check_horizon,
    check_survival_outcome,
    check_target,
    foreign_namespace,
    to_namespace,
)


def resolve_horizon(target: str, horizon: Any, time: np.ndarray, *,
                    untruncated: bool) -> float | None:
    """The horizon to use: ``horizon`` checked against the training times.

    ``None`` is allowed for ``target="rmst"``: it means no truncation when ``untruncated``
    (imputed times), otherwise the last observed training time. ``target="survival"`` needs a
    horizon.
    """
    check_target(target)
    if horizon is not None:
        return check_horizon(horizon, time)
    if target == "survival":
        raise ValueError("target='survival' needs a horizon: the time t0 of P(T > t0).")
    return None if untruncated else float(array_namespace(time).max(time))


def like_outcome(values: Any, y: Any) -> Any:
    """``values`` moved to the namespace and device of ``y``'s arrays (unchanged for NumPy
    outcomes): the boundary where a CPU-only censoring model's result returns."""
    parts = y if isinstance(y, tuple) else (y,)
    like = next((part for part in parts if foreign_namespace(part) is not None), None)
    return values if like is None else to_namespace(values, like)


def to_target_scale(imputed: np.ndarray, time: np.ndarray, event: np.ndarray, target: str,
                    horizon: float | None) -> np.ndarray:
    """``min(T*, h)`` (``T*`` when ``h`` is None) or ``1{T* > h}``.

    For ``"survival"``, a row censored at or after ``h`` is known to survive past ``h``: 1.
    """
    xp = array_namespace(imputed)
    if target == "rmst":
        if horizon is None:
            return xp.asarray(imputed, copy=True)
        return xp.minimum(imputed, xp.full_like(imputed, horizon))
    survived = (imputed > horizon) | (~event & (time >= horizon))
    return xp.astype(survived, xp.float64)


class TimeImputer(BaseEstimator):
    """Base of imputers that replace a censored time by a best-guess event time.

    Subclasses implement ``_fit(time, event)`` and ``_impute_censored(time) -> ndarray``.
    """

    def fit(self, y: Any) -> TimeImputer:
        """Learn the imputation from training outcomes.

        Parameters
        ----------
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
            Training outcomes, with at least one event.

        Returns
        -------
        self
        """
        time, event = check_survival_outcome(y, require_event=True)
        self.horizon_ = resolve_horizon(self.target, self.horizon, time, untruncated=True)
        self.n_train_ = time.shape[0]
        self._fit(time, event)
        return self

    def impute_time(self, y: Any) -> np.ndarray:
        """Imputed event time of each row: the observed time for events, a best guess otherwise.

        Only statistics of the training rows enter.

        Parameters
        ----------
        y : survival outcome, any accepted form (rows may all be censored)

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self)
        time, event = check_survival_outcome(y, require_event=False)
        return self._impute(time, event)

    def _impute(self, time: np.ndarray, event: np.ndarray) -> np.ndarray:
        imputed = time.copy()
        imputed[~event] = self._impute_censored(time[~event])
        return imputed

    def transform(self, y: Any) -> np.ndarray:
        """Imputed outcome on the target's scale.

        ``target="rmst"``: ``min(T*, h)`` (``T*`` itself when ``horizon`` is None);
        ``target="survival"``: ``1{T* > h}``, with ``T*`` from :meth:`impute_time`.

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self)
        time, event = check_survival_outcome(y, require_event=False)
        return to_target_scale(self._impute(time, event), time, event, self.target,
                               self.horizon_)

    def fit_transform(self, y: Any) -> np.ndarray:
        """``fit(y).transform(y)``."""
        return self.fit(y).transform(y)
