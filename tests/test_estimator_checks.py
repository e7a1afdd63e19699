"""One check battery over every exported estimator (like scikit-learn's
``parametrize_with_checks``).

The estimators are found from ``survhte.__all__``, so exporting a new one adds it here:

- CATE estimators: exported classes that subclass :class:`survhte._base.CATEEstimator`, or that
  have its methods (``predict``, ``effect``, ``ate``) without it (then
  ``test_cate_estimator_subclasses_the_base`` fails for them);
- ATE estimators: exported classes with ``fit`` and ``ate`` but no ``predict`` (``AIPCW``);
- other estimators (survival models, ``RegressionForest``, ``SurvivalForest``): exported
  scikit-learn estimators whose ``fit`` takes ``X`` first; clone / params / pickle / seeds /
  threads only.

Every check fits small designs (n = 400; n = 300 for the tiny-arm check) with the small
settings of :func:`fast`, so the battery stays a few minutes on two cores.
"""

from __future__ import annotations

import inspect
import pickle
import re
import warnings
from functools import cache
from typing import Any

import numba
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import survhte
from survhte._base import CATEEstimator
from survhte.simulate import survhte_bench

from ._arms import exponential_arms

# --------------------------------------------------------------------------- the estimators


def _exported_classes() -> dict[str, type]:
    classes = {}
    for name in survhte.__all__:
        if name == "__version__":
            continue
        obj = getattr(survhte, name)
        if inspect.isclass(obj):
            classes[name] = obj
    return classes


def _is_cate(cls: type) -> bool:
    return issubclass(cls, CATEEstimator) or all(
        callable(getattr(cls, method, None)) for method in ("fit", "predict", "effect", "ate"))


def _is_ate_only(cls: type) -> bool:
    return not _is_cate(cls) and callable(getattr(cls, "ate", None)) \
        and not hasattr(cls, "predict")


def _fits_on_X(cls: type) -> bool:
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
        return False
    parameters = list(inspect.signature(cls.fit).parameters)
    return len(parameters) > 1 and parameters[1] == "X"


EXPORTED = _exported_classes()
CATE = sorted(name for name, cls in EXPORTED.items() if _is_cate(cls))
ATE_ONLY = sorted(name for name, cls in EXPORTED.items() if _is_ate_only(cls))
OTHER = sorted(name for name, cls in EXPORTED.items()
               if not _is_cate(cls) and not _is_ate_only(cls) and _fits_on_X(cls))
#: Estimators of a treatment effect (fit(X, y, w)).
EFFECT = CATE + ATE_ONLY

#: Constructor arguments of exported estimators that have required ones.
REQUIRED_ARGS: dict[str, Any] = {
    "TransformedSurvivalModel": lambda: {"transformer": StandardScaler(),
                                         "model": survhte.CoxPH()},
    "LifelinesSurvivalModel": lambda: {"fitter": _lifelines_fitter()},
    # The contract, not the members' accuracy, is checked: two fast members (the default six,
    # with a 500-tree forest, took 163 s for this class's checks on an idle 2-core machine).
    "EnsembleCATE": lambda: {"members": [
        ("survival_t_cox", survhte.SurvivalTLearner(base_model=survhte.CoxPH())),
        ("s_ridge", survhte.SLearner(base_learner=Ridge())),
    ]},
}


def _lifelines_fitter() -> Any:
    from lifelines import WeibullAFTFitter

    return WeibullAFTFitter()


def make(name: str, **params: Any) -> Any:
    """A fresh, fast instance of exported estimator ``name`` with ``params`` set."""
    cls = EXPORTED[name]
    args = REQUIRED_ARGS[name]() if name in REQUIRED_ARGS else {}
    est = fast(cls(**args))
    return est.set_params(**params) if params else est


def fast(est: Any) -> Any:
    """Small settings for a quick fit, for whichever of these parameters ``est`` has: forests of
    20 trees (``ci_group_size`` 2, so 10 little bags), 3 bootstrap replicates, 2 folds, a fixed
    ``random_state``. Estimators passed as parameters keep their own defaults."""
    small = {"n_estimators": 20, "ci_group_size": 2, "n_bootstrap": 3, "n_folds": 2,
             "random_state": 0}
    params = est.get_params(deep=False)
    est.set_params(**{key: value for key, value in small.items() if key in params})
    return est


def param_names(name: str) -> list[str]:
    """The parameters of exported estimator ``name`` (from its ``__init__``, without building
    one, so that a class that fails to build fails its own checks, not the collection)."""
    return EXPORTED[name]._get_param_names()


