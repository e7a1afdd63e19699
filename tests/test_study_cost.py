"""The study cost model: calibration, cost keys, list-schedule wall time, the dry run."""

from __future__ import annotations

import json
import math

import pytest

from survhte.cli import main
from survhte.study import (
    METHODS,
    CostTable,
    MethodCost,
    MethodSpec,
    PowerLaw,
    calibrate_costs,
    cost_key,
    estimate_cost,
    expand,
    list_schedule,
    load_study,
    parse_study,
)
from survhte.study._cost import longest_first

# 2 designs x 1 repeat x 2 methods x 1 estimand; the data are generated (no files).
TINY = {
    "name": "tiny", "seed": 0, "repeats": 1,
    "metrics": ["cate_mse", "coverage", "time", "memory"],
    "sizes": {"train": 1000, "val": 0, "test": 200},
    "designs": [{"generator": "survhte_bench", "configs": ["RCT-50", "OBS-CPS"],
                 "scenarios": ["A"]}],
    "methods": [{"name": "t-cox", "method": "survival-t-learner",
                 "params": {"base_model": "cox", "n_bootstrap": 2}},
                {"name": "s", "method": "survival-s-learner"}],
    "estimands": [{"target": "rmst", "horizons": ["median_T"]}],
}
TINY_TOML = """
name = "tiny"
repeats = 1
metrics = ["cate_mse", "coverage", "time", "memory"]
[sizes]
train = 1000
val = 0
test = 200
[[designs]]
generator = "survhte_bench"
configs = ["RCT-50", "OBS-CPS"]
scenarios = ["A"]
[[methods]]
name = "t-cox"
method = "survival-t-learner"
params = { base_model = "cox", n_bootstrap = 2 }
[[methods]]
name = "s"
method = "survival-s-learner"
[[estimands]]
target = "rmst"
horizons = ["median_T"]
"""


def _hand_table() -> CostTable:
    """t-cox: 1 s per task + 0.25 s per replicate at n = 1000 (linear); s: 3 s flat."""
    linear = MethodCost(PowerLaw(0.0006, 1.0), PowerLaw(0.4, 0.0), PowerLaw(0.00025, 1.0),
                        PowerLaw(0.1, 1.0))
    flat = MethodCost(PowerLaw(2.0, 0.0), PowerLaw(1.0, 0.0), PowerLaw(0.0, 0.0),
                      PowerLaw(50.0, 0.0))
    return CostTable({'survival-t-learner {"base_model":"cox"}': linear,
                      "survival-s-learner": flat},
                     overhead_seconds=0.5, startup_seconds=2.0, info={"rows": [500, 1500]})


def test_power_law_through_two_points_and_exponent_bounds():
    law = PowerLaw.through(500, 1.0, 1500, 9.0)
    assert law.b == pytest.approx(2.0) and law(1000) == pytest.approx(4.0)
    # noise that makes the bigger task cheaper gives a flat law at the bigger task's cost
    assert PowerLaw.through(500, 1.0, 1500, 0.9) == PowerLaw(0.9, 0.0)
    with pytest.raises(ValueError, match="n1 < n2"):
        PowerLaw.through(1500, 1.0, 500, 2.0)


def test_cost_key_is_the_method_and_its_non_default_parameters():
    study = parse_study(TINY)
    assert [cost_key(m) for m in study.methods] == [
        'survival-t-learner {"base_model":"cox"}', "survival-s-learner"]
    # n_bootstrap is modelled by the replicate law, not the key; the registry default is not
    # a parameter of the key
    assert cost_key(MethodSpec("a", "t-learner", (("n_bootstrap", 50),))) == "t-learner"
    assert cost_key(MethodSpec("a", "t-learner", (("n_bootstrap", 0),))) == "t-learner"


