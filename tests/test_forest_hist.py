"""Histogram split search (``split_search="hist"``, ``survhte._kernels.forest_hist``).

Against the exact search, which is the independent reference here: with at most ``n_bins``
distinct values per feature the binned candidates are the exact candidates, so the forests
must be equal tree for tree; with continuous features the binned search only drops
candidates, so its trees must keep every constraint and predict close to the exact forest.
"""

from __future__ import annotations

import numpy as np
import pytest

from survhte._kernels.forest_hist import bin_features
from survhte._params import InvalidParameterError
from survhte.forest import (
    CausalForest,
    CausalSurvivalForest,
    MultiArmCausalForest,
    RegressionForest,
    SurvivalForest,
)
from survhte.forest._engine import TreeParams, grow_forest
from survhte.forest._strategies import (
    causal_strategy,
    causal_survival_strategy,
    regression_strategy,
)

ARRAYS = ("feature", "threshold", "left", "leaf_start", "leaf_size", "node_offset",
          "leaf_samples", "inbag")


def _rules(rng, X):
    n = X.shape[0]
    y = X[:, 0] + np.sin(X[:, 1]) + rng.normal(size=n)
    w = rng.integers(0, 2, n).astype(float)
    weight = rng.uniform(0.5, 2.0, n)
    event = rng.random(n) < 0.6
    return {
        "regression": regression_strategy(y, weight)[0],
        "causal": causal_strategy(y - y.mean(), w - 0.5, weight)[0],
        "causal survival": causal_survival_strategy((w - 0.5) * y, w - 0.5, event, weight)[0],
        "causal survival unstabilised": causal_survival_strategy(
            (w - 0.5) * y, w - 0.5, event, weight, stabilize_splits=False)[0],
    }


def _assert_same_forest(a, b):
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_bins_are_lossless_up_to_n_bins_values():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 7, 300) * 0.3, rng.integers(-3, 3, 300)])
    codes, lower, upper, counts = bin_features(X, 7)
    for f in range(2):
        values, ranks = np.unique(X[:, f], return_inverse=True)
        np.testing.assert_array_equal(codes[f], ranks.reshape(-1))
        np.testing.assert_array_equal(lower[f, :counts[f]], values)
        np.testing.assert_array_equal(upper[f, :counts[f]], values)


@pytest.mark.parametrize("n_bins", [2, 16, 256])
def test_quantile_bins_of_a_continuous_feature(n_bins):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(size=3000), np.zeros(400)])  # a heavy tie at 0
    codes, lower, upper, counts = bin_features(x[:, None], n_bins)
    k = counts[0]
    assert 2 <= k <= n_bins
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(codes[0, order].astype(int)) >= 0)  # bins follow the values
    for b in range(k):  # each bin spans [lower, upper], below the next bin
        inside = x[codes[0] == b]
        assert inside.min() == lower[0, b] and inside.max() == upper[0, b]
        if b + 1 < k:
            assert upper[0, b] < lower[0, b + 1]
    sizes = np.bincount(codes[0], minlength=k)
    # Quantile bins: none (apart from the one holding the 400 tied zeros) over about twice
    # n / n_bins rows, since a bin starts at each multiple of n / n_bins.
    tie = codes[0, np.argmax(x == 0)]
    others = np.delete(sizes, tie)
    assert others.max() <= 2 * x.size / n_bins + 1


def test_bins_refuse_a_bad_count():
    with pytest.raises(ValueError, match="n_bins"):
        bin_features(np.zeros((3, 1)), 257)


@pytest.mark.parametrize("rule", ["regression", "causal", "causal survival",
                                  "causal survival unstabilised"])
@pytest.mark.parametrize("seed", [0, 1])
def test_hist_forest_is_the_exact_forest_when_bins_lose_nothing(rule, seed):
    # 20 levels per feature <= n_bins: the same candidates, thresholds and sums in the same
    # order, so every node array is equal (deep trees: min_node_size 3, penalty on).
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 20, size=(500, 4)) * 0.37
    growth = _rules(rng, X)[rule]
    params = TreeParams(0.5, 3, 3, True, 0.5, True, 0.05, 0.2 * seed)
    exact = grow_forest(X, growth, params, n_trees=12, ci_group_size=2, seed=seed)
    hist = grow_forest(X, growth, params, n_trees=12, ci_group_size=2, seed=seed,
                       split_search="hist", n_bins=20)
    _assert_same_forest(hist, exact)
    assert (exact.feature >= 0).sum() >= 10  # the trees split