def is_survival(name: str) -> bool:
    """Whether the estimator's outcome is censored (``horizon`` parameter) rather than a plain
    number (``CausalForest``)."""
    return "horizon" in param_names(name)


SURVIVAL_EFFECT = [name for name in EFFECT if is_survival(name)]
#: Invalid values of common hyperparameters: each effect estimator that has one must refuse it
#: at fit with a ValueError naming it.
BAD_PARAMS = {
    "horizon": -1.0,
    "n_bootstrap": -1,
    "target": "foo",
    "n_folds": 0,
    "n_estimators": 0,
    "propensity_clip": 0.7,
    "n_neighbors": 0,
    "imputation": "foo",
    "min_node_size": -1,
}
BAD_PARAM_CASES = [(name, param) for name in EFFECT for param in BAD_PARAMS
                   if param in param_names(name)]

# --------------------------------------------------------------------------- the designs

#: Horizon of the two-arm design (RCT-50 A times: median 0.14, 75th percentile 0.55, last
#: follow-up 2.8 / 3.0 per arm): well inside both arms' follow-up.
HORIZON = 0.5
#: Horizon of the three-level design (exponential_arms: Exp(0.25) censoring).
HORIZON_3 = 2.0


@cache
def binary_design() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """SurvHTE-Bench RCT-50 scenario A, n = 400: X (400, 5), time, event, w in {0, 1}."""
    d = survhte_bench("RCT-50", "A", n=400, random_state=0)
    return d.X, d.y["time"].astype(float), d.y["event"].astype(bool), d.w.astype(np.int64)


@cache
def three_level_design() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three levels 0, 1, 2 (``tests/_arms.exponential_arms``), n = 400."""
    X, (time, event), w, _ = exponential_arms(400, seed=0)
    return X, time, event, w.astype(np.int64)


def outcome(name: str, time: np.ndarray, event: np.ndarray) -> Any:
    """``y`` for estimator ``name``: a structured (event, time) array for a censored outcome;
    for an uncensored-outcome estimator the observed time, a plain number."""
    if not is_survival(name):
        return time.copy()
    y = np.empty(time.size, dtype=[("event", "?"), ("time", "<f8")])
    y["event"], y["time"] = event, time
    return y


def horizon_for(est: Any, horizon: float) -> Any:
    if "horizon" in est.get_params(deep=False):
        est.set_params(horizon=horizon)
    return est


def fit_effect(name: str, X: Any, time: np.ndarray, event: np.ndarray, w: Any,
               horizon: float = HORIZON, **params: Any) -> Any:
    est = horizon_for(make(name, **params), horizon)
    return est.fit(X, outcome(name, time, event), w)


def output(est: Any, X: Any) -> np.ndarray:
    """What a fitted estimator estimates: CATE at ``X``, the ATE, a survival curve or a
    regression."""
    if hasattr(est, "effect"):
        return np.asarray(est.predict(X))
    if hasattr(est, "ate"):
        return np.atleast_1d(est.ate())
    if hasattr(est, "predict_survival"):
        time = binary_design()[1]
        return np.asarray(est.predict_survival(X, np.quantile(time, [0.1, 0.3, 0.5, 0.7])))
    return np.asarray(est.predict(X))


#: numba threads (and ``n_jobs``) of the battery's fits, unless a check says otherwise.
THREADS = 2


def fit_any(name: str, threads: int = THREADS, **params: Any) -> Any:
    """Fit any estimator of the battery on the two-arm design (``X`` a DataFrame) with
    ``threads`` numba threads and, where it has them, ``n_jobs``."""
    X, time, event, w = binary_design()
    X = frame(X)
    est = make(name, **params)
    if "n_jobs" in est.get_params(deep=False):
        est.set_params(n_jobs=threads)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        if name in EFFECT:
            return horizon_for(est, HORIZON).fit(X, outcome(name, time, event), w)
        if hasattr(est, "predict_survival"):
            return est.fit(X, time, event)
        return est.fit(X, time)
    finally:
        numba.set_num_threads(before)


def frame(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])


@cache
def reference_fit(name: str) -> Any:
    """The fitted estimator many checks compare against (two-arm design, ``fast`` settings,
    2 threads)."""
    return fit_any(name)


@cache
def reference_output(name: str) -> np.ndarray:
    return output(reference_fit(name), frame(binary_design()[0]))


def _params_equal(first: Any, second: Any) -> bool:
    """Whether a parameter and its clone agree: estimators by type and parameters, arrays and
    plain values by value, other objects (copied by ``clone``) by type."""
    if isinstance(first, BaseEstimator):
        return type(first) is type(second) and all(
            _params_equal(value, second.get_params(deep=False)[key])
            for key, value in first.get_params(deep=False).items())
    if isinstance(first, np.ndarray):
        return isinstance(second, np.ndarray) and np.array_equal(first, second)
    if isinstance(first, (tuple, list)):  # e.g. (name, estimator) member lists
        return (type(first) is type(second) and len(first) == len(second)
                and all(_params_equal(a, b) for a, b in zip(first, second, strict=True)))
    if first is None or isinstance(first, (str, bool, int, float, np.number, dict)):
        return type(first) is type(second) and bool(np.all(first == second))
    return type(first) is type(second)


#: Every exported scikit-learn estimator (also the Kaplan-Meier / Nelson-Aalen curves and the
#: imputation transformers): the clone / params check.
ALL = sorted(name for name, cls in EXPORTED.items() if issubclass(cls, BaseEstimator))
#: Those the battery fits.
FITTED = EFFECT + OTHER

# --------------------------------------------------------------------------- the battery


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    """scikit-learn's OpenMP estimators (the imputed learners' gradient boosting) on one thread:
    on a loaded machine their spinning threads slow these small fits 100-fold (the S-learner's
    three-level fit: 18 s on two threads beside other jobs, 0.2 s on one). numba keeps its
    own threads (the thread check sets them)."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield



