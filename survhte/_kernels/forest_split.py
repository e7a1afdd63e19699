"""Relabeling and splitting rules of the generalized random forest (numba).

A forest is grown on a relabeled response (Athey, Tibshirani & Wager 2019, "Generalized random
forests", Ann. Statist. 47(2), section 2.3): at each node the strategy turns the node's rows
into pseudo-outcomes ``rho_i`` (the influence of row ``i`` on the node's parameter estimate),
and the split maximises the between-children sum of squares of ``rho``,

    Delta = S_L^2 / W_L + S_R^2 / W_R,   S = sum_i w_i rho_i,  W = sum_i w_i,

which, since every relabeling below is centred in the node (``S_L + S_R = 0``), is the
weighted variance reduction. Each rule adds its own admissibility constraints.

Relabelings (``RELABEL_*``), reading the ``responses`` matrix columns:

- ``RELABEL_CENTER``: column 0 is the outcome ``y``; ``rho = y - ybar``. Regression forests.
- ``RELABEL_CAUSAL``: columns 0, 1 are the centred outcome ``Y - m(X)`` and treatment
  ``W - e(X)``; ``rho_i = (W_i - Wbar)((Y_i - Ybar) - tau_P (W_i - Wbar)) / Var_P(W)`` with
  ``tau_P`` the node's least-squares effect: the gradient pseudo-outcome of the partially
  linear moment ``E[(W - Wbar)(Y - Ybar - tau (W - Wbar))] = 0``.
- ``RELABEL_CAUSAL_SURVIVAL``: columns 0, 1 are the causal survival forest's score ``num_i``
  and weight ``den_i`` (Cui et al. 2023); ``rho_i = (num_i - eta_P den_i) / sum_P den`` with
  ``eta_P = sum_P num / sum_P den`` (grf's ``CausalSurvivalRelabelingStrategy``).

Splitting rules (``SPLIT_*``):

- ``SPLIT_VARIANCE``: each child holds at least ``max(ceil(alpha n), 1)`` rows; penalty
  ``imbalance_penalty (1 / n_L + 1 / n_R)`` (grf's regression rule).
- ``SPLIT_CAUSAL``: grf's "stabilised" causal rule (``InstrumentalSplittingRule``): each
  child holds at least ``min_node_size`` rows with treatment (column ``treatment_col``) below
  the parent's weighted mean and as many at or above it, and a weighted treatment sum of
  squares ``sum w (W - Wbar_child)^2`` of at least ``alpha`` times the parent's; penalty
  ``imbalance_penalty (1/SS_L + 1/SS_R)``.
- ``SPLIT_CAUSAL_SURVIVAL``: grf's causal survival rule (``stabilize.splits``): the constraints
  of ``SPLIT_CAUSAL`` on the centred treatment (column ``treatment_col``) and, first, at least
  ``max(ceil(alpha n), 1)`` events (column ``treatment_col + 1`` > 0) in each child.
- ``SPLIT_LOGRANK``: the log-rank rule of survival forests (Ishwaran et al. 2008; grf's
  ``SurvivalSplittingRule``) on columns 0 (failure-time index) and 1 (event), with at least
  ``max(ceil(alpha n), 1)`` failures in each child; ``survhte._kernels.forest_logrank``. It
  reads no pseudo-outcomes: its relabeling is ``RELABEL_NONE`` (the node is kept as is).

Adding a forest (log-rank survival splitting, the causal survival relabeling) means adding a
``RELABEL_*`` or ``SPLIT_*`` constant and its branch here; the tree builder is unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._jit import numba_only
from .forest_logrank import logrank_split
from .forest_order import feature_order

RELABEL_CENTER = 0
RELABEL_CAUSAL = 1
RELABEL_CAUSAL_SURVIVAL = 4
RELABEL_NONE = 2

SPLIT_VARIANCE = 0
SPLIT_CAUSAL = 1
SPLIT_CAUSAL_SURVIVAL = 4
SPLIT_LOGRANK = 2

# A node whose treatment variance is below this is not split (grf uses the same cut-off).
_MIN_TREATMENT_VARIANCE = 1e-10


@numba_only()
def _relabel_center(rows, responses, weights, rho):
    wsum = 0.0
    ysum = 0.0
    first = responses[rows[0], 0]
    constant = True
    for q in range(rows.shape[0]):
        i = rows[q]
        y = responses[i, 0]
        wsum += weights[i]
        ysum += weights[i] * y
        constant = constant and y == first
    if constant or wsum <= 0.0:
        return False
    ybar = ysum / wsum
    for q in range(rows.shape[0]):
        rho[q] = responses[rows[q], 0] - ybar
    return True


@numba_only()
def _relabel_causal(rows, responses, weights, rho):
    wsum = 0.0
    ysum = 0.0
    tsum = 0.0
    for q in range(rows.shape[0]):
        i = rows[q]
        wsum += weights[i]
        ysum += weights[i] * responses[i, 0]
        tsum += weights[i] * responses[i, 1]
    if wsum <= 0.0:
        return False
    ybar = ysum / wsum
    tbar = tsum / wsum
    cross = 0.0
    var = 0.0
    for q in range(rows.shape[0]):
        i = rows[q]
        dt = responses[i, 1] - tbar
        cross += weights[i] * dt * (responses[i, 0] - ybar)
        var += weights[i] * dt * dt
    var /= wsum
    if var <= _MIN_TREATMENT_VARIANCE:
        return False
    tau = cross / wsum / var
    for q in range(rows.shape[0]):
        i = rows[q]
        dt = responses[i, 1] - tbar
        rho[q] = dt * ((responses[i, 0] - ybar) - tau * dt) / var
    return True


@numba_only()
def _relabel_causal_survival(rows, responses, rho):
    num = 0.0
    den = 0.0
    for q in range(rows.shape[0]):
        num += responses[rows[q], 0]
        den += responses[rows[q], 1]
    if abs(den) <= 1e-10:
        return False
    eta = num / den
    for q in range(rows.shape[0]):
        i = rows[q]
        rho[q] = (responses[i, 0] - eta * responses[i, 1]) / den
    return True


@numba_only()
def relabel(kind, rows, responses, weights, rho):
    """Fill ``rho[:len(rows)]`` with the node's pseudo-outcomes; False: make the node a leaf."""
    if kind == RELABEL_CAUSAL:
        return _relabel_causal(rows, responses, weights, rho)
    if kind == RELABEL_CAUSAL_SURVIVAL:
        return _relabel_causal_survival(rows, responses, rho)
    if kind == RELABEL_NONE:
        return True
    return _relabel_center(rows, responses, weights, rho)


