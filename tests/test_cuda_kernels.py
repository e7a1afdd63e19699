"""numba.cuda forest prediction kernels against the CPU kernels (issue 22).

Marked ``cuda``: they run where a GPU is present, and in CI under numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1 python -m pytest -m cuda``, a separate invocation in ``.ci/run``,
since the simulator must be chosen before numba is imported). Elsewhere they are skipped.
Inputs are small: the simulator runs every GPU thread as Python.
"""

from __future__ import annotations

import numpy as np
import pytest

from survhte import CausalSurvivalForest, RegressionForest
from survhte._kernels.forest_predict import (
    block_leaves,
    forest_means,
    forest_weights,
    little_bag_sums,
)
from survhte._kernels.forest_predict_cuda import (
    cuda_available,
    forest_leaves_cuda,
    forest_means_cuda,
    forest_weights_cuda,
    little_bag_sums_cuda,
)
from survhte.forest._prediction import _tree_arrays
from survhte.simulate import survhte_bench

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_available(),
                       reason="no CUDA device; run with NUMBA_ENABLE_CUDASIM=1 to simulate"),
]


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = X[:, 0] + np.sin(X[:, 1]) + rng.normal(scale=0.3, size=150)
    forest = RegressionForest(n_estimators=12, random_state=0).fit(X, y)
    return forest, X, rng.normal(size=(70, 4))


def _values(forest, k=3, seed=1):
    n_nodes = forest.forest_.leaf_size.shape[0]
    return np.random.default_rng(seed).normal(size=(n_nodes, k))


@pytest.mark.parametrize("oob", [False, True])
def test_leaves_equal_the_cpu_kernel(regression, oob):
    forest, X_train, X_new = regression
    X = X_train if oob else X_new
    arrays = _tree_arrays(forest.forest_)
    rows = np.arange(X.shape[0], dtype=np.int64) if oob else np.empty(0, dtype=np.int64)
    cpu = np.empty((X.shape[0], arrays[4].shape[0] - 1), dtype=np.int64)
    block_leaves(X, 0, X.shape[0], arrays, rows, cpu)
    gpu = forest_leaves_cuda(X, *arrays, rows)
    np.testing.assert_array_equal(gpu, cpu)
    if oob:  # some trees are skipped (in bag) and none for every row
        assert (gpu < 0).any() and (gpu >= 0).any()


@pytest.mark.parametrize("oob", [False, True])
def test_means_equal_the_cpu_kernel_bit_for_bit(regression, oob):
    forest, X_train, X_new = regression
    X = X_train if oob else X_new
    arrays = _tree_arrays(forest.forest_)
    rows = np.arange(X.shape[0], dtype=np.int64) if oob else np.empty(0, dtype=np.int64)
    values = _values(forest)
    cpu_means, cpu_trees = forest_means(X, *arrays, values, rows)
    gpu_means, gpu_trees = forest_means_cuda(X, *arrays, values, rows)
    np.testing.assert_array_equal(gpu_trees, cpu_trees)
    # Same additions in the same order: equal, not merely close (NaN where no tree counts).
    np.testing.assert_array_equal(gpu_means, cpu_means)


@pytest.mark.parametrize("oob", [False, True])
def test_little_bag_sums_equal_the_cpu_kernel_bit_for_bit(regression, oob):
    forest, X_train, X_new = regression
    X = X_train if oob else X_new
    arrays = _tree_arrays(forest.forest_)
    rows = np.arange(X.shape[0], dtype=np.int64) if oob else np.empty(0, dtype=np.int64)
    values = _values(forest)
    coef = np.random.default_rng(2).normal(size=(X.shape[0], values.shape[1]))
    group = forest.forest_.ci_group_size
    cpu = little_bag_sums(X, *arrays, values, coef, group, rows)
    gpu = little_bag_sums_cuda(X, *arrays, values, coef, group, rows)
    # Same products and additions in the same order (the simulator fuses no multiply-add):
    # equal, NaN where a row has no complete little bag.
    for g, c in zip(gpu, cpu, strict=True):
        np.testing.assert_array_equal(g, c)
    if oob:  # with 12 trees in 6 bags, out of bag some rows lack a complete one
        assert np.isnan(gpu[0]).any() and np.isfinite(gpu[0]).any()


@pytest.mark.parametrize(("oob", "scratch_size"), [(False, 2**25), (True, 2**25),
                                                   (False, 150 * 16)])
def test_forest_weights_equal_the_cpu_kernel_bit_for_bit(regression, oob, scratch_size):
    forest, X_train, X_new = regression
    X = X_train if oob else X_new
    arrays = forest.forest_.kernel_arrays()
    n_train = forest.forest_.n_train
    rows = np.arange(X.shape[0], dtype=np.int64) if oob else np.empty(0, dtype=np.int64)
    cpu = forest_weights(X, *arrays, n_train, rows)
    # scratch_size = 16 columns of 150 rows: the 70 target rows go in 5 chunks.
    gpu = forest_weights_cuda(X, *arrays, n_train, rows, scratch_size=scratch_size)
    # Same 1/|leaf| additions per training row in tree order, then the same division.
    for g, c in zip(gpu, cpu, strict=True):
        np.testing.assert_array_equal(g, c)
    assert gpu[0][-1] > 0


def test_the_causal_survival_forest_estimate_is_reproduced():
    d = survhte_bench("RCT-50", "A", n=200, random_state=0)
    csf = CausalSurvivalForest(n_estimators=8, horizon=1.0, random_state=0).fit(d.X, d.y, d.w)
    forest, values = csf.forest_, csf._leaf_values
    X_new = d.X[:40]
    cpu, _ = forest_means(X_new, *_tree_arrays(forest), values, np.empty(0, dtype=np.int64))
    gpu, _ = forest_means_cuda(X_new, *_tree_arrays(forest), values,
                               np.empty(0, dtype=np.int64))
    np.testing.assert_array_equal(gpu, cpu)
    # ... and the estimate computed from them is the forest's own prediction.
    theta = csf.estimand_.estimate(gpu)
    np.testing.assert_array_equal(np.asarray(theta).reshape(-1), csf.predict(X_new).reshape(-1))


def test_empty_inputs():
    feature = np.array([-1], dtype=np.int64)
    threshold = np.zeros(1)
    left = np.zeros(1, dtype=np.int64)
    leaf_size = np.ones(1, dtype=np.int64)
    node_offset = np.array([0, 1], dtype=np.int64)
    inbag = np.zeros((1, 1), dtype=np.uint8)
    none = np.empty(0, dtype=np.int64)
    means, n_trees = forest_means_cuda(np.empty((0, 2)), feature, threshold, left, leaf_size,
                                       node_offset, inbag, np.ones((1, 2)), none)
    assert means.shape == (0, 2) and n_trees.shape == (0,)
    # One single-leaf tree: every row reaches it.
    means, n_trees = forest_means_cuda(np.zeros((3, 2)), feature, threshold, left, leaf_size,
                                       node_offset, inbag, np.array([[2.0, 5.0]]), none)
    np.testing.assert_array_equal(means, [[2.0, 5.0]] * 3)
    np.testing.assert_array_equal(n_trees, [1, 1, 1])
