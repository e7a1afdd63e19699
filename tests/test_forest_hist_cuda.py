"""numba.cuda histogram tree growth against the CPU histogram reference (issue 22).

Marked ``cuda``: run where a GPU is present, and in CI under numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1 python -m pytest -m cuda``). The GPU twin adds each node's rows in
the CPU reference's order and never fuses a multiply-add, so its trees must be *equal* to
the reference's, node array for node array. Inputs are small: the simulator runs every GPU
thread as Python.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from survhte._kernels.forest_predict_cuda import cuda_available
from survhte.forest import CausalForest, RegressionForest
from survhte.forest._engine import TreeParams, grow_forest
from survhte.forest._strategies import (
    causal_strategy,
    causal_survival_strategy,
    regression_strategy,
)

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_available(),
                       reason="no CUDA device; run with NUMBA_ENABLE_CUDASIM=1 to simulate"),
]

ARRAYS = ("feature", "threshold", "left", "leaf_start", "leaf_size", "node_offset",
          "leaf_samples", "inbag")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 160
    X = rng.normal(size=(n, 3))
    X[:, 2] = rng.integers(0, 4, n)  # a feature with fewer values than bins
    w = rng.integers(0, 2, n).astype(float)
    y = X[:, 0] + w * (X[:, 1] > 0) + rng.normal(scale=0.5, size=n)
    weight = rng.uniform(0.5, 2.0, n)
    event = rng.random(n) < 0.8
    return X, {
        "regression": regression_strategy(y, weight)[0],
        "causal": causal_strategy(y - y.mean(), w - 0.5, weight)[0],
        "causal survival": causal_survival_strategy((w - 0.5) * y, w - 0.5, event, weight)[0],
    }


@pytest.mark.parametrize(("rule", "honesty", "penalty"), [
    ("regression", True, 0.0), ("regression", False, 0.5), ("causal", True, 0.3),
    ("causal survival", False, 0.0)])
def test_gpu_hist_trees_equal_the_cpu_reference(data, rule, honesty, penalty):
    X, rules = data
    params = TreeParams(0.5, 2, 2, honesty, 0.5, True, 0.02, penalty)
    kwargs = dict(n_trees=4, ci_group_size=2, seed=7, split_search="hist", n_bins=12)
    cpu = grow_forest(X, rules[rule], params, **kwargs)
    gpu = grow_forest(X, rules[rule], params, **kwargs, device="gpu")
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(gpu, name), getattr(cpu, name), err_msg=name)
    assert (cpu.feature >= 0).sum() >= 6  # the trees split, over several levels


def test_gpu_hist_trees_equal_the_cpu_reference_with_all_256_bins():
    # More distinct values than bins: codes reach 255, where the simulator's uint8
    # arithmetic once wrapped (code + 1 == 0) and sorted rows out of bounds.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 2))
    y = X[:, 0] + rng.normal(scale=0.5, size=600)
    rule = regression_strategy(y, np.ones(600))[0]
    params = TreeParams(0.5, 2, 5, True, 0.5, True, 0.05, 0.0)
    kwargs = dict(n_trees=2, ci_group_size=2, seed=3, split_search="hist", n_bins=256)
    cpu = grow_forest(X, rule, params, **kwargs)
    gpu = grow_forest(X, rule, params, **kwargs, device="gpu")
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(gpu, name), getattr(cpu, name), err_msg=name)


def test_estimators_grow_on_the_gpu_with_hist(monkeypatch):
    import survhte._kernels.forest_hist_cuda as hist_cuda

    launches = []
    original = hist_cuda.grow_trees_hist_cuda

    def counted(*args, **kwargs):
        launches.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(hist_cuda, "grow_trees_hist_cuda", counted)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    w = rng.integers(0, 2, 120)
    y = X[:, 0] + w + rng.normal(size=120)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to the CPU
        kwargs = dict(split_search="hist", n_bins=8, min_node_size=10, random_state=0)
        gpu = RegressionForest(4, device="gpu", **kwargs).fit(X, y)
        cpu = RegressionForest(4, device="cpu", **kwargs).fit(X, y)
        np.testing.assert_array_equal(gpu.predict(X), cpu.predict(X))
        # The causal forest's nuisance regression forest grows on the GPU too.
        n_before = len(launches)
        gpu = CausalForest(4, device="gpu", propensity_model="constant", **kwargs).fit(X, y, w)
        cpu = CausalForest(4, device="cpu", propensity_model="constant", **kwargs).fit(X, y, w)
        np.testing.assert_array_equal(gpu.predict(X), cpu.predict(X))
    assert len(launches) - n_before == 2 and n_before == 1
