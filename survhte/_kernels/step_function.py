"""Right-continuous step functions on a timeline: evaluation, exact area, area variance.

A curve is given by its sorted jump times ``t_1 < ... < t_m`` and its values ``v_j`` on
``[t_j, t_{j+1})``; before ``t_1`` it equals ``initial`` (1 for a survival curve). Array-API
kernels; evaluation costs O(q log m) for q query times.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace, device


def _with_initial(xp: Any, values: Any, initial: float) -> Any:
    """``[initial, v_1, ..., v_m]``: the value on ``[0, t_1)`` then on each ``[t_j, t_{j+1})``."""
    return xp.concat((xp.full(1, initial, dtype=values.dtype, device=device(values)), values))


def step_values(timeline: Any, values: Any, query: Any, initial: float) -> Any:
    """Value of the step function at each query time (right-continuous: ``searchsorted`` right).

    Parameters
    ----------
    timeline : array of shape (m,), sorted, unique
    values : array of shape (m,)
    query : array of shape (q,)
    initial : float
        Value before the first jump.

    Returns
    -------
    array of shape (q,)
        Past ``t_m`` the last value is carried forward.
    """
    xp = array_namespace(timeline, values, query)
    index = xp.searchsorted(timeline, query, side="right")
    return xp.take(_with_initial(xp, values, initial), index)


def restricted_mean(timeline: Any, survival: Any, horizons: Any) -> Any:
    """Exact area ``integral_0^h S(t) dt`` under the survival step curve, for each horizon.

    With knots ``g_0 = 0, g_j = t_j`` and values ``v_0 = 1, v_j = S(t_j)``, the cumulative
    area at knot ``k`` is ``A_k = sum_{j < k} v_j (g_{j+1} - g_j)``; a horizon with ``k`` jump
    times at or before it has area ``A_k + v_k (h - g_k)`` (Royston & Parmar 2013).
    The pieces are summed left to right, as lifelines does.

    Parameters
    ----------
    timeline : array of shape (m,), sorted, unique, non-negative
    survival : array of shape (m,)
    horizons : array of shape (q,), positive

    Returns
    -------
    array of shape (q,)
    """
    xp = array_namespace(timeline, survival, horizons)
    knots = _with_initial(xp, timeline, 0.0)
    heights = _with_initial(xp, survival, 1.0)
    area_to_knot = xp.cumulative_sum(heights[:-1] * (knots[1:] - knots[:-1]), include_initial=True)
    k = xp.searchsorted(timeline, horizons, side="right")
    return xp.take(area_to_knot, k) + xp.take(heights, k) * (horizons - xp.take(knots, k))


def restricted_mean_variance(timeline: Any, survival: Any, terms: Any, horizon: float) -> Any:
    """Greenwood-type variance of the Kaplan-Meier restricted mean up to ``horizon``.

    ``Var = sum_{t_j <= h} a_j^2 terms_j`` with ``a_j = integral_{t_j}^h S(t) dt`` and
    ``terms_j = d_j / (n_j (n_j - d_j))`` the Greenwood increments (Klein & Moeschberger 2003,
    Sec. 4.5, restricted to ``h``; the variance of survRM2's ``rmst1``).

    Parameters
    ----------
    timeline, survival, terms : arrays of shape (m,)
    horizon : float

    Returns
    -------
    0-d array
    """
    xp = array_namespace(timeline, survival, terms)
    end = xp.full_like(timeline, horizon)
    clipped = xp.where(timeline < horizon, timeline, end)
    next_knot = xp.concat((clipped[1:], end[:1]))
    pieces = survival * (next_knot - clipped)
    area_after = xp.flip(xp.cumulative_sum(xp.flip(pieces)))
    return xp.sum(xp.where(timeline <= horizon, area_after**2 * terms, xp.zeros_like(terms)))
