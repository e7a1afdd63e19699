"""The simulation-study runner: results match hand-run methods, resume, Dask, report, CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from survhte.cli import main
from survhte.forest import CausalSurvivalForest, SurvivalForest
from survhte.imputed_learners import DRLearner, RLearner, TLearner
from survhte.simulate import survhte_bench
from survhte.study import (
    METHODS,
    Method,
    _run,
    average_ranks,
    estimate_cost,
    execute_task,
    expand,
    finished_tasks,
    load_study,
    parse_study,
    read_results,
    repeat_seeds,
    run_study,
    write_report,
)
from survhte.study._cost import CostTable, cost_key
from survhte.study._progress import Progress, format_seconds
from survhte.survival import CoxPH
from survhte.survival_model_learners import SurvivalTLearner

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "survhte_bench"

# 2 configs x 2 scenarios x 2 repeats x 3 methods, small data: 24 tasks of ~0.05 s each.
SMALL_STUDY = """
name = "small"
seed = 7
repeats = 2
metrics = ["cate_mse", "ate_bias", "coverage", "time", "memory"]

[sizes]
train = 300
val = 50
test = 200

[[designs]]
generator = "survhte_bench"
configs = ["RCT-50", "OBS-CPS"]
scenarios = ["A", "C"]

[[methods]]
name = "t-cox"
method = "survival-t-learner"
params = { base_model = "cox" }

[[methods]]
name = "t-cox-ridge"
method = "survival-t-learner"
params = { base_model = { model = "cox", penalizer = 0.5 } }

[[methods]]
name = "t-cox-boot"
method = "survival-t-learner"
params = { base_model = "cox", n_bootstrap = 5 }

