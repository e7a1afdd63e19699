"""numba.cuda twin of the histogram tree growth (:mod:`.forest_hist`; issue 22).

The trees of a batch grow level by level (breadth first, as the CPU reference numbers its
nodes), every level in four launches:

1. ``_node_kernel``, one thread per node of the level: the node's relabeling (the twins of
   :func:`.forest_split.relabel`), the per-row record and the node totals of the split rule;
2. on the host, per tree and in node order, the mtry draws from the tree's stream (the CPU
   functions of :mod:`.forest_rng`: the same draws in the same order);
3. ``_split_kernel``, one thread per (node, candidate feature): the stable counting sort of the
   node's rows by bin and the left-to-right scan of :func:`.forest_hist.best_split_hist`;
   ``_choose_kernel``, one thread per node: the best candidate, in candidate order;
4. ``_partition_kernel``, one thread per split node: the stable move of its rows
   (``forest_tree._move_rows``).

Each thread adds its rows in the CPU reference's order and rounds every product apart from
the following sum (``forest_predict_cuda._mul``: no fused multiply-add), so the trees are the
CPU reference's bit for bit: the tests compare them under numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``). Subsamples are drawn, and leaves populated and compacted
(``forest_hist.finish_tree``), on the host: O(n) per tree against the growth's O(n p depth).

The scratch per batch is ``p`` int32 row orders per split row of each tree; a thread keeps
its bin counts in local memory (``MAX_BINS + 1`` int32).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda, njit

from .forest_hist import MAX_BINS, finish_tree
from .forest_predict_cuda import THREADS_PER_BLOCK, _grid, _mul, _on_device
from .forest_rng import poisson, shuffle_prefix
from .forest_split import (
    _MIN_TREATMENT_VARIANCE,
    RELABEL_CAUSAL,
    RELABEL_CAUSAL_SURVIVAL,
    SPLIT_CAUSAL,
    SPLIT_CAUSAL_SURVIVAL,
)
from .forest_tree import draw_tree_rows

# Bin counts of one (node, feature) thread, in local memory (a compile-time constant).
_BIN_COUNTS = MAX_BINS + 1
# Columns of the per-node statistics written by ``_node_kernel``.
_WSUM, _RSUM, _TSUM, _TSQ, _EVENTS, _TMEAN, _SMALL = range(7)


@cuda.jit(device=True)
def _relabel_center(j, s, e, idx, responses, weights, rho):
    wsum = 0.0
    ysum = 0.0
    first = responses[idx[j, s], 0]
    constant = True
    for q in range(s, e):
        i = idx[j, q]
        y = responses[i, 0]
        wsum += weights[i]
        ysum += _mul(weights[i], y)
        constant = constant and y == first
    if constant or wsum <= 0.0:
        return False
    ybar = ysum / wsum
    for q in range(s, e):
        rho[j, q] = responses[idx[j, q], 0] - ybar
    return True


@cuda.jit(device=True)
def _relabel_causal(j, s, e, idx, responses, weights, rho):
    wsum = 0.0
    ysum = 0.0
    tsum = 0.0
    for q in range(s, e):
        i = idx[j, q]
        wsum += weights[i]
        ysum += _mul(weights[i], responses[i, 0])
        tsum += _mul(weights[i], responses[i, 1])
    if wsum <= 0.0:
        return False
    ybar = ysum / wsum
    tbar = tsum / wsum
    cross = 0.0
    var = 0.0
    for q in range(s, e):
        i = idx[j, q]
        dt = responses[i, 1] - tbar
        cross += _mul(_mul(weights[i], dt), responses[i, 0] - ybar)
        var += _mul(_mul(weights[i], dt), dt)
    var /= wsum
    if var <= _MIN_TREATMENT_VARIANCE:
        return False
    tau = cross / wsum / var
    for q in range(s, e):
        i = idx[j, q]
        dt = responses[i, 1] - tbar
        rho[j, q] = _mul(dt, (responses[i, 0] - ybar) - _mul(tau, dt)) / var
    return True


@cuda.jit(device=True)
def _relabel_causal_survival(j, s, e, idx, responses, rho):
    num = 0.0
    den = 0.0
    for q in range(s, e):
        num += responses[idx[j, q], 0]
        den += responses[idx[j, q], 1]
    if abs(den) <= 1e-10:
        return False
    eta = num / den
    for q in range(s, e):
        i = idx[j, q]
        rho[j, q] = (responses[i, 0] - _mul(eta, responses[i, 1])) / den
    return True


@cuda.jit
def _node_kernel(front_tree, front_start, front_end, idx, responses, weights, relabel_kind,
                 split_kind, treatment_col, rho, record, stats, ok):
    """Relabel node ``fi`` and write its rows' records and its totals (``best_split_hist``'s
    first loops)."""
    fi = cuda.grid(1)
    if fi >= front_tree.shape[0]:
        return
    j = front_tree[fi]
    s = front_start[fi]
    e = front_end[fi]
    if relabel_kind == RELABEL_CAUSAL:
        good = _relabel_causal(j, s, e, idx, responses, weights, rho)
    elif relabel_kind == RELABEL_CAUSAL_SURVIVAL:
        good = _relabel_causal_survival(j, s, e, idx, responses, rho)
    else:
        good = _relabel_center(j, s, e, idx, responses, weights, rho)
    ok[fi] = good
    if not good:
        return
    survival = split_kind == SPLIT_CAUSAL_SURVIVAL
    causal = split_kind == SPLIT_CAUSAL or survival
    wsum = 0.0
    rsum = 0.0
    tsum = 0.0
    tsq = 0.0
    n_events = 0
    for q in range(s, e):
        i = idx[j, q]
        w = weights[i]
        record[j, q, 0] = w
        record[j, q, 1] = _mul(w, rho[j, q])
        record[j, q, 2] = 0.0
        record[j, q, 3] = 0.0
        record[j, q, 4] = 0.0
        wsum += w
        rsum += record[j, q, 1]
        if causal:
            z = responses[i, treatment_col]
            record[j, q, 2] = z
            record[j, q, 3] = _mul(w, z)
            tsum += record[j, q, 3]
            tsq += _mul(record[j, q, 3], z)
        if survival and responses[i, treatment_col + 1] > 0.0:
            record[j, q, 4] = 1.0
            n_events += 1
    tmean = tsum / wsum
    n_small = 0
    if causal:
        for q in range(s, e):
            if record[j, q, 2] < tmean:
                n_small += 1
    stats[fi, _WSUM] = wsum
    stats[fi, _RSUM] = rsum
    stats[fi, _TSUM] = tsum
    stats[fi, _TSQ] = tsq
    stats[fi, _EVENTS] = n_events
    stats[fi, _TMEAN] = tmean
    stats[fi, _SMALL] = n_small


@cuda.jit
def _split_kernel(front_tree, front_start, front_end, ok, cand, n_cand, codes, lower, upper,
                  counts, idx, record, stats, split_kind, min_node_size, alpha,
                  imbalance_penalty, order, out_feature, out_decrease, out_threshold):
    """Best split of node ``fi`` on its ``c``-th candidate feature (thread ``fi * p + c``):
    ``best_split_hist``'s counting sort and scan for one feature."""
    t = cuda.grid(1)
    p = cand.shape[1]
    fi = t // p
    c = t - fi * p
    if fi >= front_tree.shape[0]:
        return
    out_feature[fi, c] = -1
    out_decrease[fi, c] = 0.0
    out_threshold[fi, c] = 0.0
    if not ok[fi] or c >= n_cand[fi]:
        return
    j = front_tree[fi]
    s = front_start[fi]
    e = front_end[fi]
    m = e - s
    survival = split_kind == SPLIT_CAUSAL_SURVIVAL
    causal = split_kind == SPLIT_CAUSAL or survival
    wsum = stats[fi, _WSUM]
    rsum = stats[fi, _RSUM]
    tsum = stats[fi, _TSUM]
    tsq = stats[fi, _TSQ]
    n_events = stats[fi, _EVENTS]
    tmean = stats[fi, _TMEAN]
    n_small = stats[fi, _SMALL]
    # max(ceil(alpha m), 1), as on the CPU (on CUDA math.ceil gives a float)
    min_child = int(math.ceil(alpha * m))  # noqa: RUF046
    if min_child < 1:
        min_child = 1
    if survival and n_events < 2 * min_child:
        return
    min_child_ss = _mul(alpha, tsq - tsum * tsum / wsum)
    f = cand[fi, c]
    nb = counts[f]
    bin_count = cuda.local.array(_BIN_COUNTS, dtype=np.int64)
    for b in range(nb + 1):
        bin_count[b] = 0
    for q in range(s, e):
        bin_count[np.int64(codes[f, idx[j, q]]) + 1] += 1  # uint8 + 1 wraps in the simulator
    for b in range(nb):
        bin_count[b + 1] += bin_count[b]
    for q in range(s, e):
        b = codes[f, idx[j, q]]
        order[j, c, s + bin_count[b]] = q
        bin_count[b] += 1
    w_left = 0.0
    s_left = 0.0
    t_left = 0.0
    tsq_left = 0.0
    small_left = 0
    events_left = 0.0
    best_decrease = 0.0
    best_threshold = 0.0
    found = False
    for q in range(m - 1):
        k = order[j, c, s + q]
        w_left += record[j, k, 0]
        s_left += record[j, k, 1]
        events_left += record[j, k, 4]
        if causal:
            t_left += record[j, k, 3]
            tsq_left += _mul(record[j, k, 3], record[j, k, 2])
            if record[j, k, 2] < tmean:
                small_left += 1
        b = codes[f, idx[j, k]]
        b_next = codes[f, idx[j, order[j, c, s + q + 1]]]
        if b == b_next:
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
                break
            ss_left = tsq_left - t_left * t_left / w_left
            t_right = tsum - t_left
            ss_right = (tsq - tsq_left) - t_right * t_right / w_right
            if ss_left < min_child_ss or ss_right < min_child_ss:
                continue
            if imbalance_penalty > 0.0 and (ss_left <= 0.0 or ss_right <= 0.0):
                continue
            penalty = 0.0
            if imbalance_penalty > 0.0:
                penalty = _mul(imbalance_penalty, 1.0 / ss_left + 1.0 / ss_right)
        else:
            if n_left < min_child:
                continue
            if n_right < min_child:
                break
            penalty = _mul(imbalance_penalty, 1.0 / n_left + 1.0 / n_right)
        s_right = rsum - s_left
        decrease = (s_left * s_left / w_left + s_right * s_right / w_right
                    - rsum * rsum / wsum - penalty)
        if decrease > best_decrease:
            best_decrease = decrease
            found = True
            x_here = upper[f, b]
            x_next = lower[f, b_next]
            threshold = 0.5 * (x_here + x_next)
            best_threshold = threshold if threshold < x_next else x_here
    if found:
        out_feature[fi, c] = f
        out_decrease[fi, c] = best_decrease
        out_threshold[fi, c] = best_threshold


