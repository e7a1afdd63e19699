"""Predictions of a grown :class:`~._engine.Forest`: estimates, variances, forest weights.

``device="gpu"`` (a device resolved by :func:`survhte._device.resolve_device`) runs the
estimates, the little-bag variance sums and the forest weights on the numba.cuda twins of
the CPU kernels (:mod:`survhte._kernels.forest_predict_cuda`, imported only then), which
add the trees in the same order. On the CPU, within ``joblib.parallel_backend("dask")``, X of at
least ``_engine.DASK_PREDICT_MIN_ROWS`` rows is predicted in row blocks on the Dask workers
(:func:`~._engine.by_row_blocks`), the same bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .._kernels.forest_predict import forest_means, forest_weights, leaf_values, little_bag_sums
from ._engine import Forest, by_row_blocks
from ._strategies import Estimand
from ._variance import debias


def oob_rows(X: np.ndarray, oob: bool) -> np.ndarray:
    """The kernels' ``oob_rows``: target row ``t`` is training row ``t`` (``oob``), or none."""
    return np.arange(X.shape[0], dtype=np.int64) if oob else np.empty(0, dtype=np.int64)


def estimand_leaf_values(forest: Forest, estimand: Estimand) -> np.ndarray:
    """Leaf means of the estimand's statistics, one row per node of the forest."""
    return leaf_values(forest.leaf_start, forest.leaf_size, forest.node_offset,
                       forest.leaf_samples, np.ascontiguousarray(estimand.statistics))


def _tree_arrays(forest: Forest, oob: bool = True) -> tuple[np.ndarray, ...]:
    """The prediction kernels' tree arrays; without ``oob`` the in-bag bits, which only
    out-of-bag predictions read, are left out (an empty array: nothing to send to Dask
    workers)."""
    inbag = forest.inbag if oob else np.empty((forest.n_trees, 0), dtype=np.uint8)
    return (forest.feature, forest.threshold, forest.left, forest.leaf_size,
            forest.node_offset, inbag)


def predict_estimand(
    forest: Forest, X: np.ndarray, estimand: Estimand, values: np.ndarray, *, oob: bool = False,
    device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """``theta(x)`` for each row of ``X`` and the forest-weighted means it came from.

    ``values`` are :func:`estimand_leaf_values`. With ``oob``, ``X`` must be the training
    matrix: each row uses only the trees whose subsample left it out (NaN when none did).
    ``device``: ``"cpu"`` or ``"gpu"`` (the CUDA twin; same means bit for bit).
    """
    if device == "gpu":
        from .._kernels.forest_predict_cuda import forest_means_cuda

        means, _ = forest_means_cuda(X, *_tree_arrays(forest), values, oob_rows(X, oob))
    else:  # within a Dask backend, large X in row blocks on the workers
        means, _ = by_row_blocks(forest_means, X, *_tree_arrays(forest, oob), values,
                                 oob_rows(X, oob), rows=(0, 8))
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = estimand.estimate(means)
    return theta, means


def predict_variance(
    forest: Forest,
    X: np.ndarray,
    estimand: Estimand,
    values: np.ndarray,
    theta: np.ndarray,
    means: np.ndarray,
    *,
    oob: bool = False,
    device: str = "cpu",
) -> np.ndarray:
    """Debiased little-bag variance of ``theta(x)`` (requires ``ci_group_size >= 2``);
    ``device`` as :func:`predict_estimand`."""
    if forest.ci_group_size < 2:
        raise ValueError(
            "variance estimates need ci_group_size >= 2 (trees grown in little bags); "
            f"this forest has ci_group_size={forest.ci_group_size}."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.ascontiguousarray(estimand.influence(means, theta))
    coef = np.where(np.isfinite(coef), coef, 0.0)
    if device == "gpu":
        from .._kernels.forest_predict_cuda import little_bag_sums_cuda

        var_between, group_noise, n_groups = little_bag_sums_cuda(
            X, *_tree_arrays(forest), values, coef, forest.ci_group_size, oob_rows(X, oob))
    else:  # within a Dask backend, large X in row blocks on the workers
        var_between, group_noise, n_groups = by_row_blocks(
            little_bag_sums, X, *_tree_arrays(forest, oob), values, coef,
            forest.ci_group_size, oob_rows(X, oob), rows=(0, 8, 10))
    return debias(var_between, group_noise, n_groups)


def weights_matrix(forest: Forest, X: np.ndarray, *, oob: bool = False,
                   device: str = "cpu") -> sparse.csr_matrix:
    """Forest weights ``alpha_i(x)`` as a sparse (len(X), n_train) matrix, rows summing to 1;
    ``device`` as :func:`predict_estimand` (the same weights bit for bit)."""
    weights = forest_weights
    if device == "gpu":
        from .._kernels.forest_predict_cuda import forest_weights_cuda as weights
    indptr, indices, data = weights(X, *forest.kernel_arrays(), forest.n_train,
                                    oob_rows(X, oob))
    return sparse.csr_matrix((data, indices, indptr), shape=(X.shape[0], forest.n_train))
