"""Summaries of predicted step survival curves: exact RMST and survival at a horizon."""

from __future__ import annotations

import numpy as np

from ._base_models import SurvivalModel

#: Most curve values held in memory at once (rows x jump times); rows are processed in chunks.
_MAX_CHUNK_VALUES = 1 << 22


def rmst(model: SurvivalModel, X: np.ndarray, horizon: float) -> np.ndarray:
    """Restricted mean survival time ``integral_0^horizon S(t | x) dt`` of each row's curve.

    The curve is a right-continuous step function that jumps only at ``model.unique_times_``,
    so the integral is the exact finite sum ``sum_j S(g_j | x) (g_{j+1} - g_j)`` over the grid
    ``g = {0} U {jump times in (0, horizon)}`` closed by ``horizon``.

    Parameters
    ----------
    model : fitted base survival model with ``unique_times_``
    X : ndarray of shape (n, p)
    horizon : float

    Returns
    -------
    ndarray of shape (n,)
    """
    jumps = model.unique_times_
    grid = np.concatenate(([0.0], jumps[(jumps > 0) & (jumps < horizon)]))
    widths = np.diff(np.append(grid, horizon))
    rows = max(1, _MAX_CHUNK_VALUES // grid.size)
    return np.concatenate(
        [model.predict_survival(X[start : start + rows], grid) @ widths
         for start in range(0, X.shape[0], rows)]
    )


def survival_at(model: SurvivalModel, X: np.ndarray, horizon: float) -> np.ndarray:
    """Survival probability ``S(horizon | x)`` of each row, shape (n,)."""
    return model.predict_survival(X, np.array([horizon]))[:, 0]
