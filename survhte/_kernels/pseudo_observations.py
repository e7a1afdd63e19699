"""Jackknife pseudo-observations of Kaplan-Meier functionals in O(n log n).

A Kaplan-Meier functional ``theta = integral S(t) dmu(t)`` is either the restricted mean
(``mu`` = Lebesgue measure on ``[0, h]``) or the survival probability ``S(h)`` (``mu`` = a
point mass at ``h``). Its pseudo-observations (Andersen & Perme 2010) are

- leave-one-out, for the rows of the sample: ``theta_i = n theta - (n - 1) theta_(-i)``;
- add-one, for a row outside the sample: ``theta_i = (n + 1) theta_(+i) - n theta``.

Derivation. With unique times ``t_1 < ... < t_m``, ``n_j`` at risk and ``d_j`` events,
``S(t) = prod_{t_j <= t} (1 - d_j / n_j)``. Removing (``s = -1``) or adding (``s = +1``) a
row with time ``y`` and event ``delta`` changes only

- the risk sets before and at ``y``: ``n_j -> n_j + s`` for every ``t_j <= y``;
- the events at ``y``: ``d_y -> d_y + s delta`` (``d_y = 0`` when ``y`` is a new time).

So the perturbed curve is ``Q_s(t)`` (the product with ``n_j + s``) before ``y``; at ``y`` it
takes the factor ``phi = 1 - (d_y + s delta) / (n_y + s)``; after ``y`` it keeps the original
factors: ``S_s(t) = Q_s(y-) phi S(t) / S(y)`` for ``t >= y``. Hence

``theta_s(y) = integral_[0, y) Q_s dmu + Q_s(y-) phi E(y)``,
``E(y) = mu([y, t_next)) + sum_{intervals after y} mu(interval) S / S(y)``,

with one prefix sum of ``mu Q_s`` and one suffix sum of ``mu S`` over the sorted unique times,
evaluated for every query row by ``searchsorted``: one sort plus O(n) elementwise work. The
suffix and prefix sums add non-negative terms only (no cancellation), and ``S(y) = 0`` can
only happen once no time is left after ``y``, where ``E(y) = mu([y, inf))``.

Array-API kernels (NumPy, CuPy, ...). Inputs are assumed validated.

References
----------
Andersen, P. K. & Perme, M. P. (2010). Pseudo-observations in survival analysis. *Statistical
Methods in Medical Research*, 19(1), 71-99.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace, device

from .kaplan_meier import survival_curve
from .risk_table import RiskTable, _reverse_cumulative_sum, risk_table

FUNCTIONALS = ("rmst", "survival")


def _measure(xp: Any, start: Any, stop: Any, horizon: Any, functional: str) -> Any:
    """``mu([start, stop))``: clipped length for ``"rmst"``, ``1{start <= h < stop}`` otherwise."""
    if functional == "survival":
        return xp.astype((start <= horizon) & (horizon < stop), start.dtype)
    return xp.maximum(xp.minimum(stop, horizon) - xp.minimum(start, horizon), xp.zeros_like(start))


def _shifted_table(table: RiskTable, shift: float) -> RiskTable:
    """The risk table with every risk set changed by ``shift`` (events dropped where empty)."""
    xp = array_namespace(table.n_at_risk)
    at_risk = table.n_at_risk + shift
    valid = at_risk > 0
    one = xp.ones_like(at_risk)
    return RiskTable(
        timeline=table.timeline,
        n_at_risk=xp.where(valid, at_risk, one),
        n_events=xp.where(valid, table.n_events, xp.zeros_like(at_risk)),
        n_censored=table.n_censored,
        n_survivors=xp.where(valid, table.n_survivors + shift, one),
    )


def _perturbed_functional(
    table: RiskTable, time: Any, event: Any, horizon: float, functional: str, shift: float
) -> Any:
    """``theta_s(y)`` for each query row ``(y, delta)``: the functional after removing
    (``shift = -1``) or adding (``shift = +1``) that row."""
    xp = array_namespace(table.timeline, time, event)
    dev = device(time)
    dtype = table.timeline.dtype
    one = xp.ones(1, dtype=dtype, device=dev)
    h = xp.asarray(horizon, dtype=dtype, device=dev)
    # Extended step curves: position p holds the value on [knots[p], next_knots[p]).
    knots = xp.concat((xp.zeros(1, dtype=dtype, device=dev), table.timeline))
    next_knots = xp.concat((table.timeline, xp.full(1, xp.inf, dtype=dtype, device=dev)))
    survival = xp.concat((one, survival_curve(table)))
    shifted = xp.concat((one, survival_curve(_shifted_table(table, shift))))
    mass = _measure(xp, knots, next_knots, h, functional)
    tail = _reverse_cumulative_sum(xp, mass * survival)  # tail[p] = sum_{q >= p} mu_q S_q
    head = xp.cumulative_sum(mass * shifted, include_initial=True)  # sum_{q < p} mu_q Q_q

    m = table.timeline.shape[0]
    right = xp.searchsorted(table.timeline, time, side="right")  # times <= y
    left = xp.searchsorted(table.timeline, time, side="left")  # times < y
    before = xp.take(head, right) + xp.take(shifted, right) * _measure(
        xp, xp.take(knots, right), time, h, functional
    )

    on_timeline = left < right
    at = xp.where(left < m, left, xp.zeros_like(left))
    n_y = xp.where(left < m, xp.take(table.n_at_risk, at), xp.zeros_like(time))
    d_y = xp.where(on_timeline, xp.take(table.n_events, at), xp.zeros_like(time))
    numerator = d_y + shift * xp.astype(event, dtype)
    denominator = n_y + shift
    safe = (numerator > 0) & (denominator > 0)
    phi = xp.where(safe, 1.0 - numerator / xp.where(safe, denominator, xp.ones_like(time)),
                   xp.ones_like(time))

    s_y = xp.take(survival, right)
    positive = s_y > 0
    ratio = xp.take(tail, right + 1) / xp.where(positive, s_y, xp.ones_like(s_y))
    after = _measure(xp, time, xp.take(next_knots, right), h, functional) + xp.where(
        positive, ratio, xp.zeros_like(ratio)
    )
    return before + xp.take(shifted, left) * phi * after


def km_functional(table: RiskTable, horizon: float, functional: str) -> Any:
    """Kaplan-Meier restricted mean up to ``horizon`` or survival probability at ``horizon``."""
    xp = array_namespace(table.timeline)
    dtype = table.timeline.dtype
    dev = device(table.timeline)
    one = xp.ones(1, dtype=dtype, device=dev)
    knots = xp.concat((xp.zeros(1, dtype=dtype, device=dev), table.timeline))
    next_knots = xp.concat((table.timeline, xp.full(1, xp.inf, dtype=dtype, device=dev)))
    mass = _measure(xp, knots, next_knots, xp.asarray(horizon, dtype=dtype, device=dev),
                    functional)
    return xp.sum(mass * xp.concat((one, survival_curve(table))))


def jackknife_pseudo_values(time: Any, event: Any, horizon: float, functional: str) -> Any:
    """Leave-one-out pseudo-observations ``n theta - (n - 1) theta_(-i)`` of every row.

    Parameters
    ----------
    time : array of shape (n,), real floating, ``n >= 2``
    event : array of shape (n,), bool
    horizon : float
        ``h``: the restricted-mean horizon or the time of the survival probability.
    functional : {"rmst", "survival"}

    Returns
    -------
    array of shape (n,)
        Equal to the naive n-refit jackknife up to rounding.
    """
    table = risk_table(time, event)
    n = float(time.shape[0])
    theta = km_functional(table, horizon, functional)
    return n * theta - (n - 1.0) * _perturbed_functional(
        table, time, event, horizon, functional, -1.0
    )


def added_pseudo_values(
    train_time: Any, train_event: Any, time: Any, event: Any, horizon: float, functional: str
) -> Any:
    """Pseudo-observations of new rows against a fixed sample: ``(n + 1) theta_(+i) - n theta``.

    ``theta_(+i)`` is the functional of the sample ``(train_time, train_event)`` with row ``i``
    added; only statistics of that sample enter (no row sees another new row).

    Returns
    -------
    array of shape (len(time),)
    """
    table = risk_table(train_time, train_event)
    n = float(train_time.shape[0])
    theta = km_functional(table, horizon, functional)
    return (n + 1.0) * _perturbed_functional(
        table, time, event, horizon, functional, 1.0
    ) - n * theta
