"""Property tests of the forest kernels: tree rows, leaves, weights, reproducibility."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survhte._kernels.forest_order import (
    feature_ranks,
    node_order,
    order_workspace,
    partition_presorted,
    per_node_orders,
    presort,
    sort_keys,
)
from survhte._kernels.forest_predict import block_leaves, forest_means
from survhte._kernels.forest_split import SPLIT_CAUSAL, SPLIT_VARIANCE, best_split
from survhte._kernels.forest_tree import descend, draw_tree_rows
from survhte.forest._engine import TreeParams, grow_forest, numba_threads, subsample_sizes
from survhte.forest._prediction import estimand_leaf_values, oob_rows, weights_matrix
from survhte.forest._strategies import (
    causal_strategy,
    regression_strategy,
    survival_strategy,
)

PARAMS = TreeParams(sample_fraction=0.5, mtry=3, min_node_size=3, honesty=True,
                    honesty_fraction=0.5, prune=True, alpha=0.05, imbalance_penalty=0.0)


def _data(seed: int, n: int, p: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, p))
    # Rounded covariates create ties, which the split search must step over.
    X[:, 0] = np.round(X[:, 0], 1)
    y = np.sin(4 * X[:, 1]) + rng.normal(scale=0.5, size=n)
    return X, y


def _forest(X, y, *, seed=0, n_trees=20, group=2, params=PARAMS):
    rule, estimand = regression_strategy(y, np.ones(X.shape[0]))
    return grow_forest(X, rule, params, n_trees=n_trees, ci_group_size=group, seed=seed), estimand


def _means(forest, estimand, X, oob):
    values = estimand_leaf_values(forest, estimand)
    return forest_means(X, forest.feature, forest.threshold, forest.left, forest.leaf_size,
                        forest.node_offset, forest.inbag, values, oob_rows(X, oob))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(40, 300), group=st.sampled_from([1, 2, 4]))
def test_tree_rows_honest_halves_disjoint_within_group_half(seed, n, group):
    n_half, n_sub, n_split = subsample_sizes(n, PARAMS, group)
    halves = []
    for tree in range(2 * group):
        split, est, _ = draw_tree_rows(n, tree, seed, n_half, n_sub, n_split, group)
        assert split.size == n_split and est.size == n_sub - n_split
        assert np.intersect1d(split, est).size == 0
        rows = np.concatenate([split, est])
        assert np.unique(rows).size == rows.size and rows.min() >= 0 and rows.max() < n
        halves.append(rows)
    if group > 1:  # trees of one group subsample the same half-sample (n_sub == n_half here)
        for g in range(2):
            members = halves[g * group:(g + 1) * group]
            assert all(np.array_equal(np.sort(m), np.sort(members[0])) for m in members)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(60, 400), prune=st.booleans())
def test_leaves_hold_exactly_the_estimation_rows(seed, n, prune):
    X, y = _data(seed, n)
    params = TreeParams(**{**PARAMS.__dict__, "prune": prune})
    forest, _ = _forest(X, y, seed=seed, params=params)
    n_half, n_sub, n_split = subsample_sizes(n, params, 2)
    for b in range(forest.n_trees):
        nodes = slice(forest.node_offset[b], forest.node_offset[b + 1])
        is_leaf = forest.feature[nodes] < 0
        sizes = forest.leaf_size[nodes][is_leaf]
        if prune:
            assert np.all(sizes >= 1)  # pruning leaves no empty leaf
        assert sizes.sum() == n_sub - n_split  # every estimation row sits in one leaf
        _, est, _ = draw_tree_rows(n, b, seed, n_half, n_sub, n_split, 2)
        assert np.array_equal(np.sort(forest.leaf_samples[b]), np.sort(est))
        # children of node j are left[j] and left[j] + 1, inside the tree
        internal = ~is_leaf
        assert np.all(forest.left[nodes][internal] + 1 < nodes.stop - nodes.start)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(60, 300), oob=st.booleans())
def test_weights_sum_to_one_and_reproduce_the_forest_means(seed, n, oob):
    X, y = _data(seed, n)
    forest, estimand = _forest(X, y, seed=seed, n_trees=40)
    target = X if oob else _data(seed + 1, 25)[0]
    alpha = weights_matrix(forest, target, oob=oob)
    means, n_trees = _means(forest, estimand, target, oob)
    reached = n_trees > 0
    assert np.all(alpha.data > 0)
    np.testing.assert_allclose(np.asarray(alpha.sum(axis=1)).ravel()[reached], 1.0, rtol=1e-12)
    np.testing.assert_allclose((alpha @ estimand.statistics)[reached], means[reached],
                               rtol=1e-10, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(60, 300), oob=st.booleans(),
       bounds=st.tuples(st.integers(0, 59), st.integers(0, 59)))
def test_block_leaves_are_each_trees_leaf_or_minus_one(seed, n, oob, bounds):
    X, y = _data(seed, n)
    forest, _ = _forest(X, y, seed=seed)
    first, last = min(bounds), max(bounds)
    rows = oob_rows(X, oob)
    arrays = (forest.feature, forest.threshold, forest.left, forest.leaf_size,
              forest.node_offset, forest.inbag)
    out = np.full((last - first, forest.n_trees), -7, dtype=np.int64)
    block_leaves(X, first, last, arrays, rows, out)
    for t in range(first, last):
        for b in range(forest.n_trees):
            start = forest.node_offset[b]
            node = start + descend(X, t, forest.feature, forest.threshold, forest.left, start)
            in_bag = oob and (forest.inbag[b, t >> 3] >> (t & 7)) & 1
            expected = -1 if in_bag or forest.leaf_size[node] == 0 else node
            assert out[t - first, b] == expected


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), value=st.floats(-1e3, 1e3))
def test_constant_response_predicts_the_constant(seed, value):
    X, _ = _data(seed, 120)
    y = np.full(120, value)
    forest, estimand = _forest(X, y, seed=seed)
    means, _ = _means(forest, estimand, X, False)
    np.testing.assert_allclose(estimand.estimate(means), value, rtol=1e-12, atol=1e-12)


def test_causal_rule_grows_balanced_trees():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(400, 3))
    w = rng.binomial(1, 0.5, size=400) - 0.5
    y = w * (X[:, 0] > 0.5) + rng.normal(size=400)
    rule, estimand = causal_strategy(y, w, np.ones(400))
    forest = grow_forest(X, rule, PARAMS, n_trees=10, ci_group_size=2, seed=1)
    assert forest.feature.max() >= 0  # it splits
    means, _ = _means(forest, estimand, X, False)
    assert np.all(means[:, 1] > 0)  # every leaf holds both arms' residual variance


def test_forest_is_independent_of_thread_count():
    X, y = _data(5, 500)
    grown = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        with numba_threads(threads):
            grown.append(_forest(X, y, seed=11, n_trees=16)[0])
    first, second = grown
    for name in ("feature", "threshold", "left", "leaf_start", "leaf_size", "node_offset",
                 "leaf_samples", "inbag"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name


# --- ordering a node's rows (forest_order) and the split search built on it ----------------


@st.composite
def tied_nodes(draw):
    """A node of ``m`` rows out of ``n``, integer-valued features with many ties."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(2, 400))
    m = draw(st.integers(1, n))
    # few distinct values (ties everywhere) up to a wide span (several radix passes)
    high = draw(st.sampled_from([1, 2, 3, 7, 50, 3000, 2**21]))
    X = rng.integers(0, high, size=(n, 3)).astype(np.float64) - high // 2
    rows = rng.choice(n, size=m, replace=False).astype(np.int64)
    return X, rows


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 2**24), min_size=0, max_size=300), st.sampled_from([1, 4, 2**24]))
def test_sort_keys_is_a_stable_argsort(values, modulus):
    keys = np.array(values, dtype=np.int32) % modulus  # modulus 1, 4: all or many ties
    work = order_workspace(max(keys.size, 1))
    work[1, :keys.size] = keys
    sort_keys(work, keys.size)
    expected = np.argsort(keys, kind="stable")
    assert np.array_equal(work[0, :keys.size], expected)
    assert np.array_equal(work[1, :keys.size], keys[expected])


