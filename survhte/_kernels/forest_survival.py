"""Survival curves, RMST and their little-bag variance from forest weights (numba).

For a target point ``x`` with forest weights ``alpha_i(x)`` (``forest_predict``) and case
weights ``w_i``, the survival forest's curve is the weighted Kaplan-Meier (or Nelson-Aalen)
estimator on the failure-time grid (Ishwaran et al. 2008; grf's ``survival_forest``):

    D_k = sum_i alpha_i w_i e_i 1{a_i = k},   Y_k = sum_i alpha_i w_i 1{a_i >= k},
    S(t | x) = prod_{k <= a(t)} (1 - D_k / Y_k)   or   exp(-sum_{k <= a(t)} D_k / Y_k),

with ``a_i`` the failure-time index of row ``i`` (the number of grid times at or below its
observed time) and ``a(t)`` that of ``t``: a right-continuous step function jumping at grid
times. Each target point is handled on its own: its weights are accumulated in O(n_train)
scratch per thread, its curve computed on the support's distinct failure indices. Memory is
O(n_train + grid) per thread; no n_train x grid (or n_target x n_train) array is formed.

Variance. ``theta`` (``S(t | x)`` or ``RMST(h | x)``) is a smooth function of the weighted
means ``D_k``, ``Y_k``; its delta-method linearisation is ``sum_i alpha_i(x) psi_i`` with

    psi_i = w_i (e_i dtheta/dD_{a_i} + sum_{k <= a_i} dtheta/dY_k),

the influence function of the Kaplan-Meier (Nelson-Aalen) functional at the weighted
empirical measure. ``psi`` depends on ``x`` through ``D``, ``Y``, so its per-tree leaf means
are formed per target point; their between- and within-little-bag moments give grf's
variance estimate (Athey, Tibshirani & Wager 2019, sec. 4), as ``little_bag_sums`` does for
ratio estimands.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .forest_order import order_workspace, sort_gathered
from .forest_predict import _in_bag, _weights_of, add_group, group_variances
from .forest_tree import descend


@njit(cache=True)
def _curve(dense, touched, n_touched, index, event_w, weight, nelson_aalen, work):
    """The weighted curve of one target point on its support's failure indices.

    The support is ordered by failure index with ``forest_order.sort_gathered`` (a radix
    sort: O(support) per target point) in the ``order_workspace`` scratch ``work``.
    Returns ``(ks, D, Y, S, n_jumps)``: failure indices ``ks[:n_jumps]`` (ascending, with
    ``D > 0``), the weighted failures and at-risk sums there, and the survival just after
    each jump.
    """
    order = work[0]
    keys = work[1]
    lo = np.int32(2147483647)
    hi = np.int32(-1)
    total = 0.0
    for q in range(n_touched):
        i = touched[q]
        key = np.int32(index[i])
        keys[q] = key
        order[q] = q
        lo = min(lo, key)
        hi = max(hi, key)
        total += dense[i] * weight[i]
    sort_gathered(work, n_touched, lo, hi)
    ks = np.empty(n_touched, dtype=np.int64)
    D = np.empty(n_touched)
    Y = np.empty(n_touched)
    S = np.empty(n_touched)
    n_jumps = 0
    before = 0.0
    surv = 1.0
    cumhaz = 0.0
    q = 0
    while q < n_touched:
        k = keys[q]
        at_risk = total - before
        failed = 0.0
        while q < n_touched and keys[q] == k:
            i = touched[order[q]]
            before += dense[i] * weight[i]
            failed += dense[i] * event_w[i]
            q += 1
        if k >= 1 and failed > 0.0 and at_risk > 0.0:
            if nelson_aalen:
                cumhaz += failed / at_risk
                surv = np.exp(-cumhaz)
            else:
                surv *= max(1.0 - failed / at_risk, 0.0)
            ks[n_jumps] = k
            D[n_jumps] = failed
            Y[n_jumps] = at_risk
            S[n_jumps] = surv
            n_jumps += 1
    return ks, D, Y, S, n_jumps


@njit(cache=True)
def _is_ascending(query):
    for j in range(1, query.shape[0]):
        if query[j] < query[j - 1]:
            return False
    return True


@njit(cache=True)
def _step_values(ks, S, n_jumps, query, ascending, out):
    """``out[j]`` = the curve at failure index ``query[j]``: ``S`` after the last jump at or
    before it, 1 before the first. Ascending queries are merged with the jumps in
    O(len(query) + n_jumps) (the CSF evaluates every row on the whole grid); others are
    binary-searched."""
    if ascending:
        pos = 0
        for j in range(query.shape[0]):
            while pos < n_jumps and ks[pos] <= query[j]:
                pos += 1
            out[j] = S[pos - 1] if pos > 0 else 1.0
        return
    for j in range(query.shape[0]):
        pos = np.searchsorted(ks[:n_jumps], query[j], side="right")
        out[j] = S[pos - 1] if pos > 0 else 1.0


@njit(cache=True)
def _rmst(ks, S, n_jumps, grid, horizon):
    """Exact integral of the step curve over ``[0, horizon]``."""
    area = 0.0
    prev_t = 0.0
    prev_s = 1.0
    for j in range(n_jumps):
        t = grid[ks[j] - 1]
        if t >= horizon:
            break
        area += prev_s * (t - prev_t)
        prev_t = t
        prev_s = S[j]
    return area + prev_s * max(horizon - prev_t, 0.0)


@njit(parallel=True, cache=True)
def forest_survival(X, feature, threshold, left, leaf_start, leaf_size, node_offset,
                    leaf_samples, inbag, n_train, oob_rows, index, event_w, weight, grid, query,
                    horizons, nelson_aalen):
    """Survival at grid indices ``query`` and RMST at ``horizons`` for each row of ``X``.

    ``query[j]`` is the failure-time index of the ``j``-th requested time; ``index``,
    ``event_w`` (``w_i e_i``) and ``weight`` (``w_i``) describe the training rows; out of bag,
    ``oob_rows`` names the training row of each row of ``X`` (``forest_predict``; empty
    otherwise). Returns
    ``(survival (m, len(query)), rmst (m, len(horizons)))``; NaN for a row no tree reaches.
    """
    m = X.shape[0]
    n_chunks = min(m, 64)
    ascending = _is_ascending(query)
    survival = np.empty((m, query.shape[0]))
    rmst = np.empty((m, horizons.shape[0]))
    for chunk in prange(n_chunks):
        dense = np.zeros(n_train)
        touched = np.empty(n_train, dtype=np.int64)
        work = order_workspace(n_train)
        for t in range(chunk, m, n_chunks):
            n_touched = _weights_of(X, t, feature, threshold, left, leaf_start, leaf_size,
                                    node_offset, leaf_samples, inbag, oob_rows, dense, touched)
            if n_touched == 0:
                survival[t, :] = np.nan
                rmst[t, :] = np.nan
                continue
            ks, _, _, S, n_jumps = _curve(dense, touched, n_touched, index, event_w, weight,
                                          nelson_aalen, work)
            _step_values(ks, S, n_jumps, query, ascending, survival[t])
            for j in range(horizons.shape[0]):
                rmst[t, j] = _rmst(ks, S, n_jumps, grid, horizons[j])
            for q in range(n_touched):
                dense[touched[q]] = 0.0
    return survival, rmst


@njit(cache=True)
def _influence_coefficients(ks, D, Y, S, n_jumps, grid, query, horizon, target_rmst,
                            nelson_aalen):
    """``theta`` and ``(dtheta/dD_j, cumulative sum of dtheta/dY_j)`` on the jumps."""
    # reach[j]: derivative of theta in log S_j's increments, i.e. the sum of the pieces of
    # theta that S_j enters: S(t) itself if t is past jump j, or the area after jump j.
    reach = np.zeros(n_jumps)
    if target_rmst:
        theta = _rmst(ks, S, n_jumps, grid, horizon)
        tail = 0.0
        for j in range(n_jumps - 1, -1, -1):
            t = grid[ks[j] - 1]
            if t >= horizon:
                continue
            t_next = horizon
            if j + 1 < n_jumps:
                t_next = min(grid[ks[j + 1] - 1], horizon)
            tail += S[j] * (t_next - t)
            reach[j] = tail
    else:
        pos = np.searchsorted(ks[:n_jumps], query, side="right")
        theta = S[pos - 1] if pos > 0 else 1.0
        for j in range(pos):
            reach[j] = theta
    coef_d = np.zeros(n_jumps)
    cum_y = np.zeros(n_jumps)
    running = 0.0
    for j in range(n_jumps):
        if nelson_aalen:
            coef_d[j] = -reach[j] / Y[j]
            running += reach[j] * D[j] / (Y[j] * Y[j])
        elif Y[j] - D[j] > 0.0:
            coef_d[j] = -reach[j] / (Y[j] - D[j])
            running += reach[j] * D[j] / (Y[j] * (Y[j] - D[j]))
        cum_y[j] = running
    return theta, coef_d, cum_y


@njit(parallel=True, cache=True)
def survival_little_bags(X, feature, threshold, left, leaf_start, leaf_size, node_offset,
                         leaf_samples, inbag, n_train, oob_rows, index, event_w, weight, grid,
                         query, horizon, target_rmst, nelson_aalen, ci_group_size):
    """Estimate and little-bag moments of ``S(t | x)`` (or ``RMST(h | x)``) per row of ``X``.

    ``query`` is the failure-time index of ``t`` (ignored with ``target_rmst``, which uses
    ``horizon``). Returns ``(theta, var_between, group_noise, n_groups)`` as
    ``forest_predict.little_bag_sums`` does, for the per-tree leaf means of ``psi``.
    """
    m = X.shape[0]
    n_chunks = min(m, 64)
    n_group_total = (node_offset.shape[0] - 1) // ci_group_size
    theta = np.full(m, np.nan)
    var_between = np.full(m, np.nan)
    group_noise = np.full(m, np.nan)
    n_groups = np.zeros(m)
    for chunk in prange(n_chunks):
        dense = np.zeros(n_train)
        touched = np.empty(n_train, dtype=np.int64)
        work = order_workspace(n_train)
        psi_row = np.zeros(n_train)
        psi = np.empty(ci_group_size)
        for t in range(chunk, m, n_chunks):
            n_touched = _weights_of(X, t, feature, threshold, left, leaf_start, leaf_size,
                                    node_offset, leaf_samples, inbag, oob_rows, dense, touched)
            if n_touched == 0:
                continue
            ks, D, Y, S, n_jumps = _curve(dense, touched, n_touched, index, event_w, weight,
                                          nelson_aalen, work)
            value, coef_d, cum_y = _influence_coefficients(ks, D, Y, S, n_jumps, grid, query,
                                                           horizon, target_rmst, nelson_aalen)
            theta[t] = value
            for q in range(n_touched):
                i = touched[q]
                pos = np.searchsorted(ks[:n_jumps], index[i], side="right")
                contribution = 0.0
                if pos > 0:
                    contribution = weight[i] * cum_y[pos - 1]
                    if ks[pos - 1] == index[i]:
                        contribution += event_w[i] * coef_d[pos - 1]
                psi_row[i] = contribution
            moments = np.zeros(4)
            for g in range(n_group_total):
                complete = True
                for j in range(ci_group_size):
                    b = g * ci_group_size + j
                    if oob_rows.shape[0] > 0 and _in_bag(inbag, b, oob_rows[t]):
                        complete = False
                        break
                    node = node_offset[b] + descend(X, t, feature, threshold, left,
                                                    node_offset[b])
                    size = leaf_size[node]
                    if size == 0:
                        complete = False
                        break
                    total = 0.0
                    for r in range(size):
                        total += psi_row[leaf_samples[b, leaf_start[node] + r]]
                    psi[j] = total / size
                if complete:
                    add_group(psi, moments)
            for q in range(n_touched):
                dense[touched[q]] = 0.0
                psi_row[touched[q]] = 0.0
            n_groups[t] = moments[0]
            var_between[t], group_noise[t] = group_variances(moments, ci_group_size)
    return theta, var_between, group_noise, n_groups
