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

Written against the array API standard: the arithmetic runs in the namespace and on the device
of ``X`` (NumPy, CuPy, ...). Models that keep that namespace (``_keeps_namespace``: the
Kaplan-Meier models) are evaluated on it directly; the others (Cox, forests, ...) on host NumPy
copies, their curves moved to ``X``'s namespace and device
(:func:`survhte.survival.model_curves`).
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace, device

from .._validation import to_namespace
from ..survival import model_curves

#: Most grid values held in memory at once (rows x grid times); rows are processed in chunks.
_MAX_CHUNK_VALUES = 1 << 22


def _grid(models: list[Any], horizon: float, like: Any) -> Any:
    """0 and every jump time of the models' curves in (0, horizon), sorted, in the namespace
    of ``like``."""
    xp = array_namespace(like)
    jumps = [xp.astype(to_namespace(model.unique_times_, like), xp.float64) for model in models]
    times = xp.concat([xp.zeros(1, dtype=xp.float64, device=device(like)), *jumps])
    return xp.sort(xp.unique_values(times[times < horizon]))


def _knots(grid: Any, horizon: float) -> Any:
    """``grid`` closed by ``horizon``."""
    xp = array_namespace(grid)
    return xp.concat((grid, xp.full(1, horizon, dtype=grid.dtype, device=device(grid))))


def _conditional_mean(curves: Any, tail: Any, grid: Any, at_h: Any,
                      target: str, horizon: float) -> Any:
    """``Q(u_k) = E[f(T) | T > u_k, x]`` on the grid, from curves ``S(u_k)`` and tails."""
    xp = array_namespace(curves)
    positive = curves > 0
    safe = xp.where(positive, curves, xp.ones_like(curves))
    if target == "rmst":
        ratio = xp.where(positive, tail / safe, xp.zeros_like(curves))
        return grid + xp.minimum(ratio, horizon - grid)
    ratio = xp.minimum(xp.expand_dims(at_h, axis=1) / safe, xp.ones_like(curves))
    return xp.where(positive, ratio, xp.zeros_like(curves))


def _chunks(n: int, grid: Any) -> list[slice]:
    rows = max(1, _MAX_CHUNK_VALUES // (grid.shape[0] + 1))
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


def outcome_mean(model: Any, X: Any, horizon: float, target: str) -> Any:
    """``m(x) = E[f(T) | x]``: the exact RMST of each step curve, or ``S(h | x)``, in the
    namespace of ``X``."""
    xp = array_namespace(X)
    grid = _grid([model], horizon, X)
    knots = _knots(grid, horizon)
    widths = knots[1:] - knots[:-1]
    out = []
    for chunk in _chunks(X.shape[0], grid):
        curves = model_curves(model, X[chunk, ...], knots)
        out.append(curves[:, :-1] @ widths if target == "rmst" else curves[:, -1])
    return xp.concat(out)


def _at(values: Any, index: Any) -> Any:
    """``values[i, index[i]]`` for every row ``i``."""
    xp = array_namespace(values)
    return xp.take_along_axis(values, xp.expand_dims(index, axis=1), axis=1)[:, 0]


def transformed_outcome(outcome: Any, censoring: Any, X: Any, time: Any,
                        event: Any, horizon: float, target: str,
                        floor: float) -> tuple[Any, Any]:
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
    U : array of shape (n,), in the namespace of ``X``
    floored : array of bool, shape (n,)
        ``G`` at the row's own time was below ``floor``.
    """
    xp = array_namespace(X)
    time, event = to_namespace(time, X), to_namespace(event, X)
    grid = _grid([outcome, censoring], horizon, X)
    knots = _knots(grid, horizon)
    widths = knots[1:] - knots[:-1]
    known = event | (time >= horizon)
    cut = xp.minimum(time, xp.full_like(time, horizon))
    if target == "rmst":
        value = cut
    else:
        value = xp.astype(~(event & (time <= horizon)), xp.float64)
    at_right = xp.searchsorted(grid, cut, side="right")  # grid points <= Y~ (>= 1: grid[0] = 0)
    at_left = xp.searchsorted(grid, cut, side="left")  # grid points < Y~
    n_terms = xp.where(known, at_left, at_right)
    transformed, floored = [], []
    for chunk in _chunks(time.shape[0], grid):
        values = model_curves(outcome, X[chunk, ...], knots)
        curves, at_h = values[:, :-1], values[:, -1]
        # integral_{u_k}^h S, as a reversed cumulative sum
        tail = xp.flip(xp.cumulative_sum(xp.flip(curves * widths, axis=1), axis=1), axis=1)
        mean_after = _conditional_mean(curves, tail, grid, at_h, target, horizon)
        raw_g = model_curves(censoring, X[chunk, ...], grid)
        g = xp.maximum(raw_g, xp.full_like(raw_g, floor))
        inverse = 1.0 / g
        ones = xp.ones_like(inverse[:, :1])
        previous = xp.concat((ones, inverse[:, :-1]), axis=1)
        increments = inverse - previous  # 1/G(u_k) - 1/G(u_{k-1})
        augmentation = xp.cumulative_sum(mean_after * increments, axis=1, include_initial=True)
        k_right = at_right[chunk] - 1
        k_left = at_left[chunk] - 1
        before_first = k_left < 0
        k_left_safe = xp.where(before_first, xp.zeros_like(k_left), k_left)
        g_at = _at(g, k_right)
        g_before = xp.where(before_first, xp.ones_like(g_at), _at(g, k_left_safe))
        # Q at the censoring time itself: the curve is flat from grid[k_right] to Y~.
        y = cut[chunk]
        s_y = _at(curves, k_right)
        next_knot = xp.take(knots, k_right + 1)
        padded_tail = xp.concat((tail, xp.zeros_like(tail[:, :1])), axis=1)
        tail_y = s_y * (next_knot - y) + _at(padded_tail, k_right + 1)
        q_y = _conditional_mean(xp.expand_dims(s_y, axis=1), xp.expand_dims(tail_y, axis=1),
                                xp.expand_dims(y, axis=1), at_h, target, horizon)[:, 0]
        kn = known[chunk]
        transformed.append(
            xp.where(kn, value[chunk] / g_before, q_y / g_at)
            - _at(augmentation, n_terms[chunk])
        )
        raw_own = xp.where(kn, xp.where(before_first, xp.ones_like(g_at),
                                        _at(raw_g, k_left_safe)),
                           _at(raw_g, k_right))
        floored.append(raw_own < floor)
    return xp.concat(transformed), xp.concat(floored)