def test_battery_finds_the_estimators() -> None:
    # Guards the discovery: the families must not vanish from the battery silently.
    assert {"CausalSurvivalForest", "SurvivalTLearner", "DRLearner", "CausalForest"} <= set(CATE)
    assert "AIPCW" in ATE_ONLY
    assert {"CoxPH", "RegressionForest", "SurvivalForest"} <= set(OTHER)


@pytest.mark.parametrize("name", CATE)
def test_cate_estimator_subclasses_the_base(name: str) -> None:
    assert issubclass(EXPORTED[name], CATEEstimator), \
        f"{name} has the CATE methods but does not subclass survhte._base.CATEEstimator"


@pytest.mark.parametrize("name", ALL)
def test_clone_get_set_params(name: str) -> None:
    est = make(name)
    params = est.get_params(deep=False)
    copy = clone(est)
    assert copy is not est
    assert set(copy.get_params(deep=False)) == set(params)
    for key, value in params.items():
        assert _params_equal(value, copy.get_params(deep=False)[key]), key
    # __init__ stores each parameter unchanged, set_params round-trips and returns self.
    assert est.set_params(**params) is est
    for key, value in params.items():
        assert est.get_params(deep=False)[key] is value, key
    with pytest.raises(ValueError):
        est.set_params(not_a_parameter=1)


@pytest.mark.parametrize("name", FITTED)
def test_pickle_round_trip(name: str) -> None:
    copy = pickle.loads(pickle.dumps(reference_fit(name)))
    np.testing.assert_array_equal(output(copy, frame(binary_design()[0])),
                                  reference_output(name))


@pytest.mark.parametrize("name", FITTED)
def test_same_random_state_same_result(name: str) -> None:
    if "random_state" not in param_names(name):
        pytest.skip(f"{name} has no random_state (deterministic)")
    np.testing.assert_array_equal(output(fit_any(name), frame(binary_design()[0])),
                                  reference_output(name))


@pytest.mark.parametrize("name", FITTED)
def test_numba_threads_do_not_change_results(name: str) -> None:
    # 1 numba thread (and n_jobs=1) against the reference fit's 2.
    if numba.config.NUMBA_NUM_THREADS < THREADS:
        pytest.skip(f"numba has fewer than {THREADS} threads here")
    np.testing.assert_array_equal(output(fit_any(name, threads=1), frame(binary_design()[0])),
                                  reference_output(name))


# K = 1: labels, categories and the control --------------------------------------------------

LABELS = np.array(["placebo", "active"])  # code 0 = placebo; alphabetically "active" first


def _labels(w: np.ndarray) -> np.ndarray:
    return LABELS[w]