@settings(max_examples=150, deadline=None)
@given(tied_nodes())
def test_node_order_is_a_stable_argsort_of_the_values(node):
    X, rows = node
    ranks = feature_ranks(X)
    # dense ranks: the index among the sorted distinct values
    for f in range(X.shape[1]):
        distinct = np.unique(X[:, f])
        assert np.array_equal(distinct[ranks[:, f]], X[:, f])
    work = order_workspace(rows.size)
    for f in range(X.shape[1]):
        order, keys = node_order(ranks, f, rows, work)
        expected = np.argsort(X[rows, f], kind="stable")
        assert np.array_equal(order, expected)
        assert np.array_equal(keys, ranks[rows[expected], f])


@settings(max_examples=100, deadline=None)
@given(tied_nodes(), st.integers(0, 2**31))
def test_partitioned_presorted_orders_are_the_childrens_node_orders(node, seed):
    """Split a node's rows stably (left first) at a random side per row: each child's slice
    of the presorted orders is that child's ``node_order`` (same positions, same ranks)."""
    X, rows = node
    m = rows.size
    ranks, work = feature_ranks(X), order_workspace(m)
    positions, keys = presort(ranks, rows, work)
    goes_left = np.random.default_rng(seed).uniform(size=m) < 0.4
    new_position = np.where(goes_left, np.cumsum(goes_left) - 1,
                            np.cumsum(~goes_left) - 1).astype(np.int32)
    partition_presorted(positions, keys, 0, goes_left, new_position,
                        np.empty((2, m), dtype=np.int32))
    n_left = int(goes_left.sum())
    for child, part in ((rows[goes_left], slice(0, n_left)), (rows[~goes_left], slice(n_left, m))):
        for f in range(X.shape[1]):
            order, key = node_order(ranks, f, child, order_workspace(max(child.size, 1)))
            assert np.array_equal(positions[f, part], order)
            assert np.array_equal(keys[f, part], key)


