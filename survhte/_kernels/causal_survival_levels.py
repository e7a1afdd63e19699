"""The causal survival score with K + 1 treatment levels (numba): the multi-arm forest's.

As ``causal_survival_score`` (whose row-level pieces it calls), for a treatment with levels
``0..K``: each row's event curves ``S(t | X_i, w)`` at every level give
``m(X_i) = sum_w e_w(X_i) E[f(T) | X_i, w]``, and the curve at its observed level and its
censoring curve ``C(t | X_i, W_i)`` give the censoring-adjusted outcome ``Gamma_i`` (the
bracket of ``psi_i = (W_i - e_i) Gamma_i``). With two levels, ``levels = [X0, X1]`` and
``e = [1 - e, e]``, the outputs equal ``causal_survival_score``'s bit for bit (the sum
``e_0 mu_0 + e_1 mu_1`` is the same two products added).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit import numba_only, parallel_range
from .causal_survival_score import _dense_jumps, _forest_curve, arm_mean, row_bracket
from .forest_predict import _BLOCK, block_leaves
from .forest_survival import chunk_dense_sums, curve_scratch, dense_scratch


@numba_only(error_model="numpy")
def _level_row(mean_sum, s_ks, s_val, n_s, c_ks, c_val, n_c, eval_times, t_right, t_left,
               has_left, known, f_value, target_rmst, grf_style):
    """``(y_hat, bracket, C at the row's time)`` given ``m = mean_sum`` and the observed
    level's event curve."""
    horizon = eval_times[eval_times.shape[0] - 1]
    b, c = row_bracket(s_ks, s_val, n_s, c_ks, c_val, n_c, eval_times, horizon, t_right,
                       t_left, has_left, known, f_value, mean_sum, target_rmst, grf_style)
    return mean_sum, b, c


def forest_scores_levels(X_levels, X_obs, codes, oob_rows, s_forest, s_hist, s_nelson_aalen,
                         s_to_eval, c_forest, c_hist, c_nelson_aalen, c_to_eval,
                         has_censoring, c_limit, eval_times, t_right, t_left, has_left, known,
                         f_value, w_hat, target_rmst, grf_style):
    """``causal_survival_score.forest_scores`` with ``L`` levels.

    ``X_levels`` (L, m, q): the rows with the treatment columns of each level; ``X_obs`` at
    the observed level ``codes``; ``w_hat`` (m, L) the propensities of every level. Returns
    ``(y_hat, bracket, c_at_y, level_means (m, L))``; NaN for a row no tree reaches.
    """
    m = X_obs.shape[0]
    y_hat = np.full(m, np.nan)
    bracket = np.full(m, np.nan)
    c_at_y = np.full(m, np.nan)
    means = np.full((m, X_levels.shape[0]), np.nan)
    parallel_range(_forest_levels_range, (m + _BLOCK - 1) // _BLOCK, X_levels, X_obs, codes,
                   oob_rows, s_forest, s_hist, s_nelson_aalen, s_to_eval, c_forest, c_hist,
                   c_nelson_aalen, c_to_eval, has_censoring, c_limit, eval_times, t_right,
                   t_left, has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat,
                   bracket, c_at_y, means)
    return y_hat, bracket, c_at_y, means


@njit(nogil=True, cache=True, error_model="numpy")
def _forest_levels_range(first_block, last_block, X_levels, X_obs, codes, oob_rows, s_forest,
                         s_hist, s_nelson_aalen, s_to_eval, c_forest, c_hist, c_nelson_aalen,
                         c_to_eval, has_censoring, c_limit, eval_times, t_right, t_left,
                         has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat,
                         bracket, c_at_y, means):
    """:func:`forest_scores_levels` of the blocks ``first_block <= block < last_block``."""
    m = X_obs.shape[0]
    n_levels = X_levels.shape[0]
    n_scratch = max(s_to_eval.shape[0], c_to_eval.shape[0])
    s_limit = s_to_eval.shape[0] - 1
    s_trees = s_forest[4].shape[0] - 1
    c_trees = c_forest[4].shape[0] - 1
    horizon = eval_times[eval_times.shape[0] - 1]
    # O(grid) scratch once per range (per block it was O(n x grid) in all); left cleared.
    scratch = curve_scratch(n_scratch)
    denses = [dense_scratch(s_hist) for _ in range(n_levels)]
    c_dense = dense_scratch(c_hist)
    for block in range(first_block, last_block):
        first = block * _BLOCK
        last = min(first + _BLOCK, m)
        size = last - first
        s_limits = np.full(size, s_limit)
        leaves = np.empty((n_levels, size, s_trees), dtype=np.int64)
        for level in range(n_levels):
            block_leaves(X_levels[level], first, last, s_forest, oob_rows, leaves[level])
        c_leaves = np.empty((size, c_trees), dtype=np.int64)
        if has_censoring:
            block_leaves(X_obs, first, last, c_forest, oob_rows, c_leaves)
        for t in range(first, last):
            local = t - first
            m_sum = 0.0
            missing = False
            obs_ks = np.empty(0, dtype=np.int64)
            obs_val = np.empty(0)
            obs_n = 0
            for level in range(n_levels):
                ks, vals, n_s = _forest_curve(
                    leaves[level, local], X_levels[level], t, s_forest, s_hist,
                    s_nelson_aalen, s_to_eval, scratch, s_limit,
                    chunk_dense_sums(denses[level], leaves[level], local, s_hist, s_limits))
                if n_s < 0:
                    missing = True
                    continue
                mean = arm_mean(ks, vals, n_s, eval_times, horizon, target_rmst)
                means[t, level] = mean
                m_sum += w_hat[t, level] * mean
                if level == codes[t]:
                    obs_ks, obs_val, obs_n = ks, vals, n_s
            c_ks = np.empty(0, dtype=np.int64)
            c_val = np.empty(0)
            n_c = 0
            if has_censoring:
                c_ks, c_val, n_c = _forest_curve(
                    c_leaves[local], X_obs, t, c_forest, c_hist, c_nelson_aalen, c_to_eval,
                    scratch, c_limit[t], chunk_dense_sums(c_dense, c_leaves, local, c_hist,
                                                          c_limit[first:last]))
            if missing or n_c < 0:
                continue
            y_hat[t], bracket[t], c_at_y[t] = _level_row(
                m_sum, obs_ks, obs_val, obs_n, c_ks, c_val, n_c, eval_times, t_right[t],
                t_left[t], has_left[t], known[t], f_value[t], target_rmst, grf_style)


def curve_scores_levels(s_levels, c_obs, codes, eval_times, t_right, t_left, has_left, known,
                        f_value, w_hat, target_rmst, grf_style):
    """:func:`forest_scores_levels` from curves on the grid (plug-in nuisance models):
    ``s_levels`` (L, m, eval) the event curves at every level, ``c_obs`` (m, grid) the
    censoring curve at the observed level (``causal_survival_score.curve_scores``)."""
    m = c_obs.shape[0]
    y_hat = np.empty(m)
    bracket = np.empty(m)
    c_at_y = np.empty(m)
    means = np.empty((m, s_levels.shape[0]))
    parallel_range(_curve_levels_range, m, s_levels, c_obs, codes, eval_times, t_right, t_left,
                   has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat, bracket,
                   c_at_y, means)
    return y_hat, bracket, c_at_y, means


@njit(nogil=True, cache=True, error_model="numpy")
def _curve_levels_range(first, last, s_levels, c_obs, codes, eval_times, t_right, t_left,
                        has_left, known, f_value, w_hat, target_rmst, grf_style, y_hat,
                        bracket, c_at_y, means):
    """:func:`curve_scores_levels` of rows ``first <= t < last``."""
    horizon = eval_times[eval_times.shape[0] - 1]
    for t in range(first, last):
        m_sum = 0.0
        obs_ks = np.empty(0, dtype=np.int64)
        obs_val = np.empty(0)
        obs_n = 0
        for level in range(s_levels.shape[0]):
            ks, vals, n_s = _dense_jumps(s_levels[level, t])
            mean = arm_mean(ks, vals, n_s, eval_times, horizon, target_rmst)
            means[t, level] = mean
            m_sum += w_hat[t, level] * mean
            if level == codes[t]:
                obs_ks, obs_val, obs_n = ks, vals, n_s
        c_ks, c_val, n_c = _dense_jumps(c_obs[t])
        y_hat[t], bracket[t], c_at_y[t] = _level_row(
            m_sum, obs_ks, obs_val, obs_n, c_ks, c_val, n_c, eval_times, t_right[t], t_left[t],
            has_left[t], known[t], f_value[t], target_rmst, grf_style)
