"""The forest engine: grow trees with a :class:`~._strategies.GrowthRule`, store flat arrays.

The trees are grown by the numba kernel ``survhte._kernels.forest_tree.grow_trees`` in batches
(parallel over the trees of a batch), each batch's node arrays then trimmed and concatenated:
scratch memory stays bounded whatever the number of trees. Within
``joblib.parallel_backend("dask")`` chunks of trees are grown on the Dask workers instead and
merged in tree order; a tree depends only on the seed and its index, so the forest is the same
bit for bit. There, too, predictions of at least ``DASK_PREDICT_MIN_ROWS`` rows run in row blocks
on the workers (:func:`by_row_blocks`); each row is computed alone, so the same bit for bit.
``survhte.set_config(progress=True)`` reports the trees grown on stderr.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend

from .._kernels._jit import chunk_callback
from .._kernels.forest_hist import HIST_RULES, bin_features, grow_trees_hist
from .._kernels.forest_multi import (
    SPLIT_MULTI_CAUSAL,
    SPLIT_MULTI_CAUSAL_SURVIVAL,
    SPLIT_MULTI_VARIANCE,
)
from .._kernels.forest_order import feature_ranks
from .._kernels.forest_split import (
    SPLIT_CAUSAL,
    SPLIT_CAUSAL_SURVIVAL,
    SPLIT_LOGRANK,
    SPLIT_VARIANCE,
)
from .._kernels.forest_tree import grow_trees
from ..config import Progress, phase_label
from ._strategies import GrowthRule

# Scratch budget of one batch of trees (node arrays of trees being grown), in bytes.
_BATCH_BYTES = 256 * 2**20
_BYTES_PER_NODE = 4 + 8 + 4 + 4 + 4
# Largest presorted orders of one tree being grown (``presorted_orders``), in bytes.
_PRESORT_BYTES = 128 * 2**20


@dataclass(frozen=True)
class TreeParams:
    """Validated tree-growing parameters (grf names in parentheses).

    Attributes
    ----------
    sample_fraction : float
        Subsample fraction per tree, without replacement (``sample.fraction``).
    mtry : int
        Mean number of candidate features per split (``mtry``), drawn as Poisson(mtry)
        clamped to ``[1, p]``.
    min_node_size : int
        A node with at most this many rows is not split (``min.node.size``); for the causal
        rule, also the treated/control count each child needs.
    honesty, honesty_fraction, prune : bool, float, bool
        Split/estimation halves (``honesty``, ``honesty.fraction``,
        ``honesty.prune.leaves``).
    alpha : float
        Split balance (``alpha``).
    imbalance_penalty : float
        (``imbalance.penalty``).
    """

    sample_fraction: float
    mtry: int
    min_node_size: int
    honesty: bool
    honesty_fraction: float
    prune: bool
    alpha: float
    imbalance_penalty: float


@dataclass(frozen=True)
class Forest:
    """A grown forest as flat arrays.

    Attributes
    ----------
    feature, threshold, left, leaf_start, leaf_size : ndarrays over all nodes
        Node ``j`` of tree ``b`` is entry ``node_offset[b] + j``; ``feature`` is -1 at a leaf,
        rows with ``x[feature] <= threshold`` go to the child ``left``, the others to
        ``left + 1``; a leaf holds rows ``leaf_samples[b, leaf_start:leaf_start + leaf_size]``.
    node_offset : int64 (n_trees + 1,)
    leaf_samples : int32 (n_trees, block)
        Estimation rows of each tree, grouped by leaf.
    inbag : uint8 (n_trees, ceil(n_train / 8))
        Bit set of each tree's subsample (split and estimation rows).
    ci_group_size : int
        Trees ``g * ci_group_size .. (g + 1) * ci_group_size - 1`` share a half-sample.
    n_train : int
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    leaf_start: np.ndarray
    leaf_size: np.ndarray
    node_offset: np.ndarray
    leaf_samples: np.ndarray
    inbag: np.ndarray
    ci_group_size: int
    n_train: int

    @property
    def n_trees(self) -> int:
        return self.node_offset.shape[0] - 1

    def kernel_arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays in the order the prediction kernels take them."""
        return (self.feature, self.threshold, self.left, self.leaf_start, self.leaf_size,
                self.node_offset, self.leaf_samples, self.inbag)


@contextmanager
def numba_threads(n_jobs: int | None) -> Iterator[None]:
    """Run the enclosed kernels on ``n_jobs`` numba threads (None: leave as is; -1: all)."""
    if n_jobs is None:
        yield
        return
    available = numba.config.NUMBA_NUM_THREADS
    count = available if n_jobs == -1 else min(int(n_jobs), available)
    previous = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def subsample_sizes(
    n: int, params: TreeParams, ci_group_size: int
) -> tuple[int, int, int]:
    """``(n_half, n_sub, n_split)``: group half-sample, tree subsample and split rows.

    As grf: with groups of ``ci_group_size >= 2`` trees the group holds ``floor(n / 2)`` rows
    and each tree ``ceil(2 sample_fraction n_half)`` of them; without groups a tree holds
    ``ceil(sample_fraction n)`` rows; honesty splits on ``ceil(honesty_fraction n_sub)``.
    """
    if ci_group_size > 1:
        n_half = n // 2
        n_sub = min(math.ceil(2 * params.sample_fraction * n_half), n_half)
    else:
        n_half = n
        n_sub = min(math.ceil(params.sample_fraction * n), n)
    n_split = math.ceil(params.honesty_fraction * n_sub) if params.honesty else n_sub
    if n_split < 1 or (params.honesty and n_split >= n_sub):
        raise ValueError(
            f"{n} rows are too few for sample_fraction={params.sample_fraction}, "
            f"ci_group_size={ci_group_size} and honesty_fraction={params.honesty_fraction}: "
            f"a tree would get {n_sub} rows, {n_split} of them to split on."
        )
    return n_half, n_sub, n_split


def presorted_orders(mtry: int, p: int, n_split: int) -> bool:
    """Whether trees keep every feature's order through the splits rather than sort each
    node's candidate features (``forest_tree._grow``).

    Keeping costs O(p m) per split, sorting O(mtry m) with a larger constant (measured:
    see the benchmark note in ``forest_order``), so presorting pays from mtry >= p / 2, e.g.
    grf's default ``min(ceil(sqrt(p) + 20), p)`` = p for p <= 25. The orders take
    ``8 p n_split`` bytes per tree being grown; past ``_PRESORT_BYTES`` (wide data with a
    large ``mtry``) nodes sort instead.
    """
    return 2 * mtry >= p and 8 * p * n_split <= _PRESORT_BYTES


# Progress labels of the splitting rules (``GrowthRule.split_kind``) when no phase is named.
_RULE_LABELS = {SPLIT_VARIANCE: "regression forest", SPLIT_CAUSAL: "causal forest",
                SPLIT_LOGRANK: "survival forest",
                SPLIT_CAUSAL_SURVIVAL: "causal survival forest",
                SPLIT_MULTI_VARIANCE: "multi-output regression forest",
                SPLIT_MULTI_CAUSAL: "multi-arm causal forest",
                SPLIT_MULTI_CAUSAL_SURVIVAL: "multi-arm causal survival forest"}
# Chunks of trees per Dask worker thread (later chunks go to whichever worker is free).
_DASK_CHUNKS_PER_THREAD = 2


@dataclass(frozen=True)
class _Growth:
    """What every tree of one forest is grown from: the data (sent once to each Dask worker)
    and the scalar settings of ``forest_tree.grow_trees``."""

    Xt: np.ndarray
    ranks: np.ndarray | None  # exact search: forest_order.feature_ranks
    responses: np.ndarray
    weights: np.ndarray
    settings: tuple  # grow_trees' arguments from ``master_seed`` to ``presorted``
    n_trees: int
    block: int
    capacity: int
    bins: tuple | None = None  # histogram search: forest_hist.bin_features
    device: str = "cpu"  # histogram search on "gpu": forest_hist_cuda.grow_trees_hist_cuda

    @property
    def n(self) -> int:
        return self.Xt.shape[1]


def grow_forest(
    X: np.ndarray,
    rule: GrowthRule,
    params: TreeParams,
    *,
    n_trees: int,
    ci_group_size: int,
    seed: int,
    split_search: str = "exact",
    n_bins: int = 256,
    device: str = "cpu",
) -> Forest:
    """Grow ``n_trees`` trees on ``X`` (float64, C order) with ``rule``.

    ``split_search="hist"`` searches splits over ``n_bins`` quantile bins of each feature
    (``survhte._kernels.forest_hist``; the variance, causal and causal survival rules only,
    other rules search exactly), on the CUDA kernels when ``device="gpu"``
    (``survhte._kernels.forest_hist_cuda``), else on the CPU; the trees are stored as the
    exact search's.

    Tree ``b`` depends only on ``(seed, b)`` (and its group's ``(seed, b // ci_group_size)``),
    never on the thread, batch, chunk or machine that grows it. Within
    ``joblib.parallel_backend("dask")`` the trees are grown in chunks on the Dask workers
    (:func:`_grow_on_dask`), else on ``numba.get_num_threads()`` threads here. With
    ``survhte.set_config(progress=True)`` the trees grown / total are reported on stderr.
    """
    n = X.shape[0]
    n_half, n_sub, n_split = subsample_sizes(n, params, ci_group_size)
    block = n_sub - n_split if params.honesty else n_sub
    presorted = presorted_orders(params.mtry, X.shape[1], n_split)
    settings = (np.int64(seed), n_half, n_sub, n_split, ci_group_size, params.honesty,
                params.prune, params.min_node_size, float(params.mtry), params.alpha,
                params.imbalance_penalty, rule.relabel_kind, rule.split_kind,
                rule.treatment_col)
    hist = split_search == "hist" and rule.split_kind in HIST_RULES
    growth = _Growth(
        np.ascontiguousarray(X.T),
        None if hist else feature_ranks(X),  # splits order rows by rank (forest_order)
        np.ascontiguousarray(rule.responses, dtype=np.float64),
        np.ascontiguousarray(rule.weights, dtype=np.float64),
        settings if hist else (*settings, presorted),
        n_trees, block, max(2 * n_split, 1),
        bin_features(X, n_bins) if hist else None, device)
    backend = _dask_backend()
    with Progress(phase_label(_RULE_LABELS.get(rule.split_kind, "forest")),
                  n_trees) as progress:
        if backend is not None:
            chunks = _grow_on_dask(growth, backend, progress)
        else:
            with chunk_callback(progress.chunk_callback()):
                chunks = [_grow_trees(growth, 0, n_trees)]
    n_nodes = np.concatenate([chunk[1] for chunk in chunks])
    node_offset = np.concatenate([[0], np.cumsum(n_nodes)]).astype(np.int64)
    columns = [np.concatenate([chunk[0][i] for chunk in chunks]) for i in range(5)]
    leaf_samples, inbag = (chunks[0][k] if len(chunks) == 1
                           else np.concatenate([chunk[k] for chunk in chunks])
                           for k in (2, 3))
    return Forest(*columns, node_offset, leaf_samples, inbag, ci_group_size, n)


def _grow_trees(growth: _Growth, first: int, last: int) -> tuple:
    """Grow trees ``first <= b < last`` in batches of bounded scratch memory on
    ``numba.get_num_threads()`` threads: ``(node columns, node counts, leaf_samples rows,
    inbag rows)`` of these trees, in order."""
    n_trees, capacity = last - first, growth.capacity
    batch = int(min(n_trees, max(numba.get_num_threads(),
                                 _BATCH_BYTES // (capacity * _BYTES_PER_NODE))))
    # The kernel writes row ``b`` (the global tree index) of these two, so they are indexed by
    # tree; only rows ``first <= b < last`` exist (a chunk's, see ``_rows_from``).
    leaf_rows = np.empty((n_trees, growth.block), dtype=np.int32)
    inbag_rows = np.zeros((n_trees, (growth.n + 7) // 8), dtype=np.uint8)
    leaf_samples, inbag = _rows_from(leaf_rows, first), _rows_from(inbag_rows, first)
    pieces: list[tuple[np.ndarray, ...]] = []
    n_nodes_all = []
    for start in range(first, last, batch):
        trees = np.arange(start, min(start + batch, last), dtype=np.int64)
        shape = (trees.size, capacity)
        out = (np.empty(shape, np.int32), np.empty(shape, np.float64), np.empty(shape, np.int32),
               np.empty(shape, np.int32), np.empty(shape, np.int32))
        n_nodes = np.empty(trees.size, dtype=np.int64)
        if growth.bins is None:
            grow_trees(growth.Xt, growth.ranks, growth.responses, growth.weights, trees,
                       *growth.settings, *out, n_nodes, leaf_samples, inbag)
        elif growth.device == "gpu":
            from .._kernels.forest_hist_cuda import grow_trees_hist_cuda

            grow_trees_hist_cuda(growth.Xt, *growth.bins, growth.responses, growth.weights,
                                 trees, *growth.settings, *out, n_nodes, leaf_samples, inbag)
        else:
            grow_trees_hist(growth.Xt, *growth.bins, growth.responses, growth.weights, trees,
                            *growth.settings, *out, n_nodes, leaf_samples, inbag)
        # Copies, not views: a view would keep the batch's full-capacity arrays alive until
        # the last batch (at n = 10^6 that grew with the number of trees, ~1 GB per 100).
        for j, count in enumerate(n_nodes):
            pieces.append(tuple(array[j, :count].copy() for array in out))
        n_nodes_all.append(n_nodes)
    columns = tuple(np.concatenate(column) for column in zip(*pieces, strict=True))
    return columns, np.concatenate(n_nodes_all), leaf_rows, inbag_rows


class _Shifted:
    """``__array_interface__`` of ``rows`` seen as rows ``first, first + 1, ...`` of a taller
    array (the rows before ``first`` are not there: never to be read or written)."""

    def __init__(self, rows: np.ndarray, first: int) -> None:
        self.rows = rows  # kept alive by the view's ``base``
        interface = dict(rows.__array_interface__)
        pointer = interface["data"][0] - first * rows.strides[0]
        interface.update(data=(pointer, False), shape=(first + rows.shape[0], *rows.shape[1:]),
                         strides=rows.strides)
        self.__array_interface__ = interface


def _rows_from(rows: np.ndarray, first: int) -> np.ndarray:
    """``rows`` (C order, 2-d) addressed by global tree index: row ``first + j`` of the result
    is row ``j`` of ``rows``. A Dask chunk of trees ``first..last - 1`` thus holds only its own
    rows of ``leaf_samples`` and ``inbag`` (at n = 10^7 the whole of them would be 20 GB) and
    the kernel, which writes row ``trees[j]``, stays as it is."""
    if first == 0:
        return rows
    return np.asarray(_Shifted(rows, first))


def _dask_backend() -> tuple[Any, int] | None:
    """The active joblib backend and its ``n_jobs`` if it is Dask's
    (``joblib.parallel_backend("dask")``), else None (the default: grow here)."""
    backend, n_jobs = get_active_backend()
    if type(backend).__name__ != "DaskDistributedBackend":
        return None
    return backend, n_jobs


def _grow_chunk(Xt: np.ndarray, ranks: np.ndarray | None, responses: np.ndarray,
                weights: np.ndarray, settings: tuple, sizes: tuple[int, int, int], first: int,
                last: int, bins: tuple | None = None) -> tuple:
    """A Dask task: trees ``first <= b < last`` on one thread of the worker (the worker's
    threads run tasks side by side; the kernels release the GIL). Histogram growth runs on
    the workers' CPUs."""
    n_trees, block, capacity = sizes
    growth = _Growth(Xt, ranks, responses, weights, settings, n_trees, block, capacity, bins)
    with numba_threads(1):
        return _grow_trees(growth, first, last)


def _grow_on_dask(growth: _Growth, backend: tuple[Any, int], progress: Progress) -> list:
    """Grow the trees in chunks on the Dask workers, as scikit-learn's forests do through
    joblib: the four data arrays are scattered once (joblib's Dask backend sends every argument
    over 1 kB once per call, and workers fetch it from each other), each task grows a
    contiguous chunk of trees and returns its node arrays; the chunks come back in order."""
    dask_backend, n_jobs = backend
    threads = max(1, dask_backend.effective_n_jobs(n_jobs))
    n_chunks = min(growth.n_trees, _DASK_CHUNKS_PER_THREAD * threads)
    bounds = [(growth.n_trees * c // n_chunks, growth.n_trees * (c + 1) // n_chunks)
              for c in range(n_chunks)]
    sizes = (growth.n_trees, growth.block, growth.capacity)
    tasks = (delayed(_grow_chunk)(growth.Xt, growth.ranks, growth.responses, growth.weights,
                                  growth.settings, sizes, first, last, growth.bins)
             for first, last in bounds)
    chunks = []
    for (first, last), chunk in zip(bounds, Parallel(n_jobs=n_jobs, prefer="threads",
                                                     return_as="generator")(tasks),
                                    strict=True):
        chunks.append(chunk)
        progress.update(last - first)
    return chunks


#: Rows of ``X`` from which a prediction within ``joblib.parallel_backend("dask")`` runs in row
#: blocks on the workers (:func:`by_row_blocks`); below it the client predicts alone. Each
#: worker first receives the forest (at n = 10^5 training rows, 2,000 trees: about 0.6 GB),
#: which pays only when the rows' descents cost more than that transfer (see the guide).
DASK_PREDICT_MIN_ROWS = 50_000
# Largest row block of one task (bounds a worker's output at once, e.g. curves of 200 times).
_DASK_BLOCK_MAX_ROWS = 2**18
# Arrays at least this large are scattered once rather than sent with each task (joblib's
# Dask backend's rule).
_SCATTER_MIN_BYTES = 1000


class _Scattered:
    """Arrays scattered once to the Dask cluster, by identity; the arrays are kept here, so
    an id is never reused while its future is cached. ``bytes``: what was scattered once;
    ``row_bytes``: the row blocks (each sent to one worker)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._futures: dict[int, tuple[Any, Any]] = {}
        self.bytes = 0
        self.row_bytes = 0  # row blocks sent through it (:func:`by_row_blocks`)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(self(item) for item in value)
        if not isinstance(value, np.ndarray) or value.nbytes < _SCATTER_MIN_BYTES:
            return value
        entry = self._futures.get(id(value))
        if entry is None:
            entry = (value, self.client.scatter(value, hash=False))
            self._futures[id(value)] = entry
            self.bytes += value.nbytes
        return entry[1]


_SHARED: ContextVar[_Scattered | None] = ContextVar("survhte_forest_scattered", default=None)


@contextmanager
def scatter_once() -> Iterator[None]:
    """Within it, the row-block predictions (:func:`by_row_blocks`) of one estimator call send
    each forest array to the cluster once, however many kernels read it (estimates, then
    variances); outside a Dask backend it does nothing."""
    backend = _dask_backend()
    if backend is None or _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set(_Scattered(backend[0].client))
    try:
        yield
    finally:
        _SHARED.reset(token)


def _kernel_task(kernel: Callable[..., Any], shared: list, cut: list[int], block: list) -> Any:
    """A Dask task: ``kernel`` on one row block (``block[j]`` is argument ``cut[j]``, the
    others are ``shared``), on one thread of the worker."""
    args = list(shared)
    for position, value in zip(cut, block, strict=True):
        args[position] = value
    with numba_threads(1):
        return kernel(*args)


def by_row_blocks(kernel: Callable[..., Any], *args: Any, rows: tuple[int, ...]) -> Any:
    """``kernel(*args)``, computed here or, within ``joblib.parallel_backend("dask")`` for at
    least ``DASK_PREDICT_MIN_ROWS`` target rows, in row blocks on the Dask workers.

    ``args[rows[0]]`` holds one row per target (``X``); the arguments at ``rows`` with as many
    rows are cut into contiguous blocks (two per worker thread, at most
    ``_DASK_BLOCK_MAX_ROWS`` rows each), the others (e.g. an empty ``oob_rows``) go whole. The
    blocks are scattered, the other arrays, also inside tuples, scattered once (once per
    :func:`scatter_once`), and the kernel's output arrays (one, or a tuple) concatenated in
    row order. The prediction kernels compute each target row alone, so the result equals
    ``kernel(*args)`` bit for bit.
    """
    n = args[rows[0]].shape[0]
    backend = _dask_backend()
    if backend is None or n < DASK_PREDICT_MIN_ROWS:
        return kernel(*args)
    dask_backend, n_jobs = backend
    client = dask_backend.client
    threads = max(1, dask_backend.effective_n_jobs(n_jobs))
    n_blocks = min(n, max(_DASK_CHUNKS_PER_THREAD * threads, -(-n // _DASK_BLOCK_MAX_ROWS)))
    bounds = [(n * c // n_blocks, n * (c + 1) // n_blocks) for c in range(n_blocks)]
    scattered = _SHARED.get() or _Scattered(client)
    cut = [i for i in rows if args[i].shape[0] == n]
    shared = [None if i in cut else scattered(value) for i, value in enumerate(args)]
    pieces = [[args[i][first:last] for i in cut] for first, last in bounds]
    scattered.row_bytes += sum(piece.nbytes for block in pieces for piece in block)
    blocks = client.scatter(pieces, hash=False)
    futures = [client.submit(_kernel_task, kernel, shared, cut, block, pure=False)
               for block in blocks]
    results = client.gather(futures)
    if isinstance(results[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*results, strict=True))
    return np.concatenate(results)