@pytest.mark.parametrize("strategy", ["regression", "causal", "survival"])
def test_presorted_and_per_node_orders_grow_the_same_trees(strategy, monkeypatch):
    """Trees that keep every feature's order through the splits and trees that sort each
    node's candidates see the same orders, so they are the same trees, bit for bit."""
    from survhte.forest import _engine

    X, y = _data(4, 500, p=4)
    if strategy == "regression":
        rule, _ = regression_strategy(y, np.ones(X.shape[0]))
    elif strategy == "causal":
        w = (X[:, 2] > 0.5).astype(float)
        rule, _ = causal_strategy(y, w - 0.5, np.ones(X.shape[0]))
    else:
        event = np.random.default_rng(5).uniform(size=y.size) < 0.7
        index = np.searchsorted(np.unique(y[event]), y, side="right")
        rule = survival_strategy(index, event)
    params = TreeParams(sample_fraction=0.5, mtry=2, min_node_size=5, honesty=True,
                        honesty_fraction=0.5, prune=True, alpha=0.05, imbalance_penalty=0.0)
    grown = {}
    for presorted in (False, True):
        monkeypatch.setattr(_engine, "presorted_orders", lambda mtry, p, n_split, on=presorted: on)
        grown[presorted] = grow_forest(X, rule, params, n_trees=8, ci_group_size=2, seed=3)
    assert grown[True].feature.size > 8 * 7  # trees of several splits each
    for name in ("feature", "threshold", "left", "leaf_start", "leaf_size", "leaf_samples"):
        assert np.array_equal(getattr(grown[True], name), getattr(grown[False], name)), name


def test_presorting_is_chosen_by_mtry_share_and_memory():
    from survhte.forest._engine import _PRESORT_BYTES, presorted_orders

    assert presorted_orders(26, 27, 12_500) and presorted_orders(5, 10, 100)
    assert not presorted_orders(4, 10, 100)  # few candidates: sorting them costs less
    wide = _PRESORT_BYTES // (8 * 2000) + 1  # split rows whose orders of 2,000 features overflow
    assert presorted_orders(2000, 2000, wide - 1) and not presorted_orders(2000, 2000, wide)