@pytest.mark.parametrize("name", EFFECT)
def test_binary_labels_equal_codes(name: str) -> None:
    X, time, event, w = binary_design()
    X = frame(X)
    codes = reference_output(name)
    category = pd.Series(pd.Categorical(_labels(w), categories=["placebo", "active"]))
    categorical = fit_effect(name, X, time, event, category)
    labelled = fit_effect(name, X, time, event, _labels(w), control="placebo")
    for est in (labelled, categorical):
        assert list(est.classes_) == ["placebo", "active"]
        # Same codes, same arithmetic: equal up to rounding.
        np.testing.assert_allclose(output(est, X), codes, rtol=0, atol=1e-12)
    if name in CATE:
        assert np.shape(codes) == (X.shape[0],)


@cache
def clear_effect_design() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Levels 0 and 1 of ``exponential_arms(600, seed=1)`` (410 rows): an RMST effect of 0.64
    at horizon 2, large against the estimators' noise."""
    X, (time, event), w, _ = exponential_arms(600, seed=1)
    keep = w < 2
    return X[keep], time[keep], event[keep], w[keep].astype(np.int64)


@pytest.mark.parametrize("name", EFFECT)
def test_control_flips_the_sign(name: str) -> None:
    X, time, event, w = clear_effect_design()
    forward = fit_effect(name, X, time, event, _labels(w), horizon=HORIZON_3, control="placebo")
    backward = fit_effect(name, X, time, event, _labels(w), horizon=HORIZON_3, control="active")
    assert list(backward.classes_) == ["active", "placebo"]
    if name in CATE:
        # The same fit, the contrast read the other way: exact (rounding only).
        np.testing.assert_allclose(forward.effect(X, t0="active", t1="placebo"),
                                   -forward.predict(X), rtol=0, atol=1e-12)
    # Refitted with the other control, the ATE is that of placebo vs active: minus the first.
    # Exact (to 2e-16) where the method treats the arms alike (survival T-, M-, R-, X-learners,
    # imputed S-, R-learners); within 4% of the effect where it does not (S-learners code the
    # treatment as a penalised covariate; the imputed T-/X-learners seed each arm's fit by its
    # code; matching): measured 0.025 against an ATE of 0.61. A sign error would be 200%.
    ate_forward, ate_backward = np.ravel(forward.ate())[0], np.ravel(backward.ate())[0]
    assert ate_forward > 0.3
    assert abs(ate_backward + ate_forward) <= 0.1 * abs(ate_forward)


