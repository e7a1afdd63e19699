r"""Augmented IPCW transformation of a censored outcome, on the jump-time grid of the models.

For one treatment arm, with outcome curves :math:`S(t \mid x)`, censoring curves
:math:`G(t \mid x)`, the truncated time :math:`\tilde Y = \min(Y, h)` and the indicator
:math:`\tilde\Delta = 1\{\delta = 1 \text{ or } Y \ge h\}` that :math:`f(T)` is observed
(``f(T) = min(T, h)`` or ``1{T > h}``), the censoring-unbiased transformation is

.. math::

    U = \frac{\tilde\Delta f}{G(\tilde Y-)} + \frac{(1 - \tilde\Delta)\, Q(\tilde Y)}{G(\tilde Y)}
        - \sum_{u_k \in \mathcal{R}} Q(u_k) \Big[\frac{1}{G(u_k)} - \frac{1}{G(u_{k-1})}\Big],

with :math:`Q(u) = E[f(T) \mid T > u, x]` (RMST: :math:`u + \int_u^h S / S(u)`; survival:
:math:`S(h) / S(u)`) and :math:`\mathcal{R}` the grid points where the row was at risk of
censoring: :math:`u_k < \tilde Y`, plus :math:`u_k = \tilde Y` for a censored row (an event
at a censoring time happens first). The increment :math:`1/G(u_k) - 1/G(u_{k-1})` is
:math:`d\Lambda_C(u_k) / G(u_k)` of the continuous-time form (Tsiatis 2006, ch. 9-10; the same
augmentation as the score of Cui et al. 2023); it telescopes, so :math:`U \equiv 1` for
:math:`f \equiv 1` exactly and :math:`E[U \mid x] = E[f(T) \mid x]` when either ``S`` or
``G`` is correct. The grid is every time where ``S`` or ``G`` may jump before ``h``, so the
sums and integrals are exact for step-curve models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Most grid values held in memory at once (rows x grid times); rows are processed in chunks.
_MAX_CHUNK_VALUES = 1 << 22


def _grid(models: list[Any], horizon: float) -> np.ndarray:
    """0 and every jump time of the models' curves in (0, horizon)."""
    jumps = [np.asarray(model.unique_times_, dtype=np.float64) for model in models]
    times = np.concatenate([np.zeros(1), *jumps])
    return np.unique(times[times < horizon])


def _conditional_mean(curves: np.ndarray, tail: np.ndarray, grid: np.ndarray, at_h: np.ndarray,
                      target: str, horizon: float) -> np.ndarray:
    """``Q(u_k) = E[f(T) | T > u_k, x]`` on the grid, from curves ``S(u_k)`` and tails."""
    positive = curves > 0
    safe = np.where(positive, curves, 1.0)
    if target == "rmst":
        ratio = np.where(positive, tail / safe, 0.0)
        return grid + np.minimum(ratio, horizon - grid)
    return np.where(positive, np.minimum(at_h[:, None] / safe, 1.0), 0.0)


def outcome_mean(model: Any, X: np.ndarray, horizon: float, target: str) -> np.ndarray:
    """``m(x) = E[f(T) | x]``: the exact RMST of each step curve, or ``S(h | x)``."""
    grid = _grid([model], horizon)
    out = np.empty(X.shape[0])
    rows = max(1, _MAX_CHUNK_VALUES // (grid.size + 1))
    for start in range(0, X.shape[0], rows):
        curves = model.predict_survival(X[start:start + rows], np.append(grid, horizon))
        if target == "rmst":
            out[start:start + rows] = curves[:, :-1] @ np.diff(np.append(grid, horizon))
        else:
            out[start:start + rows] = curves[:, -1]
    return out


def transformed_outcome(outcome: Any, censoring: Any, X: np.ndarray, time: np.ndarray,
                        event: np.ndarray, horizon: float, target: str,
                        floor: float) -> tuple[np.ndarray, np.ndarray]:
    """The AIPCW transformation ``U`` of each row and whether its ``G`` hit the floor.

    Parameters
    ----------
    outcome, censoring : fitted step-curve models with ``predict_survival`` and
        ``unique_times_`` (``S`` and ``G`` of the rows' treatment arm)
    X, time, event : rows of that arm
    horizon : float
    target : {"rmst", "survival"}
    floor : float
        ``G`` is bounded below by ``floor`` everywhere (the telescoping identity still holds).

    Returns
    -------
    U : ndarray of shape (n,)
    floored : ndarray of bool, shape (n,)
        ``G`` at the row's own time was below ``floor``.
    """
    grid = _grid([outcome, censoring], horizon)
    widths = np.diff(np.append(grid, horizon))
    known = event | (time >= horizon)
    cut = np.minimum(time, horizon)
    if target == "rmst":
        value = cut
    else:
        value = (~(event & (time <= horizon))).astype(np.float64)
    at_right = np.searchsorted(grid, cut, side="right")  # grid points <= Y~ (>= 1: grid[0] = 0)
    at_left = np.searchsorted(grid, cut, side="left")  # grid points < Y~
    n_terms = np.where(known, at_left, at_right)
    transformed = np.empty(time.shape[0])
    floored = np.empty(time.shape[0], dtype=bool)
    rows = max(1, _MAX_CHUNK_VALUES // (grid.size + 1))
    for start in range(0, time.shape[0], rows):
        chunk = slice(start, start + rows)
        r = np.arange(time[chunk].shape[0])
        values = outcome.predict_survival(X[chunk], np.append(grid, horizon))
        curves, at_h = values[:, :-1], values[:, -1]
        tail = np.cumsum((curves * widths)[:, ::-1], axis=1)[:, ::-1]  # integral_{u_k}^h S
        mean_after = _conditional_mean(curves, tail, grid, at_h, target, horizon)
        raw_g = censoring.predict_survival(X[chunk], grid)
        g = np.maximum(raw_g, floor)
        inverse = 1.0 / g
        increments = np.diff(inverse, axis=1, prepend=1.0)  # 1/G(u_k) - 1/G(u_{k-1})
        augmentation = np.concatenate(
            [np.zeros((r.size, 1)), np.cumsum(mean_after * increments, axis=1)], axis=1
        )
        k_right = at_right[chunk] - 1
        k_left = at_left[chunk] - 1
        g_at = g[r, k_right]
        g_before = np.where(k_left >= 0, g[r, np.maximum(k_left, 0)], 1.0)
        # Q at the censoring time itself: the curve is flat from grid[k_right] to Y~.
        y = cut[chunk]
        s_y = curves[r, k_right]
        next_knot = np.append(grid, horizon)[k_right + 1]
        tail_y = s_y * (next_knot - y) + np.append(tail, np.zeros((r.size, 1)), axis=1)[
            r, k_right + 1
        ]
        q_y = _conditional_mean(s_y[:, None], tail_y[:, None], y[:, None], at_h, target,
                               horizon)[:, 0]
        kn = known[chunk]
        transformed[chunk] = (
            np.where(kn, value[chunk] / g_before, q_y / g_at)
            - augmentation[r, n_terms[chunk]]
        )
        raw_own = np.where(kn, np.where(k_left >= 0, raw_g[r, np.maximum(k_left, 0)], 1.0),
                           raw_g[r, k_right])
        floored[chunk] = raw_own < floor
    return transformed, floored
