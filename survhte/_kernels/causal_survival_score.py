"""The causal survival forest's score from sparse nuisance curves (numba).

For training row ``i`` (truncated time ``Y``, ``known`` = event or followed to the horizon
``h``, outcome ``f = f(Y)``) the score bracket ``psi_i / (W_i - e_i)`` of Cui et al. (2023)
needs, from the event curve ``S(t | X_i, W_i)`` and the censoring curve ``C(t | X_i, W_i)``:

- ``Q(t) = E[f(T) | X, W, T > t]``: ``t + min(int_t^h S / S(t), h - t)`` (RMST) or
  ``min(S(h) / S(t), 1)`` (survival); ``Q = t`` (RMST) or 1 where ``S(t) = 0``;
- the integral over ``(0, Y]`` against the censoring hazard, a sum over the *jumps* of ``C``:
  ``sum_{tau <= Y} (Q(tau) - m) (log C(tau-) - log C(tau)) / C(tau)`` (``"grf"``) or
  ``sum_{tau in R} Q(tau) (1 / C(tau) - 1 / C(tau-))`` (``"aipcw"``; ``R``: jumps ``< Y`` for
  known rows, ``<= Y`` otherwise).

Times are rounded down to the fit's grid (``t_right``: the largest grid time ``<= Y``;
``t_left``: the largest ``< Y``). Evaluated on the whole grid (grf's ``compute_psi``) the
terms vanish wherever ``C`` does not jump, so a row costs O(jumps of S + jumps of C) here
instead of O(grid): at n = 50,000 the grid has ~25,000 times and the forest curves a few
thousand jumps. Curves are ``(ks, values, n, grid)``: the curve is ``values[j]`` from time
``grid[ks[j] - 1]`` on, 1 before ``grid[ks[0] - 1]`` (the form ``forest_survival.point_curve``
returns). The forests' curves are first re-indexed onto the fit's evaluation times
(grid..., horizon), so they are read exactly as the grid evaluation reads them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit import numba_only, parallel_range
from .forest_predict import _BLOCK, block_leaves
from .forest_survival import (
    _rmst,
    chunk_dense_sums,
    curve_scratch,
    dense_scratch,
    point_curve,
)


@numba_only()
def _value_at(ks, values, n, grid, t):
    """The step curve at time ``t`` (1 before its first jump)."""
    j = 0
    while j < n and grid[ks[j] - 1] <= t:
        j += 1
    return values[j - 1] if j > 0 else 1.0


@numba_only()
def arm_mean(ks, values, n, grid, horizon, target_rmst):
    """``E[f(T) | x, w]`` of a survival curve: its RMST up to ``horizon`` or ``S(horizon)``."""
    if target_rmst:
        return _rmst(ks, values, n, grid, horizon)
    return _value_at(ks, values, n, grid, horizon)


@numba_only(error_model="numpy")
def row_bracket(s_ks, s_val, n_s, c_ks, c_val, n_c, grid, horizon, t_right, t_left, has_left,
                known, f_value, m, target_rmst, grf_style):
    """``(psi_i / (W_i - e_i), C at the row's own time)`` of one row (module docstring).

    ``S`` and ``C`` are step curves on the same ``grid``.

    ``C`` at the row's own time is ``C(t_right)``, or for known rows under ``"aipcw"``
    ``C(t_left)`` (1 without ``t_left``).
    """
    n_sh = 0  # S jumps up to the horizon
    while n_sh < n_s and grid[s_ks[n_sh] - 1] <= horizon:
        n_sh += 1
    s_h = s_val[n_sh - 1] if n_sh > 0 else 1.0
    left_limit = known and not grf_style
    n_terms = 0
    if not left_limit or has_left:
        limit = t_left if left_limit else t_right
        while n_terms < n_c and grid[c_ks[n_terms] - 1] <= limit:
            n_terms += 1
    # Q at t_right and at the n_terms jumps of C, from the horizon backwards: ``tail`` is
    # int_cur^h S, ``pos`` the last S jump at or before ``cur``.
    q = np.empty(n_terms + 1)
    pos = n_sh - 1
    cur = horizon
    tail = 0.0
    for r in range(n_terms, -1, -1):
        t = t_right if r == n_terms else grid[c_ks[r] - 1]
        while pos >= 0 and grid[s_ks[pos] - 1] > t:
            jump = grid[s_ks[pos] - 1]
            tail += s_val[pos] * (cur - jump)
            cur = jump
            pos -= 1
        s_t = s_val[pos] if pos >= 0 else 1.0
        if s_t > 0.0:
            if target_rmst:
                q[r] = t + min((tail + s_t * (cur - t)) / s_t, horizon - t)
            else:
                q[r] = min(s_h / s_t, 1.0)
        else:
            q[r] = t if target_rmst else 1.0
    total = 0.0
    c_prev = 1.0
    for r in range(n_terms):
        c = c_val[r]
        if grf_style:
            total += (q[r] - m) * (np.log(c_prev) - np.log(c)) / c
        else:
            total += q[r] * (1.0 / c - 1.0 / c_prev)
        c_prev = c
    c_at = _value_at(c_ks, c_val, n_c, grid, t_right)
    if grf_style:
        value = (f_value - m if known else q[n_terms] - m) / c_at
        return value - total, c_at
    c_before = _value_at(c_ks, c_val, n_c, grid, t_left) if has_left else 1.0
    if known:
        return f_value / c_before - m - total, c_before
    return q[n_terms] / c_at - m - total, c_at


@numba_only()
def _on_eval_times(ks, values, n, to_eval):
    """A forest curve re-indexed onto the evaluation times: its jump at forest index ``k``
    shows from evaluation time ``to_eval[k]`` on (the first evaluation time at or after it,
    1-based; -1 past the horizon); jumps landing on the same evaluation time merge."""
    out_ks = np.empty(n, dtype=np.int64)
    out_values = np.empty(n)
    n_out = 0
    for j in range(n):
        g = to_eval[ks[j]]
        if g < 0:
            break
        if n_out > 0 and out_ks[n_out - 1] == g:
            out_values[n_out - 1] = values[j]
        else:
            out_ks[n_out] = g
            out_values[n_out] = values[j]
            n_out += 1
    return out_ks, out_values, n_out


@numba_only()
def _forest_curve(leaves, X, t, forest, hist, nelson_aalen, to_eval, scratch, limit,
                  dense_row):
    """Out-of-bag curve ``(ks, values, n)`` of row ``X[t]`` on the evaluation times, up to
    the forest's failure index ``limit``, from its out-of-bag ``leaves`` and their
    ``dense_row`` (``forest_survival.chunk_dense_sums``); all trees when every tree used the
    training row (``n = -1`` when no tree reaches a non-empty leaf)."""
    ks, _, _, values, n_jumps = point_curve(leaves, forest[3], hist, nelson_aalen, scratch,
                                            limit, dense_row)
    if n_jumps < 0:
        every_tree = np.empty((1, leaves.shape[0]), dtype=np.int64)
        block_leaves(X, t, t + 1, forest, np.empty(0, dtype=np.int64), every_tree)
        dense = dense_scratch(hist)
        ks, _, _, values, n_jumps = point_curve(
            every_tree[0], forest[3], hist, nelson_aalen, scratch, limit,
            chunk_dense_sums(dense, every_tree, np.int64(0), hist, np.full(1, limit)))
    if n_jumps < 0:
        return ks, values, n_jumps
    return _on_eval_times(ks, values, n_jumps, to_eval)


@numba_only(error_model="numpy")
def _row_scores(ks0, s0, n0, ks1, s1, n1, c_ks, c_val, n_c, eval_times, t_right, t_left,
                has_left, known, f_value, w_hat, treated, target_rmst, grf_style):
    """``(y_hat, bracket, C at the row's time)`` of one row from its curves on
    ``eval_times`` at both arms (``y_hat = e E[f | x, 1] + (1 - e) E[f | x, 0]``) and its
    censoring curve; ``S`` is the curve of its observed arm."""
    horizon = eval_times[eval_times.shape[0] - 1]
    y_hat = (w_hat * arm_mean(ks1, s1, n1, eval_times, horizon, target_rmst)
             + (1.0 - w_hat) * arm_mean(ks0, s0, n0, eval_times, horizon, target_rmst))
    s_ks, s_val, n_s = (ks1, s1, n1) if treated else (ks0, s0, n0)
    b, c = row_bracket(s_ks, s_val, n_s, c_ks, c_val, n_c, eval_times, horizon, t_right,
                       t_left, has_left, known, f_value, y_hat, target_rmst, grf_style)
    return y_hat, b, c


def forest_scores(X0, X1, X_obs, treated, oob_rows, s_forest, s_hist, s_nelson_aalen,
                  s_to_eval, c_forest, c_hist, c_nelson_aalen, c_to_eval, has_censoring,
                  c_limit, eval_times, t_right, t_left, has_left, known, f_value, w_hat,
                  target_rmst, grf_style):
    """``y_hat``, score brackets and ``C`` at each row's time from the nuisance forests.

    ``X0``/``X1``/``X_obs``: the rows with treatment column 0/1/observed (``treated``); row
    ``t`` is training row ``oob_rows[t]`` and uses the out-of-bag curves of the event forest
    at both arms (its observed arm gives ``S``) and of the censoring forest at its observed
    arm (``C = 1`` without ``has_censoring``). Each forest (``s_``: event, ``c_``: censoring)
    comes as ``forest``, ``hist`` (as in ``forest_survival.point_curve``), Nelson-Aalen or
    not, and ``to_eval`` mapping its failure indices onto ``eval_times`` = (grid..., horizon)
    (``_on_eval_times``), so the curves are read exactly as on the grid. The score reads
    ``C`` only up to the row's own time: ``c_limit[t]`` is the censoring forest's failure
    index of ``t_right[t]``, past which its leaves are not read. Rows come in blocks whose
    leaves are found tree by tree (``forest_predict.block_leaves``). Memory: O(grid + block x
    trees) scratch per block. Returns ``(y_hat, bracket, c_at_y)``; NaN for a
    row no tree reaches. Parallel over the blocks (``_jit.parallel_range``).
    """
    m = X0.shape[0]
    y_hat = np.full(m, np.nan)
    bracket = np.full(m, np.nan)
    c_at_y = np.full(m, np.nan)
    parallel_range(_forest_scores_range, (m + _BLOCK - 1) // _BLOCK, X0, X1, X_obs, treated,
                   oob_rows, s_forest, s_hist, s_nelson_aalen, s_to_eval, c_forest, c_hist,
                   c_nelson_aalen, c_to_eval, has_censoring, c_limit, eval_times, t_right,
                   t_left, has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat,
                   bracket, c_at_y)
    return y_hat, bracket, c_at_y


@njit(nogil=True, cache=True, error_model="numpy")
def _forest_scores_range(first_block, last_block, X0, X1, X_obs, treated, oob_rows, s_forest,
                         s_hist, s_nelson_aalen, s_to_eval, c_forest, c_hist, c_nelson_aalen,
                         c_to_eval, has_censoring, c_limit, eval_times, t_right, t_left,
                         has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat,
                         bracket, c_at_y):
    """:func:`forest_scores` of the blocks ``first_block <= block < last_block``."""
    m = X0.shape[0]
    n_scratch = max(s_to_eval.shape[0], c_to_eval.shape[0])
    s_limit = s_to_eval.shape[0] - 1
    s_trees = s_forest[4].shape[0] - 1
    c_trees = c_forest[4].shape[0] - 1
    # Scratch once per range, not per block: it is O(grid) (~n), and per block of 256 rows
    # its allocation and clearing were O(n x grid) in all. Curves leave it cleared.
    scratch = curve_scratch(n_scratch)
    dense0, dense1 = dense_scratch(s_hist), dense_scratch(s_hist)
    c_dense = dense_scratch(c_hist)
    for block in range(first_block, last_block):
        first = block * _BLOCK
        last = min(first + _BLOCK, m)
        size = last - first
        s_limits = np.full(size, s_limit)
        leaves0 = np.empty((size, s_trees), dtype=np.int64)
        leaves1 = np.empty((size, s_trees), dtype=np.int64)
        block_leaves(X0, first, last, s_forest, oob_rows, leaves0)
        block_leaves(X1, first, last, s_forest, oob_rows, leaves1)
        c_leaves = np.empty((size, c_trees), dtype=np.int64)
        if has_censoring:
            block_leaves(X_obs, first, last, c_forest, oob_rows, c_leaves)
        for t in range(first, last):
            local = t - first
            ks0, s0, n0 = _forest_curve(
                leaves0[local], X0, t, s_forest, s_hist, s_nelson_aalen, s_to_eval, scratch,
                s_limit, chunk_dense_sums(dense0, leaves0, local, s_hist, s_limits))
            ks1, s1, n1 = _forest_curve(
                leaves1[local], X1, t, s_forest, s_hist, s_nelson_aalen, s_to_eval, scratch,
                s_limit, chunk_dense_sums(dense1, leaves1, local, s_hist, s_limits))
            on = treated[t] > 0.5
            c_ks = np.empty(0, dtype=np.int64)
            c_val = np.empty(0)
            n_c = 0
            if has_censoring:
                c_ks, c_val, n_c = _forest_curve(
                    c_leaves[local], X_obs, t, c_forest, c_hist, c_nelson_aalen, c_to_eval,
                    scratch, c_limit[t], chunk_dense_sums(c_dense, c_leaves, local, c_hist,
                                                          c_limit[first:last]))
            if n0 < 0 or n1 < 0 or n_c < 0:
                continue
            y_hat[t], bracket[t], c_at_y[t] = _row_scores(
                ks0, s0, n0, ks1, s1, n1, c_ks, c_val, n_c, eval_times, t_right[t], t_left[t],
                has_left[t], known[t], f_value[t], w_hat[t], on, target_rmst, grf_style)


@numba_only()
def _dense_jumps(curve):
    """``(ks, values, n)`` of a curve given at grid columns: a jump wherever it changes."""
    ks = np.empty(curve.shape[0], dtype=np.int64)
    values = np.empty(curve.shape[0])
    n = 0
    prev = 1.0
    for k in range(curve.shape[0]):
        if curve[k] != prev:
            ks[n] = k + 1
            values[n] = curve[k]
            n += 1
            prev = curve[k]
    return ks, values, n


def curve_scores(s0, s1, c_obs, treated, eval_times, t_right, t_left, has_left, known, f_value,
                 w_hat, target_rmst, grf_style):
    """``forest_scores`` from curves given on a grid (plug-in nuisance models).

    ``s0``/``s1``: ``S(t | X_i, w)`` at ``eval_times`` = (grid..., horizon) for ``w`` = 0/1;
    ``c_obs``: ``C(t | X_i, W_i)`` at the grid (``eval_times[:-1]``); all read as step
    functions of the grid. Parallel over rows (``_jit.parallel_range``).
    """
    m = s0.shape[0]
    y_hat = np.empty(m)
    bracket = np.empty(m)
    c_at_y = np.empty(m)
    parallel_range(_curve_scores_range, m, s0, s1, c_obs, treated, eval_times, t_right, t_left,
                   has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat, bracket,
                   c_at_y)
    return y_hat, bracket, c_at_y


@njit(nogil=True, cache=True, error_model="numpy")
def _curve_scores_range(first, last, s0, s1, c_obs, treated, eval_times, t_right, t_left,
                        has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat, bracket,
                        c_at_y):
    """:func:`curve_scores` of rows ``first <= t < last``."""
    for t in range(first, last):
        ks0, v0, n0 = _dense_jumps(s0[t])
        ks1, v1, n1 = _dense_jumps(s1[t])
        c_ks, c_val, n_c = _dense_jumps(c_obs[t])
        y_hat[t], bracket[t], c_at_y[t] = _row_scores(
            ks0, v0, n0, ks1, v1, n1, c_ks, c_val, n_c, eval_times, t_right[t], t_left[t],
            has_left[t], known[t], f_value[t], w_hat[t], treated[t] > 0.5, target_rmst,
            grf_style)
