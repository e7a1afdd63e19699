"""The ``survhte`` command line: estimate on Rossi and on simulated data, simulate, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from survhte.cli import main
from survhte.datasets import load_rossi
from survhte.simulate import survhte_bench

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Few refits keep the tests fast; the interval's accuracy is tested in test_survival_tlearner.
FAST = ["--bootstrap", "10"]


@pytest.fixture(scope="module")
def simulated_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "data.csv"
    assert main(["simulate", "--config", "RCT-50", "--scenario", "A", "--n", "600",
                 "--seed", "0", "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def rossi_csv(tmp_path_factory):
    """Rossi with a text column, as a user's CSV."""
    path = tmp_path_factory.mktemp("rossi") / "rossi.csv"
    load_rossi().frame.assign(label="x").to_csv(path, index=False)
    return path


def _error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("survhte: error: ")
    return lines[0]


def test_estimate_on_rossi_prints_report_and_writes_outputs(tmp_path, capsys):
    assert main(["estimate", "--out", str(tmp_path), "--method", "t-learner-cox", *FAST]) == 0
    report = capsys.readouterr().out
    for expected in ("n=432, events=114", "horizon: 52 weeks", "learner ATE",
                     "percentile bootstrap, 10 refits", "Kaplan-Meier", "Greenwood",
                     "CATE distribution", "1. prio", "R^2"):
        assert expected in report
    assert (tmp_path / "summary.png").read_bytes()[:8] == PNG_SIGNATURE
    cate = pd.read_csv(tmp_path / "cate.csv")
    assert list(cate.columns) == ["row", "cate"] and len(cate) == 432
    assert np.isfinite(cate["cate"]).all()


def test_estimate_default_is_causal_survival_forest(tmp_path, capsys):
    assert main(["estimate", "--out", str(tmp_path), "--bootstrap", "0"]) == 0
    report = capsys.readouterr().out
    for expected in ("(csf)", "n=432, events=114", "horizon: 52 weeks", "learner ATE",
                     "95% CI", "doubly robust scores", "Kaplan-Meier", "CATE distribution",
                     "1. ", "R^2"):
        assert expected in report
    assert "percentile bootstrap" not in report
    assert (tmp_path / "summary.png").read_bytes()[:8] == PNG_SIGNATURE
    cate = pd.read_csv(tmp_path / "cate.csv")
    assert len(cate) == 432 and np.isfinite(cate["cate"]).all()


def test_estimate_csf_on_three_arms(tmp_path, capsys):
    frame = survhte_bench("RCT-50", "A", n=300, random_state=1).to_frame()
    frame["arm"] = np.array(["a", "b", "c"])[np.arange(300) % 3]
    path = tmp_path / "three.csv"
    frame.to_csv(path, index=False)
    argv = ["estimate", "--data", str(path), "--treatment", "arm", "--covariates", "X1,X2",
            "--out", str(tmp_path)]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "(csf)" in report and "arm=b vs arm=a:" in report and "arm=c vs arm=a:" in report
    assert report.count("doubly robust scores") == 2
    cate = pd.read_csv(tmp_path / "cate.csv")
    assert list(cate.columns) == ["row", "cate_b", "cate_c"]
    assert np.isfinite(cate[["cate_b", "cate_c"]]).all().all()


def test_estimate_survival_target_and_explicit_horizon(tmp_path, capsys):
    argv = ["estimate", "--out", str(tmp_path), "--target", "survival", "--horizon", "26",
            "--bootstrap", "0"]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "horizon: 26 weeks (--horizon)" in report and "S(26)" in report
    assert "percentile bootstrap" not in report
    assert np.abs(pd.read_csv(tmp_path / "cate.csv")["cate"]).max() <= 1


def test_simulate_writes_truth_columns(simulated_csv, capsys):
    frame = pd.read_csv(simulated_csv)
    expected = survhte_bench("RCT-50", "A", n=600, random_state=0).to_frame()
    assert list(frame.columns) == list(expected.columns)
    assert {"T0", "T1", "C", "propensity"} <= set(frame.columns)
    np.testing.assert_allclose(frame[["time", "T0", "T1"]], expected[["time", "T0", "T1"]])


def test_estimate_on_simulated_csv(simulated_csv, tmp_path, capsys):
    argv = ["estimate", "--data", str(simulated_csv), "--treatment", "W", "--out",
            str(tmp_path), "--horizon", "1", *FAST]
    assert main(argv) == 0
    report = capsys.readouterr().out
    # default covariates: the numeric columns, with the ground truth left out
    assert "covariates (5): X1, X2, X3, X4, X5" in report
    assert "left out as simulation ground truth: T0, T1, C, propensity" in report
    assert len(pd.read_csv(tmp_path / "cate.csv")) == 600


def test_estimate_multi_arm_csv_reports_each_level(tmp_path, capsys):
    frame = survhte_bench("RCT-50", "A", n=600, random_state=1).to_frame()
    frame["arm"] = np.array(["a", "b", "c"])[np.arange(600) % 3]
    path = tmp_path / "three.csv"
    frame.to_csv(path, index=False)
    argv = ["estimate", "--data", str(path), "--treatment", "arm", "--covariates",
            "X1,X2,X3", "--out", str(tmp_path), "--bootstrap", "0"]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "arm=b vs arm=a" in report and "arm=c vs arm=a" in report
    assert list(pd.read_csv(tmp_path / "cate.csv").columns) == ["row", "cate_b", "cate_c"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data", "no_such_file.csv"], "data file not found: no_such_file.csv"),
        (["--treatment", "aid"], "column 'aid' (--treatment) not found"),
        (["--horizon", "80"], "--horizon=80 is beyond the last observed time 52"),
        (["--horizon", "-1"], "--horizon must be a positive finite number"),
        (["--covariates", "age,label"], "column 'label' (--covariates) is not numeric"),
        (["--covariates", "age,week"], "--covariates includes outcome/treatment column"),
        (["--target", "median"], "argument --target: invalid choice: 'median'"),
        (["--bootstrap", "-5"], "--bootstrap must be >= 0"),
    ],
)
def test_estimate_input_errors_are_one_line(extra, message, rossi_csv, tmp_path, capsys):
    base = ["estimate", "--data", str(rossi_csv), "--time", "week", "--event", "arrest",
            "--treatment", "fin", "--out", str(tmp_path)]
    assert main([*base, *extra]) == 2  # later options override the base ones
    assert message in _error_line(capsys)


def test_simulate_bad_config_is_one_line(tmp_path, capsys):
    assert main(["simulate", "--config", "RCT-99", "--out", str(tmp_path / "x.csv")]) == 2
    assert "RCT-99" in _error_line(capsys)


def test_console_entry_point_exits_2_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "survhte.cli", "estimate", "--data", str(tmp_path / "none.csv")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("survhte: error: data file not found")
    assert "Traceback" not in result.stderr and result.stdout == ""
