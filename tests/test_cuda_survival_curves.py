"""The numba.cuda twin of the survival forest's curve kernel against the CPU kernel (issue 22).

Marked ``cuda`` (run in CI under ``NUMBA_ENABLE_CUDASIM=1``, skipped elsewhere without a
GPU); small inputs, since the simulator runs every GPU thread as Python. Equality is exact:
the twin makes the CPU kernel's additions in the CPU kernel's order
(``survhte._kernels.forest_survival_cuda``).
"""

from __future__ import annotations

import numpy as np
import pytest

from survhte._kernels.forest_predict_cuda import cuda_available
from survhte._kernels.forest_survival import forest_survival
from survhte._kernels.forest_survival_cuda import forest_survival_cuda
from survhte.forest import SurvivalForest

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_available(),
                       reason="no CUDA device; run with NUMBA_ENABLE_CUDASIM=1 to simulate"),
]


def _data(n, seed, discrete=False):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 3))
    event_time = rng.exponential(1.0 / np.exp(X[:, 0] - 0.5))
    censor = rng.exponential(1.5, size=n)
    time = np.minimum(event_time, censor)
    if discrete:  # few distinct times: single-leaf trees hold most indices (dense path)
        time = np.ceil(4 * time)
    return X, (time, event_time <= censor), rng.uniform(size=(40, 3))


def _kernel_both(forest, X, rows, query, horizons):
    args = (*forest._kernel_args(X, rows), query, horizons, forest._nelson_aalen)
    return forest_survival(*args), forest_survival_cuda(*args)


@pytest.mark.parametrize("oob", [False, True])
@pytest.mark.parametrize("nelson_aalen", [False, True])
def test_curves_equal_the_cpu_kernel(oob, nelson_aalen):
    X, y, X_new = _data(160, 0)
    forest = SurvivalForest(12, prediction_type="nelson-aalen" if nelson_aalen
                            else "kaplan-meier", random_state=0).fit(X, y)
    target, rows = (X, np.arange(160, dtype=np.int64)) if oob else (X_new, None)
    grid = forest.failure_times_
    query = np.array([0, 1, 5, grid.size // 2, grid.size, 3], dtype=np.int64)  # not sorted
    horizons = np.array([0.1, np.median(grid), grid[-1] + 1.0])
    (s_cpu, r_cpu), (s_gpu, r_gpu) = _kernel_both(forest, target, rows, query, horizons)
    assert np.isfinite(r_cpu).any()
    # Bit for bit: same operations in the same order (the simulator's exp is the CPU's).
    np.testing.assert_array_equal(s_gpu, s_cpu)
    np.testing.assert_array_equal(r_gpu, r_cpu)


def test_single_leaf_trees_take_the_dense_path_exactly():
    X, y, X_new = _data(120, 1, discrete=True)
    # min_node_size above n: every tree is one leaf, holding most of the few failure indices.
    forest = SurvivalForest(8, min_node_size=500, random_state=1).fit(X, y)
    hist = forest._histograms()
    assert (hist[6] >= 0).any()  # dense rows exist, so the dense branch is exercised
    for target, rows in ((X_new, None), (X, np.arange(120, dtype=np.int64))):
        query = np.arange(forest.failure_times_.size + 1, dtype=np.int64)
        (s_cpu, r_cpu), (s_gpu, r_gpu) = _kernel_both(forest, target, rows, query,
                                                      np.array([2.0, 5.0]))
        np.testing.assert_array_equal(s_gpu, s_cpu)
        np.testing.assert_array_equal(r_gpu, r_cpu)


def test_small_scratch_chunks_give_the_same_curves():
    X, y, X_new = _data(100, 2)
    forest = SurvivalForest(6, random_state=2).fit(X, y)
    args = (*forest._kernel_args(X_new, None), np.arange(5, dtype=np.int64), np.array([1.0]),
            forest._nelson_aalen)
    whole = forest_survival_cuda(*args)
    width = forest.failure_times_.size + 2
    pieces = forest_survival_cuda(*args, scratch_bytes=7 * width * 41)  # chunks of 7 rows
    np.testing.assert_array_equal(pieces[0], whole[0])
    np.testing.assert_array_equal(pieces[1], whole[1])


def test_survival_forest_device_gpu_equals_cpu():
    X, y, X_new = _data(150, 3)
    cpu = SurvivalForest(10, device="cpu", random_state=3).fit(X, y)
    gpu = SurvivalForest(10, device="gpu", random_state=3).fit(X, y)
    np.testing.assert_array_equal(gpu.predict_survival(X_new), cpu.predict_survival(X_new))
    np.testing.assert_array_equal(gpu.predict_survival(), cpu.predict_survival())  # OOB
    np.testing.assert_array_equal(gpu.predict_rmst(X_new, 1.0), cpu.predict_rmst(X_new, 1.0))
    rows = np.array([4, 0, 7])
    np.testing.assert_array_equal(gpu.predict_survival_oob(X[rows], rows, "all"),
                                  cpu.predict_survival_oob(X[rows], rows, "all"))