def test_dry_run_prediction_is_the_hand_computed_list_schedule(tmp_path, capsys):
    study = parse_study(TINY)
    cost = estimate_cost(study, table=_hand_table())
    # t-cox at n = 1000: 0.6 + 0.4 + 2 replicates x 0.25 = 1.5 s; s: 3 s; two designs each
    assert cost.tasks == 4 and cost.task_seconds == pytest.approx((1.5, 3.0, 1.5, 3.0))
    assert cost.by_method == {"t-cox": (2, pytest.approx(3.0)), "s": (2, pytest.approx(6.0))}
    assert cost.memory_mb == {"t-cox": pytest.approx(100.0), "s": pytest.approx(50.0)}
    # + 0.5 s overhead each: 3.5, 3.5, 2, 2. Two workers, longest first: {3.5, 2} {3.5, 2}
    # = 5.5; three: {3.5} {3.5} {2, 2} = 4; one: 11; each + 2 s start
    assert [cost.wall_seconds(w) for w in (1, 2, 3)] == pytest.approx([13.0, 7.5, 6.0])
    assert list_schedule([3, 3, 2, 2, 2], 2) == 7.0  # LPT, not the optimum 6
    assert estimate_cost(study, done={expand(study)[1].id}, table=_hand_table()).tasks == 3
    # the same numbers through the CLI and a table file
    path = _hand_table().save(tmp_path / "table.json")
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(TINY_TOML)
    argv = ["study", "run", str(study_file), "--dry-run", "--workers", "2", "--cost-table",
            str(path), "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 designs x 1 repeats x 2 methods x 1 estimands = 4 tasks" in printed
    assert "predicted: 9s of CPU; peak memory per task 100 MB; wall time on 2 workers 8s" \
        in printed  # 7.5 s rounds to 8s
    assert "0.500 s scheduler overhead per task + 2.0 s cluster start" in printed


def test_unknown_cost_keys_fall_back_to_the_method_default():
    table = _hand_table()
    study = parse_study({**TINY, "methods": [
        {"name": "t-weibull", "method": "survival-t-learner",
         "params": {"base_model": "weibull"}},
        {"name": "s-cox", "method": "survival-s-learner", "params": {"base_model": "cox"}}]})
    cost = estimate_cost(study, table=table)
    assert cost.uncalibrated == ("t-weibull", "s-cox")
    # t-weibull: no entry at all (1 s each); s-cox: the default s-learner's 3 s
    assert cost.by_method == {"t-weibull": (2, 2.0), "s-cox": (2, 6.0)}
    assert math.isnan(cost.memory_mb["t-weibull"])


def test_runner_submits_longest_first():
    tasks = expand(parse_study(TINY))
    ordered = longest_first(tasks, _hand_table())
    assert [t.method.name for t in ordered] == ["s", "s", "t-cox", "t-cox"]
    assert [t.design.name for t in ordered] == ["RCT-50_A", "OBS-CPS_A"] * 2  # stable


def test_calibration_writes_a_valid_table_that_predicts(tmp_path):
    study = parse_study({**TINY, "sizes": {"train": 200, "val": 0, "test": 100}})
    table = calibrate_costs(study, rows=(100, 200), tasks_per_size=1, overhead_tasks=0,
                            progress=None)
    assert sorted(table.methods) == ['survival-s-learner',
                                     'survival-t-learner {"base_model":"cox"}']
    for entry in table.methods.values():
        assert [s["n"] for s in entry.samples] == [100, 200]
        for sample in entry.samples:
            # CPU of the whole task = the method's part + the rest (data, truth, scores) + the
            # bootstrap (t-cox: 2 replicates, the study's 2; the S-learner: none)
            assert sample["seconds"] == pytest.approx(
                sample["model_seconds"] + sample["other_seconds"]
                + sample["replicates"] * sample["replicate_seconds"], abs=1e-3)
            assert sample["memory_mb"] > 0 and sample["replicate_seconds"] > 0
        assert 0 <= entry.model_seconds.b <= 2.5 and entry.memory_mb.a > 0
    assert [s["replicates"] for s in
            table.methods['survival-t-learner {"base_model":"cox"}'].samples] == [2, 2]
    assert table.info["rows"] == [100, 200] and table.info["failed"] == {}
    loaded = CostTable.load(table.save(tmp_path / "table.json"))
    assert loaded.methods.keys() == table.methods.keys()
    assert loaded.methods["survival-s-learner"].model_seconds == \
        table.methods["survival-s-learner"].model_seconds
    cost = estimate_cost(study, table=loaded)
    assert cost.uncalibrated == () and cost.seconds > 0 and cost.peak_memory_mb > 0


def test_cli_calibrate_writes_and_merges_a_table(tmp_path, capsys):
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(TINY_TOML.replace("train = 1000", "train = 200"))
    base = _hand_table().save(tmp_path / "base.json")
    out = tmp_path / "table.json"
    argv = ["study", "calibrate", str(study_file), "--out", str(out), "--rows", "100,200",
            "--tasks", "1", "--overhead-tasks", "0", "--methods", "s", "--merge", str(base),
            "--quiet"]
    assert main(argv) == 0
    assert "wrote the cost table of 2 cost keys to" in capsys.readouterr().out
    merged = CostTable.load(out)
    assert merged.overhead_seconds == 0.5  # not measured now: the merged table's kept
    assert merged.methods["survival-s-learner"].samples  # measured now
    assert json.loads(out.read_text())["version"] == 1
    assert main(["study", "calibrate", str(study_file), "--out", str(out), "--rows",
                 "200,100"]) == 2
    assert "expected two sizes N1 < N2" in capsys.readouterr().err


def test_cost_table_errors_name_the_file_and_key(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"version": 1, "methods": {"t-learner": {"model_seconds": {"a": 1}}}}')
    with pytest.raises(ValueError, match=r"bad.json: methods.t-learner: KeyError"):
        CostTable.load(path)
    path.write_text('{"version": 7}')
    with pytest.raises(ValueError, match=r"bad.json: version: expected 1; got 7"):
        CostTable.load(path)
    with pytest.raises(FileNotFoundError, match="cost table not found"):
        CostTable.load(tmp_path / "none.json")


def test_full_protocol_is_one_study_the_shipped_table_prices(capsys):
    bench = load_study("preset:survhte-bench")
    assert len(expand(bench)) == 40 * 10 * len(METHODS) * 3
    assert [e.label for e in bench.estimands] == [
        "rmst@max_train_time", "rmst@median_T", "survival@median_T"]
    cost = estimate_cost(bench)
    # every registered method has its own calibrated entry in the shipped table
    assert cost.tasks == 15_600 and cost.uncalibrated == ()
    assert all(count == 1200 for count, _ in cost.by_method.values())
    walls = [cost.wall_seconds(w) for w in (2, 16, 64)]
    assert walls[0] > walls[1] > walls[2] >= max(cost.task_seconds)
    assert main(["study", "run", "preset:survhte-bench", "--dry-run", "--workers", "16",
                 "--out", "/nonexistent/survhte-study"]) == 0
    printed = capsys.readouterr().out
    assert "40 designs x 10 repeats x 13 methods x 3 estimands = 15600 tasks" in printed
    assert "wall time on 16 workers" in printed and "cost table: shipped with survhte" in printed
