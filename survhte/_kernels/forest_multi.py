"""Vector-valued relabeling and splitting rules: the multi-arm causal forests (numba).

With K treated levels (0 the control), the effects ``tau(x) = (tau_1(x), ..., tau_K(x))``
solve a K-dimensional local moment equation, and a node's pseudo-outcome is a K-vector
``rho_i`` (Athey, Tibshirani & Wager 2019, eq. (20); grf's ``MultiCausalRelabelingStrategy``).
The split maximises the between-children sum of squares summed over the K components,

    Delta = sum_k ( S_{L,k}^2 / W_L + S_{R,k}^2 / W_R - S_k^2 / W ),  S_k = sum_i w_i rho_ik

(grf's ``MultiCausalSplittingRule``). The tree builder keeps the pseudo-outcomes in a
``(K, m)`` array; ``forest_split``'s scalar rules are the case K = 1 of these, and their
arithmetic is kept operation for operation, so a multi-arm forest with one treated level grows
the same trees as the two-level forest (``tests/test_multi_arm_forest.py``).

Relabelings (``responses`` columns; ``W~`` the K centred treatment indicators
``1{W = k} - e_k(X)``, columns ``1..K``):

- ``RELABEL_MULTI_CAUSAL``: column 0 the centred outcome ``Y~ = Y - m(X)``. Within the node,
  ``A = sum w (W~ - W~bar)(W~ - W~bar)^T / sum w``, ``beta = A^{-1} sum w (W~ - W~bar)(Y~ -
  Y~bar) / sum w`` and ``rho_i = A^{-1} (W~_i - W~bar) r_i`` with ``r_i = (Y~_i - Y~bar) -
  (W~_i - W~bar)^T beta``: the gradient of the partially linear moment, grf's multi-arm
  relabeling up to the node's total weight (a constant factor per node: the same splits).
- ``RELABEL_MULTI_CAUSAL_SURVIVAL``: column 0 the causal survival forest's censoring-adjusted
  outcome ``Gamma_i`` (the bracket of Cui et al. 2023, ``psi_i = W~_i Gamma_i``), column
  ``K + 1`` the event flag. With ``num_i = W~_i Gamma_i`` and ``den_i = W~_i W~_i^T``,
  ``A = sum w den``, ``eta = A^{-1} sum w num`` and ``rho_i = A^{-1} (num_i - den_i eta)``:
  grf's ``CausalSurvivalRelabelingStrategy`` with a K x K denominator.

A node whose matrix ``A`` has a pivot of absolute value at most ``1e-10`` (the scalar rules'
cut-off on ``Var(W)`` and ``sum den``) is a leaf.

Splitting rules (``SPLIT_MULTI_*``; the ``K`` treatment columns start at column 1):

- ``SPLIT_MULTI_VARIANCE``: each child holds ``max(ceil(alpha n), 1)`` rows; penalty
  ``imbalance_penalty (1 / n_L + 1 / n_R)`` (grf's ``stabilize.splits = FALSE``).
- ``SPLIT_MULTI_CAUSAL``: for every level ``k``, each child holds at least ``min_node_size``
  rows with ``W~_k`` below the node's weighted mean and as many at or above it, and a
  weighted ``W~_k`` sum of squares of at least ``alpha`` times the node's (grf's multi-arm
  constraints); penalty ``imbalance_penalty sum_k (1 / SS_{L,k} + 1 / SS_{R,k})``, which is
  grf's instrumental penalty at K = 1 (grf's multi-arm rule penalises ``1 / n_L + 1 / n_R``).
- ``SPLIT_MULTI_CAUSAL_SURVIVAL``: those constraints and, first, at least
  ``max(ceil(alpha n), 1)`` events (column ``K + 1``) in each child (grf's causal survival
  rule).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import numba_only
from .forest_order import feature_order

RELABEL_MULTI_CAUSAL = 5
RELABEL_MULTI_CAUSAL_SURVIVAL = 6

SPLIT_MULTI_VARIANCE = 5
SPLIT_MULTI_CAUSAL = 6
SPLIT_MULTI_CAUSAL_SURVIVAL = 7

# A node whose (treatment) matrix has a pivot at or below this is not split (forest_split).
_MIN_PIVOT = 1e-10


@numba_only()
def is_multi(relabel_kind):
    """Whether ``relabel_kind`` is a vector-valued relabeling of this module."""
    return relabel_kind == RELABEL_MULTI_CAUSAL or relabel_kind == RELABEL_MULTI_CAUSAL_SURVIVAL


@numba_only()
def n_levels(relabel_kind, n_columns):
    """K, the number of pseudo-outcome components, from the ``responses`` width (1 for the
    scalar relabelings of ``forest_split``)."""
    if relabel_kind == RELABEL_MULTI_CAUSAL:
        return n_columns - 1
    if relabel_kind == RELABEL_MULTI_CAUSAL_SURVIVAL:
        return n_columns - 2
    return 1


@numba_only()
def _lu(a):
    """In-place LU factorisation with partial pivoting of the small square ``a``; returns
    ``(pivots, smallest absolute pivot)``. Rows of ``a`` are swapped as ``pivots`` says."""
    k = a.shape[0]
    piv = np.arange(k)
    smallest = np.inf
    for c in range(k):
        best = c
        for r in range(c + 1, k):
            if abs(a[r, c]) > abs(a[best, c]):
                best = r
        if best != c:
            for j in range(k):
                tmp = a[c, j]
                a[c, j] = a[best, j]
                a[best, j] = tmp
            tmp_p = piv[c]
            piv[c] = piv[best]
            piv[best] = tmp_p
        pivot = a[c, c]
        smallest = min(smallest, abs(pivot))
        if pivot == 0.0:
            continue
        for r in range(c + 1, k):
            factor = a[r, c] / pivot
            a[r, c] = factor
            for j in range(c + 1, k):
                a[r, j] -= factor * a[c, j]
    return piv, smallest


@numba_only()
def _lu_solve(lu, piv, b, out):
    """``out = A^{-1} b`` from :func:`_lu`'s factors (``out`` may not alias ``b``). With
    K = 1 this is ``b / a``: the scalar rules' division."""
    k = lu.shape[0]
    for r in range(k):
        out[r] = b[piv[r]]
    for r in range(k):
        acc = out[r]
        for j in range(r):
            acc -= lu[r, j] * out[j]
        out[r] = acc
    for r in range(k - 1, -1, -1):
        acc = out[r]
        for j in range(r + 1, k):
            acc -= lu[r, j] * out[j]
        out[r] = acc / lu[r, r]


