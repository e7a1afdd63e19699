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
                     "CATE distribution", "per-row 95% intervals:",
                     "5-fold cross-fitted predictions", "calibration test",
                     "differential prediction", "RATE (AUTOC", "Best linear projection",
                     "intercept", "prio"):
        assert expected in report
    assert "R^2" not in report  # the descriptive OLS of the predictions is gone
    assert (tmp_path / "summary.png").read_bytes()[:8] == PNG_SIGNATURE
    assert (tmp_path / "heterogeneity.png").read_bytes()[:8] == PNG_SIGNATURE
    cate = pd.read_csv(tmp_path / "cate.csv")
    covariates = ["age", "race", "wexp", "mar", "paro", "prio"]
    assert list(cate.columns) == ["row", *covariates, "cate", "cate_lower", "cate_upper",
                                  "cate_held_out", "dr_score"]
    assert len(cate) == 432 and np.isfinite(cate.drop(columns="row")).all().all()
    assert (cate["cate_lower"] <= cate["cate"]).all() and (cate["cate"] <= cate["cate_upper"]).all()
    rossi = load_rossi().frame
    np.testing.assert_array_equal(cate[covariates], rossi[covariates])
    # the DR scores average to the AIPCW ATE, the BLP intercept of the report
    row = next(line for line in report.splitlines() if line.strip().startswith("intercept "))
    intercept = float(row.split()[1])
    assert cate["dr_score"].mean() == pytest.approx(intercept, abs=0.006)


def test_estimate_default_is_causal_survival_forest(tmp_path, capsys):
    assert main(["estimate", "--out", str(tmp_path), "--bootstrap", "0"]) == 0
    report = capsys.readouterr().out
    for expected in ("(csf)", "n=432, events=114", "horizon: 52 weeks", "learner ATE",
                     "95% CI", "doubly robust scores", "Kaplan-Meier", "CATE distribution",
                     "5-fold cross-fitted predictions", "one-sided p =",
                     "RATE (AUTOC", "Best linear projection"):
        assert expected in report
    # Rossi: no heterogeneity that the forest ranks (measured: differential 0.12, p = 0.42;
    # AUTOC -0.81, 95% CI [-3.28, 1.66]); the report says so plainly
    assert "heterogeneity NOT detected" in report
    assert "percentile bootstrap" not in report
    assert (tmp_path / "summary.png").read_bytes()[:8] == PNG_SIGNATURE
    cate = pd.read_csv(tmp_path / "cate.csv")
    assert len(cate) == 432 and np.isfinite(cate["cate"]).all()


def test_estimate_csf_on_three_arms(tmp_path, capsys):
    frame = survhte_bench("RCT-50", "A", n=300, random_state=1).to_frame()
    frame["arm"] = np.array(["a", "b", "c"])[np.arange(300) % 3]
    path = tmp_path / "three.csv"
    frame.to_csv(path, index=False)
    argv = ["estimate", "--data", str(path), "--treatment", "arm", "--control", "a",
            "--covariates", "X1,X2", "--out", str(tmp_path)]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "(csf)" in report and "arm=b vs arm=a:" in report and "arm=c vs arm=a:" in report
    assert report.count("doubly robust scores, as grf's average_treatment_effect") == 2
    assert report.count("Is the heterogeneity real?") == 2
    cate = pd.read_csv(tmp_path / "cate.csv")
    assert list(cate.columns) == ["row", "X1", "X2", *[
        f"{name}_{level}" for level in "bc"
        for name in ("cate", "cate_lower", "cate_upper", "cate_held_out", "dr_score")]]
    assert np.isfinite(cate[["cate_b", "cate_c", "dr_score_b", "dr_score_c"]]).all().all()


def test_estimate_survival_target_and_explicit_horizon(tmp_path, capsys):
    argv = ["estimate", "--out", str(tmp_path), "--target", "survival", "--horizon", "26",
            "--bootstrap", "0"]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "horizon: 26 weeks (--horizon)" in report and "S(26)" in report
    assert "percentile bootstrap" not in report
    assert np.abs(pd.read_csv(tmp_path / "cate.csv")["cate"]).max() <= 1


