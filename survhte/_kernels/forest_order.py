"""Ordering a node's rows by one feature (numba): the sort under every candidate split.

The split search (``forest_split.best_split``, ``forest_logrank.logrank_split``) scans a node's
rows in increasing order of each candidate feature. Sorting the real values per node and
feature (``np.argsort``, O(m log m)) was most of the fit time: with grf's default
``mtry = min(ceil(sqrt(p) + 20), p)`` nearly every feature is tried at every node.

Instead each feature is ranked once per fit (``feature_ranks``: ``ranks[i, f]`` is the index of
``x_{i,f}`` among the sorted distinct values of feature ``f``, int32, row-major so that the
candidate features of a node's rows share cache lines: after the first feature, a node's
ranks are read from cache), and ``node_order`` sorts a node's rows by rank:

- ``m <= _INSERTION_MAX`` rows: insertion sort (the faster below ~32-48 rows);
- otherwise an LSD radix sort of ``rank - min`` over the node (``span = max - min`` is read in
  the gathering pass) in counting passes of equal digit width, digits at most
  ``min(_RADIX_BITS, max(bits(m), 4))`` wide so that the counters do not outnumber ~2m:
  O(m + 2^digit) per pass. A binary feature takes one pass of two buckets, a continuous one at
  n = 5e4 two passes of 8 bits.

Measured (one core, random nodes of a continuous feature at n = 5e4, ns per row, argsort of
the gathered values vs ``node_order``): m = 16: 22 vs 7; 64: 28 vs 7.5; 256: 39 vs 4.4;
4096: 61 vs 3.6; 12500: 68 vs 3.6. SurvivalForest fit (5e4 x 27): the argsort was ~60% of the
time, the order is ~20%; the log-rank scan now dominates.

Every path is a stable sort by rank, so the order equals ``np.argsort(values, kind="stable")``
and ties (equal ranks, i.e. equal values) stay in node order. Since equal ranks mean equal
values, the scans step over ties by comparing ranks and read real values only for the
threshold, so split semantics (midpoint thresholds, splits only between distinct values, and
``descend`` at predict time) are unchanged. Compared with the former unstable ``argsort``, only
the summation order among tied rows differs, which can move running sums by rounding.

Presorted orders. When most features are candidates at every node (``mtry >= p / 2``, as
grf's default ``mtry`` for ``p <= 25``), the tree builder sorts every feature once per tree
(``presort``) and splits those orders with the rows (``partition_presorted``, a stable
partition: O(p m) per split, no sorting below the root), as scikit-learn's older ``presort``
did; ``feature_order`` hands a rule either kind. The orders take 2 p m int32 per tree being
grown (one per thread; past 128 MB nodes sort instead). With fewer candidates the per-node
radix sort costs less (O(mtry m)); the switch is ``survhte.forest._engine.presorted_orders``.
Measured: a log-rank tree at 5e4 x 27 (mtry 26, one thread) 0.17-0.20 s sorting per node ->
0.145-0.16 s presorted; an honest regression forest on Friedman #1 (1e5 x 10, 100 trees,
2 threads) 5.2 -> 3.9 s, the non-honest one unchanged (9.5 vs 10.0 s).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit import numba_only

# Nodes of at most this many rows are insertion sorted (crossover with radix: 32-48 rows).
_INSERTION_MAX = 32
# Widest radix digit: 2^11 counters (8 KiB as int32) stay in L1.
_RADIX_BITS = 11


def feature_ranks(X: np.ndarray) -> np.ndarray:
    """Dense ranks (n, p) int32: ``ranks[i, f]`` = index of ``X[i, f]`` among its values."""
    n, p = X.shape
    ranks = np.empty((n, p), dtype=np.int32)
    for f in range(p):
        ranks[:, f] = np.unique(X[:, f], return_inverse=True)[1].reshape(-1)
    return ranks


@njit(cache=True)
def order_workspace(m):
    """Scratch for ``node_order`` on nodes of up to ``m`` rows."""
    return np.empty((5, max(m, (1 << _RADIX_BITS) + 1)), dtype=np.int32)


@numba_only()
def _insertion_sort(keys, order, m):
    for q in range(1, m):
        key = keys[q]
        pos = order[q]
        j = q - 1
        while j >= 0 and keys[j] > key:
            keys[j + 1] = keys[j]
            order[j + 1] = order[j]
            j -= 1
        keys[j + 1] = key
        order[j + 1] = pos


@numba_only()
def _radix_sort(work, m, lo, passes, digit):
    """LSD radix sort of ``work[1, :m] - lo`` carrying ``work[0, :m]``; result in rows 0, 1."""
    keys = work[1]
    order = work[0]
    for q in range(m):
        keys[q] -= lo
    src_k = keys
    src_o = order
    dst_k = work[2]
    dst_o = work[3]
    count = work[4]
    buckets = 1 << digit
    mask = buckets - 1
    shift = 0
    for _ in range(passes):
        count[:buckets + 1] = 0
        for q in range(m):
            count[((src_k[q] >> shift) & mask) + 1] += 1
        for b in range(buckets):
            count[b + 1] += count[b]
        for q in range(m):
            d = (src_k[q] >> shift) & mask
            at = count[d]
            dst_k[at] = src_k[q]
            dst_o[at] = src_o[q]
            count[d] = at + 1
        src_k, dst_k = dst_k, src_k
        src_o, dst_o = dst_o, src_o
        shift += digit
    if passes % 2 == 1:  # the result is in rows 2, 3: bring it back
        for q in range(m):
            keys[q] = src_k[q]
            order[q] = src_o[q]
    for q in range(m):
        keys[q] += lo


@numba_only()
def _bit_length(value):
    bits = 0
    while (value >> bits) > 0:
        bits += 1
    return bits


@numba_only()
def radix_passes(span, m):
    """``(passes, digit bits)`` of an LSD radix sort of ``m`` keys in ``[0, span]``.

    Digits are at most ``_RADIX_BITS`` wide and have at most about ``2 m`` buckets.
    """
    bits = _bit_length(span)
    cap = min(_RADIX_BITS, max(_bit_length(m), 4))
    passes = (bits + cap - 1) // cap
    return passes, (bits + passes - 1) // passes


@njit(cache=True)
def node_order(ranks, f, rows, work):
    """Stable order of the node's rows by ``ranks[rows[q], f]``.

    Parameters
    ----------
    ranks : int32 (n, p)
        ``feature_ranks`` of the covariates.
    f : int
        The feature.
    rows : int64 (m,)
        The node's rows.
    work : int32 (5, >= max(m, 2^_RADIX_BITS + 1))
        ``order_workspace`` scratch.

    Returns
    -------
    order : int32 (m,)
        Positions ``q`` in ``rows``, by increasing rank, ties in increasing ``q`` (a view of
        ``work[0]``).
    keys : int32 (m,)
        ``ranks[rows[order], f]`` (a view of ``work[1]``).
    """
    m = rows.shape[0]
    order = work[0]
    keys = work[1]
    lo = np.int32(2147483647)
    hi = np.int32(-1)
    for q in range(m):
        r = ranks[rows[q], f]
        keys[q] = r
        order[q] = q
        if r < lo:
            lo = r
        if r > hi:
            hi = r
    sort_gathered(work, m, lo, hi)
    return order[:m], keys[:m]


@njit(cache=True)
def sort_keys(work, m):
    """Stable sort of the int32 keys ``work[1, :m]``; ``work[0, :m]`` receives their
    positions ``0..m-1`` in sorted order (``sort_gathered`` with the range read here)."""
    lo = np.int32(2147483647)
    hi = np.int32(-1)
    for q in range(m):
        work[0, q] = q
        lo = min(lo, work[1, q])
        hi = max(hi, work[1, q])
    sort_gathered(work, m, lo, hi)


@numba_only()
def sort_gathered(work, m, lo, hi):
    """Stable sort of the int32 keys ``work[1, :m]`` (all in ``[lo, hi]``), carrying
    ``work[0, :m]`` along: insertion sort for small ``m``, LSD radix sort otherwise."""
    if m <= 1 or lo == hi:
        return
    if m <= _INSERTION_MAX:
        _insertion_sort(work[1], work[0], m)
    else:
        passes, digit = radix_passes(np.int64(hi - lo), m)
        _radix_sort(work, m, lo, passes, digit)


@njit(cache=True)
def per_node_orders(ranks, work):
    """The ``orders`` argument of the split rules when every node sorts its rows itself
    (:func:`node_order` in the ``order_workspace`` scratch ``work``)."""
    empty = np.empty((0, 0), dtype=np.int32)
    return ranks, work, empty, empty, 0


@njit(cache=True)
def presort(ranks, rows, work):
    """Every feature's order of ``rows``: ``(positions, ranks)``, each int32 (p, m).

    Row ``f`` holds :func:`node_order` of feature ``f``. The tree builder keeps them through
    the splits (:func:`partition_presorted`), so a node reads its orders instead of sorting.
    """
    p = ranks.shape[1]
    m = rows.shape[0]
    positions = np.empty((p, m), dtype=np.int32)
    keys = np.empty((p, m), dtype=np.int32)
    for f in range(p):
        order, key = node_order(ranks, f, rows, work)
        for q in range(m):  # element loops: a slice copy links numba's shape-error formatting
            positions[f, q] = order[q]
            keys[f, q] = key[q]
    return positions, keys


@njit(cache=True)
def partition_presorted(positions, keys, start, goes_left, new_position, scratch):
    """Split the node ``[start, start + m)`` of every feature's order into its children.

    ``goes_left[q]`` tells where the node's row at position ``q`` goes and ``new_position[q]``
    its position in that child; the tree builder moved the rows stably (left child first), so
    each child's order stays sorted with ties by position, as :func:`node_order` gives it.
    ``scratch`` is int32 (2, >= m). O(p m).
    """
    m = goes_left.shape[0]
    for f in range(positions.shape[0]):
        pos = positions[f, start:start + m]
        key = keys[f, start:start + m]
        n_left = 0
        n_right = 0
        # Branch-free: each entry is written to both sides and only its side's count
        # advances (a slot at or below q was already read). Where rows go is data-dependent,
        # and the branching form cost ~3x as much at a balanced split.
        for q in range(m):
            old = pos[q]
            moved = new_position[old]
            k = key[q]
            left = goes_left[old]
            pos[n_left] = moved
            key[n_left] = k
            scratch[0, n_right] = moved
            scratch[1, n_right] = k
            n_left += left
            n_right += 1 - left
        for q in range(n_right):
            pos[n_left + q] = scratch[0, q]
            key[n_left + q] = scratch[1, q]


@numba_only()
def feature_order(orders, f, rows):
    """The order of a node's ``rows`` by feature ``f``: ``(positions, ranks)`` as
    :func:`node_order` returns them.

    ``orders`` is ``(ranks, work, positions, keys, start)``: with presorted orders
    (:func:`presort`, non-empty ``positions``) the node's slice from ``start``; otherwise
    :func:`node_order` (:func:`per_node_orders`).
    """
    ranks, work, positions, keys, start = orders
    if positions.shape[0] > 0:
        m = rows.shape[0]
        return positions[f, start:start + m], keys[f, start:start + m]
    return node_order(ranks, f, rows, work)
