"""Dataset loaders: embedded lifelines data, SurvHTE-Bench ACTG files, missing-file errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survhte._validation import validate_fit_inputs
from survhte.datasets import (
    ACTG175_COVARIATES,
    ACTG_SYNTHETIC_COVARIATES,
    load_actg175,
    load_actg_synthetic,
    load_gbsg2,
    load_rossi,
)

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "survhte_bench"
needs_bench = pytest.mark.skipif(
    not (BENCH / "real" / "ACTG_175_HIV1.csv").is_file(),
    reason=f"SurvHTE-Bench data not found at {BENCH}",
)


def test_rossi_fields_match_lifelines_table():
    data = load_rossi()
    assert data.X.shape == (432, 6)
    assert data.feature_names == tuple(data.X.columns)
    assert (data.time_col, data.event_col, data.treatment_col) == ("week", "arrest", "fin")
    np.testing.assert_array_equal(data.time, data.frame["week"])
    np.testing.assert_array_equal(data.event, data.frame["arrest"] == 1)
    np.testing.assert_array_equal(data.w, data.frame["fin"])
    assert data.time.dtype == np.float64 and data.event.dtype == bool
    assert data.w.dtype == np.int64 and set(data.treatment_labels) == {0, 1}
    assert "randomly assigned" in data.description
    assert "fin" not in data.X.columns and "week" not in data.X.columns


def test_dataset_is_ready_for_fit_and_frozen():
    data = load_rossi()
    _, names, _, _, _, classes = validate_fit_inputs(data.X, data.y, data.w)
    assert names == list(data.feature_names) and classes.tolist() == [0, 1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.time = None
    assert "n=432" in repr(data) and "DataFrame" not in repr(data)


def test_gbsg2_is_numeric_with_stated_treatment_mapping():
    data = load_gbsg2()
    raw = data.frame["horTh"]
    np.testing.assert_array_equal(data.w, (raw == "yes").astype(int))
    assert data.treatment_labels == {0: "horTh=no", 1: "horTh=yes"}
    assert all(pd.api.types.is_float_dtype(t) for t in data.X.dtypes)
    assert set(data.X["tgrade"]) == {1.0, 2.0, 3.0}
    np.testing.assert_array_equal(data.X["menostat_post"], data.frame["menostat"] == "Post")
    assert "OBSERVATIONAL" in data.description
    assert data.X.shape == (686, 7) and int(data.event.sum()) == 299


@needs_bench
@pytest.mark.parametrize("comparison", ["HIV1", "HIV2", "HIV3"])
def test_actg175_low_censoring(comparison):
    data = load_actg175(comparison, data_home=BENCH)
    raw = pd.read_csv(BENCH / "real" / f"ACTG_175_{comparison}.csv")
    assert list(data.X.columns) == ACTG175_COVARIATES and "z30" not in data.X.columns
    np.testing.assert_array_equal(data.time, raw["observed_time_month"])
    np.testing.assert_array_equal(data.event, raw["effect_non_censor"] == 1)
    np.testing.assert_array_equal(data.w, raw["trt"])
    np.testing.assert_array_equal(data.cate_base, raw["cate_base"])
    assert data.time.max() == 30.0 and data.censoring == "low" and data.version is None


@needs_bench
def test_actg175_high_censoring_version_columns():
    data = load_actg175("HIV2", censoring="high", version=7, data_home=BENCH)
    raw = data.frame
    np.testing.assert_array_equal(data.time, raw["t7"])
    np.testing.assert_array_equal(data.event, raw["e7"] == 1)
    assert (data.time_col, data.event_col, data.version) == ("t7", "e7", 7)
    # the injected censoring leaves roughly a fifth of the rows with an event (README)
    assert 0.1 < data.event.mean() < 0.35


@needs_bench
def test_actg175_split_follows_the_benchmark_selection_by_id():
    data = load_actg175("HIV1", data_home=BENCH)
    permutation = pd.read_csv(BENCH / "real" / "idx_split_HIV1.csv")["random_idx4"].to_numpy()
    n = len(permutation)
    split = data.split(4)
    train_ids = permutation[: int(0.5 * n)]
    np.testing.assert_array_equal(split.train, np.flatnonzero(np.isin(data.ids, train_ids)))
    parts = np.concatenate(split)
    assert np.unique(parts).size == parts.size  # disjoint
    # ids are 1-based, permutations 0-based: id 0 selects nothing and id n is in no part
    assert parts.size == n - 1
    assert data.n_repeats == 10
    with pytest.raises(ValueError, match=r"repeat must be in 0\.\.9"):
        data.split(10)


@needs_bench
@pytest.mark.parametrize("censoring", ["low", "high"])
def test_actg175_all_arms_merges_the_three_files(censoring):
    data = load_actg175(arms="all", censoring=censoring, version=4, data_home=BENCH)
    # the UCI copy of ACTG 175 (id 890): 2,139 of the 2,467 randomized patients
    assert np.bincount(data.w).tolist() == [532, 522, 524, 561]
    assert data.treatment_labels == {0: "ZDV", 1: "ZDV+ddI", 2: "ZDV+ddC", 3: "ddI"}
    assert data.comparison == "all" and data.n_repeats == 0 and data.X.shape == (2139, 12)
    time_col = "observed_time_month" if censoring == "low" else "t4"
    for k, name in enumerate(("HIV1", "HIV2", "HIV3"), start=1):
        raw = pd.read_csv(BENCH / "real" / f"ACTG_175_{name}.csv")
        two_arm = load_actg175(name, censoring=censoring, version=4, data_home=BENCH,
                               censor_at_cap=True)  # the four-arm default
        # every row of the comparison file is in the four-arm set, with the same data
        for code, source in ((0, 0), (k, 1)):
            rows = raw["trt"] == source
            ours = (data.w == code) & np.isin(data.frame["comparison"], [name, "all"])
            np.testing.assert_array_equal(data.X[ours], raw.loc[rows, ACTG175_COVARIATES])
            np.testing.assert_array_equal(data.time[ours], raw.loc[rows, time_col])
            np.testing.assert_array_equal(data.event[ours], two_arm.event[rows.to_numpy()])
            np.testing.assert_array_equal(data.cate_base[ours, k - 1], raw.loc[rows, "cate_base"])
        assert np.isnan(data.cate_base[(data.w > 0) & (data.w != k), k - 1]).all()
    # no patient twice: the covariate rows are unique
    assert not data.X.duplicated().any()
    assert np.array_equal(data.ids, np.arange(1, 2140))


@needs_bench
def test_actg175_rows_followed_to_the_cap_are_censored_when_asked():
    for kwargs in ({}, {"arms": "all", "censor_at_cap": False}):  # SurvHTE-Bench's coding
        data = load_actg175(data_home=BENCH, **kwargs)
        at_cap = data.time >= 30
        assert at_cap.sum() > 600 and data.event[at_cap].all()
        assert "censor_at_cap=True codes them" in data.description
    coded = load_actg175(data_home=BENCH, censor_at_cap=True)
    raw = load_actg175(data_home=BENCH)
    at_cap = raw.time >= 30
    assert not coded.event[at_cap].any()
    np.testing.assert_array_equal(coded.event[~at_cap], raw.event[~at_cap])
    np.testing.assert_array_equal(coded.time, raw.time)
    four = load_actg175(arms="all", data_home=BENCH)  # default: censored at the cap
    assert not four.event[four.time >= 30].any()
    assert "is censored there" in four.description
    with pytest.raises(TypeError, match="censor_at_cap"):
        load_actg175(data_home=BENCH, censor_at_cap="yes")


def test_actg175_arms_argument_is_checked(tmp_path):
    with pytest.raises(ValueError, match="arms must be one of"):
        load_actg175(arms="four", data_home=tmp_path)
    with pytest.raises(FileNotFoundError, match="ACTG_175_HIV1"):
        load_actg175(arms="all", data_home=tmp_path)


@needs_bench
def test_actg_synthetic_covariates_truth_and_split():
    data = load_actg_synthetic(data_home=BENCH)
    assert list(data.X.columns) == ACTG_SYNTHETIC_COVARIATES
    leaked = {"observed_time", "event", "W", "T0", "T1", "T", "C", "true_cate", "idx"}
    assert not leaked & set(data.X.columns)
    np.testing.assert_allclose(data.truth["true_cate"], data.truth["T1"] - data.truth["T0"])
    assert data.truth.filter(like="p_surv_").shape[1] == 6
    train, val, test = data.split(0)
    n = len(data.time)
    assert (len(train), len(val)) == (int(0.5 * n), int(0.25 * n))
    assert len(train) + len(val) + len(test) == n


@needs_bench
def test_data_home_from_environment(monkeypatch):
    monkeypatch.setenv("SURVHTE_DATA", str(BENCH))
    assert load_actg175("HIV3").comparison == "HIV3"


def test_missing_files_say_what_where_and_how_to_get_them(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError) as info:
        load_actg175("HIV2", data_home=tmp_path)
    message = str(info.value)
    assert "real/ACTG_175_HIV2.csv" in message and str(tmp_path) in message
    assert "SURVHTE_DATA" in message and "SurvHTE-Bench" in message and "890" in message

    monkeypatch.delenv("SURVHTE_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"\$SURVHTE_DATA is not set"):
        load_actg_synthetic()
    monkeypatch.setenv("SURVHTE_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"semi-synthetic/actg_syn\.csv"):
        load_actg_synthetic()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"comparison": "HIV4"}, "comparison must be one of"),
        ({"censoring": "medium"}, "censoring must be one of"),
        ({"censoring": "high", "version": 10}, "version must be an integer 0..9"),
    ],
)
def test_actg175_rejects_bad_arguments_before_reading(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        load_actg175(data_home=tmp_path, **kwargs)