def test_estimate_blp_covariates_choose_the_projection(tmp_path, capsys):
    argv = ["estimate", "--out", str(tmp_path), "--method", "t-learner-cox", "--bootstrap",
            "0", "--blp-covariates", "prio, age"]
    assert main(argv) == 0
    report = capsys.readouterr().out
    table = report.split("Best linear projection")[1].splitlines()[2:5]
    assert [line.split()[0] for line in table] == ["intercept", "prio", "age"]
    assert "no per-row CATE intervals" in report  # --bootstrap 0: said, columns left out
    assert "cate_lower" not in pd.read_csv(tmp_path / "cate.csv").columns
    assert main([*argv[:-1], "prio,height"]) == 2
    assert "--blp-covariates: 'height' is not a covariate" in _error_line(capsys)


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
    argv = ["estimate", "--data", str(path), "--treatment", "arm", "--control", "a",
            "--covariates", "X1,X2,X3", "--out", str(tmp_path), "--bootstrap", "0"]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "arm=b vs arm=a" in report and "arm=c vs arm=a" in report
    columns = list(pd.read_csv(tmp_path / "cate.csv").columns)
    assert columns[:4] == ["row", "X1", "X2", "X3"] and "cate_b" in columns
    assert "dr_score_c" in columns and "cate_held_out_b" in columns


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data", "no_such_file.csv"], "data file not found: no_such_file.csv"),
        (["--treatment", "aid"], "column 'aid' (--treatment) not found"),
        (["--horizon", "80"], "--horizon=80 is beyond the last observed time 52"),
        (["--horizon", "-1"], "--horizon must be a positive finite number"),
        (["--covariates", "label"], "every covariate of"),
        (["--control", "2"], "--control '2' is not a level of column 'fin' (--treatment); "
                             "its levels are 0, 1"),
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


# --- text covariates, --control, unreadable files, --out (issue 17, defect 8) ---------------

def _text_csv(path, n=300, seed=3):
    """A trial whose effect modifier is a text column: 'site' B has the treatment effect."""
    rng = np.random.default_rng(seed)
    site = np.array(["A", "B", "C"])[rng.integers(0, 3, n)]
    w = rng.integers(0, 2, n)
    rate = np.where((site == "B") & (w == 1), 0.3, 1.0)
    t = rng.exponential(1 / rate)
    c = rng.exponential(2.0, n)
    frame = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "w": w,
                          "age": rng.normal(50, 10, n), "site": site})
    frame.to_csv(path, index=False)
    return frame