# K = 3 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EFFECT)
def test_three_levels(name: str) -> None:
    X, time, event, w = three_level_design()
    est = fit_effect(name, X, time, event, w, horizon=HORIZON_3)
    assert list(est.classes_) == [0, 1, 2]
    if name in ATE_ONLY:
        assert np.shape(est.ate()) == (2,)
        lower, upper = est.ate_interval()
        assert np.shape(lower) == np.shape(upper) == (2,)
        assert np.all(lower <= upper)
        return
    tau = est.predict(X)
    assert tau.shape == (X.shape[0], 2)
    # effect(X, t0, t1) is the difference of predict's columns (rounding only).
    np.testing.assert_allclose(est.effect(X, 0, 1), tau[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.effect(X, 0, 2), tau[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.effect(X, 1, 2), tau[:, 1] - tau[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.effect(X), tau[:, 0], rtol=0, atol=1e-12)
    lower, upper = est.predict_interval(X[:50])
    assert lower.shape == upper.shape == (50, 2)
    assert np.all(lower <= upper)
    for population in ("all", "treated", "control"):
        assert np.shape(est.ate(target_population=population)) == (2,), population
        lower, upper = est.ate_interval(0.1, target_population=population)
        assert np.shape(lower) == np.shape(upper) == (2,), population
        assert np.all(lower <= upper), population


# Bad inputs (issue #17's defects and api.md's list) ----------------------------------------------


@pytest.mark.parametrize("name", SURVIVAL_EFFECT)
def test_horizon_beyond_an_arms_follow_up(name: str) -> None:
    # Defect 1: the treated arm's follow-up ends at 0.3 (every later treated row censored
    # there); a horizon of 0.5 lies inside the control arm's follow-up but not the treated's.
    X, time, event, w = binary_design()
    treated_late = (w == 1) & (time > 0.3)
    time, event = time.copy(), event.copy()
    time[treated_late], event[treated_late] = 0.3, False
    with pytest.raises(ValueError, match="horizon"):
        fit_effect(name, X, time, event, w, horizon=0.5)


@pytest.mark.parametrize("name", CATE)
def test_predict_refuses_reordered_columns(name: str) -> None:
    # Defect 2.
    X = frame(binary_design()[0])
    with pytest.raises(ValueError):
        reference_fit(name).predict(X[X.columns[::-1]])


@pytest.mark.parametrize("name", EFFECT)
def test_tiny_arm_is_refused_or_warned_with_numbers(name: str) -> None:
    # Defects 3 and 4: 2 treated rows of 300. Either fit refuses (ValueError) or it, predict
    # or ate warns; the message names the arm ('active', or 1 for an estimator without
    # control=) and one of its counts (2 rows, 1 event before the horizon).
    X, time, event, _ = binary_design()
    X, time, event = X[:300], time[:300], event[:300]
    w = np.zeros(300, dtype=np.int64)
    # Two treated rows: one event before the horizon, one followed past it (so the horizon
    # lies inside the arm's follow-up and only the arm's size is at issue).
    w[np.flatnonzero(event & (time < HORIZON))[0]] = 1
    w[np.flatnonzero(time > HORIZON)[0]] = 1
    labelled = "control" in param_names(name)
    arm = r"'active'" if labelled else r"\b1\b"
    messages = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if labelled:
                est = fit_effect(name, X, time, event, _labels(w), control="placebo")
            else:
                est = fit_effect(name, X, time, event, w)
            output(est, X)
        except ValueError as error:
            messages.append(str(error))
    messages += [str(warning.message) for warning in caught]
    assert any(re.search(arm, message) and re.search(r"\b[12]\b", message)
               for message in messages), messages


@pytest.mark.parametrize("name", EFFECT)
def test_huge_covariate_is_named_by_magnitude(name: str) -> None:
    # Defect 5: 1e200 is finite; the message is about its size, not "NaN or infinite".
    X, time, event, w = binary_design()
    X = X.copy()
    X[0, 0] = 1e200
    with pytest.raises(ValueError, match="magnitude") as error:
        fit_effect(name, X, time, event, w)
    assert "NaN or infinite" not in str(error.value)


@pytest.mark.parametrize("name", SURVIVAL_EFFECT)
def test_y_dataframe_without_time_event_columns(name: str) -> None:
    # Defect 6: the message must not suggest time_col/event_col, which no fit accepts.
    X, time, event, w = binary_design()
    y = pd.DataFrame({"months": time, "died": event})
    est = horizon_for(make(name), HORIZON)
    with pytest.raises(ValueError) as error:
        est.fit(X, y, w)
    assert "time_col" not in str(error.value) and "event_col" not in str(error.value)


@pytest.mark.parametrize("name", EFFECT)
def test_nan_in_X_is_refused(name: str) -> None:
    X, time, event, w = binary_design()
    X = X.copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X"):
        fit_effect(name, X, time, event, w)


@pytest.mark.parametrize("name", SURVIVAL_EFFECT)
def test_negative_time_is_refused(name: str) -> None:
    X, time, event, w = binary_design()
    time = time.copy()
    time[5] = -1.0
    with pytest.raises(ValueError, match="time"):
        fit_effect(name, X, time, event, w)


@pytest.mark.parametrize("name", SURVIVAL_EFFECT)
def test_event_outside_0_1_is_refused(name: str) -> None:
    X, time, event, w = binary_design()
    y = np.column_stack([time, event.astype(float)])
    y[7, 1] = 2.0
    est = horizon_for(make(name), HORIZON)
    with pytest.raises(ValueError, match="event"):
        est.fit(X, y, w)


@pytest.mark.parametrize("name", EFFECT)
def test_string_labels_need_control(name: str) -> None:
    X, time, event, w = binary_design()
    with pytest.raises(ValueError, match="control"):
        fit_effect(name, X, time, event, _labels(w))


@pytest.mark.parametrize("name", EFFECT)
def test_not_fitted(name: str) -> None:
    est = make(name)
    X = binary_design()[0]
    calls = [lambda: est.ate(), lambda: est.ate_interval()]
    if name in CATE:
        calls += [lambda: est.predict(X), lambda: est.effect(X), lambda: est.predict_interval(X)]
    for call in calls:
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize(("name", "param"), BAD_PARAM_CASES,
                         ids=[f"{name}-{param}" for name, param in BAD_PARAM_CASES])
def test_bad_hyperparameter_is_named(name: str, param: str) -> None:
    X, time, event, w = binary_design()
    est = horizon_for(make(name), HORIZON).set_params(**{param: BAD_PARAMS[param]})
    with pytest.raises(ValueError, match=param):
        est.fit(X, outcome(name, time, event), w)
