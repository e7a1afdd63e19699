"""Study files: a valid file parses; each broken rule gives an error naming its key."""

from __future__ import annotations

import pytest

from survhte.study import StudyFileError, load_study, parse_study

VALID = """
name = "example"
repeats = [0, 3]
[sizes]
train = 400
val = 0
test = 200
[[designs]]
generator = "survhte_bench"
configs = ["RCT-50"]
scenarios = ["A", "B"]
[[designs]]
generator = "survhte_bench"
configs = ["RCT-50"]
scenarios = ["A"]
legacy = true
label = "legacy-"
[[methods]]
method = "survival-t-learner"
params = { base_model = { model = "cox", penalizer = 0.1 }, n_bootstrap = 20 }
[[estimands]]
target = "survival"
horizons = [1.5, "quantile_T:0.25", "max_train_time"]
"""


def test_valid_file_parses(tmp_path):
    path = tmp_path / "example.toml"
    path.write_text(VALID)
    study = load_study(path)
    assert study.name == "example" and study.repeats == (0, 3)
    assert [d.name for d in study.designs] == ["RCT-50_A", "RCT-50_B", "legacy-RCT-50_A"]
    assert study.sizes == (400, 0, 200)
    assert [e.label for e in study.estimands] == [
        "survival@1.5", "survival@quantile_T:0.25", "survival@max_train_time"]
    assert study.methods[0].name == "survival-t-learner"


DESIGN = {"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["A"]}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"repeats": 0}, "repeats: must be a positive integer"),
        ({"repeats": [1, 1]}, "repeats: a repeat appears twice"),
        ({"alpha": 1.5}, "alpha: must be in (0, 1)"),
        ({"seed": "x"}, "seed: expected an integer"),
        ({"metrics": ["mse"]}, "metrics[0]: unknown metric 'mse'"),
        ({"sizes": {"train": 0}}, "sizes.train: must be a positive integer"),
        ({"sizes": {"tests": 10}}, "sizes.tests: unknown key"),
        ({"designs": [{**DESIGN, "n": 100, "split_file": "x.csv"}]},
         "sizes: train + val + test = 10000 is more than the n = 100 rows"),
        ({"designs": []}, "designs: give at least one"),
        ({"designs": [{"configs": ["RCT-50"]}]}, "designs[0]: give exactly one of"),
        ({"designs": [{**DESIGN, "configs": ["RCT-50", "RCT-51"]}]},
         "designs[0].configs[1]: unknown config 'RCT-51'"),
        ({"designs": [{**DESIGN, "scenarios": "A"}]}, "designs[0].scenarios: expected an array"),
        ({"designs": [{**DESIGN, "legacy": 1}]}, "designs[0].legacy: expected true or false"),
        ({"designs": [{**DESIGN, "random_state": 2025}]}, "designs[0].random_state: a fixed"),
        ({"designs": [{**DESIGN, "split_file": "x.csv"}]}, "designs[0].n: give the rows"),
        ({"designs": [{**DESIGN, "generator": "weibull"}]},
         "designs[0].generator: unknown generator"),
        ({"designs": [{"dataset": "actg"}]}, "designs[0].dataset: unknown dataset 'actg'"),
        ({"designs": [DESIGN, DESIGN]}, "designs: design 'RCT-50_A' appears twice"),
        ({"methods": [{"params": {}}]}, "methods[0].method: required"),
        ({"methods": [{"method": "y-learner"}]}, "methods[0].method: unknown method"),
        ({"methods": [{"method": "x-learner", "params": {"n_folds": 3}}]},
         "methods[0].params.n_folds: not a parameter of x-learner"),
        ({"methods": [{"method": "t-learner",
                       "params": {"base_learner": {"model": "ridge", "depth": 3}}}]},
         "methods[0].params.base_learner: "),
        ({"methods": [{"method": "survival-t-learner", "params": {"trees": 5}}]},
         "methods[0].params.trees: not a parameter of survival-t-learner"),
        ({"methods": [{"method": "survival-t-learner", "params": {"horizon": 5}}]},
         "methods[0].params.horizon: set by the study"),
        ({"methods": [{"method": "survival-t-learner",
                       "params": {"base_model": {"model": "rsf"}}}]},
         "methods[0].params.base_model.model: unknown component 'rsf'"),
        ({"methods": [{"method": "survival-t-learner",
                       "params": {"base_model": {"model": "cox", "alpha": 1}}}]},
         "methods[0].params.base_model: "),
        ({"methods": [{"method": "survival-t-learner"}, {"method": "survival-t-learner"}]},
         "methods: name 'survival-t-learner' appears twice"),
        ({"methods": "some"}, "methods: give \"all\""),
        ({"estimands": [{"target": "hazard", "horizons": [1]}]},
         "estimands[0].target: unknown target 'hazard'"),
        ({"estimands": [{"target": "rmst"}]}, "estimands[0].horizons: required"),
        ({"estimands": [{"target": "rmst", "horizons": [1, "mean_T"]}]},
         "estimands[0].horizons[1]: 'mean_T' is not a horizon"),
        ({"estimands": [{"target": "rmst", "horizons": ["quantile_T:1.5"]}]},
         "estimands[0].horizons[0]: 'quantile_T:1.5' is not a horizon"),
        ({"estimands": [{"target": "rmst", "horizons": [-1]}]},
         "estimands[0].horizons[0]: a horizon must be a positive"),
    ],
)
def test_errors_name_the_offending_key(change, key):
    with pytest.raises(StudyFileError) as info:
        parse_study({"designs": [DESIGN], **change})
    assert str(info.value).startswith(key), str(info.value)


def test_file_errors_name_the_file_and_toml_syntax(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("repeats = [0, 1\n")
    with pytest.raises(StudyFileError, match=r"bad.toml: not valid TOML"):
        load_study(path)
    path.write_text('repeats = 2\n[[designs]]\ngenerator = "survhte_bench"\nconfigs = ["X"]\n')
    with pytest.raises(StudyFileError, match=r"^.*bad.toml: designs\[0\].configs\[0\]: unknown"):
        load_study(path)