@numba_only()
def _relabel_multi_causal(rows, responses, weights, rho, k):
    m = rows.shape[0]
    if m <= k:
        return False
    wsum = 0.0
    ysum = 0.0
    tsum = np.zeros(k)
    for q in range(m):
        i = rows[q]
        wsum += weights[i]
        ysum += weights[i] * responses[i, 0]
        for j in range(k):
            tsum[j] += weights[i] * responses[i, 1 + j]
    if wsum <= 0.0:
        return False
    ybar = ysum / wsum
    tbar = tsum / wsum
    cross = np.zeros(k)
    var = np.zeros((k, k))
    dt = np.empty(k)
    for q in range(m):
        i = rows[q]
        for j in range(k):
            dt[j] = responses[i, 1 + j] - tbar[j]
        dy = responses[i, 0] - ybar
        for j in range(k):
            cross[j] += weights[i] * dt[j] * dy
            for c in range(k):
                var[j, c] += weights[i] * dt[j] * dt[c]
    for j in range(k):
        cross[j] /= wsum
        for c in range(k):
            var[j, c] /= wsum
    piv, smallest = _lu(var)
    if smallest <= _MIN_PIVOT:
        return False
    tau = np.empty(k)
    _lu_solve(var, piv, cross, tau)
    v = np.empty(k)
    out = np.empty(k)
    for q in range(m):
        i = rows[q]
        fitted = 0.0
        for j in range(k):
            dt[j] = responses[i, 1 + j] - tbar[j]
            fitted += tau[j] * dt[j]
        resid = (responses[i, 0] - ybar) - fitted
        for j in range(k):
            v[j] = dt[j] * resid
        _lu_solve(var, piv, v, out)
        for j in range(k):
            rho[j, q] = out[j]
    return True


