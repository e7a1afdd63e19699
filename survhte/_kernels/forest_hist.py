"""Histogram split search over quantile-binned features (numba CPU reference; issue 22).

The exact rules (:func:`.forest_split.best_split`) scan a node's rows in the order of each
candidate feature. Here each feature is binned once per fit into at most ``n_bins`` (<= 256,
uint8 codes) bins of consecutive values (:func:`bin_features`), and a node accumulates per bin
of each candidate feature the sufficient statistics of its rule, in node order, then scans the
bins left to right with the exact rule's criterion, penalty and admissibility constraints
(:func:`best_split_hist`): O(m + n_bins) per feature, no sort, and the form a GPU runs
(:mod:`.forest_hist_cuda`). Per bin, for the rules

- ``SPLIT_VARIANCE``: rows ``n``, weight ``sum w``, ``sum w rho``;
- ``SPLIT_CAUSAL``: and the treatment's ``sum w z``, ``sum w z^2`` and the rows whose treatment
  is below the node's weighted mean (the child's treatment sum of squares is
  ``sum w z^2 - (sum w z)^2 / sum w``);
- ``SPLIT_CAUSAL_SURVIVAL``: and the events.

Binning. A feature with at most ``n_bins`` distinct values gets one bin per value, so nothing
is lost; otherwise the sorted distinct values are cut into bins of about ``n / n_bins`` rows
(a value is never split between bins: a bin starts at the value whose preceding rows cross a
multiple of ``n / n_bins``). Each bin remembers the least and largest training value in it;
a split between the node's non-empty bins ``b < b'`` (nothing of the node in between) has the
threshold midway between bin ``b``'s largest and bin ``b'``'s least value, the exact rule's
midpoint formula (with its guard against a midpoint rounding up to the larger value). So the
trees store thresholds on the raw feature scale and every prediction path reads them as an
exact tree's; and when every feature has at most ``n_bins`` values the candidate splits, the
thresholds and (up to the association of the sums within a bin) the criterion are the exact
rule's, so the trees are the exact trees (``tests/test_forest_hist.py``).

Growth (:func:`grow_trees_hist`) is :func:`.forest_tree.grow_trees` with this split search:
the same subsamples and honesty halves (``draw_tree_rows``), the same relabelings
(:func:`.forest_split.relabel`), the same mtry draws from the tree's stream, breadth first,
the same row moves, leaves and pruning (``_move_rows``, ``_populate``, ``_compact``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit import numba_only, parallel_range
from .forest_rng import poisson, shuffle_prefix
from .forest_split import (
    SPLIT_CAUSAL,
    SPLIT_CAUSAL_SURVIVAL,
    SPLIT_VARIANCE,
    node_records,
    relabel,
    scan_split,
)
from .forest_tree import _compact, _move_rows, _populate, draw_tree_rows

#: Most bins per feature (codes are uint8).
MAX_BINS = 256

#: The split rules with a histogram search.
HIST_RULES = (SPLIT_VARIANCE, SPLIT_CAUSAL, SPLIT_CAUSAL_SURVIVAL)


def bin_features(X: np.ndarray, n_bins: int = MAX_BINS) -> tuple[np.ndarray, ...]:
    """Quantile bins of each feature of ``X`` (n, p), computed on these rows.

    Parameters
    ----------
    X : float64 (n, p)
    n_bins : int in [2, 256]

    Returns
    -------
    codes : uint8 (p, n)
        Bin of ``X[i, f]`` at ``codes[f, i]`` (feature-major, as ``Xt``); bins of a feature are
        numbered by increasing values.
    lower, upper : float64 (p, n_bins)
        Least and largest training value in each bin (unused bins: 0).
    counts : int64 (p,)
        Bins used by each feature.
    """
    if not 2 <= n_bins <= MAX_BINS:
        raise ValueError(f"n_bins must be in [2, {MAX_BINS}]; got {n_bins}.")
    n, p = X.shape
    codes = np.empty((p, n), dtype=np.uint8)
    lower = np.zeros((p, n_bins))
    upper = np.zeros((p, n_bins))
    counts = np.empty(p, dtype=np.int64)
    for f in range(p):
        values, inverse, freq = np.unique(X[:, f], return_inverse=True, return_counts=True)
        if values.shape[0] <= n_bins:
            of_value = np.arange(values.shape[0])
        else:  # a value starts bin floor(rows before it * n_bins / n); empty numbers dropped
            before = np.cumsum(freq) - freq
            of_value = np.unique(before * n_bins // n, return_inverse=True)[1].reshape(-1)
        used = int(of_value[-1]) + 1
        codes[f] = of_value[inverse.reshape(-1)]
        first = np.searchsorted(of_value, np.arange(used), side="left")
        last = np.searchsorted(of_value, np.arange(used), side="right") - 1
        lower[f, :used] = values[first]
        upper[f, :used] = values[last]
        counts[f] = used
    return codes, lower, upper, counts


@njit(cache=True)
def hist_workspace(m, n_bins):
    """Scratch of :func:`best_split_hist` for nodes of up to ``m`` rows: the per-row record
    (float (m, 5)), the bin order (int (m,)) and the bin counts (int (n_bins + 1,))."""
    return (np.empty((m, 5)), np.empty(m, dtype=np.int64),
            np.empty(n_bins + 1, dtype=np.int64))


@njit(cache=True)
def best_split_hist(kind, codes, lower, upper, counts, rows, rho, weights, responses,
                    treatment_col, features, min_node_size, alpha, imbalance_penalty,
                    record, order, bin_count):
    """Best admissible split of a node over ``features``, searched over bin boundaries.

    The criterion, penalties and constraints of :func:`.forest_split.best_split` (same
    ``kind``, ``rows``, ``rho`` and parameters); ``codes, lower, upper, counts`` from
    :func:`bin_features`; ``record, order, bin_count`` from :func:`hist_workspace`.

    A bin's statistics are added to the left child row by row, the node's rows taken bin by
    bin and in node order within a bin (a stable counting sort by bin, O(m + n_bins)): the
    additions of the exact rule, which takes them by rank and in node order within a rank.
    Summing each bin first and then adding the bin sums would reassociate them, and a split
    whose children are the same rows under two features (frequent in small nodes) would then
    be chosen by rounding differently from the exact rule. Candidates are visited in the order
    of ``features`` and bins left to right, and replace the best only when strictly better.
    Returns ``(feature, threshold)``, feature -1 when nothing qualifies.
    """
    m = rows.shape[0]
    stats = node_records(kind, rows, rho, weights, responses, treatment_col, alpha, record)
    if stats[0] < 0:  # no split leaves enough events on each side
        return -1, 0.0
    no_keys = np.empty(0, dtype=np.int64)
    no_values = np.empty(0)
    best_feature = -1
    best_threshold = 0.0
    best_decrease = 0.0
    for f in features:
        nb = counts[f]
        code = codes[f]
        bin_count[:nb + 1] = 0
        for q in range(m):
            bin_count[code[rows[q]] + 1] += 1
        for b in range(nb):
            bin_count[b + 1] += bin_count[b]
        for q in range(m):  # stable: bin by bin, node order within a bin
            b = code[rows[q]]
            order[bin_count[b]] = q
            bin_count[b] += 1
        decrease, threshold = scan_split(kind, record, stats, order, m, min_node_size,
                                         imbalance_penalty, best_decrease, True, no_keys,
                                         no_values, rows, code, upper[f], lower[f])
        if decrease > best_decrease:
            best_decrease = decrease
            best_feature = f
            best_threshold = threshold
    return best_feature, best_threshold


@numba_only()
def _grow_hist(Xt, codes, lower, upper, counts, responses, weights, split_rows,
               min_node_size, mtry, alpha, imbalance_penalty, relabel_kind, split_kind,
               treatment_col, state):
    """``forest_tree._grow`` with :func:`best_split_hist`: breadth first, the same draws."""
    m = split_rows.shape[0]
    capacity = max(2 * m, 1)
    feature = np.full(capacity, -1, dtype=np.int64)
    threshold = np.zeros(capacity)
    left = np.zeros(capacity, dtype=np.int64)
    start = np.zeros(capacity, dtype=np.int64)
    end = np.zeros(capacity, dtype=np.int64)
    idx = split_rows.copy()
    rho = np.empty(m)
    record, order, bin_count = hist_workspace(m, lower.shape[1])
    goes_left = np.empty(m, dtype=np.bool_)
    new_position = np.empty(m, dtype=np.int32)
    right_rows = np.empty(m, dtype=np.int64)
    p = Xt.shape[0]
    candidates = np.arange(p)
    end[0] = m
    n_nodes = 1
    node = 0
    while node < n_nodes:
        s = start[node]
        e = end[node]
        node += 1
        if e - s <= min_node_size:
            continue
        rows = idx[s:e]
        if not relabel(relabel_kind, rows, responses, weights, rho):
            continue
        k = min(max(poisson(state, mtry), 1), p)
        shuffle_prefix(candidates, k, state)
        f, cut = best_split_hist(split_kind, codes, lower, upper, counts, rows, rho, weights,
                                 responses, treatment_col, candidates[:k], min_node_size,
                                 alpha, imbalance_penalty, record, order,
                                 bin_count)
        if f < 0:
            continue
        n_left = _move_rows(Xt, f, cut, idx[s:e], right_rows, goes_left, new_position)
        lo = s + n_left
        parent = node - 1
        feature[parent] = f
        threshold[parent] = cut
        left[parent] = n_nodes
        start[n_nodes] = s
        end[n_nodes] = lo
        start[n_nodes + 1] = lo
        end[n_nodes + 1] = e
        n_nodes += 2
    return n_nodes, feature, threshold, left


def grow_trees_hist(Xt, codes, lower, upper, counts, responses, weights, trees, master_seed,
                    n_half, n_sub, n_split, ci_group_size, honesty, prune, min_node_size, mtry,
                    alpha, imbalance_penalty, relabel_kind, split_kind, treatment_col,
                    out_feature, out_threshold, out_left, out_leaf_start, out_leaf_size,
                    out_n_nodes, leaf_samples, inbag):
    """:func:`.forest_tree.grow_trees` with the histogram split search: ``codes, lower,
    upper, counts`` (:func:`bin_features`) in place of the ranks; same outputs."""
    parallel_range(_grow_range_hist, trees.shape[0], Xt, codes, lower, upper, counts,
                   responses, weights, trees, master_seed, n_half, n_sub, n_split,
                   ci_group_size, honesty, prune, min_node_size, mtry, alpha,
                   imbalance_penalty, relabel_kind, split_kind, treatment_col, out_feature,
                   out_threshold, out_left, out_leaf_start, out_leaf_size, out_n_nodes,
                   leaf_samples, inbag)


@njit(cache=True)
def finish_tree(Xt, tree, split_rows, est_rows, honesty, prune, n_nodes, feature, threshold,
                left, j, out_feature, out_threshold, out_left, out_leaf_start, out_leaf_size,
                out_n_nodes, leaf_samples, inbag):
    """Record tree ``tree``'s subsample bits, populate its leaves and compact it into slot
    ``j`` (the end of ``forest_tree._grow_range``, shared with the GPU growth)."""
    for rows in (split_rows, est_rows):
        for q in range(rows.shape[0]):
            r = rows[q]
            inbag[tree, r >> 3] |= np.uint8(1 << (r & 7))
    leaf_rows = est_rows if honesty else split_rows
    leaf_start, leaf_size = _populate(Xt, leaf_rows, n_nodes, feature, threshold, left,
                                      leaf_samples[tree])
    out_n_nodes[j] = _compact(n_nodes, feature, threshold, left, leaf_start, leaf_size,
                              honesty and prune, out_feature[j], out_threshold[j],
                              out_left[j], out_leaf_start[j], out_leaf_size[j])


@njit(nogil=True, cache=True)
def _grow_range_hist(first, last, Xt, codes, lower, upper, counts, responses, weights, trees,
                     master_seed, n_half, n_sub, n_split, ci_group_size, honesty, prune,
                     min_node_size, mtry, alpha, imbalance_penalty, relabel_kind, split_kind,
                     treatment_col, out_feature, out_threshold, out_left, out_leaf_start,
                     out_leaf_size, out_n_nodes, leaf_samples, inbag):
    """:func:`grow_trees_hist` for slots ``first <= j < last``."""
    n = Xt.shape[1]
    for j in range(first, last):
        tree = trees[j]
        split_rows, est_rows, state = draw_tree_rows(n, tree, master_seed, n_half, n_sub,
                                                     n_split, ci_group_size)
        n_nodes, feature, threshold, left = _grow_hist(
            Xt, codes, lower, upper, counts, responses, weights, split_rows, min_node_size,
            mtry, alpha, imbalance_penalty, relabel_kind, split_kind, treatment_col, state)
        finish_tree(Xt, tree, split_rows, est_rows, honesty, prune, n_nodes, feature,
                    threshold, left, j, out_feature, out_threshold, out_left, out_leaf_start,
                    out_leaf_size, out_n_nodes, leaf_samples, inbag)