@njit(cache=True)
def best_split(kind, Xt, orders, rows, rho, weights, responses, treatment_col, features,
               min_node_size, alpha, imbalance_penalty):
    """Best admissible split of a node over ``features``.

    Parameters
    ----------
    kind : int
        ``SPLIT_VARIANCE``, ``SPLIT_CAUSAL`` or ``SPLIT_CAUSAL_SURVIVAL``.
    Xt : float64 (p, n)
        Covariates, feature-major (a row of ``Xt`` is contiguous).
    orders : tuple
        How the node's rows are ordered by a feature (``forest_order.feature_order``: by
        rank, presorted or sorted here); real values give the thresholds.
    rows : int64 (m,)
        The node's rows; ``rho[:m]`` their pseudo-outcomes.

    Returns
    -------
    feature : int (-1 when no admissible split improves the criterion)
    threshold : float
        Rows with ``x[feature] <= threshold`` go left.
    """
    if kind == SPLIT_LOGRANK:
        f, cut, _ = logrank_split(Xt, orders, rows, responses, features, alpha)
        return f, cut
    m = rows.shape[0]
    record = np.empty((m, 5))
    stats = node_records(kind, rows, rho, weights, responses, treatment_col, alpha, record)
    if stats[0] < 0:  # no split leaves enough events on each side
        return -1, 0.0
    no_codes = np.empty(0, dtype=np.uint8)
    no_bounds = np.empty(0)
    best_feature = -1
    best_threshold = 0.0
    best_decrease = 0.0
    for f in features:
        order, keys = feature_order(orders, f, rows)
        decrease, threshold = scan_split(kind, record, stats, order, m, min_node_size,
                                         imbalance_penalty, best_decrease, False, keys, Xt[f],
                                         rows, no_codes, no_bounds, no_bounds)
        if decrease > best_decrease:
            best_decrease = decrease
            best_feature = f
            best_threshold = threshold
    return best_feature, best_threshold


@numba_only()
def node_records(kind, rows, rho, weights, responses, treatment_col, alpha, record):
    """What each of the node's rows adds to a left child, and the node's totals.

    Row ``q`` of ``record`` (the node's rows in node order) gets the row's weight ``w``,
    ``w rho``, treatment ``z``, ``w z`` and event flag (0 where the rule ``kind`` reads
    none): the scan reads one record per row instead of arrays of length n, and counts
    without branching on the row's treatment or event.

    Returns ``(min_child, wsum, rsum, tsum, tsq, n_events, tmean, n_small, min_child_ss)``
    for :func:`scan_split`. grf's balance constraints (``InstrumentalSplittingRule``,
    ``CausalSurvivalSplittingRule``): at least ``min_node_size`` rows on each side of the
    node's weighted mean treatment ``tmean`` in each child (``n_small`` rows of the node are
    below it), and each child's weighted treatment variation ``sum w (z - zbar)^2`` at least
    ``min_child_ss`` (``alpha`` times the node's); for the survival rule,
    ``min_child = max(ceil(alpha m), 1)`` failures in each child (``min_child = -1``: the
    node has fewer than twice that, so no split qualifies).
    """
    m = rows.shape[0]
    survival = kind == SPLIT_CAUSAL_SURVIVAL
    causal = kind == SPLIT_CAUSAL or survival
    wsum = 0.0
    rsum = 0.0
    tsum = 0.0
    tsq = 0.0
    n_events = 0
    for q in range(m):
        i = rows[q]
        w = weights[i]
        record[q, 0] = w
        record[q, 1] = w * rho[q]
        record[q, 2] = 0.0
        record[q, 3] = 0.0
        record[q, 4] = 0.0
        wsum += w
        rsum += record[q, 1]
        if causal:
            z = responses[i, treatment_col]
            record[q, 2] = z
            record[q, 3] = w * z
            tsum += record[q, 3]
            tsq += record[q, 3] * z
        if survival and responses[i, treatment_col + 1] > 0.0:
            record[q, 4] = 1.0
            n_events += 1
    tmean = tsum / wsum
    n_small = 0
    if causal:
        for q in range(m):
            n_small += record[q, 2] < tmean
    min_child = max(math.ceil(alpha * m), 1)
    if survival and n_events < 2 * min_child:
        min_child = -1
    min_child_ss = alpha * (tsq - tsum * tsum / wsum)
    return min_child, wsum, rsum, tsum, tsq, n_events, tmean, n_small, min_child_ss


