"""Validation of (X, y, w): every accepted form, every rejected input named in api.md."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from survhte._validation import (
    check_covariates,
    check_horizon,
    check_sample_weight,
    check_survival_outcome,
    check_target,
    check_time_event,
    check_treatment,
    default_horizon,
    validate_fit_inputs,
)

TIME = np.array([0.0, 1.5, 2.0, 2.0, 7.25])
EVENT = np.array([True, False, True, True, False])


def structured(time, event, names=("event", "time")):
    y = np.empty(len(time), dtype=[(names[0], bool), (names[1], np.float64)])
    y[names[0]] = event
    y[names[1]] = time
    return y


@pytest.mark.parametrize(
    "y",
    [
        structured(TIME, EVENT),
        structured(TIME, EVENT, names=("Status", "Survival_in_days")),  # sksurv datasets
        (TIME, EVENT),
        (TIME.tolist(), EVENT.astype(int).tolist()),
        np.column_stack([TIME, EVENT.astype(float)]),
        pd.DataFrame({"time": TIME, "event": EVENT.astype(int)}),
    ],
    ids=["structured", "sksurv-names", "tuple", "lists", "2d", "frame"],
)
def test_every_accepted_outcome_form_gives_the_same_arrays(y):
    time, event = check_survival_outcome(y, n_samples=5)
    assert time.dtype == np.float64 and event.dtype == bool
    np.testing.assert_array_equal(time, TIME)
    np.testing.assert_array_equal(event, EVENT)


def test_dataframe_outcome_with_named_columns():
    frame = pd.DataFrame({"months": TIME, "died": EVENT})
    time, event = check_survival_outcome(frame, time_col="months", event_col="died")
    np.testing.assert_array_equal(time, TIME)
    np.testing.assert_array_equal(event, EVENT)
    with pytest.raises(ValueError, match=r"y is a DataFrame without column"):
        check_survival_outcome(frame)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        ((np.array([1.0, np.nan]), np.array([1, 0])), r"y \(time\) contains 1 NaN"),
        ((np.array([1.0, np.inf]), np.array([1, 0])), r"y \(time\) contains 1 NaN or inf"),
        ((np.array([1.0, -0.5]), np.array([1, 0])), r"y \(time\) contains 1 negative"),
        ((np.array([1.0, 2.0]), np.array([1, 2])), r"y \(event\) must be 0/1"),
        ((np.array([1.0, 2.0]), np.array([0, 0])), r"y \(event\) has no events"),
        ((np.array([1.0, 2.0]), np.array([1, 0, 1])), r"y has 2 times but 3 event"),
        ((np.array(["a", "b"]), np.array([1, 0])), r"y \(time\) must be numeric"),
        ((1.0, 2.0, 3.0), r"y as a tuple must be \(time, event\)"),
        (np.ones((3, 3)), r"y must be a structured array"),
    ],
)
def test_bad_outcomes_are_named(y, message):
    with pytest.raises((ValueError, TypeError), match=message):
        check_survival_outcome(y)


def test_outcome_row_count_must_match_X():
    with pytest.raises(ValueError, match=r"y has 5 rows but X has 4"):
        check_survival_outcome((TIME, EVENT), n_samples=4)


def test_zero_times_are_valid():
    time, _ = check_survival_outcome((np.zeros(3), np.array([1, 0, 1])))
    np.testing.assert_array_equal(time, 0.0)


def test_covariates_from_frame_keep_names_and_reject_text():
    frame = pd.DataFrame({"age": [40, 50], "male": [True, False]})
    X, names = check_covariates(frame)
    assert names == ["age", "male"] and X.dtype == np.float64
    with pytest.raises(TypeError, match=r"X has non-numeric column\(s\) \['site'\]"):
        check_covariates(frame.assign(site=["a", "b"]))


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.array([1.0, 2.0]), r"X must be 2-D .* got a 1-D array"),
        (np.array([[1.0, np.nan]]), r"X contains 1 NaN"),
        (np.empty((0, 3)), r"X is empty"),
        (np.array([["a", "b"]]), r"X must be numeric"),
    ],
)
def test_bad_covariates_are_named(X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        check_covariates(X)


def test_covariates_feature_count_checked_at_predict():
    with pytest.raises(ValueError, match=r"X has 2 features but the estimator was fitted with 3"):
        check_covariates(np.ones((2, 2)), n_features=3)


@pytest.mark.parametrize(
    ("w", "codes", "classes"),
    [
        ([0, 1, 1, 0], [0, 1, 1, 0], [0, 1]),
        ([0.0, 2.0, 1.0, 0.0], [0, 2, 1, 0], [0, 1, 2]),
        ([False, True, True, False], [0, 1, 1, 0], [False, True]),
    ],
)
def test_treatment_coding(w, codes, classes):
    got_codes, got_classes = check_treatment(w, n_samples=4)
    np.testing.assert_array_equal(got_codes, codes)
    assert got_codes.dtype == np.int64
    assert list(got_classes) == classes


@pytest.mark.parametrize(
    ("w", "control", "codes", "classes"),
    [
        (["placebo", "zdv", "zdv", "placebo"], "placebo", [0, 1, 1, 0], ["placebo", "zdv"]),
        # the label that sorts first is not the control: "active" < "placebo"
        (["active", "placebo", "placebo"], "placebo", [1, 0, 0], ["placebo", "active"]),
        ([0, 1, 2, 1], 2, [1, 2, 0, 2], [2, 0, 1]),
        ([False, True, True], True, [1, 0, 0], [True, False]),
    ],
)
def test_control_is_code_zero_and_first_class(w, control, codes, classes):
    got_codes, got_classes = check_treatment(w, n_samples=len(w), control=control)
    np.testing.assert_array_equal(got_codes, codes)
    assert list(got_classes) == classes


def test_string_labels_need_a_control():
    # Before: sorted labels made "active" the control and flipped the sign silently.
    with pytest.raises(ValueError, match=r"\['active', 'placebo'\].*pass control="):
        check_treatment(["active", "placebo", "placebo"], n_samples=3)
    with pytest.raises(ValueError, match=r"control='none' is not a level of w"):
        check_treatment(["active", "placebo"], n_samples=2, control="none")


def test_categorical_treatment_keeps_category_order():
    w = pd.Series(pd.Categorical(["drug", "placebo", "drug"], categories=["placebo", "drug"]))
    codes, classes = check_treatment(w, n_samples=3)
    np.testing.assert_array_equal(codes, [1, 0, 1])
    assert list(classes) == ["placebo", "drug"]


@pytest.mark.parametrize(
    ("w", "message"),
    [
        ([0, 2, 2, 0], r"w is coded 0..2 but level\(s\) \[1\] have no rows"),
        ([1, 1, 1, 1], r"w has a single level"),
        ([0, 1, 0.5, 1], r"w must hold treatment levels 0..K"),
        ([0, 1, np.nan, 1], r"w contains NaN"),
        ([-1, 0, 0, 1], r"w has negative levels"),
        (["a", None, "b", "a"], r"w contains missing values"),
        ([0, 1, 1], r"w has 3 rows but X has 4"),
        (np.zeros((4, 2)), r"w must be one-dimensional"),
    ],
)
def test_bad_treatments_are_named(w, message):
    with pytest.raises(ValueError, match=message):
        check_treatment(w, n_samples=4)


def test_categorical_level_without_rows_is_an_error():
    w = pd.Series(pd.Categorical(["a", "a", "b"], categories=["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"w level\(s\) \['c'\] have no rows"):
        check_treatment(w, n_samples=3)


def test_target_and_horizon():
    assert check_target("rmst") == "rmst"
    with pytest.raises(ValueError, match=r"target must be one of"):
        check_target("RMST")
    assert check_horizon(np.float32(2.0), TIME) == 2.0
    assert check_horizon(7.25, TIME) == 7.25  # exactly the last time is allowed
    with pytest.raises(ValueError, match=r"horizon=8 is beyond the last observed time 7.25"):
        check_horizon(8, TIME)
    for bad in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match=r"horizon must be a positive finite number"):
            check_horizon(bad, TIME)
    with pytest.raises(TypeError, match=r"horizon must be a number"):
        check_horizon("30", TIME)


def test_default_horizon_is_the_shorter_arm_follow_up():
    time = np.array([1.0, 9.0, 3.0, 4.0])
    w = np.array([0, 0, 1, 1])
    assert default_horizon(time, w) == 4.0


def test_sample_weight_checks():
    assert check_sample_weight(None, 3) is None
    with pytest.raises(ValueError, match=r"sample_weight has 2 rows but the data have 3"):
        check_sample_weight([1.0, 1.0], 3)
    with pytest.raises(ValueError, match=r"sample_weight contains negative"):
        check_sample_weight([1.0, -1.0, 1.0], 3)
    with pytest.raises(ValueError, match=r"sample_weight sums to zero"):
        check_sample_weight([0.0, 0.0, 0.0], 3)
    with pytest.raises(ValueError, match=r"no events carry weight"):
        check_time_event([1.0, 2.0], [1, 0], [0.0, 1.0])


def test_validate_fit_inputs_end_to_end():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0, 1, 0, 1]})
    X, names, time, event, codes, classes = validate_fit_inputs(
        frame, (np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 1, 1])), ["c", "t", "t", "c"],
        control="c",
    )
    assert X.shape == (4, 2) and names == ["a", "b"]
    np.testing.assert_array_equal(time, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(event, [True, False, True, True])
    np.testing.assert_array_equal(codes, [0, 1, 1, 0])
    assert list(classes) == ["c", "t"]
    with pytest.raises(ValueError, match=r"y has 3 rows but X has 4"):
        validate_fit_inputs(frame, (np.ones(3), np.ones(3)), [0, 1, 0, 1])


# --- property tests -------------------------------------------------------------------------

times = hnp.arrays(
    np.float64,
    st.integers(1, 50),
    elements=st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(times, st.data())
def test_valid_outcomes_round_trip_through_every_form(time, data):
    event = data.draw(hnp.arrays(bool, time.shape[0]))
    event[data.draw(st.integers(0, time.shape[0] - 1))] = True  # at least one event
    forms = [
        (time, event),
        structured(time, event),
        np.column_stack([time, event.astype(float)]),
        pd.DataFrame({"time": time, "event": event}),
    ]
    for y in forms:
        got_time, got_event = check_survival_outcome(y, n_samples=time.shape[0])
        np.testing.assert_array_equal(got_time, time)
        np.testing.assert_array_equal(got_event, event)


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 30)), st.data())
def test_any_nonfinite_or_negative_time_is_rejected(time, data):
    event = np.ones(time.shape[0], dtype=bool)
    valid = np.all(np.isfinite(time)) and np.all(time >= 0)
    if valid:
        check_survival_outcome((time, event))
    else:
        with pytest.raises(ValueError, match=r"y \(time\)"):
            check_survival_outcome((time, event))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ctl", "a", "b", "c"]), min_size=2, max_size=40))
def test_treatment_codes_invert_through_classes(labels):
    if len(set(labels)) < 2:
        with pytest.raises(ValueError, match=r"w has a single level"):
            check_treatment(labels, n_samples=len(labels), control=labels[0])
        return
    codes, classes = check_treatment(labels, n_samples=len(labels), control=labels[0])
    assert classes[0] == labels[0]
    assert list(classes[codes]) == labels
    assert set(codes.tolist()) == set(range(classes.size))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.int64, st.integers(2, 40), elements=st.integers(0, 5)))
def test_integer_treatment_accepted_exactly_when_levels_are_contiguous(w):
    levels = np.unique(w)
    contiguous = levels.size >= 2 and np.array_equal(levels, np.arange(levels.size))
    if contiguous:
        codes, _ = check_treatment(w, n_samples=w.shape[0])
        np.testing.assert_array_equal(codes, w)  # integer codes are kept as given
    else:
        with pytest.raises(ValueError, match=r"^w "):
            check_treatment(w, n_samples=w.shape[0])


def test_all_censored_outcome_is_accepted_only_when_events_are_not_required():
    y = (np.array([1.0, 2.0]), np.array([0, 0]))
    with pytest.raises(ValueError, match=r"y \(event\) has no events"):
        check_survival_outcome(y)
    _, event = check_survival_outcome(y, require_event=False)
    np.testing.assert_array_equal(event, [False, False])


def test_predict_refuses_reordered_or_renamed_columns():
    frame = pd.DataFrame({"age": [50.0, 60.0], "cd4": [300.0, 200.0]})
    _, names = check_covariates(frame, fitted_names=["age", "cd4"], n_features=2)
    assert names == ["age", "cd4"]
    with pytest.raises(ValueError, match=r"in another order: \['cd4', 'age'\]"):
        check_covariates(frame[["cd4", "age"]], fitted_names=["age", "cd4"], n_features=2)
    with pytest.raises(ValueError, match=r"unseen at fit: \['weight'\]; missing: \['cd4'\]"):
        check_covariates(frame.rename(columns={"cd4": "weight"}), fitted_names=["age", "cd4"],
                         n_features=2)
    # arrays are read by position, as scikit-learn does
    check_covariates(frame.to_numpy(), fitted_names=["age", "cd4"], n_features=2)


def test_huge_covariate_is_named_not_reported_as_nan():
    X = np.ones((3, 2))
    X[1, 1] = 1e200
    with pytest.raises(ValueError, match=r"column 'x1' holds values up to 1e\+200.*rescale"):
        check_covariates(X)
    X[1, 1] = 1e100  # squares stay finite
    check_covariates(X)


def test_outcome_frame_without_columns_says_how_to_pass_it():
    y = pd.DataFrame({"months": [1.0, 2.0], "died": [1, 0]})
    with pytest.raises(ValueError, match=r"without column\(s\) \['time', 'event'\]") as info:
        check_survival_outcome(y)
    assert "time_col" not in str(info.value) and "rename" in str(info.value)