@cuda.jit
def _choose_kernel(n_cand, out_feature, out_decrease, out_threshold, best_feature,
                   best_threshold):
    """Node ``fi``'s best split over its candidates, in candidate order, replaced only when
    strictly better (the CPU scan's rule)."""
    fi = cuda.grid(1)
    if fi >= n_cand.shape[0]:
        return
    best = 0.0
    best_feature[fi] = -1
    best_threshold[fi] = 0.0
    for c in range(n_cand[fi]):
        if out_feature[fi, c] >= 0 and out_decrease[fi, c] > best:
            best = out_decrease[fi, c]
            best_feature[fi] = out_feature[fi, c]
            best_threshold[fi] = out_threshold[fi, c]


@cuda.jit
def _partition_kernel(sp_tree, sp_start, sp_end, sp_feature, sp_threshold, Xt, idx, right_rows,
                      n_left_out):
    """Move split node ``u``'s rows stably, those with ``x <= threshold`` first
    (``forest_tree._move_rows``)."""
    u = cuda.grid(1)
    if u >= sp_tree.shape[0]:
        return
    j = sp_tree[u]
    s = sp_start[u]
    e = sp_end[u]
    f = sp_feature[u]
    cut = sp_threshold[u]
    n_left = 0
    n_right = 0
    for q in range(s, e):
        r = idx[j, q]
        if Xt[f, r] <= cut:
            idx[j, s + n_left] = r
            n_left += 1
        else:
            right_rows[j, s + n_right] = r
            n_right += 1
    for q in range(n_right):
        idx[j, s + n_left + q] = right_rows[j, s + q]
    n_left_out[u] = n_left


