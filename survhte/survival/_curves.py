"""Summaries of fitted base models' survival curves: RMST, survival at a horizon, per-row values."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace, device

from .._validation import foreign_namespace, to_namespace, to_numpy

#: Most curve values held in memory at once (rows x times); rows are processed in chunks.
MAX_CHUNK_VALUES = 1 << 22


def model_curves(model: Any, X: Any, times: Any) -> Any:
    """``model.predict_survival(X, times)`` in the namespace and on the device of ``X``.

    A model with ``_keeps_namespace`` (the Kaplan-Meier models) gets ``X`` and ``times`` as
    they are; any other model (CPU-only: Cox, forests, ...) gets host NumPy copies and its
    curves are moved back: the documented boundary.

    Parameters
    ----------
    model : fitted base survival model
    X : array of shape (n, p)
    times : array of shape (q,)

    Returns
    -------
    array of shape (n, q)
        In the namespace and on the device of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.survival import KaplanMeierSurvival, model_curves
    >>> X = np.zeros((2, 1))
    >>> model = KaplanMeierSurvival().fit(X, [1.0, 2.0], [1, 1])
    >>> model_curves(model, X, np.array([1.5])).tolist()
    [[0.5], [0.5]]
    """
    if getattr(model, "_keeps_namespace", False):
        return to_namespace(model.predict_survival(X, times), X)
    return to_namespace(model.predict_survival(to_numpy(X, "X"), to_numpy(times, "times")), X)


def rmst(model: Any, X: np.ndarray, horizon: float) -> np.ndarray:
    """Restricted mean survival time ``integral_0^horizon S(t | x) dt`` of each row's curve.

    When the model has ``unique_times_``, its curve is a right-continuous step function jumping
    only there, and the integral is the exact finite sum
    ``sum_j S(g_j | x) (g_{j+1} - g_j)`` over the grid
    ``g = {0} U {jump times in (0, horizon)}`` closed by ``horizon``. Otherwise the model's
    own ``restricted_mean(X, horizon)`` computes it (e.g. in closed form).

    Array-API inputs keep their namespace: for ``X`` of a non-NumPy array-API library (CuPy,
    ``array_api_strict``, ...) the result is an array of that namespace, on that device; the
    curves of a model that keeps the namespace (:class:`KaplanMeierSurvival` fitted on such
    arrays) are integrated there, those of a CPU-only model (Cox, forests) are computed by it
    and moved.

    Parameters
    ----------
    model : fitted base survival model
    X : ndarray of shape (n, p)
    horizon : float

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import CoxPH, rmst, survival_at
    >>> data = load_rossi()
    >>> model = CoxPH().fit(data.X, data.time, data.event)
    >>> weeks = rmst(model, data.X[:3], horizon=52.0)       # expected weeks free of re-arrest
    >>> bool(((weeks > 0) & (weeks <= 52.0)).all())
    True
    """
    if not hasattr(model, "unique_times_"):
        return _like_X(np.asarray(model.restricted_mean(X, horizon), dtype=np.float64), X)
    jumps = model.unique_times_
    # The namespace of X, else of a model fitted on array-API arrays, else NumPy.
    like = next((part for part in (X, jumps) if foreign_namespace(part) is not None),
                np.asarray(jumps, dtype=np.float64))
    xp = array_namespace(like)
    jumps = xp.astype(to_namespace(model.unique_times_, like), xp.float64)
    dev = device(jumps)
    grid = xp.concat((xp.zeros(1, dtype=xp.float64, device=dev),
                      jumps[(jumps > 0) & (jumps < horizon)]))
    knots = xp.concat((grid, xp.full(1, horizon, dtype=xp.float64, device=dev)))
    widths = knots[1:] - knots[:-1]
    rows = max(1, MAX_CHUNK_VALUES // grid.shape[0])
    n = X.shape[0]
    if like is not X:  # NumPy X: the model's own namespace, as before
        return xp.concat([model.predict_survival(X[start : start + rows], grid) @ widths
                          for start in range(0, n, rows)])
    return xp.concat([model_curves(model, X[start : min(start + rows, n), ...], grid) @ widths
                      for start in range(0, n, rows)])


def _like_X(values: np.ndarray, X: Any) -> Any:
    """Host ``values`` in the namespace and on the device of ``X`` (unchanged for NumPy)."""
    return values if foreign_namespace(X) is None else to_namespace(values, X)


def survival_at(model: Any, X: np.ndarray, horizon: float) -> np.ndarray:
    """Survival probability ``S(horizon | x)`` of each row, shape (n,).

    In the namespace and on the device of ``X`` when it is an array of a non-NumPy array-API
    library (as :func:`rmst`).

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import CoxPH, survival_at
    >>> data = load_rossi()
    >>> model = CoxPH().fit(data.X, data.time, data.event)
    >>> p = survival_at(model, data.X[:3], horizon=52.0)     # P(T > 52 | x)
    >>> bool(((p > 0) & (p < 1)).all())
    True
    """
    if foreign_namespace(X) is None:
        return model.predict_survival(X, np.array([horizon]))[:, 0]
    return model_curves(model, X, to_namespace(np.array([horizon]), X))[:, 0]


def arm_summary(model: Any, X: np.ndarray, target: str, horizon: float) -> np.ndarray:
    """``E[min(T, h) | x]`` (``target="rmst"``) or ``S(h | x)`` (``"survival"``), shape (n,)."""
    return rmst(model, X, horizon) if target == "rmst" else survival_at(model, X, horizon)


def survival_at_rows(model: Any, X: np.ndarray, times: np.ndarray, *,
                     left: bool = False) -> np.ndarray:
    """Each row's own value ``S(t_i | x_i)``, or its left limit ``S(t_i- | x_i)``.

    For a step model (``unique_times_``) the left limit is the value at the last jump strictly
    before ``t_i`` (1 when there is none); a model without ``unique_times_`` is taken to have
    continuous curves, whose left limit is the value. Rows are processed in chunks of at most
    ``2**22`` curve values.

    Parameters
    ----------
    model : fitted base survival model
    X : ndarray of shape (n, p)
    times : ndarray of shape (n,)
    left : bool, default False

    Returns
    -------
    ndarray of shape (n,)
    """
    query, before_first = times, np.zeros(times.shape, dtype=bool)
    if left and hasattr(model, "unique_times_"):
        jumps = np.asarray(model.unique_times_, dtype=np.float64)
        position = np.searchsorted(jumps, times, side="left") - 1
        before_first = position < 0
        previous = jumps[np.maximum(position, 0)] if jumps.size else np.zeros(times.shape)
        query = np.where(before_first, 0.0, previous)
    out = np.empty(times.shape[0])
    rows = max(1, MAX_CHUNK_VALUES // max(1, np.unique(query).size))
    for start in range(0, times.shape[0], rows):
        chunk = slice(start, start + rows)
        grid, index = np.unique(query[chunk], return_inverse=True)
        values = model.predict_survival(X[chunk], grid)
        out[chunk] = values[np.arange(index.size), index]
    return np.where(before_first, 1.0, out)