[[estimands]]
target = "rmst"
horizons = ["median_T"]
"""
SMALL_PARAMS = {
    "t-cox": {"base_model": CoxPH(), "n_bootstrap": 0},
    "t-cox-ridge": {"base_model": CoxPH(penalizer=0.5), "n_bootstrap": 0},
    "t-cox-boot": {"base_model": CoxPH(), "n_bootstrap": 5},
}
SCORES = ["mse_row", "mse_cond", "ate", "ate_row", "ate_cond", "ate_lower", "ate_upper",
          "ate_coverage", "horizon"]


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("study") / "small.toml"
    path.write_text(SMALL_STUDY)
    return path


@pytest.fixture(scope="module")
def small_results(study_file, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("results")
    summary = run_study(load_study(study_file), out, scheduler="synchronous", progress=None)
    assert len(summary.executed) == summary.total == 24
    return read_results(out)


def _by_hand(row: pd.Series) -> dict[str, float]:
    """One result row recomputed with survhte_bench and SurvivalTLearner directly."""
    data_seed, method_seed = repeat_seeds(7, int(row["repeat"]))
    sim = survhte_bench(row["config"], row["scenario"], n=550, random_state=data_seed)
    train, test = np.arange(300), np.arange(350, 550)
    time_train, w_train = sim.time[train], sim.w[train]
    arm_last = min(time_train[w_train == arm].max() for arm in (0, 1))
    horizon = min(float(np.quantile(sim.T, 0.5)), float(arm_last))
    est = SurvivalTLearner(target="rmst", horizon=horizon, random_state=method_seed,
                           **SMALL_PARAMS[row["method"]])
    est.fit(sim.X[train], (time_train, sim.event[train]), w_train)
    cate = est.predict(sim.X[test])
    truth_train = sim.true_cate("rmst", horizon)[train]
    scores = {
        "horizon": horizon,
        "mse_row": np.mean((cate - sim.individual_effect(horizon)[test]) ** 2),
        "mse_cond": np.mean((cate - sim.true_cate("rmst", horizon)[test]) ** 2),
        "ate": est.ate(),
        "ate_row": sim.individual_effect(horizon)[train].mean(),
        "ate_cond": truth_train.mean(),
        "ate_lower": np.nan, "ate_upper": np.nan, "ate_coverage": np.nan,
    }
    if est.n_bootstrap:
        lower, upper = est.ate_interval(0.05)
        scores |= {"ate_lower": lower, "ate_upper": upper,
                   "ate_coverage": float(lower <= truth_train.mean() <= upper)}
    return scores


def test_small_study_matches_methods_run_by_hand(small_results):
    assert len(small_results) == 24
    assert small_results["error"].isna().all()
    assert set(small_results["design"]) == {"RCT-50_A", "RCT-50_C", "OBS-CPS_A", "OBS-CPS_C"}
    assert small_results["task_id"].is_unique
    for _, row in small_results.iterrows():
        expected = _by_hand(row)
        for column in SCORES:
            np.testing.assert_equal(row[column], expected[column], err_msg=column)
    timed = small_results[["fit_seconds", "predict_seconds", "peak_memory_mb", "task_seconds",
                           "task_cpu_seconds"]]
    assert (timed > 0).all().all()
    assert (small_results["task_seconds"] > small_results["fit_seconds"]).all()
    assert (small_results["peak_rss_mb"] >= 0).all()  # RSS growth: 0 where memory is reused
    boot = small_results[small_results["method"] == "t-cox-boot"]
    assert boot["interval_seconds"].notna().all() and boot["ate_width"].gt(0).all()


def test_dask_local_cluster_gives_the_synchronous_table(study_file, small_results, tmp_path):
    study = load_study(study_file).select(designs=["RCT-50_*"])
    stream = io.StringIO()
    names = [*_run._SINGLE_THREAD_ENV, "MALLOC_TRIM_THRESHOLD_", "PYTHONHASHSEED"]
    environment = {name: os.environ.get(name) for name in names}
    summary = run_study(study, tmp_path, workers=2, progress=stream)
    # The workers' start-up variables are set for their start only, not left in this process.
    assert {name: os.environ.get(name) for name in names} == environment
    assert len(summary.executed) == 12 and not summary.lost
    assert "12/12 tasks" in stream.getvalue()
    key = ["design", "repeat", "method"]
    dask = read_results(tmp_path).sort_values(key, ignore_index=True)
    local = small_results[small_results["design"].str.startswith("RCT-50")]
    local = local.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(dask[key + SCORES], local[key + SCORES])


def test_killed_study_resumes_with_only_the_missing_tasks(study_file, tmp_path, monkeypatch):
    study = load_study(study_file)
    all_ids = {task.id for task in expand(study)}
    calls = []

    def killed_after_five(task):
        if len(calls) == 5:
            raise KeyboardInterrupt  # the study is killed while running its 6th task
        calls.append(task.id)
        return execute_task(task)

    monkeypatch.setattr(_run, "execute_task", killed_after_five)
    with pytest.raises(KeyboardInterrupt):
        run_study(study, tmp_path, scheduler="synchronous", progress=None)
    monkeypatch.undo()
    done = finished_tasks(tmp_path)
    assert done == set(calls) and len(done) == 5

    summary = run_study(study, tmp_path, scheduler="synchronous", progress=None)
    assert set(summary.executed) == all_ids - done
    assert set(summary.skipped) == done
    assert finished_tasks(tmp_path) == all_ids
    again = run_study(study, tmp_path, scheduler="synchronous", progress=None)
    assert again.executed == [] and len(again.skipped) == 24


class _Failing(SurvivalTLearner):
    """A T-learner that cannot fit: stands for a method failing on some design."""

    def _fit_core(self, X, time, event, codes):
        raise ValueError("no luck")


# Stands for the installed `survhte` console script: its main module imports survhte (hence
# numba) in every spawned Dask worker too, before Dask applies the nanny's environment. The
# registered "thread-check" method does what every forest task does on a cold numba cache:
# start numba's threads, then compile.
_CONSOLE_SCRIPT = """
import sys

import numba

from survhte.cli import main
from survhte.study import METHODS, Method
from survhte.survival_model_learners import SurvivalTLearner


