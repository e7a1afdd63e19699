"""Forests grown on a Dask cluster through joblib, as scikit-learn's:
``with joblib.parallel_backend("dask"): forest.fit(...)``.

Reference: the same forest grown in this process with the same ``random_state``. Each tree
depends only on the seed and its index (``_kernels.forest_rng``), so the chunks grown on the
workers, merged in tree order, give the same node arrays and the same predictions bit for
bit: exact equality, no tolerance.
"""

from __future__ import annotations

import joblib
import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from survhte.forest import (  # noqa: E402
    CausalForest,
    CausalSurvivalForest,
    MultiArmCausalSurvivalForest,
    RegressionForest,
    SurvivalForest,
)
from survhte.forest._engine import _dask_backend  # noqa: E402
from survhte.simulate import survhte_bench  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def data():
    d = survhte_bench("RCT-50", "A", n=400, random_state=0)
    rng = np.random.default_rng(0)
    y = d.X[:, 0] + rng.normal(size=d.X.shape[0])
    return d, y, rng.integers(0, 3, d.X.shape[0])


def _on_dask(client, fit):
    """``fit()`` within the Dask backend, and the workers that grew trees."""
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        fitted = fit()
    return fitted, {task["worker"] for task in tasks.data}


def _assert_same_forest(a, b) -> None:
    for left, right in zip(a.forest_.kernel_arrays(), b.forest_.kernel_arrays(), strict=True):
        np.testing.assert_array_equal(left, right)


def test_backend_detection_is_dask_only(client) -> None:
    assert _dask_backend() is None
    with joblib.parallel_backend("threading"):
        assert _dask_backend() is None
    with joblib.parallel_backend("dask"):
        backend = _dask_backend()
        assert backend is not None and backend[0].effective_n_jobs(backend[1]) == 2


def test_causal_survival_forest_bitwise(client, data) -> None:
    d, _, _ = data
    def fit():
        return CausalSurvivalForest(40, horizon=0.5, random_state=1).fit(d.X, d.y, d.w)
    local = fit()
    remote, workers = _on_dask(client, fit)
    assert len(workers) == 2  # both workers grew trees
    _assert_same_forest(remote, local)
    for forest in ("event_model_",):
        _assert_same_forest(getattr(remote, forest), getattr(local, forest))
    np.testing.assert_array_equal(remote.predict(d.X), local.predict(d.X))
    np.testing.assert_array_equal(remote.predict_variance(d.X), local.predict_variance(d.X))
    np.testing.assert_array_equal(remote.psi_numerator_, local.psi_numerator_)


def test_survival_regression_causal_and_multi_arm_forests_bitwise(client, data) -> None:
    d, y, w3 = data
    fits = [
        lambda: SurvivalForest(30, random_state=2).fit(d.X, d.y),
        lambda: RegressionForest(30, random_state=3).fit(d.X, y),
        lambda: CausalForest(30, random_state=4).fit(d.X, y, d.w),
        lambda: MultiArmCausalSurvivalForest(20, horizon=0.5, random_state=5).fit(d.X, d.y, w3),
    ]
    for fit in fits:
        local = fit()
        remote, _ = _on_dask(client, fit)
        _assert_same_forest(remote, local)
        if isinstance(local, SurvivalForest):
            np.testing.assert_array_equal(remote.predict_survival(d.X[:50]),
                                          local.predict_survival(d.X[:50]))
        else:
            np.testing.assert_array_equal(remote.predict(d.X), local.predict(d.X))


def test_ci_groups_split_across_chunks(client, data) -> None:
    # 14 trees in groups of 2 over 4 chunks (bounds 3, 7, 10): two groups straddle a bound.
    d, y, _ = data
    def fit():
        return RegressionForest(7 * 2, ci_group_size=2, random_state=6).fit(d.X, y)
    local = fit()
    remote, _ = _on_dask(client, fit)
    _assert_same_forest(remote, local)
    np.testing.assert_array_equal(remote.predict_variance(d.X), local.predict_variance(d.X))


