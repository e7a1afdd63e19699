"""Risk table of right-censored data: at-risk, event and censoring totals per unique time.

Array-API kernel: written once against ``array_api_compat.array_namespace`` so the same code
runs on NumPy and CuPy arrays. Cost O(n log n): one sort by time, then cumulative sums.

Inputs are assumed validated by the public layer (float times, finite and >= 0; boolean events;
finite non-negative weights).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from array_api_compat import array_namespace, device


class RiskTable(NamedTuple):
    """Weighted counts at each unique observed time (the union of event and censoring times).

    All rows that share a time share one risk set: events and censorings at a tied time are
    both counted at risk there, i.e. events are taken to precede censorings (the convention of
    Kaplan & Meier 1958 and lifelines).

    Attributes
    ----------
    timeline : array of shape (m,)
        Sorted unique observed times ``t_1 < ... < t_m``.
    n_at_risk : array of shape (m,)
        ``n_j``: total weight of rows with time ``>= t_j``.
    n_events : array of shape (m,)
        ``d_j``: total weight of event rows with time ``== t_j``.
    n_censored : array of shape (m,)
        ``c_j``: total weight of censored rows with time ``== t_j``.
    n_survivors : array of shape (m,)
        ``n_j - d_j``, computed as ``c_j + n_{j+1}`` so that it is exactly zero when every
        row still at risk has its event at ``t_j`` (no cancellation error with float weights).
    """

    timeline: Any
    n_at_risk: Any
    n_events: Any
    n_censored: Any
    n_survivors: Any


def _reverse_cumulative_sum(xp: Any, x: Any) -> Any:
    """``out[i] = sum(x[i:])`` for ``i = 0..len(x)``; ``out[len(x)] = 0``."""
    return xp.flip(xp.cumulative_sum(xp.flip(x), include_initial=True))


def risk_table(time: Any, event: Any, weight: Any | None = None) -> RiskTable:
    """Weighted risk table of right-censored data.

    Parameters
    ----------
    time : array of shape (n,), real floating dtype
        Observed times ``min(T, C)``.
    event : array of shape (n,), bool
        ``True`` where the event was observed, ``False`` where the row is censored.
    weight : array of shape (n,), same dtype as ``time``, optional
        Case weights; ``None`` means one per row.

    Returns
    -------
    RiskTable
        Arrays in the namespace and on the device of ``time``.
    """
    if weight is None:
        return _unweighted_risk_table(time, event)
    xp = array_namespace(time, event, weight)
    # Rows tied in time are summed into one block, so their order within the block only
    # changes the floating-point summation order of weights: an unstable sort suffices,
    # and is about 4x faster than a stable one for NumPy at n = 1e6.
    order = xp.argsort(time, stable=False)
    sorted_time = xp.take(time, order)
    row_weight = xp.take(weight, order)
    event_weight = row_weight * xp.astype(xp.take(event, order), time.dtype)

    starts, ends = _tie_blocks(xp, sorted_time)
    after_ends = ends + 1
    cum_events = xp.cumulative_sum(event_weight, include_initial=True)
    cum_censored = xp.cumulative_sum(row_weight - event_weight, include_initial=True)
    n_events = xp.take(cum_events, after_ends) - xp.take(cum_events, starts)
    n_censored = xp.take(cum_censored, after_ends) - xp.take(cum_censored, starts)

    at_risk_from = _reverse_cumulative_sum(xp, row_weight)
    return RiskTable(
        timeline=xp.take(sorted_time, ends),
        n_at_risk=xp.take(at_risk_from, starts),
        n_events=n_events,
        n_censored=n_censored,
        n_survivors=xp.take(at_risk_from, after_ends) + n_censored,
    )


def _tie_blocks(xp: Any, sorted_time: Any) -> tuple[Any, Any]:
    """First and last sorted positions of each block of tied times."""
    dev = device(sorted_time)
    last_of_block = xp.concat(
        (sorted_time[1:] != sorted_time[:-1], xp.ones(1, dtype=xp.bool, device=dev))
    )
    ends = xp.nonzero(last_of_block)[0]
    starts = xp.concat((xp.zeros(1, dtype=ends.dtype, device=dev), ends[:-1] + 1))
    return starts, ends


def _unweighted_risk_table(time: Any, event: Any) -> RiskTable:
    """Counts without weights: sorts values only (no permutation), several times faster.

    With unit weights the number at risk at ``t_j`` is ``n`` minus the rows before block ``j``,
    and the events at ``t_j`` are found by binary search in the sorted event times.
    """
    xp = array_namespace(time, event)
    sorted_time = xp.sort(time, stable=False)
    sorted_event_time = xp.sort(time[event], stable=False)
    starts, ends = _tie_blocks(xp, sorted_time)
    timeline = xp.take(sorted_time, ends)
    n_rows = sorted_time.shape[0]
    n_at_risk = xp.astype(n_rows - starts, time.dtype)
    n_events = xp.astype(
        xp.searchsorted(sorted_event_time, timeline, side="right")
        - xp.searchsorted(sorted_event_time, timeline, side="left"),
        time.dtype,
    )
    n_rows_in_block = xp.astype(ends + 1 - starts, time.dtype)
    n_censored = n_rows_in_block - n_events
    return RiskTable(
        timeline=timeline,
        n_at_risk=n_at_risk,
        n_events=n_events,
        n_censored=n_censored,
        n_survivors=n_at_risk - n_events,
    )