def test_estimate_one_hot_encodes_text_covariates(tmp_path, capsys):
    path = tmp_path / "text.csv"
    frame = _text_csv(path, n=600, seed=0)
    frame.assign(patient=[f"p{i:04d}" for i in range(600)]).to_csv(path, index=False)
    argv = ["estimate", "--data", str(path), "--method", "t-learner-cox", "--bootstrap", "0",
            "--horizon", "1", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "non-numeric" not in report
    assert "covariates (3): age, site_B, site_C" in report
    assert "site (3 levels: A, B, C; reference A) -> site_B, site_C" in report
    # an identifier is no default covariate (600 indicator columns), and the report says so
    assert "left out as text with more than 50 distinct values" in report
    assert "free text?): patient;" in report
    # the effect modifier is found: site B (the only site with an effect, true RMST gain
    # 0.23 at horizon 1) drives the CATE. Seeds 0-3 give per-site means B 0.13-0.30 vs
    # A, C within +-0.06, so the margin 0.1 holds with room. The checks detect it (seed 0:
    # differential 0.89, p = 1.4e-4; AUTOC 0.078 [0.023, 0.133]) and the BLP gives site_B the
    # largest positive coefficient (0.080, p = 0.021).
    assert "=> heterogeneity detected" in report
    blp = {line.split()[0]: float(line.split()[1]) for line in report.splitlines()
           if line.strip().split(" ")[0] in ("age", "site_B", "site_C")}
    assert max(blp, key=blp.get) == "site_B" and blp["site_B"] > 0.04
    cate = pd.read_csv(tmp_path / "out" / "cate.csv")["cate"].groupby(frame["site"]).mean()
    assert cate["B"] > max(cate["A"], cate["C"]) + 0.1


def test_estimate_text_column_of_numbers_with_a_typo_is_refused(tmp_path, capsys):
    path = tmp_path / "typo.csv"
    frame = _text_csv(tmp_path / "ok.csv")
    frame["age"] = frame["age"].round(1).astype(object)
    frame.loc[7, "age"] = "unknown"
    frame.to_csv(path, index=False)
    assert main(["estimate", "--data", str(path), "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert "column 'age'" in line and "mostly numbers" in line and "'unknown'" in line


def test_estimate_string_treatment_needs_control(tmp_path, capsys):
    path = tmp_path / "labels.csv"
    frame = _text_csv(tmp_path / "ok.csv")
    frame["arm"] = np.where(frame["w"] == 1, "active", "placebo")
    frame.drop(columns="w").to_csv(path, index=False)
    base = ["estimate", "--data", str(path), "--treatment", "arm", "--method", "t-learner-cox",
            "--bootstrap", "0", "--horizon", "1", "--out", str(tmp_path / "out")]
    assert main(base) == 2
    line = _error_line(capsys)
    assert "column 'arm' (--treatment) has levels active, placebo" in line
    assert "name it with --control LABEL, LABEL one of active, placebo" in line
    assert main([*base, "--control", "placebo"]) == 0
    report = capsys.readouterr().out
    assert "arm 0 (control) arm=placebo" in report and "arm=active vs arm=placebo:" in report
    by_placebo = pd.read_csv(tmp_path / "out" / "cate.csv")["cate"]
    # the sign follows --control: 'active' as control gives exactly the negated CATE for the
    # T-learner (one Cox model per arm, so the contrast is antisymmetric)
    assert main([*base, "--control", "active"]) == 0
    capsys.readouterr()
    by_active = pd.read_csv(tmp_path / "out" / "cate.csv")["cate"]
    np.testing.assert_allclose(by_active, -by_placebo, rtol=0, atol=1e-12)


def test_estimate_numeric_treatment_not_0_to_k_needs_control(tmp_path, capsys):
    path = tmp_path / "arms12.csv"
    frame = _text_csv(tmp_path / "ok.csv")
    frame.assign(w=frame["w"] + 1).to_csv(path, index=False)
    base = ["estimate", "--data", str(path), "--method", "t-learner-cox", "--bootstrap", "0",
            "--horizon", "1", "--out", str(tmp_path / "out")]
    assert main(base) == 2
    line = _error_line(capsys)
    assert "has levels 1, 2" in line and "--control LABEL, LABEL one of 1, 2" in line
    assert main([*base, "--control", "1"]) == 0
    assert "w=2 vs w=1:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty (--data): no header, no rows"),
        (b"\n\n", "is empty (--data): no header, no rows"),
        (b"time,event,w\n", "has no rows (--data): only the header (time, event, w)"),
        (b"time,event,w\n1,1,0\n2,0,1,7,8\n", "is not a well-formed CSV (--data): "),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is binary, not a CSV text file"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb0\xff", "is binary, not a CSV"),
        (b"time,event,w\n1.5,1,\xe9\n", "is not UTF-8 text (--data): byte 0xe9"),
        (b"time;event;w\n1;1;0\n", "seems to be separated by ';'"),
    ],
    ids=["empty", "blank-lines", "header-only", "malformed", "png", "xlsx", "latin-1",
         "semicolons"],
)
def test_estimate_unreadable_csv_is_one_line_naming_the_file(content, message, tmp_path,
                                                             capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert main(["estimate", "--data", str(path), "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert message in line
    assert str(path) in line


def test_estimate_out_existing_file_fails_before_the_fit(tmp_path, capsys, monkeypatch):
    existing = tmp_path / "results.txt"
    existing.write_text("keep me")

    def no_fit(*args, **kwargs):
        raise AssertionError("the data was read/fitted before --out was checked")

    monkeypatch.setattr("survhte._cli_estimate.read_estimate_input", no_fit)
    assert main(["estimate", "--out", str(existing)]) == 2
    line = _error_line(capsys)
    assert f"--out {existing} is an existing file, not a directory" in line
    assert existing.read_text() == "keep me"


def test_simulate_out_existing_directory_is_refused(tmp_path, capsys):
    assert main(["simulate", "--n", "50", "--out", str(tmp_path)]) == 2
    assert f"--out {tmp_path} is a directory" in _error_line(capsys)


# --- first run: numba compiles the kernels (issue 17, defect 11) ----------------------------

def test_compile_notice_is_printed_only_while_survhte_kernels_compile():
    """A cold numba cache compiles the kernels for about a minute: the CLI says so first.

    numba's "numba:compile" event fires on a cache miss only; a function whose module is under
    survhte._kernels stands in for a kernel (compiling a real one cold takes a minute).
    """
    import io

    from numba import njit

    from survhte._cli_estimate import COMPILE_NOTICE, compile_notice

    def kernel(x):
        return x + 1

    kernel.__module__ = "survhte._kernels.probe"
    stream = io.StringIO()
    with compile_notice(stream):
        compiled = njit(kernel)
        assert compiled(1) == 2  # compiles: the notice, then the time it took
    lines = stream.getvalue().splitlines()
    assert lines[0] == COMPILE_NOTICE and "first run only" in lines[0]
    assert lines[1].startswith("survhte: compiled in ") and len(lines) == 2

    for call in (lambda: compiled(2),  # already compiled: no event
                 lambda: njit(lambda x: x)(1)):  # compiling code that is not survhte's
        stream = io.StringIO()
        with compile_notice(stream):
            call()
        assert stream.getvalue() == ""