def _bench(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 12, size=(n, 3)).astype(float)
    w = rng.integers(0, 2, n)
    t = rng.exponential(1 / np.exp(0.1 * X[:, 0] - 0.5 * w * (X[:, 1] > 5)))
    c = rng.exponential(3.0, n)
    return X, np.minimum(t, c), t <= c, w


def test_hist_estimators_equal_the_exact_estimators_on_discrete_features():
    X, time, event, w = _bench(400, 3)
    y = X[:, 0] - 2 * w * (X[:, 1] > 5) + np.random.default_rng(4).normal(size=400)
    kinds = [
        (RegressionForest, dict(n_estimators=20), (X, y)),
        (CausalForest, dict(n_estimators=20), (X, y, w)),
        (CausalSurvivalForest, dict(n_estimators=20, horizon=1.0), (X, (time, event), w)),
    ]
    for cls, kwargs, data in kinds:
        exact = cls(**kwargs, random_state=0).fit(*data)
        hist = cls(**kwargs, split_search="hist", random_state=0).fit(*data)
        _assert_same_forest(hist.forest_, exact.forest_)
        np.testing.assert_array_equal(hist.predict(X[:50]), exact.predict(X[:50]))


def _node_rows(forest, tree):
    """Rows of every node of ``tree`` of a forest grown without honesty (its leaves hold the
    split rows): ``{node: rows}`` with local node numbers."""
    lo = forest.node_offset[tree]
    feature = forest.feature[lo:forest.node_offset[tree + 1]]
    left = forest.left[lo:forest.node_offset[tree + 1]]
    rows = {}

    def collect(node):
        if feature[node] < 0:
            start, size = forest.leaf_start[lo + node], forest.leaf_size[lo + node]
            rows[node] = forest.leaf_samples[tree, start:start + size]
        else:
            rows[node] = np.concatenate([collect(left[node]), collect(left[node] + 1)])
        return rows[node]

    collect(0)
    return feature, left, rows


def test_hist_trees_on_continuous_features_keep_the_causal_constraints():
    rng = np.random.default_rng(5)
    n = 600
    X = rng.normal(size=(n, 3))
    w = rng.integers(0, 2, n).astype(float)
    y = X[:, 0] + w * (X[:, 1] > 0) + rng.normal(size=n)
    min_node_size, alpha = 4, 0.1
    rule = causal_strategy(y - y.mean(), w - 0.5, np.ones(n))[0]
    params = TreeParams(0.5, 3, min_node_size, False, 0.5, False, alpha, 0.0)
    forest = grow_forest(X, rule, params, n_trees=6, ci_group_size=1, seed=0,
                         split_search="hist", n_bins=16)
    _, lower, upper, counts = bin_features(X, 16)
    z = w - 0.5
    n_checked = 0
    for tree in range(forest.n_trees):
        feature, left, rows = _node_rows(forest, tree)
        for node in np.flatnonzero(feature >= 0):
            f = feature[node]
            cut = forest.threshold[forest.node_offset[tree] + node]
            parent = rows[node]
            # the split falls between two of the node's bins, midway between their values
            codes = np.searchsorted(upper[f, :counts[f]], X[:, f])
            below, above = codes[rows[left[node]]].max(), codes[rows[left[node] + 1]].min()
            assert below < above
            assert cut == 0.5 * (upper[f, below] + lower[f, above])
            mean = z[parent].mean()
            ss_parent = ((z[parent] - mean) ** 2).sum()
            for child in (left[node], left[node] + 1):
                zc = z[rows[child]]
                assert (zc < mean).sum() >= min_node_size
                assert (zc >= mean).sum() >= min_node_size
                assert ((zc - zc.mean()) ** 2).sum() >= alpha * ss_parent - 1e-9
            n_checked += 1
    assert n_checked > 20


def test_hist_forests_on_continuous_features_predict_like_the_exact_forests():
    # Friedman-like regression and a causal design with continuous X: 32 bins of 1,000 rows
    # drop most candidate thresholds, yet the estimates stay close to the exact forest's.
    # Tolerances: over the 3 seeds the histogram forest's RMSE to the truth is on average
    # within 15% of the exact forest's (measured 1.10, 1.09, 1.02 x), and the two forests'
    # predictions differ by less than 0.75 of the exact forest's error (measured 0.37-0.52).
    ratios, gaps = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        n = 1000
        X = rng.uniform(size=(n, 5))
        w = rng.integers(0, 2, n)
        tau = np.where(X[:, 0] > 0.5, 2.0, 0.0) + X[:, 1]
        y = np.sin(3 * X[:, 2]) + w * tau + rng.normal(size=n)
        X_test = rng.uniform(size=(500, 5))
        truth = np.where(X_test[:, 0] > 0.5, 2.0, 0.0) + X_test[:, 1]
        fits = [CausalForest(200, split_search=search, n_bins=32, random_state=seed)
                .fit(X, y, w).predict(X_test) for search in ("exact", "hist")]
        rmse = [np.sqrt(np.mean((fit - truth) ** 2)) for fit in fits]
        ratios.append(rmse[1] / rmse[0])
        gaps.append(np.sqrt(np.mean((fits[1] - fits[0]) ** 2)) / rmse[0])
    assert np.mean(ratios) < 1.15, ratios
    assert np.mean(gaps) < 0.75, gaps


