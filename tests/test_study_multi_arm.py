"""Studies on K-arm designs: the multi_arm_bench and acharki generators, the mPEHE score and
the presets that use them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from survhte.imputed_learners import TLearner
from survhte.simulate import acharki_design, multi_arm_bench
from survhte.study import (
    StudyFileError,
    execute_task,
    expand,
    load_study,
    parse_study,
    read_results,
    repeat_seeds,
    run_study,
)

SIZES = {"train": 500, "val": 0, "test": 200}
RIDGE_T = {"name": "t-ridge", "method": "t-learner",
           "params": {"imputation": "margin", "base_learner": "ridge", "n_bootstrap": 0}}


def _study(designs, methods=(RIDGE_T,), **extra):
    return parse_study({"seed": 4, "sizes": SIZES, "designs": designs, "methods": list(methods),
                        **extra})


def _horizon(T, time, w, train):
    arm_last = min(time[train][w[train] == arm].max() for arm in np.unique(w[train]))
    return min(float(np.quantile(T, 0.5)), float(arm_last))


@pytest.mark.filterwarnings("ignore:treatment arm 0 has only")
def test_k_arm_designs_score_mpehe_as_by_hand(tmp_path):
    study = _study([
        {"generator": "multi_arm_bench", "configs": ["OBS-CPS"], "scenarios": ["C"],
         "n_treated": [3]},
        {"generator": "acharki", "designs": ["hazard_rate"], "n_levels": [4],
         "censoring": ["uniform"], "confounding": [True]},
    ], metrics=["cate_mse", "ate_bias", "coverage"])
    assert [d.name for d in study.designs] == [
        "OBS-CPS_C_K3", "acharki-hazard_rate_K4_uniform_confounded"]
    run_study(study, tmp_path, scheduler="synchronous", progress=None)
    results = read_results(tmp_path).set_index("design")
    assert results["error"].isna().all(), results["error"]
    data_seed, method_seed = repeat_seeds(4, 0)
    train, test = np.arange(500), np.arange(500, 700)
    sims = {
        "OBS-CPS_C_K3": multi_arm_bench("OBS-CPS", "C", n=700, n_treated=3,
                                        random_state=data_seed),
        "acharki-hazard_rate_K4_uniform_confounded": acharki_design(
            "hazard_rate", n=700, n_levels=4, censoring="uniform", confounding=True,
            random_state=data_seed),
    }
    for name, sim in sims.items():
        h = _horizon(sim.T, sim.time, sim.w, train)
        est = TLearner(Ridge(), imputation="margin", n_bootstrap=0, horizon=h,
                       random_state=method_seed)
        est.fit(sim.X[train], (sim.time[train], sim.event[train]), sim.w[train])
        tau_hat, tau = est.predict(sim.X[test]), sim.true_cate("rmst", h)[test]
        assert tau_hat.shape == tau.shape == (200, 3)
        row = results.loc[name]
        # mPEHE (Acharki et al.): sqrt(mean over levels and rows of the squared error)
        mpehe = math.sqrt(np.mean([np.mean((tau_hat[:, k] - tau[:, k]) ** 2) for k in range(3)]))
        assert row["mpehe"] == pytest.approx(mpehe, rel=1e-12)
        assert row["mse_cond"] == pytest.approx(mpehe**2, rel=1e-12)
        row_effects = sim.individual_effect(h)[test]
        assert row["mse_row"] == pytest.approx(np.mean((tau_hat - row_effects) ** 2), rel=1e-12)
        # the average-effect columns are for one treated level only
        assert np.isnan(row["ate"]) and np.isnan(row["ate_bias_cond"])


def test_one_treated_level_scores_as_the_binary_design():
    designs = [
        {"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["B"]},
        {"generator": "multi_arm_bench", "configs": ["RCT-50"], "scenarios": ["B"],
         "n_treated": [1]},
    ]
    rows = [execute_task(task) for task in expand(_study(designs))]
    assert [r["design"] for r in rows] == ["RCT-50_B", "RCT-50_B_K1"]
    for column in ("horizon", "mse_row", "mse_cond", "mpehe", "ate", "ate_bias_cond"):
        assert rows[0][column] == rows[1][column], column


def test_a_method_without_k_effects_is_a_recorded_error(tmp_path, monkeypatch):
    from survhte.imputed_learners import TLearner as Learner

    monkeypatch.setattr(Learner, "predict", lambda self, X: np.zeros(len(X)))
    study = _study([{"generator": "multi_arm_bench", "configs": ["RCT-50"], "scenarios": ["A"],
                     "n_treated": [2]}])
    row = execute_task(expand(study)[0])
    assert "predict returned shape (200,); the design needs (200, 2)" in row["error"]


def test_presets_name_k_arm_designs():
    multi = load_study("preset:multi_arm")
    assert {d.option("n_treated") for d in multi.designs} == {2, 4}
    assert len(multi.designs) == 8 and multi.sizes == (5000, 0, 2500)
    sweep = load_study("preset:multi_arm_acharki")
    levels = sorted({d.option("n_levels") for d in sweep.designs})
    assert levels == [3, 5, 10, 20, 50]
    assert {d.option("censoring") for d in sweep.designs} == {None, "covariate"}


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"n_treated": [6]}, r"designs\[0\]\.n_treated\[0\]: must be an integer 1\.\.5"),
        ({"n_treated": [2, 2]}, "appears twice"),
        ({"effects": ["joint"]}, r"designs\[0\]\.effects\[0\]: unknown effect 'joint'"),
        ({"legacy": True}, r"designs\[0\]\.legacy: unknown key"),
    ],
)
def test_multi_arm_design_errors_name_the_key(entry, match):
    with pytest.raises(StudyFileError, match=match):
        _study([{"generator": "multi_arm_bench", **entry}])


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"designs": ["cubic"]}, r"designs\[0\]\.designs\[0\]: unknown design 'cubic'"),
        ({"n_levels": [1]}, r"n_levels\[0\]: must be an integer 2\.\.50"),
        ({"censoring": ["heavy"]}, r"censoring\[0\]: unknown censoring 'heavy'"),
        ({"confounding": ["yes"]}, r"confounding: give a list of true / false"),
        ({"configs": ["RCT-50"]}, r"designs\[0\]\.configs: unknown key"),
    ],
)
def test_acharki_design_errors_name_the_key(entry, match):
    with pytest.raises(StudyFileError, match=match):
        _study([{"generator": "acharki", **entry}])
