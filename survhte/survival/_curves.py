"""Summaries of fitted base models' survival curves: RMST, survival at a horizon, per-row values."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Most curve values held in memory at once (rows x times); rows are processed in chunks.
MAX_CHUNK_VALUES = 1 << 22


def rmst(model: Any, X: np.ndarray, horizon: float) -> np.ndarray:
    """Restricted mean survival time ``integral_0^horizon S(t | x) dt`` of each row's curve.

    When the model has ``unique_times_``, its curve is a right-continuous step function jumping
    only there, and the integral is the exact finite sum
    ``sum_j S(g_j | x) (g_{j+1} - g_j)`` over the grid
    ``g = {0} U {jump times in (0, horizon)}`` closed by ``horizon``. Otherwise the model's
    own ``restricted_mean(X, horizon)`` computes it (e.g. in closed form).

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
        return np.asarray(model.restricted_mean(X, horizon), dtype=np.float64)
    jumps = np.asarray(model.unique_times_, dtype=np.float64)
    grid = np.concatenate(([0.0], jumps[(jumps > 0) & (jumps < horizon)]))
    widths = np.diff(np.append(grid, horizon))
    rows = max(1, MAX_CHUNK_VALUES // grid.size)
    return np.concatenate(
        [model.predict_survival(X[start : start + rows], grid) @ widths
         for start in range(0, X.shape[0], rows)]
    )


def survival_at(model: Any, X: np.ndarray, horizon: float) -> np.ndarray:
    """Survival probability ``S(horizon | x)`` of each row, shape (n,).

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
    return model.predict_survival(X, np.array([horizon]))[:, 0]


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