@pytest.mark.slow
def test_worker_processes_bitwise(data, monkeypatch) -> None:
    # Separate worker processes (the data pickled to them, numba kernels loaded there); the
    # predictions in row blocks there too.
    import survhte.forest._engine as engine

    d, y, _ = data
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        local = CausalForest(30, random_state=7).fit(d.X, y, d.w)
        with joblib.parallel_backend("dask"):
            remote = CausalForest(30, random_state=7).fit(d.X, y, d.w)
            monkeypatch.setattr(engine, "DASK_PREDICT_MIN_ROWS", 100)
            variance = remote.predict_variance(d.X)
    _assert_same_forest(remote, local)
    np.testing.assert_array_equal(remote.predict(d.X), local.predict(d.X))
    np.testing.assert_array_equal(variance, local.predict_variance(d.X))


def test_progress_counts_the_chunks(client, data, monkeypatch, capsys) -> None:
    import survhte
    from survhte import config

    monkeypatch.setattr(config, "PROGRESS_DELAY", 0.0)
    d, y, _ = data
    with survhte.config_context(progress=True), joblib.parallel_backend("dask"):
        RegressionForest(40, random_state=8).fit(d.X, y)
    assert "regression forest: 40/40 trees (100%)" in capsys.readouterr().err


# Prediction by row blocks on the workers -------------------------------------------------------


@pytest.fixture
def small_blocks(monkeypatch):
    """Row blocks from 100 rows on (the default threshold is for real sizes)."""
    import survhte.forest._engine as engine

    monkeypatch.setattr(engine, "DASK_PREDICT_MIN_ROWS", 100)


def _block_workers(tasks) -> set:
    return {task["worker"] for task in tasks.data if "_kernel_task" in task["key"]}


def test_prediction_by_row_blocks_bitwise(client, data, small_blocks) -> None:
    d, _, _ = data
    X_new = survhte_bench("RCT-50", "A", n=300, random_state=9).X
    csf = CausalSurvivalForest(40, horizon=0.5, random_state=1).fit(d.X, d.y, d.w)
    survival = SurvivalForest(30, random_state=2).fit(d.X, d.y)
    local = (csf.predict(X_new), csf.predict_variance(X_new), csf.predict_interval(X_new),
             csf.oob_prediction_, survival.predict_survival(X_new), survival.predict_survival(),
             survival.predict_rmst(X_new, 0.5),
             survival.predict_variance(X_new, times=[0.2, 0.5]),
             survival.predict_interval(X_new, horizon=0.5))
    for forest in (csf, survival):
        forest.__dict__.pop("oob_prediction_", None)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = (csf.predict(X_new), csf.predict_variance(X_new), csf.predict_interval(X_new),
                  csf.oob_prediction_, survival.predict_survival(X_new),
                  survival.predict_survival(), survival.predict_rmst(X_new, 0.5),
                  survival.predict_variance(X_new, times=[0.2, 0.5]),
                  survival.predict_interval(X_new, horizon=0.5))
    assert len(_block_workers(tasks)) == 2  # both workers computed row blocks
    for a, b in zip(_flat(remote), _flat(local), strict=True):
        np.testing.assert_array_equal(a, b)


def _flat(results: tuple) -> list:
    """The arrays of ``results``, intervals' bounds one by one."""
    return [array for item in results
            for array in (item if isinstance(item, tuple) else (item,))]


def test_multi_arm_prediction_by_row_blocks_bitwise(client, data, small_blocks) -> None:
    # Estimates, then one variance per contrast, from one scattered copy of the forest.
    from survhte.forest import MultiArmCausalForest

    d, y, w3 = data
    forest = MultiArmCausalForest(20, random_state=6).fit(d.X, y, w3)
    local = (forest.predict(d.X), forest.predict_variance(d.X))
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = (forest.predict(d.X), forest.predict_variance(d.X))
    assert len(_block_workers(tasks)) == 2
    for a, b in zip(remote, local, strict=True):
        np.testing.assert_array_equal(a, b)