class ThreadCheck(SurvivalTLearner):
    def _fit_core(self, X, time, event, codes):
        threads = numba.get_num_threads()  # starts numba's threads, as the forests do
        numba.njit(lambda a: a + 1)(1)  # compiles, as each kernel does on a cold cache
        if threads != 1:
            raise RuntimeError(f"the task ran on {threads} numba threads, not 1")
        return super()._fit_core(X, time, event, codes)


METHODS["thread-check"] = Method(ThreadCheck, "checks its numba threads")

if __name__ == "__main__":
    sys.exit(main())
"""

_FOREST_STUDY = """
name = "forest-on-dask"
repeats = 2
metrics = ["cate_mse", "ate_bias"]

[sizes]
train = 300
val = 0
test = 100

[[designs]]
generator = "survhte_bench"
configs = ["RCT-50"]
scenarios = ["A"]

[[methods]]
name = "csf"
method = "causal-survival-forest"
params = { n_estimators = 20 }

[[methods]]
method = "thread-check"
params = { n_bootstrap = 0 }
"""


def test_cli_study_on_the_local_cluster_runs_forests_on_one_thread_per_task(tmp_path):
    # Issue 17, defect 9: workers imported numba before the runner set NUMBA_NUM_THREADS=1,
    # so they ran on every core (warm cache) or every forest task failed with "Cannot set
    # NUMBA_NUM_THREADS ... (currently have 1, trying to set 2)" (cold cache), exit status 0.
    script, study = tmp_path / "survhte_script.py", tmp_path / "forest.toml"
    script.write_text(_CONSOLE_SCRIPT)
    study.write_text(_FOREST_STUDY)
    threads = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env = {name: value for name, value in os.environ.items() if name not in threads}
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(script), "study", "run", str(study), "--workers", "2",
         "--out", str(out), "--quiet"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 tasks, 4 run now (0 with a method error)" in done.stdout
    results = read_results(out)
    assert results["error"].isna().all(), results["error"].tolist()
    assert results["mse_cond"].notna().all()


def test_cli_run_with_failed_tasks_exits_1_and_counts_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(METHODS, "failing", Method(_Failing, "always fails"))
    study = tmp_path / "study.toml"
    study.write_text(
        'repeats = 2\n[sizes]\ntrain = 200\nval = 0\ntest = 100\n'
        '[[designs]]\ngenerator = "survhte_bench"\nconfigs = ["RCT-50"]\nscenarios = ["A"]\n'
        '[[methods]]\nmethod = "failing"\n[[methods]]\nmethod = "survival-t-learner"\n'
    )
    out = tmp_path / "out"
    argv = ["study", "run", str(study), "--scheduler", "synchronous", "--out", str(out),
            "--quiet"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "4 tasks, 4 run now (2 with a method error)" in captured.out
    assert "survhte: 2 of 4 tasks failed: 2 in this run" in captured.err
    assert f"column 'error' of {out / 'results'}/<design>/<task id>.parquet" in captured.err
    assert "  2 x ValueError: no luck" in captured.err
    # A rerun skips the failed tasks but still fails until they are retried.
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "0 run now (0 with a method error), 4 already done (2 with a method error)" \
        in captured.out
    assert "2 of 4 tasks failed: 2 in an earlier run (rerun them with --retry-failed)" \
        in captured.err
    assert main([*argv, "--retry-failed"]) == 1
    assert "2 of 4 tasks failed: 2 in this run" in capsys.readouterr().err
    assert main([*argv, "--methods", "survival-t-learner"]) == 0


def test_unreadable_results_are_recomputed_and_partial_files_removed(study_file, tmp_path,
                                                                      capsys):
    # Issue 17, defect 10: a truncated or empty result file counted as done ("24 already
    # done", then `study report` failed) and a leftover .tmp file stayed forever.
    study = load_study(study_file).select(methods=["t-cox"], designs=["RCT-50_*"])
    run_study(study, tmp_path, scheduler="synchronous", progress=None)
    before = read_results(tmp_path).set_index("task_id").sort_index()
    paths = sorted((tmp_path / "results").glob("*/*.parquet"))
    assert len(paths) == 4
    truncated, empty = paths[0], paths[2]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    empty.write_bytes(b"")
    stale = truncated.parent / f".{truncated.stem}.0123abcd.tmp"
    stale.write_bytes(b"PAR1 half a file")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    fresh = empty.parent / f".{empty.stem}.4567ef01.tmp"  # a write in progress elsewhere
    fresh.write_bytes(b"PAR1")

    assert main(["study", "report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "2 result files are unreadable" in err and str(truncated) in err
    assert str(empty) in err and "(empty: " in err and "run the study again" in err

    with pytest.warns(UserWarning, match="2 result files are unreadable") as caught:
        summary = run_study(study, tmp_path, scheduler="synchronous", progress=None)
    message = str(caught[0].message)
    assert str(truncated) in message and str(empty) in message
    assert sorted(summary.executed) == sorted([truncated.stem, empty.stem])
    assert len(summary.skipped) == 2
    assert summary.recomputed == [truncated, empty]
    assert summary.removed == [stale] and not stale.exists() and fresh.exists()
    after = read_results(tmp_path).set_index("task_id").sort_index()
    pd.testing.assert_frame_equal(after[SCORES], before[SCORES])
    assert main(["study", "report", str(tmp_path)]) == 0


def test_method_errors_are_recorded_and_retried_on_request(tmp_path, monkeypatch):
    monkeypatch.setitem(METHODS, "failing", Method(_Failing, "always fails"))
    study = parse_study({
        "sizes": {"train": 200, "val": 0, "test": 100},
        "designs": [{"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["A"]}],
        "methods": [{"method": "failing"}, {"method": "survival-t-learner"}],
    })
    first = run_study(study, tmp_path, scheduler="synchronous", progress=None)
    assert len(first.executed) == 2 and len(first.failed) == 1
    results = read_results(tmp_path).set_index("method")
    assert results.loc["failing", "error"] == "ValueError: no luck"
    assert np.isnan(results.loc["failing", "mse_row"])
    assert run_study(study, tmp_path, scheduler="synchronous", progress=None).executed == []
    retried = run_study(study, tmp_path, scheduler="synchronous", retry_failed=True,
                        progress=None)
    assert retried.executed == first.failed


def test_imputation_meta_learners_run_in_a_study_as_by_hand(tmp_path):
    methods = {
        "t-margin": ("t-learner", {"imputation": "margin",
                                   "base_learner": {"model": "ridge", "alpha": 2.0}}),
        "dr-pseudo": ("dr-learner", {"base_learner": "ridge", "effect_learner": "ridge"}),
        "r-ipcw": ("r-learner", {"base_learner": "ridge", "effect_learner": "ridge"}),
    }
    study = parse_study({
        "seed": 3,
        "sizes": {"train": 400, "val": 0, "test": 150},
        "designs": [{"generator": "survhte_bench", "configs": ["OBS-CPS"], "scenarios": ["A"]}],
        "methods": [{"name": name, "method": method, "params": params}
                    for name, (method, params) in methods.items()],
    })
    run_study(study, tmp_path, scheduler="synchronous", progress=None)
    results = read_results(tmp_path).set_index("method")
    assert results["error"].isna().all(), results["error"]
    assert results.loc["dr-pseudo", "ate_lower"] < results.loc["dr-pseudo", "ate_upper"]
    data_seed, method_seed = repeat_seeds(3, 0)
    sim = survhte_bench("OBS-CPS", "A", n=550, random_state=data_seed)
    train, test = np.arange(400), np.arange(400, 550)
    arm_last = min(sim.time[train][sim.w[train] == arm].max() for arm in (0, 1))
    horizon = min(float(np.quantile(sim.T, 0.5)), float(arm_last))
    hand = {
        "t-margin": TLearner(Ridge(alpha=2.0), imputation="margin", n_bootstrap=0),
        "dr-pseudo": DRLearner(Ridge(), effect_learner=Ridge()),
        "r-ipcw": RLearner(Ridge(), effect_learner=Ridge(), n_bootstrap=0),
    }
    for name, est in hand.items():
        est.set_params(horizon=horizon, random_state=method_seed)
        est.fit(sim.X[train], (sim.time[train], sim.event[train]), sim.w[train])
        mse = np.mean((est.predict(sim.X[test]) - sim.true_cate("rmst", horizon)[test]) ** 2)
        np.testing.assert_equal(results.loc[name, "mse_cond"], mse, err_msg=name)
        np.testing.assert_equal(results.loc[name, "ate"], est.ate(), err_msg=name)


def test_forests_run_in_a_study_as_by_hand_with_interval_coverage(tmp_path):
    study = parse_study({
        "seed": 5,
        "sizes": {"train": 400, "val": 0, "test": 150},
        "metrics": ["cate_mse", "ate_bias", "coverage"],
        "designs": [{"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["A"]}],
        "methods": [
            {"name": "csf", "method": "causal-survival-forest", "params": {"n_estimators": 50}},
            {"name": "t-forest", "method": "survival-t-learner",
             "params": {"base_model": {"model": "survival-forest", "n_estimators": 20}}},
        ],
    })
    run_study(study, tmp_path, scheduler="synchronous", progress=None)
    results = read_results(tmp_path).set_index("method")
    assert results["error"].isna().all(), results["error"]
    # The forest has pointwise intervals, so the runner scores their coverage.
    assert 0.0 <= results.loc["csf", "cate_coverage"] <= 1.0
    data_seed, method_seed = repeat_seeds(5, 0)
    sim = survhte_bench("RCT-50", "A", n=550, random_state=data_seed)
    train, test = np.arange(400), np.arange(400, 550)
    arm_last = min(sim.time[train][sim.w[train] == arm].max() for arm in (0, 1))
    horizon = min(float(np.quantile(sim.T, 0.5)), float(arm_last))
    hand = {
        "csf": CausalSurvivalForest(50),
        "t-forest": SurvivalTLearner(base_model=SurvivalForest(20), n_bootstrap=0),
    }
    for name, est in hand.items():
        est.set_params(horizon=horizon, random_state=method_seed)
        est.fit(sim.X[train], (sim.time[train], sim.event[train]), sim.w[train])
        mse = np.mean((est.predict(sim.X[test]) - sim.true_cate("rmst", horizon)[test]) ** 2)
        np.testing.assert_equal(results.loc[name, "mse_cond"], mse, err_msg=name)


def test_report_writes_tables_and_figures(small_results, tmp_path):
    written = write_report(small_results, tmp_path)
    names = {path.name for path in written}
    assert {"report.md", "report.html", "average_rank_mse_row.png", "coverage.png"} <= names
    assert all(path.is_file() and path.stat().st_size > 0 for path in written)
    markdown = (tmp_path / "report.md").read_text()
    for heading in ("Average rank over designs", "CATE MSE per design", "ATE bias",
                    "Interval coverage", "Cost"):
        assert f"## {heading}" in markdown
    assert "| t-cox-ridge |" in markdown
    assert (tmp_path / "report.html").read_text().count("<img") == len(written) - 2


def test_cli_runs_and_reports_a_study(study_file, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["study", "run", str(study_file), "--scheduler", "synchronous", "--out", str(out),
            "--quiet", "--methods", "t-cox", "--designs", "OBS-CPS_*", "--repeats", "1"]
    assert main(argv) == 0
    assert "2 tasks, 2 run now" in capsys.readouterr().out
    assert main(argv) == 0
    assert "0 run now" in capsys.readouterr().out
    assert main(["study", "report", str(out)]) == 0
    assert (out / "report" / "report.md").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["study", "run", "preset:nope"], "no preset 'nope'; presets are preset:actg-syn"),
        (["study", "run", "missing.toml"], "study file not found: missing.toml"),
        (["study", "run", "{study}", "--methods", "x"], "--methods: x not in the study"),
        (["study", "run", "{study}", "--designs", "RCT-5_*"], "--designs: 'RCT-5_*' matches"),
        (["study", "run", "{study}", "--repeats", "two"], "argument --repeats: expected"),
        (["study", "report", "{empty}"], "no study results under"),
        (["study", "run", "preset:survhte-bench", "--out", "{empty}"],
         "SurvHTE-Bench file 'synthetic/idx_split.csv' not found"),
    ],
)
def test_cli_errors_are_one_line_exit_2(argv, message, study_file, tmp_path, capsys,
                                        monkeypatch):
    monkeypatch.delenv("SURVHTE_DATA", raising=False)
    argv = [a.format(study=study_file, empty=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("survhte: error: ") and message in err[0]


def test_presets_load_with_every_registered_method():
    bench = load_study("preset:survhte-bench")
    assert len(bench.designs) == 40 and bench.repeats == tuple(range(10))
    assert [m.name for m in bench.methods] == list(METHODS)
    assert len(expand(bench)) == 40 * 10 * len(METHODS) * 3
    assert bench.sizes == (5000, 2500, 2500)
    actg = load_study("preset:actg-syn")
    assert [d.name for d in actg.designs] == ["actg-synthetic"]
    for preset in (bench, actg):
        assert "causal-survival-forest" in [m.method for m in preset.methods]


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs the SurvHTE-Bench data folder")
def test_preset_tasks_run_on_the_benchmark_rows(monkeypatch):
    monkeypatch.setenv("SURVHTE_DATA", str(SHARED))
    bench = load_study("preset:survhte-bench").select(repeats=[3], designs=["OBS-CPS_A"])
    row = execute_task(expand(bench)[0])
    assert (row["n_train"], row["n_test"], row["data_seed"]) == (5000, 2500, 2025)
    assert row["error"] is None and row["mse_cond"] < row["mse_row"]
    actg = load_study("preset:actg-syn").select(repeats=[0], methods=["survival-t-learner"])
    tasks = {task.estimand.label: task for task in expand(actg)}
    rows = [execute_task(tasks[label])
            for label in ("rmst@max_train_time", "survival@quantile_T:0.25")]
    assert all(r["error"] is None for r in rows)
    assert np.isnan(rows[0]["mse_cond"]) and rows[1]["mse_cond"] < rows[1]["mse_row"]


def test_task_ids_depend_on_the_spec_not_the_study_name():
    base = {"designs": [{"generator": "survhte_bench", "configs": ["RCT-50"],
                         "scenarios": ["A"]}]}
    ids = [task.id for task in expand(parse_study(base))]
    renamed = [task.id for task in expand(parse_study({**base, "name": "other"}))]
    reseeded = [task.id for task in expand(parse_study({**base, "seed": 1}))]
    assert ids == renamed and not set(ids) & set(reseeded)
    assert repeat_seeds(0, 1) == repeat_seeds(0, 1) != repeat_seeds(0, 2)


def test_progress_line_counts_and_estimates_time_left():
    stream = io.StringIO()
    bar = Progress(4, skipped=2, stream=stream, interval=0)
    bar.update()
    bar.update(failed=True)
    line = stream.getvalue().splitlines()[-1]
    assert line.startswith("[############............] 2/4 tasks, 50%")
    assert "2 already done" in line and "1 failed" in line and "left ~" in line
    assert [format_seconds(s) for s in (5, 65, 3725, float("nan"))] == [
        "5s", "1m05s", "1h02m05s", "?"]


def test_report_gives_monte_carlo_errors_and_per_design_tables(small_results, tmp_path):
    write_report(small_results, tmp_path)
    markdown = (tmp_path / "report.md").read_text()
    scored = small_results[small_results["error"].isna()]
    # a CATE MSE cell: mean over the 2 repeats +- sd / sqrt(2), then the rank
    part = scored[(scored["design"] == "OBS-CPS_A") & (scored["method"] == "t-cox")]
    mean, se = part["mse_cond"].mean(), part["mse_cond"].std(ddof=1) / np.sqrt(2)
    assert f"{mean:.4g} ± {se:.2g} (" in markdown
    # the average rank's error: sd / sqrt(repeats) of the per-repeat average ranks
    per_repeat = [average_ranks(small_results[small_results["repeat"] == r], "mse_row")
                  for r in (0, 1)]
    values = [p.set_index("method").loc["t-cox-ridge", "average_rank"] for p in per_repeat]
    overall = average_ranks(small_results, "mse_row").set_index("method")
    assert (f"| t-cox-ridge | {overall.loc['t-cox-ridge', 'average_rank']:.4g} ± "
            f"{np.std(values, ddof=1) / np.sqrt(2):.2g} |") in markdown
    # pooled ATE bias: the designs' variances of their means, combined
    grouped = scored[scored["method"] == "t-cox"].groupby("design")["ate_bias_cond"]
    pooled_se = np.sqrt((grouped.var(ddof=1) / grouped.count()).sum()) / grouped.ngroups
    bias = scored.loc[scored["method"] == "t-cox", "ate_bias_cond"].mean()
    assert f"{bias:.4g} ± {pooled_se:.2g}" in markdown
    for text in ("ATE bias (vs the conditional truth) per design",
                 "ATE interval coverage per design"):
        assert text in markdown
    assert markdown.count("| estimand | design | t-cox | t-cox-boot | t-cox-ridge |") >= 1


def test_report_legends_do_not_cover_bars(small_results, tmp_path, monkeypatch):
    from survhte.study import _report

    figures = []
    monkeypatch.setattr(_report, "_save", lambda fig, path: figures.append(fig))
    write_report(small_results, tmp_path)
    legends = 0
    for fig in figures:
        fig.canvas.draw()
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                legends += 1
                assert legend.get_window_extent().x0 >= ax.get_window_extent().x1
    assert legends == 3  # two rank figures and the coverage figure


def test_cost_estimate_scales_with_rows_and_bootstrap(study_file):
    study = load_study(study_file)
    table = CostTable.load()
    cost = estimate_cost(study, table=table)
    assert cost.tasks == len(expand(study)) == 24
    per_task = {name: seconds / count for name, (count, seconds) in cost.by_method.items()}
    # t-cox: the shipped table's Cox T-learner entry (keyed on the base model, not the
    # default selected model's entry) at 300 rows; t-cox-boot adds 5 bootstrap replicates
    t_cox = table.methods[cost_key(study.methods[0])]
    assert per_task["t-cox"] == pytest.approx(t_cox.task_seconds(300))
    assert per_task["t-cox-boot"] - per_task["t-cox"] == pytest.approx(
        5 * t_cox.replicate_seconds(300))
    assert "t-cox-ridge" in cost.uncalibrated and "t-cox" not in cost.uncalibrated
    bigger = parse_study(tomllib.loads(SMALL_STUDY.replace("train = 300", "train = 600")))
    assert estimate_cost(bigger, table=table).by_method["t-cox"][1] == pytest.approx(
        8 * t_cox.task_seconds(600))  # 4 designs x 2 repeats
    assert estimate_cost(study, done={task.id for task in expand(study)[:4]}).tasks == 20


def test_cli_dry_run_prints_tasks_and_cost_and_runs_nothing(study_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["study", "run", str(study_file), "--dry-run", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 designs x 2 repeats x 3 methods x 1 estimands = 24 tasks" in printed
    assert "predicted: " in printed and "wall time on " in printed and "t-cox-boot" in printed
    assert not out.exists()
    argv = ["study", "run", str(study_file), "--scheduler", "synchronous", "--out", str(out),
            "--quiet", "--methods", "t-cox", "--designs", "OBS-CPS_A", "--repeats", "1"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["study", "run", str(study_file), "--dry-run", "--out", str(out)]) == 0
    assert "1 already finished in" in capsys.readouterr().out
    assert len(finished_tasks(out)) == 1
