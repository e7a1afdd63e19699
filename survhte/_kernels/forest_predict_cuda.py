"""numba.cuda twins of the forest prediction kernels (:mod:`.forest_predict`).

One GPU thread per target row descends every tree in order and accumulates the leaf values,
so each row's sum is formed in the same order as on the CPU (:func:`.forest_predict.forest_means`
adds tree ``b``'s leaf value after tree ``b - 1``'s): the means are equal to the CPU kernel's
bit for bit, on a GPU and under numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, how the
tests run them without a GPU).

Inputs may be NumPy arrays (copied to the device) or device arrays of any library that
exports ``__cuda_array_interface__`` (CuPy, numba device arrays), used in place. The forest
arrays are those of :mod:`.forest_tree`: node arrays ``feature, threshold, left, leaf_size``
of all trees concatenated, tree ``b`` at ``node_offset[b]:node_offset[b + 1]``, ``inbag`` the
subsample bits (uint8, ``(n_trees, ceil(n / 8))``).

Importing this module needs numba only (no GPU, no CUDA toolkit): kernels compile on first
launch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import config, cuda

#: Threads per block of every launch (a multiple of the 32-thread warp).
THREADS_PER_BLOCK = 128


def cuda_available() -> bool:
    """Whether a CUDA device (or numba's CUDA simulator) can run the kernels: a device, and
    libNVVM to compile them (a driver without the CUDA toolkit's NVVM cannot)."""
    try:
        if not cuda.is_available():
            return False
        if config.ENABLE_CUDASIM:
            return True
        from numba.cuda.cudadrv import nvvm

        return bool(nvvm.is_available())
    except Exception:  # a broken driver install means "no GPU", not an error
        return False


if config.ENABLE_CUDASIM:  # the simulator runs Python: no fused multiply-add to avoid
    @cuda.jit(device=True)
    def _mul(x, y):
        return x * y
else:
    from numba.cuda import libdevice

    @cuda.jit(device=True)
    def _mul(x, y):
        """``x * y`` rounded, never fused with a following addition: NVVM contracts
        ``a * b + c`` into one fused multiply-add by default (one rounding instead of two,
        so not the CPU's result); ``__nv_dmul_rn`` is never contracted."""
        return libdevice.dmul_rn(x, y)


@cuda.jit(device=True)
def _leaf(X, t, b, feature, threshold, left, leaf_size, node_offset, inbag, oob_rows):
    """Global leaf node of tree ``b`` for target row ``t``; -1 when the tree is skipped
    (an empty leaf, or out of bag a tree whose subsample held training row ``oob_rows[t]``),
    as ``forest_predict._leaf``."""
    if oob_rows.shape[0] > 0:
        row = oob_rows[t]
        if (inbag[b, row >> 3] >> (row & 7)) & 1 == 1:
            return -1
    offset = node_offset[b]
    node = 0
    while feature[offset + node] >= 0:
        if X[t, feature[offset + node]] <= threshold[offset + node]:
            node = left[offset + node]
        else:
            node = left[offset + node] + 1
    node += offset
    if leaf_size[node] > 0:
        return node
    return -1


@cuda.jit
def _leaves_kernel(X, feature, threshold, left, leaf_size, node_offset, inbag, oob_rows,
                   leaves):
    t = cuda.grid(1)
    if t >= X.shape[0]:
        return
    for b in range(node_offset.shape[0] - 1):
        leaves[t, b] = _leaf(X, t, b, feature, threshold, left, leaf_size, node_offset, inbag,
                             oob_rows)


@cuda.jit
def _means_kernel(X, feature, threshold, left, leaf_size, node_offset, inbag, values,
                  oob_rows, means, n_trees):
    t = cuda.grid(1)
    if t >= X.shape[0]:
        return
    k = values.shape[1]
    for c in range(k):
        means[t, c] = 0.0
    count = 0
    for b in range(node_offset.shape[0] - 1):
        node = _leaf(X, t, b, feature, threshold, left, leaf_size, node_offset, inbag,
                     oob_rows)
        if node < 0:
            continue
        count += 1
        for c in range(k):
            means[t, c] += values[node, c]
    n_trees[t] = count
    for c in range(k):
        if count > 0:
            means[t, c] = means[t, c] / count
        else:
            means[t, c] = math.nan


@cuda.jit
def _little_bags_kernel(X, feature, threshold, left, leaf_size, node_offset, inbag, values, coef,
                        ci_group_size, oob_rows, var_between, group_noise, n_groups):
    t = cuda.grid(1)
    if t >= X.shape[0]:
        return
    k = values.shape[1]
    # add_group's moments: groups, sum of group means, of their squares, of tree squares.
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    for g in range((node_offset.shape[0] - 1) // ci_group_size):
        first = g * ci_group_size
        complete = True
        for j in range(ci_group_size):  # the CPU kernel's check, before any addition
            if _leaf(X, t, first + j, feature, threshold, left, leaf_size, node_offset, inbag,
                     oob_rows) < 0:
                complete = False
                break
        if not complete:
            continue
        mean = 0.0
        for j in range(ci_group_size):  # add_group, in its order
            node = _leaf(X, t, first + j, feature, threshold, left, leaf_size, node_offset,
                         inbag, oob_rows)
            psi = 0.0
            for c in range(k):
                psi += _mul(coef[t, c], values[node, c])
            mean += psi
            m3 += _mul(psi, psi)
        mean /= ci_group_size
        m0 += 1.0
        m1 += mean
        m2 += _mul(mean, mean)
    n_groups[t] = m0
    if m0 == 0.0:  # group_variances
        var_between[t] = math.nan
        group_noise[t] = math.nan
        return
    average = m1 / m0
    between = m2 / m0 - _mul(average, average)
    total = m3 / _mul(m0, float(ci_group_size)) - _mul(average, average)
    var_between[t] = between
    group_noise[t] = (total - between) / (ci_group_size - 1)


@cuda.jit
def _weights_accumulate(X, first, last, feature, threshold, left, leaf_start, leaf_size,
                        node_offset, leaf_samples, inbag, oob_rows, scratch, n_trees, counts):
    """Target row ``first + j`` into column ``j`` of ``scratch`` (n_train, chunk): the sums
    of ``1 / |leaf|`` over the trees in order (as ``forest_predict._weights_of``), its tree
    count and its support size."""
    j = cuda.grid(1)
    t = first + j
    if t >= last:
        return
    n_train = scratch.shape[0]
    for i in range(n_train):
        scratch[i, j] = 0.0
    count = 0
    for b in range(node_offset.shape[0] - 1):
        node = _leaf(X, t, b, feature, threshold, left, leaf_size, node_offset, inbag,
                     oob_rows)
        if node < 0:
            continue
        size = leaf_size[node]
        count += 1
        base = leaf_start[node]
        for q in range(size):
            scratch[leaf_samples[b, base + q], j] += 1.0 / size
    support = 0
    for i in range(n_train):
        if scratch[i, j] != 0.0:
            support += 1
    n_trees[j] = count
    counts[j] = support


@cuda.jit
def _weights_emit(scratch, first, last, n_trees, starts, indices, data):
    """The support of column ``j`` of ``scratch`` in increasing order, its weights divided
    by the tree count, at ``starts[j]`` of ``indices``/``data``."""
    j = cuda.grid(1)
    if first + j >= last:
        return
    position = starts[j]
    for i in range(scratch.shape[0]):
        value = scratch[i, j]
        if value != 0.0:
            indices[position] = i
            data[position] = value / n_trees[j]
            position += 1


def _on_device(array: Any) -> Any:
    """``array`` as a numba device array: in place when it exports
    ``__cuda_array_interface__``, else a contiguous host copy sent to the device."""
    if hasattr(array, "__cuda_array_interface__"):
        return cuda.as_cuda_array(array)
    return cuda.to_device(np.ascontiguousarray(array))


def _grid(m: int) -> int:
    return max(1, (m + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


def forest_leaves_cuda(X: Any, feature: Any, threshold: Any, left: Any, leaf_size: Any,
                       node_offset: Any, inbag: Any, oob_rows: Any, *,
                       to_host: bool = True) -> Any:
    """Leaf of every tree for every target row, shape ``(m, n_trees)`` int64 (-1: skipped),
    as ``forest_predict.block_leaves`` on the CPU. ``to_host=False`` keeps the result on the
    device (a numba device array; ``cupy.asarray`` takes it without a copy)."""
    m, n_trees = X.shape[0], node_offset.shape[0] - 1
    leaves = cuda.device_array((m, n_trees), dtype=np.int64)
    if m > 0 and n_trees > 0:
        args = [_on_device(a) for a in (X, feature, threshold, left, leaf_size, node_offset,
                                        inbag, oob_rows)]
        _leaves_kernel[_grid(m), THREADS_PER_BLOCK](*args, leaves)
    return leaves.copy_to_host() if to_host else leaves


def forest_means_cuda(X: Any, feature: Any, threshold: Any, left: Any, leaf_size: Any,
                      node_offset: Any, inbag: Any, values: Any, oob_rows: Any, *,
                      to_host: bool = True) -> tuple[Any, Any]:
    """GPU twin of :func:`.forest_predict.forest_means`: ``(means (m, k), n_trees (m,))``,
    NaN means and 0 trees for a row that no tree reaches. Equal to the CPU kernel bit for
    bit (same order of additions)."""
    m, k = X.shape[0], values.shape[1]
    means = cuda.device_array((m, k), dtype=np.float64)
    n_trees = cuda.device_array(m, dtype=np.int64)
    if m > 0:
        args = [_on_device(a) for a in (X, feature, threshold, left, leaf_size, node_offset,
                                        inbag, values, oob_rows)]
        _means_kernel[_grid(m), THREADS_PER_BLOCK](*args, means, n_trees)
    if to_host:
        return means.copy_to_host(), n_trees.copy_to_host()
    return means, n_trees


def little_bag_sums_cuda(X: Any, feature: Any, threshold: Any, left: Any, leaf_size: Any,
                         node_offset: Any, inbag: Any, values: Any, coef: Any,
                         ci_group_size: int, oob_rows: Any, *,
                         to_host: bool = True) -> tuple[Any, Any, Any]:
    """GPU twin of :func:`.forest_predict.little_bag_sums`: ``(var_between, group_noise,
    n_groups)``, each (m,), NaN variances for a row without a complete little bag.

    Each thread descends a group's trees twice (the completeness check, then the sums), so
    no (m, n_trees) leaf array is stored. The products and additions follow the CPU
    kernel's order, and the products are rounded apart from the additions (``_mul``: no
    fused multiply-add, which NVVM would otherwise form): equal bit for bit.
    """
    m = X.shape[0]
    var_between = cuda.device_array(m, dtype=np.float64)
    group_noise = cuda.device_array(m, dtype=np.float64)
    n_groups = cuda.device_array(m, dtype=np.float64)
    if m > 0:
        head = [_on_device(a) for a in (X, feature, threshold, left, leaf_size, node_offset,
                                        inbag, values, coef)]
        _little_bags_kernel[_grid(m), THREADS_PER_BLOCK](*head, int(ci_group_size),
                                                         _on_device(oob_rows), var_between,
                                                         group_noise, n_groups)
    if to_host:
        return var_between.copy_to_host(), group_noise.copy_to_host(), n_groups.copy_to_host()
    return var_between, group_noise, n_groups


#: Most float64 entries of :func:`forest_weights_cuda`'s (n_train, rows) scratch (256 MiB).
WEIGHTS_SCRATCH = 2**25


def forest_weights_cuda(X: Any, feature: Any, threshold: Any, left: Any, leaf_start: Any,
                        leaf_size: Any, node_offset: Any, leaf_samples: Any, inbag: Any,
                        n_train: int, oob_rows: Any, *, scratch_size: int = WEIGHTS_SCRATCH
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GPU twin of :func:`.forest_predict.forest_weights`: CSR arrays ``(indptr, indices,
    data)`` on the host, each row's support in increasing order.

    Target rows go in chunks of ``scratch_size // n_train``; each thread accumulates its
    row's ``1 / |leaf|`` terms over the trees in order into a dense column of a device
    scratch (as the CPU kernel into its dense row), counts its support, and after the
    chunk's offsets are known writes it in increasing order. Equal to the CPU kernel bit
    for bit (the same additions in the same order, then the same division).
    """
    m = X.shape[0]
    counts = np.zeros(m, dtype=np.int64)
    parts_indices, parts_data = [], []
    if m > 0 and n_train > 0:
        args = [_on_device(a) for a in (X, feature, threshold, left, leaf_start, leaf_size,
                                        node_offset, leaf_samples, inbag, oob_rows)]
        chunk = max(1, min(m, scratch_size // n_train))
        scratch = cuda.device_array((n_train, chunk), dtype=np.float64)
        n_trees = cuda.device_array(chunk, dtype=np.int64)
        support = cuda.device_array(chunk, dtype=np.int64)
        for first in range(0, m, chunk):
            last = min(first + chunk, m)
            _weights_accumulate[_grid(last - first), THREADS_PER_BLOCK](
                args[0], first, last, *args[1:], scratch, n_trees, support)
            counts[first:last] = support.copy_to_host()[: last - first]
            starts = np.zeros(chunk, dtype=np.int64)
            starts[1: last - first] = np.cumsum(counts[first:last - 1])
            total = int(counts[first:last].sum())
            indices = cuda.device_array(max(total, 1), dtype=np.int64)
            data = cuda.device_array(max(total, 1), dtype=np.float64)
            _weights_emit[_grid(last - first), THREADS_PER_BLOCK](
                scratch, first, last, n_trees, cuda.to_device(starts), indices, data)
            parts_indices.append(indices.copy_to_host()[:total])
            parts_data.append(data.copy_to_host()[:total])
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.concatenate(parts_indices) if parts_indices else np.empty(0, np.int64)
    data = np.concatenate(parts_data) if parts_data else np.empty(0)
    return indptr, indices, data