@numba_only()
def _relabel_multi_causal_survival(rows, responses, weights, rho, k):
    m = rows.shape[0]
    num = np.zeros(k)
    den = np.zeros((k, k))
    for q in range(m):
        i = rows[q]
        w = weights[i]
        gamma = responses[i, 0]
        for j in range(k):
            zj = responses[i, 1 + j]
            num[j] += w * (zj * gamma)
            for c in range(k):
                den[j, c] += w * (zj * responses[i, 1 + c])
    piv, smallest = _lu(den)
    if smallest <= _MIN_PIVOT:
        return False
    eta = np.empty(k)
    _lu_solve(den, piv, num, eta)
    v = np.empty(k)
    out = np.empty(k)
    for q in range(m):
        i = rows[q]
        gamma = responses[i, 0]
        for j in range(k):
            zj = responses[i, 1 + j]
            fitted = 0.0
            for c in range(k):
                fitted += (zj * responses[i, 1 + c]) * eta[c]
            v[j] = zj * gamma - fitted
        _lu_solve(den, piv, v, out)
        for j in range(k):
            rho[j, q] = out[j]
    return True


@numba_only()
def relabel_multi(kind, rows, responses, weights, rho):
    """Fill ``rho[:, :len(rows)]`` (shape (K, m)) with the node's K-vector pseudo-outcomes;
    False: make the node a leaf."""
    k = rho.shape[0]
    if kind == RELABEL_MULTI_CAUSAL:
        return _relabel_multi_causal(rows, responses, weights, rho, k)
    return _relabel_multi_causal_survival(rows, responses, weights, rho, k)


@numba_only()
def stop_scan(small_left, n_small, n_right, min_node_size):
    """Whether the right child lacks ``min_node_size`` rows below or at/above the node's mean
    treatment for some level: it only loses rows as the cut moves right."""
    for j in range(small_left.shape[0]):
        small_right = n_small[j] - small_left[j]
        if small_right < min_node_size or n_right - small_right < min_node_size:
            return True
    return False