@njit(cache=True)
def _draw_candidates(front_tree, ok, states, candidates, mtry, cand, n_cand):
    """The mtry draws of the level's nodes (``forest_tree._grow``'s), tree by tree in node
    order: ``cand[fi, :n_cand[fi]]`` are node ``fi``'s candidate features."""
    p = candidates.shape[1]
    for fi in range(front_tree.shape[0]):
        n_cand[fi] = 0
        if not ok[fi]:
            continue
        j = front_tree[fi]
        state = states[j:j + 1]
        k = min(max(poisson(state, mtry), 1), p)
        shuffle_prefix(candidates[j], k, state)
        for c in range(k):
            cand[fi, c] = candidates[j, c]
        n_cand[fi] = k


@njit(cache=True)
def _level_nodes(n_nodes_prev, n_nodes, start, end, min_node_size):
    """The nodes created by the previous level that may split (more than ``min_node_size``
    rows), ordered by tree then node: ``(tree, node, start, end)``."""
    total = 0
    for j in range(n_nodes.shape[0]):
        for node in range(n_nodes_prev[j], n_nodes[j]):
            total += end[j, node] - start[j, node] > min_node_size
    tree = np.empty(total, dtype=np.int64)
    nodes = np.empty(total, dtype=np.int64)
    f_start = np.empty(total, dtype=np.int64)
    f_end = np.empty(total, dtype=np.int64)
    k = 0
    for j in range(n_nodes.shape[0]):
        for node in range(n_nodes_prev[j], n_nodes[j]):
            if end[j, node] - start[j, node] > min_node_size:
                tree[k] = j
                nodes[k] = node
                f_start[k] = start[j, node]
                f_end[k] = end[j, node]
                k += 1
    return tree, nodes, f_start, f_end


