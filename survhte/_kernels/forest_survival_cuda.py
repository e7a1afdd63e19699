"""numba.cuda twin of the survival forest's curve aggregation (:mod:`.forest_survival`).

:func:`forest_survival_cuda` gives what :func:`.forest_survival.forest_survival` gives: for
each target row the weighted Kaplan-Meier (or Nelson-Aalen) curve of its forest weights on
the failure-time grid, read at the requested failure indices, and its exact RMST at the
requested horizons. One GPU thread per target row does the CPU kernel's work in the CPU
kernel's order:

1. it descends every tree in order (``forest_predict_cuda._leaf``) and adds its leaf's
   histogram (the leaf's summed ``w`` and ``w e`` by failure index, times ``1 / |leaf|``),
   listing the failure indices in the order they are first touched;
2. it adds, index by index, the sum over the single-leaf ("dense") trees that count for it,
   formed in tree order, as ``chunk_dense_sums`` does, and divides by its tree count;
3. it sums the at-risk mass in first-touch order, then walks the touched indices in
   increasing order (the CPU kernel radix-sorts them; walking the flags in order gives the
   same sequence) forming the Kaplan-Meier product or Nelson-Aalen sum at each jump.

So every addition, product and division is the CPU kernel's, and products are rounded apart
from the following additions (``forest_predict_cuda._mul``: NVVM would fuse them): the
curves and RMSTs equal the CPU kernel's bit for bit under numba's CUDA simulator, and on a
GPU up to ``exp`` (Nelson-Aalen curves only: libdevice's ``exp`` and the CPU's may differ in
the last bit; the default Kaplan-Meier curves use no transcendental function).

Scratch: per row of a chunk, the accumulator (two floats), a touched flag, the touched list
and the curve's jumps (an index and a value) over the ``n_grid + 2`` failure indices, about
41 bytes per index; target rows go in chunks that keep it under ``scratch_bytes``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda

from .forest_predict_cuda import THREADS_PER_BLOCK, _grid, _leaf, _mul, _on_device

# The kernels write ``a if a < b else b`` for min/max: numba 0.68's CUDA target does not type
# the two-argument builtins (found by compiling to PTX; the simulator runs Python's).

#: Default bound of the per-chunk scratch, in bytes (256 MiB).
CURVE_SCRATCH_BYTES = 256 * 2**20
_BYTES_PER_INDEX = 8 + 8 + 1 + 8 + 8 + 8


@cuda.jit(device=True)
def _dense_counts(b, t, inbag, oob_rows):
    """Whether single-leaf tree ``b`` counts for target row ``t`` (out of bag: not when
    its subsample held the row; its leaf is never empty)."""
    if oob_rows.shape[0] > 0:
        row = oob_rows[t]
        if (inbag[b, row >> 3] >> (row & 7)) & 1 == 1:
            return False
    return True


@cuda.jit
def _curves_kernel(X, first, last, feature, threshold, left, leaf_size, node_offset, inbag,
                   start, size, key, w, ew, total, dense_of, dense_w, dense_ew, dense_tail,
                   oob_rows, grid, query, horizons, nelson_aalen, acc, seen, touched,
                   jump_k, jump_s, survival, rmst):
    j = cuda.grid(1)
    t = first + j
    if t >= last:
        return
    width = acc.shape[1]
    limit = grid.shape[0]
    for k in range(width):
        acc[j, k, 0] = 0.0
        acc[j, k, 1] = 0.0
        seen[j, k] = 0
    n_trees_all = node_offset.shape[0] - 1
    # 1. Sparse trees, in order (forest_survival._index_weights_of).
    n_touched = 0
    n_trees = 0
    for b in range(n_trees_all):
        node = _leaf(X, t, b, feature, threshold, left, leaf_size, node_offset, inbag,
                     oob_rows)
        if node < 0:
            continue
        n_trees += 1
        if dense_of[b] >= 0:
            continue
        share = 1.0 / leaf_size[node]
        below = 0.0
        for q in range(start[node], start[node] + size[node]):
            k = key[b, q]
            if k > limit:
                k = limit + 1
                if seen[j, k] == 0:
                    seen[j, k] = 1
                    touched[j, n_touched] = k
                    n_touched += 1
                acc[j, k, 0] += _mul(total[node] - below, share)
                break
            if seen[j, k] == 0:
                seen[j, k] = 1
                touched[j, n_touched] = k
                n_touched += 1
            acc[j, k, 0] += _mul(w[b, q], share)
            acc[j, k, 1] += _mul(ew[b, q], share)
            below += w[b, q]
    # 2. Dense (single-leaf) trees: their sum in tree order, added index by index
    # (forest_survival._dense_sums, then _index_weights_of).
    n_dense = 0
    for b in range(n_trees_all):
        if dense_of[b] >= 0 and _dense_counts(b, t, inbag, oob_rows):
            n_dense += 1
    if n_dense > 0:
        top = limit if limit < width - 1 else width - 1
        for k in range(top + 1):
            sum_w = 0.0
            sum_ew = 0.0
            for b in range(n_trees_all):
                d = dense_of[b]
                if d >= 0 and _dense_counts(b, t, inbag, oob_rows):
                    sum_w += dense_w[d, k]
                    sum_ew += dense_ew[d, k]
            acc[j, k, 0] += sum_w
            acc[j, k, 1] += sum_ew
        if top < width - 1:
            tail = 0.0
            for b in range(n_trees_all):
                d = dense_of[b]
                if d >= 0 and _dense_counts(b, t, inbag, oob_rows):
                    tail += dense_tail[d, top]
            acc[j, top + 1, 0] += tail
        n_touched = top + 2 if top + 2 < width else width
        for k in range(n_touched):
            seen[j, k] = 1
            touched[j, k] = k
    if n_touched == 0:
        for c in range(query.shape[0]):
            survival[t, c] = math.nan
        for c in range(horizons.shape[0]):
            rmst[t, c] = math.nan
        return
    for q in range(n_touched):
        k = touched[j, q]
        acc[j, k, 0] /= n_trees
        acc[j, k, 1] /= n_trees
    # 3. The curve (forest_survival._curve): at-risk mass in first-touch order, then the
    # touched indices in increasing order.
    mass = 0.0
    for q in range(n_touched):
        mass += acc[j, touched[j, q], 0]
    n_jumps = 0
    before = 0.0
    surv = 1.0
    cumhaz = 0.0
    for k in range(width):
        if seen[j, k] == 0:
            continue
        at_risk = mass - before
        failed = acc[j, k, 1]
        before += acc[j, k, 0]
        if k >= 1 and failed > 0.0 and at_risk > 0.0:
            if nelson_aalen:
                cumhaz += failed / at_risk
                surv = math.exp(-cumhaz)
            else:
                factor = 1.0 - failed / at_risk
                surv *= factor if factor > 0.0 else 0.0
            jump_k[j, n_jumps] = k
            jump_s[j, n_jumps] = surv
            n_jumps += 1
    # The curve at the queried failure indices (forest_survival._step_values: S after the
    # last jump at or before the index, 1 before the first).
    for c in range(query.shape[0]):
        lo = 0
        hi = n_jumps
        while lo < hi:
            mid = (lo + hi) // 2
            if jump_k[j, mid] <= query[c]:
                lo = mid + 1
            else:
                hi = mid
        survival[t, c] = jump_s[j, lo - 1] if lo > 0 else 1.0
    # Exact RMST up to each horizon (forest_survival._rmst).
    for c in range(horizons.shape[0]):
        horizon = horizons[c]
        area = 0.0
        prev_t = 0.0
        prev_s = 1.0
        for q in range(n_jumps):
            time = grid[jump_k[j, q] - 1]
            if time >= horizon:
                break
            area += _mul(prev_s, time - prev_t)
            prev_t = time
            prev_s = jump_s[j, q]
        rest = horizon - prev_t
        rmst[t, c] = area + _mul(prev_s, rest if rest > 0.0 else 0.0)


def forest_survival_cuda(X: Any, forest: tuple, hist: tuple, oob_rows: Any, grid: Any,
                         query: Any, horizons: Any, nelson_aalen: bool, *,
                         scratch_bytes: int = CURVE_SCRATCH_BYTES
                         ) -> tuple[np.ndarray, np.ndarray]:
    """GPU twin of :func:`.forest_survival.forest_survival`, same arguments and results:
    ``(survival (m, len(query)), rmst (m, len(horizons)))`` on the host, NaN for a row no
    tree reaches; equal to the CPU kernel bit for bit (module docstring; Nelson-Aalen on a
    GPU up to the last bit of ``exp``).

    ``forest`` is ``(feature, threshold, left, leaf_size, node_offset, inbag)``, ``hist``
    :func:`.forest_survival.leaf_histograms`' output followed by
    :func:`.forest_survival.dense_single_leaves`'. Target rows go in chunks whose scratch
    stays under ``scratch_bytes``.
    """
    m = X.shape[0]
    survival = np.empty((m, len(query)))
    rmst = np.empty((m, len(horizons)))
    if m == 0:
        return survival, rmst
    width = int(grid.shape[0]) + 2
    chunk = int(max(1, min(m, scratch_bytes // (width * _BYTES_PER_INDEX))))
    start, size, key, w, ew, total, dense_of, dense_w, dense_ew, dense_tail = hist
    if dense_w.shape[0] == 0:  # a device array cannot be empty in every dimension's use
        dense_w = dense_ew = dense_tail = np.zeros((1, width))
    on_device = [_on_device(a) for a in (
        *forest, start, size, key, w, ew, total, dense_of, dense_w, dense_ew, dense_tail,
        oob_rows, grid, np.asarray(query, dtype=np.int64), np.asarray(horizons, dtype=float))]
    d_X = _on_device(X)
    acc = cuda.device_array((chunk, width, 2), dtype=np.float64)
    seen = cuda.device_array((chunk, width), dtype=np.uint8)
    touched = cuda.device_array((chunk, width), dtype=np.int64)
    jump_k = cuda.device_array((chunk, width), dtype=np.int64)
    jump_s = cuda.device_array((chunk, width), dtype=np.float64)
    d_survival = cuda.device_array(survival.shape, dtype=np.float64)
    d_rmst = cuda.device_array(rmst.shape, dtype=np.float64)
    for first in range(0, m, chunk):
        last = min(first + chunk, m)
        _curves_kernel[_grid(last - first), THREADS_PER_BLOCK](
            d_X, first, last, *on_device, bool(nelson_aalen), acc, seen, touched, jump_k,
            jump_s, d_survival, d_rmst)
    return d_survival.copy_to_host(), d_rmst.copy_to_host()