@numba_only()
def best_split_multi(kind, Xt, orders, rows, rho, weights, features, min_node_size, alpha,
                     imbalance_penalty, responses):
    """Best admissible split of a node over ``features`` for vector pseudo-outcomes ``rho``
    (K, m); as ``forest_split.best_split``, whose scalar arithmetic it repeats per component.

    Returns ``(feature, threshold)``; feature -1 when no admissible split improves Delta.
    """
    m = rows.shape[0]
    k = rho.shape[0]
    survival = kind == SPLIT_MULTI_CAUSAL_SURVIVAL
    causal = kind == SPLIT_MULTI_CAUSAL or survival
    event_col = k + 1
    # Per row, in node order: weight w, w rho_j (K), treatment z_j (K), w z_j (K), event.
    c_rho = 1
    c_z = 1 + k
    c_wz = 1 + 2 * k
    c_ev = 1 + 3 * k
    record = np.zeros((m, 2 + 3 * k))
    wsum = 0.0
    rsum = np.zeros(k)
    tsum = np.zeros(k)
    tsq = np.zeros(k)
    n_events = 0
    for q in range(m):
        i = rows[q]
        w = weights[i]
        record[q, 0] = w
        wsum += w
        for j in range(k):
            record[q, c_rho + j] = w * rho[j, q]
            rsum[j] += record[q, c_rho + j]
        if causal:
            for j in range(k):
                z = responses[i, 1 + j]
                record[q, c_z + j] = z
                record[q, c_wz + j] = w * z
                tsum[j] += record[q, c_wz + j]
                tsq[j] += record[q, c_wz + j] * z
        if survival and responses[i, event_col] > 0.0:
            record[q, c_ev] = 1.0
            n_events += 1
    n_small = np.zeros(k, dtype=np.int64)
    tmean = tsum / wsum
    if causal:
        for q in range(m):
            for j in range(k):
                n_small[j] += record[q, c_z + j] < tmean[j]
    min_child = max(math.ceil(alpha * m), 1)
    if survival and n_events < 2 * min_child:
        return -1, 0.0
    min_child_ss = np.empty(k)
    node_term = np.empty(k)
    for j in range(k):
        min_child_ss[j] = alpha * (tsq[j] - tsum[j] * tsum[j] / wsum)
        node_term[j] = rsum[j] * rsum[j] / wsum

    s_left = np.empty(k)
    t_left = np.empty(k)
    tsq_left = np.empty(k)
    small_left = np.empty(k, dtype=np.int64)
    best_feature = -1
    best_threshold = 0.0
    best_decrease = 0.0
    for f in features:
        order, keys = feature_order(orders, f, rows)
        w_left = 0.0
        s_left[:] = 0.0
        t_left[:] = 0.0
        tsq_left[:] = 0.0
        small_left[:] = 0
        events_left = 0.0
        for q in range(m - 1):
            r = order[q]
            w_left += record[r, 0]
            events_left += record[r, c_ev]
            for j in range(k):
                s_left[j] += record[r, c_rho + j]
            if causal:
                for j in range(k):
                    t_left[j] += record[r, c_wz + j]
                    tsq_left[j] += record[r, c_wz + j] * record[r, c_z + j]
                    small_left[j] += record[r, c_z + j] < tmean[j]
            if keys[q] == keys[q + 1]:  # equal ranks: equal values
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
            # Delta first (each term as forest_split.best_split forms it): without a penalty
            # it decides most cuts before the children's treatment sums of squares are formed.
            decrease = 0.0
            for j in range(k):
                s_right = rsum[j] - s_left[j]
                decrease += (s_left[j] * s_left[j] / w_left + s_right * s_right / w_right
                             - node_term[j])
            if imbalance_penalty == 0.0 and not decrease > best_decrease:
                continue
            penalty = 0.0
            if causal:
                admissible = True
                for j in range(k):
                    if small_left[j] < min_node_size or n_left - small_left[j] < min_node_size:
                        admissible = False
                if stop_scan(small_left, n_small, n_right, min_node_size):
                    break  # the right child's counts only shrink further on
                if not admissible:
                    continue
                for j in range(k):
                    ss_left = tsq_left[j] - t_left[j] * t_left[j] / w_left
                    t_right = tsum[j] - t_left[j]
                    ss_right = (tsq[j] - tsq_left[j]) - t_right * t_right / w_right
                    if ss_left < min_child_ss[j] or ss_right < min_child_ss[j]:
                        admissible = False
                    elif imbalance_penalty > 0.0:
                        if ss_left <= 0.0 or ss_right <= 0.0:
                            admissible = False
                        else:
                            penalty += imbalance_penalty * (1.0 / ss_left + 1.0 / ss_right)
                if not admissible:
                    continue
            else:
                if n_left < min_child:
                    continue
                if n_right < min_child:
                    break
                penalty = imbalance_penalty * (1.0 / n_left + 1.0 / n_right)
            decrease -= penalty
            if decrease > best_decrease:
                best_decrease = decrease
                best_feature = f
                x_here = Xt[f, rows[r]]
                x_next = Xt[f, rows[order[q + 1]]]
                threshold = 0.5 * (x_here + x_next)
                best_threshold = threshold if threshold < x_next else x_here
    return best_feature, best_threshold