def _brute_force_best_decrease(kind, X, rho, weights, t, min_node_size, alpha, penalty):
    """Largest admissible criterion over all cuts between distinct values (plain numpy).

    The treatment balance is weighted as in grf's InstrumentalSplittingRule: the mean
    ``sum w z / sum w`` and the variation ``sum w z^2 - (sum w z)^2 / sum w``.
    """
    m = rho.size
    causal = kind == SPLIT_CAUSAL
    wsum, rsum = weights.sum(), (weights * rho).sum()
    min_child = max(math.ceil(alpha * m), 1)
    tmean = (weights * t).sum() / wsum

    def variation(side):
        wt = weights[side] * t[side]
        return (wt * t[side]).sum() - wt.sum() ** 2 / weights[side].sum()

    min_ss = alpha * variation(np.ones(m, dtype=bool))
    best = 0.0
    for f in range(X.shape[1]):
        for cut in np.unique(X[:, f])[:-1]:
            left = X[:, f] <= cut
            n_left, n_right = left.sum(), (~left).sum()
            if causal:
                small = t < tmean
                s_left, s_right = small[left].sum(), small[~left].sum()
                if min(s_left, n_left - s_left, s_right, n_right - s_right) < min_node_size:
                    continue
                ss = [variation(side) for side in (left, ~left)]
                if min(ss) < min_ss or (penalty > 0 and min(ss) <= 0):
                    continue
                pen = penalty * (1 / ss[0] + 1 / ss[1]) if penalty > 0 else 0.0
            else:
                if min(n_left, n_right) < min_child:
                    continue
                pen = penalty * (1 / n_left + 1 / n_right)
            w_left = weights[left].sum()
            w_right = wsum - w_left
            if w_left <= 0 or w_right <= 0:
                continue
            s_l = (weights * rho)[left].sum()
            s_r = rsum - s_l
            best = max(best, s_l**2 / w_left + s_r**2 / w_right - rsum**2 / wsum - pen)
    return best


@settings(max_examples=80, deadline=None)
@given(tied_nodes(), st.sampled_from([SPLIT_VARIANCE, SPLIT_CAUSAL]),
       st.sampled_from([0.0, 0.05, 0.2]), st.sampled_from([0.0, 1.0]), st.integers(0, 2**31),
       st.booleans())
def test_best_split_equals_brute_force_search(node, kind, alpha, penalty, seed, presorted):
    X, rows = node
    n, m = X.shape[0], rows.size
    rng = np.random.default_rng(seed)
    rho = np.round(rng.normal(size=m), 2)
    weights = rng.integers(1, 3, size=n).astype(np.float64)
    responses = np.column_stack([rng.normal(size=n), rng.integers(0, 2, size=n)]).astype(float)
    t = responses[rows, 1]
    min_node_size = 1 if kind == SPLIT_CAUSAL else 3
    ranks, work = feature_ranks(X), order_workspace(m)
    orders = ((ranks, work, *presort(ranks, rows, work), 0) if presorted
              else per_node_orders(ranks, work))
    f, cut = best_split(kind, np.ascontiguousarray(X.T), orders, rows, rho, weights,
                        responses, 1, np.arange(3, dtype=np.int64), min_node_size, alpha,
                        penalty)
    Xn, wn = X[rows], weights[rows]
    best = _brute_force_best_decrease(kind, Xn, rho, wn, t, min_node_size, alpha, penalty)
    if f < 0:
        assert best <= 1e-9
        return
    # the chosen threshold is a cut between two distinct values of the node ...
    below = Xn[:, f][Xn[:, f] <= cut]
    above = Xn[:, f][Xn[:, f] > cut]
    assert below.size and above.size and below.max() <= cut < above.min()
    # ... and attains the maximum
    single = Xn[:, [f]]
    attained = _brute_force_best_decrease(kind, (single <= cut).astype(float), rho, wn, t,
                                          min_node_size, alpha, penalty)
    assert attained == pytest.approx(best, rel=1e-9, abs=1e-12)