@numba_only(inline="always")  # the caller's constant ``binned`` folds its branches away
def scan_split(kind, record, stats, order, m, min_node_size, imbalance_penalty, best_decrease,
               binned, keys, x, rows, code, upper, lower):
    """The best admissible split of one feature better than ``best_decrease``.

    The node's rows are taken in the feature's order (``order[q]``: a row's position in
    ``record``, :func:`node_records`, whose totals are ``stats``), each row's record added
    to the left child; a boundary between two positions is a candidate where the feature
    changes: ranks ``keys`` (exact search: ``x`` is the feature's values, ``rows`` the
    node's rows) or, ``binned``, bin codes ``code`` with each bin's least and largest
    training values ``lower``/``upper`` (:mod:`.forest_hist`). The threshold is midway
    between the values on each side (the larger one where the midpoint rounds up to it).
    Candidates replace the best only when strictly better. Returns ``(decrease,
    threshold)``: ``decrease == best_decrease`` when none is better.
    """
    min_child, wsum, rsum, tsum, tsq, n_events, tmean, n_small, min_child_ss = stats
    survival = kind == SPLIT_CAUSAL_SURVIVAL
    causal = kind == SPLIT_CAUSAL or survival
    best_threshold = 0.0
    w_left = 0.0
    s_left = 0.0
    t_left = 0.0
    tsq_left = 0.0
    small_left = 0
    events_left = 0.0
    for q in range(m - 1):
        k = order[q]
        w_left += record[k, 0]
        s_left += record[k, 1]
        events_left += record[k, 4]
        if causal:
            t_left += record[k, 3]
            tsq_left += record[k, 3] * record[k, 2]
            small_left += record[k, 2] < tmean
        if binned:
            b = code[rows[k]]
            b_next = code[rows[order[q + 1]]]
            if b == b_next:
                continue
        elif keys[q] == keys[q + 1]:  # equal ranks: equal values
            continue
        n_left = q + 1
        n_right = m - n_left
        if survival:
            if events_left < min_child:
                continue
            if n_events - events_left < min_child:
                break
        w_right = wsum - w_left
        if w_left <= 0.0 or w_right <= 0.0:
            continue
        if causal:
            if small_left < min_node_size or n_left - small_left < min_node_size:
                continue
            small_right = n_small - small_left
            if small_right < min_node_size or n_right - small_right < min_node_size:
                break  # the right child's counts only shrink further on
            ss_left = tsq_left - t_left * t_left / w_left
            t_right = tsum - t_left
            ss_right = (tsq - tsq_left) - t_right * t_right / w_right
            if ss_left < min_child_ss or ss_right < min_child_ss:
                continue
            if imbalance_penalty > 0.0 and (ss_left <= 0.0 or ss_right <= 0.0):
                continue
            penalty = 0.0
            if imbalance_penalty > 0.0:
                penalty = imbalance_penalty * (1.0 / ss_left + 1.0 / ss_right)
        else:
            if n_left < min_child:
                continue
            if n_right < min_child:
                break
            penalty = imbalance_penalty * (1.0 / n_left + 1.0 / n_right)
        s_right = rsum - s_left
        decrease = (s_left * s_left / w_left + s_right * s_right / w_right
                    - rsum * rsum / wsum - penalty)
        if decrease > best_decrease:
            best_decrease = decrease
            if binned:
                x_here = upper[code[rows[k]]]
                x_next = lower[code[rows[order[q + 1]]]]
            else:
                x_here = x[rows[k]]
                x_next = x[rows[order[q + 1]]]
            threshold = 0.5 * (x_here + x_next)
            best_threshold = threshold if threshold < x_next else x_here
    return best_decrease, best_threshold