def test_small_predictions_stay_local(client, data) -> None:
    # Below DASK_PREDICT_MIN_ROWS the client predicts alone: no task reaches the workers.
    d, y, _ = data
    forest = RegressionForest(20, random_state=3).fit(d.X, y)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        forest.predict_variance(d.X)
    assert not _block_workers(tasks)


def test_nuisance_forests_grow_on_dask(client, data, monkeypatch) -> None:
    # The propensity, event and censoring forests of the causal survival forest, then the
    # forest itself: four forests, each grown in chunks on the workers.
    import survhte.forest._engine as engine

    d, _, _ = data
    grown = []
    inner = engine._grow_on_dask

    def counted(growth, backend, progress):
        grown.append(growth.n_trees)
        return inner(growth, backend, progress)

    monkeypatch.setattr(engine, "_grow_on_dask", counted)
    def fit():
        return CausalSurvivalForest(200, horizon=0.5, random_state=4).fit(d.X, d.y, d.w)
    local = fit()
    remote, _ = _on_dask(client, fit)
    assert grown == [50, 50, 50, 200]  # propensity, event, censoring (grf's sizes), causal
    np.testing.assert_array_equal(remote.w_hat_, local.w_hat_)
    np.testing.assert_array_equal(remote.y_hat_, local.y_hat_)
    np.testing.assert_array_equal(remote.censoring_at_y_, local.censoring_at_y_)
    np.testing.assert_array_equal(remote.predict(d.X), local.predict(d.X))


def test_variance_sends_the_forest_once(client, data, small_blocks, monkeypatch) -> None:
    # Estimates then variances (two kernels) read one scattered copy of the forest.
    import survhte.forest._engine as engine

    d, y, _ = data
    forest = RegressionForest(20, random_state=5).fit(d.X, y)
    made = []

    class Counted(engine._Scattered):
        def __init__(self, dask_client) -> None:
            super().__init__(dask_client)
            made.append(self)

    monkeypatch.setattr(engine, "_Scattered", Counted)
    with joblib.parallel_backend("dask"):
        forest.predict_variance(d.X)
    assert len(made) == 1
    trees = forest.forest_
    assert made[0].bytes >= trees.feature.nbytes + trees.threshold.nbytes + trees.left.nbytes


# Cross-fitting folds as joblib tasks -----------------------------------------------------------


def _fold_workers(tasks, name: str) -> set:
    return {task["worker"] for task in tasks.data if name in str(task["key"])}


def test_cross_fitted_cate_folds_on_dask(client, data) -> None:
    from sklearn.linear_model import Ridge

    from survhte import TLearner, cross_fitted_cate

    d, _, _ = data
    def fit():
        return cross_fitted_cate(TLearner(Ridge(), horizon=0.5), d.X, d.y, d.w, n_folds=4,
                                 random_state=0)
    local = fit()
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = fit()
    assert len(_fold_workers(tasks, "_fold_predictions")) == 2  # folds on both workers
    np.testing.assert_array_equal(remote, local)


def test_ensemble_member_folds_on_dask(client, data) -> None:
    from sklearn.linear_model import Ridge

    from survhte import EnsembleCATE, SurvivalTLearner, XLearner
    from survhte.survival import CoxPH

    d, _, _ = data
    def fit():
        members = [("survival_t", SurvivalTLearner(CoxPH(), calibrate=False)),
                   ("x", XLearner(Ridge(alpha=1.0), effect_learner=Ridge(alpha=1.0)))]
        return EnsembleCATE(members, horizon=0.5, n_folds=3, n_bootstrap=0,
                            random_state=0).fit(d.X, d.y, d.w)
    local = fit()
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = fit()
    assert len(_fold_workers(tasks, "_fold_fit")) == 2  # (member, fold) fits on both workers
    assert len(_fold_workers(tasks, "_full_fit")) >= 1
    np.testing.assert_array_equal(remote._oof, local._oof)
    np.testing.assert_array_equal(remote.weights_.to_numpy(), local.weights_.to_numpy())
    np.testing.assert_array_equal(remote.predict(d.X), local.predict(d.X))