def test_split_search_is_checked():
    X = np.zeros((20, 2))
    with pytest.raises(InvalidParameterError, match="split_search"):
        RegressionForest(split_search="approx").fit(X, np.arange(20.0))
    with pytest.raises(InvalidParameterError, match="n_bins"):
        RegressionForest(split_search="hist", n_bins=512).fit(X, np.arange(20.0))
    assert "split_search" not in SurvivalForest().get_params()  # log-rank: exact only


def test_multi_arm_forests_refuse_hist():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    w = rng.integers(0, 3, 120)
    with pytest.raises(ValueError, match="split_search='hist' is not available"):
        MultiArmCausalForest(20, split_search="hist", random_state=0).fit(
            X, rng.normal(size=120), w)


def test_gpu_growth_kernels_compile_for_a_gpu_without_fused_multiply_adds(monkeypatch):
    # The CUDA simulator runs the kernels as Python, so it neither types them as the CUDA
    # target does nor shows whether NVVM fused a multiply-add (which would change the last
    # bits and the trees). Compile them to PTX for sm_80 with libNVVM, no GPU needed.
    from numba import config
    from numba import types as nt

    if config.ENABLE_CUDASIM:
        pytest.skip("under the CUDA simulator nothing is compiled")
    try:
        from numba import cuda
        from numba.cuda import dispatcher
        from numba.cuda.cudadrv import nvvm

        if not nvvm.is_available():
            pytest.skip("no libNVVM")
    except Exception as error:  # numba without its CUDA target
        pytest.skip(f"numba.cuda unavailable: {error}")

    class Device:  # device functions compile for the current device's capability
        compute_capability = (8, 0)

    monkeypatch.setattr(dispatcher, "get_current_device", lambda: Device())
    from survhte._kernels import forest_hist_cuda as kernels

    i1, i2 = nt.int64[:], nt.int64[:, :]
    f1, f2, f3 = nt.float64[:], nt.float64[:, :], nt.float64[:, :, :]
    signatures = {
        "_node_kernel": (i1, i1, i1, i2, f2, f1, nt.int64, nt.int64, nt.int64, f2, f3, f2,
                         nt.boolean[:]),
        "_split_kernel": (i1, i1, i1, nt.boolean[:], i2, i1, nt.uint8[:, :], f2, f2, i1, i2,
                          f3, f2, nt.int64, nt.int64, nt.float64, nt.float64,
                          nt.int32[:, :, :], i2, f2, f2),
        "_choose_kernel": (i1, i2, f2, f2, i1, f1),
        "_partition_kernel": (i1, i1, i1, i1, f1, f2, i2, i2, i1),
    }
    for name, signature in signatures.items():
        ptx, _ = cuda.compile_ptx(getattr(kernels, name).py_func, nt.void(*signature),
                                  cc=(8, 0))
        assert ".entry" in ptx and "fma.rn.f64" not in ptx, name


def test_hist_forests_do_not_depend_on_threads_and_pickle():
    # What the estimator battery checks for every exported estimator at its defaults
    # (exact search), here for split_search="hist": the trees depend only on the seed and the
    # tree index, not on how many numba threads grow them, and a pickled forest predicts
    # the same.
    import pickle

    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    w = rng.integers(0, 2, 400)
    time = rng.exponential(np.exp(-0.5 * X[:, 0]))
    event = rng.random(400) < 0.7
    fits = [CausalSurvivalForest(24, horizon=1.0, split_search="hist", n_bins=32, n_jobs=jobs,
                                 random_state=0).fit(X, (time, event), w) for jobs in (1, 2)]
    np.testing.assert_array_equal(fits[0].predict(X), fits[1].predict(X))
    np.testing.assert_array_equal(fits[0].forest_.threshold, fits[1].forest_.threshold)
    copy = pickle.loads(pickle.dumps(fits[0]))
    np.testing.assert_array_equal(copy.predict_interval(X[:20]), fits[0].predict_interval(X[:20]))