@njit(cache=True)
def _add_children(u_tree, u_node, u_start, u_end, u_feature, u_threshold, n_left, feature,
                  threshold, left, start, end, n_nodes):
    """Record the level's splits and number their children as the CPU queue does: in node
    order, two by two, per tree."""
    for u in range(u_tree.shape[0]):
        j = u_tree[u]
        node = u_node[u]
        child = n_nodes[j]
        feature[j, node] = u_feature[u]
        threshold[j, node] = u_threshold[u]
        left[j, node] = child
        lo = u_start[u] + n_left[u]
        start[j, child] = u_start[u]
        end[j, child] = lo
        start[j, child + 1] = lo
        end[j, child + 1] = u_end[u]
        n_nodes[j] = child + 2


def grow_trees_hist_cuda(Xt: Any, codes: Any, lower: Any, upper: Any, counts: Any,
                         responses: Any, weights: Any, trees: np.ndarray, master_seed: int,
                         n_half: int, n_sub: int, n_split: int, ci_group_size: int,
                         honesty: bool, prune: bool, min_node_size: int, mtry: float,
                         alpha: float, imbalance_penalty: float, relabel_kind: int,
                         split_kind: int, treatment_col: int, out_feature: np.ndarray,
                         out_threshold: np.ndarray, out_left: np.ndarray,
                         out_leaf_start: np.ndarray, out_leaf_size: np.ndarray,
                         out_n_nodes: np.ndarray, leaf_samples: np.ndarray,
                         inbag: np.ndarray) -> None:
    """:func:`.forest_hist.grow_trees_hist` on the GPU: the same arguments and outputs, the
    same trees (the histogram growth of the regression, causal and causal survival rules)."""
    Xt_h = np.asarray(Xt)
    n = Xt_h.shape[1]
    p = Xt_h.shape[0]
    n_trees = trees.shape[0]
    m = n_split
    capacity = max(2 * m, 1)
    split_rows, est_rows = [], []
    states = np.empty(n_trees, dtype=np.uint64)
    idx = np.empty((n_trees, m), dtype=np.int64)
    for j in range(n_trees):
        split, est, state = draw_tree_rows(n, trees[j], master_seed, n_half, n_sub, n_split,
                                           ci_group_size)
        split_rows.append(split)
        est_rows.append(est)
        states[j] = state[0]
        idx[j] = split
    feature = np.full((n_trees, capacity), -1, dtype=np.int64)
    threshold = np.zeros((n_trees, capacity))
    left = np.zeros((n_trees, capacity), dtype=np.int64)
    start = np.zeros((n_trees, capacity), dtype=np.int64)
    end = np.zeros((n_trees, capacity), dtype=np.int64)
    end[:, 0] = m
    n_nodes = np.ones(n_trees, dtype=np.int64)
    n_nodes_prev = np.zeros(n_trees, dtype=np.int64)
    candidates = np.tile(np.arange(p, dtype=np.int64), (n_trees, 1))

    d_Xt, d_codes, d_lower, d_upper, d_counts, d_responses, d_weights = (
        _on_device(a) for a in (Xt, codes, lower, upper, counts, responses, weights))
    d_idx = cuda.to_device(idx)
    d_rho = cuda.device_array((n_trees, m))
    d_record = cuda.device_array((n_trees, m, 5))
    d_order = cuda.device_array((n_trees, p, m), dtype=np.int32)
    d_right = cuda.device_array((n_trees, m), dtype=np.int64)
    while True:
        f_tree, f_node, f_start, f_end = _level_nodes(n_nodes_prev, n_nodes, start, end,
                                                      np.int64(min_node_size))
        n_nodes_prev = n_nodes.copy()
        n_front = f_tree.shape[0]
        if n_front == 0:
            break
        d_tree, d_start, d_end = (cuda.to_device(a) for a in (f_tree, f_start, f_end))
        d_ok = cuda.device_array(n_front, dtype=np.bool_)
        d_stats = cuda.device_array((n_front, 7))
        _node_kernel[_grid(n_front), THREADS_PER_BLOCK](
            d_tree, d_start, d_end, d_idx, d_responses, d_weights, relabel_kind, split_kind,
            treatment_col, d_rho, d_record, d_stats, d_ok)
        ok = d_ok.copy_to_host()
        cand = np.zeros((n_front, p), dtype=np.int64)
        n_cand = np.zeros(n_front, dtype=np.int64)
        _draw_candidates(f_tree, ok, states, candidates, float(mtry), cand, n_cand)
        d_n_cand = cuda.to_device(n_cand)
        d_feat = cuda.device_array((n_front, p), dtype=np.int64)
        d_dec = cuda.device_array((n_front, p))
        d_thr = cuda.device_array((n_front, p))
        _split_kernel[_grid(n_front * p), THREADS_PER_BLOCK](
            d_tree, d_start, d_end, d_ok, cuda.to_device(cand), d_n_cand, d_codes, d_lower,
            d_upper, d_counts, d_idx, d_record, d_stats, split_kind, min_node_size, alpha,
            imbalance_penalty, d_order, d_feat, d_dec, d_thr)
        d_best_f = cuda.device_array(n_front, dtype=np.int64)
        d_best_t = cuda.device_array(n_front)
        _choose_kernel[_grid(n_front), THREADS_PER_BLOCK](d_n_cand, d_feat, d_dec, d_thr,
                                                         d_best_f, d_best_t)
        best_f = d_best_f.copy_to_host()
        best_t = d_best_t.copy_to_host()
        split = best_f >= 0
        if not split.any():
            break
        u_tree, u_node = f_tree[split], f_node[split]
        u_start, u_end = f_start[split], f_end[split]
        u_feat, u_thr = best_f[split], best_t[split]
        d_n_left = cuda.device_array(u_tree.shape[0], dtype=np.int64)
        _partition_kernel[_grid(u_tree.shape[0]), THREADS_PER_BLOCK](
            *(cuda.to_device(a) for a in (u_tree, u_start, u_end, u_feat, u_thr)), d_Xt,
            d_idx, d_right, d_n_left)
        _add_children(u_tree, u_node, u_start, u_end, u_feat, u_thr, d_n_left.copy_to_host(),
                      feature, threshold, left, start, end, n_nodes)
    for j in range(n_trees):
        finish_tree(Xt_h, trees[j], split_rows[j], est_rows[j], honesty, prune, n_nodes[j],
                    feature[j], threshold[j], left[j], j, out_feature, out_threshold,
                    out_left, out_leaf_start, out_leaf_size, out_n_nodes, leaf_samples, inbag)
