"""Kaplan-Meier curves per group (treatment arm) and the two-arm RMST difference."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_time_event, to_namespace
from ._checks import check_groups, wald_interval
from ._nonparametric import KaplanMeier


def kaplan_meier_by_group(
    time: Any, event: Any, groups: Any, sample_weight: Any = None
) -> dict[Hashable, KaplanMeier]:
    """One Kaplan-Meier curve per group.

    A loop over the sorted unique labels, fitting :class:`KaplanMeier` on each group's rows
    (each fit is one O(n_g log n_g) sort; the loop is clearer than a single sort keyed on
    (group, time) and costs the same order).

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Observed times (finite, ``>= 0``) and event indicators.
    groups : array-like of shape (n,)
        Group label of each row (e.g. treatment arm); any sortable labels.
    sample_weight : array-like of shape (n,), optional
        Non-negative case weights.

    Returns
    -------
    dict
        Label -> fitted :class:`KaplanMeier`, in sorted label order.

    Notes
    -----
    Array-API inputs keep their namespace: when ``time``, ``event`` or ``sample_weight`` is an
    array of a non-NumPy array-API library (CuPy, ``array_api_strict``, ...), every curve is
    fitted and stored in that namespace, on that device. The group labels are read on the host
    (they are labels, of any type); only the row masks move to the device.

    Raises
    ------
    ValueError
        If a group has no event (the message names the group and ``event``).

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import kaplan_meier_by_group
    >>> data = load_rossi()
    >>> curves = kaplan_meier_by_group(data.time, data.event, data.w)
    >>> sorted(curves)
    [0, 1]
    >>> bool(curves[1].rmst(52.0) > curves[0].rmst(52.0))   # financial aid: later re-arrests
    True
    """
    time, event, weight = check_time_event(time, event, sample_weight, keep_namespace=True)
    labels = check_groups(groups, time.shape[0])
    curves: dict[Hashable, KaplanMeier] = {}
    for label in np.unique(labels).tolist():
        rows = to_namespace(labels == label, time)
        group_weight = None if weight is None else weight[rows]
        try:
            curves[label] = KaplanMeier().fit(time[rows], event[rows], group_weight)
        except ValueError as exc:
            raise ValueError(f"group {label!r}: {exc}") from None
    return curves


@dataclass(frozen=True)
class RMSTDifference:
    """Difference of two groups' Kaplan-Meier RMST up to a horizon, with its standard error.

    Attributes
    ----------
    labels : tuple
        ``(reference, comparison)``: the two group labels in sorted order.
    horizon : float
    rmst : tuple of float
        RMST of each group, in ``labels`` order.
    rmst_std_error : tuple of float
        Greenwood-type standard error of each group's RMST.
    difference : float
        ``rmst[1] - rmst[0]`` (for 0/1 treatment codes: treated minus control).
    std_error : float
        ``sqrt(se_0^2 + se_1^2)``: independent arms, variances add.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import rmst_difference
    >>> data = load_rossi()
    >>> diff = rmst_difference(data.time, data.event, data.w, horizon=52.0)
    >>> type(diff).__name__
    'RMSTDifference'
    >>> lower, upper = diff.confidence_interval(alpha=0.05)
    """

    labels: tuple[Hashable, Hashable]
    horizon: float
    rmst: tuple[float, float]
    rmst_std_error: tuple[float, float]
    difference: float
    std_error: float

    def confidence_interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """Wald interval ``difference -+ z_{1 - alpha/2} std_error``."""
        return wald_interval(self.difference, self.std_error, alpha)


def rmst_difference(
    time: Any, event: Any, groups: Any, horizon: float, sample_weight: Any = None
) -> RMSTDifference:
    """Difference in restricted mean survival time between two groups (Royston & Parmar 2013).

    Each group's RMST is the exact area under its Kaplan-Meier curve up to ``horizon``
    (:meth:`KaplanMeier.rmst`), with the Greenwood-type variance; the groups are independent
    samples, so the variance of the difference is the sum of the two variances.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Observed times and event indicators.
    groups : array-like of shape (n,)
        Exactly two distinct labels; the difference is (larger label) - (smaller label).
    horizon : float
        In ``(0, m]`` where ``m`` is the smaller of the two groups' last observed times.
    sample_weight : array-like of shape (n,), optional
        Non-negative case weights.

    Returns
    -------
    RMSTDifference

    Notes
    -----
    Array-API inputs keep their namespace through the curves
    (:func:`kaplan_meier_by_group`); the summaries are Python floats.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import rmst_difference
    >>> data = load_rossi()
    >>> diff = rmst_difference(data.time, data.event, data.w, horizon=52.0)
    >>> lower, upper = diff.confidence_interval()
    >>> bool(lower < diff.difference < upper)
    True
    """
    curves = kaplan_meier_by_group(time, event, groups, sample_weight)
    if len(curves) != 2:
        raise ValueError(f"groups must have exactly two distinct labels; got {list(curves)}.")
    estimates = []
    for label, curve in curves.items():
        try:
            estimates.append(curve.rmst(horizon, return_variance=True))
        except ValueError as exc:
            raise ValueError(f"group {label!r}: {exc}") from None
    (rmst_0, var_0), (rmst_1, var_1) = estimates
    return RMSTDifference(
        labels=tuple(curves),
        horizon=float(horizon),
        rmst=(rmst_0, rmst_1),
        rmst_std_error=(float(np.sqrt(var_0)), float(np.sqrt(var_1))),
        difference=rmst_1 - rmst_0,
        std_error=float(np.sqrt(var_0 + var_1)),
    )
