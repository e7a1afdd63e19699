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
def test_worker_processes_bitwise(data) -> None:
    # Separate worker processes (the data pickled to them, numba kernels loaded there).
    d, y, _ = data
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        local = CausalForest(30, random_state=7).fit(d.X, y, d.w)
        with joblib.parallel_backend("dask"):
            remote = CausalForest(30, random_state=7).fit(d.X, y, d.w)
    _assert_same_forest(remote, local)
    np.testing.assert_array_equal(remote.predict(d.X), local.predict(d.X))


def test_progress_counts_the_chunks(client, data, monkeypatch, capsys) -> None:
    import survhte
    from survhte import config

    monkeypatch.setattr(config, "PROGRESS_DELAY", 0.0)
    d, y, _ = data
    with survhte.config_context(progress=True), joblib.parallel_backend("dask"):
        RegressionForest(40, random_state=8).fit(d.X, y)
    assert "regression forest: 40/40 trees (100%)" in capsys.readouterr().err
