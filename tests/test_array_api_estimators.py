"""The public survival functions and estimators keep array-API inputs in their namespace.

Each public entry point of issue 22 is run on NumPy inputs and on the same data as
``array_api_strict`` arrays (a namespace that refuses every call outside the standard, so a
NumPy-only call on the way fails here): the results must be arrays of the input's namespace and
equal the NumPy results. ``array_api_strict`` computes with NumPy underneath and the code runs
the same operations in the same order in both namespaces, so the results agree to rounding; the
tolerance 1e-12 (absolute, on quantities of order 1) leaves room only for a different
summation order, never for a different formula.

The imputed meta-learners regress with scikit-learn under ``array_api_dispatch``, which needs
``SCIPY_ARRAY_API=1`` before SciPy is first imported: they run in a subprocess with it set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

xp_strict = pytest.importorskip("array_api_strict")

from survhte.imputation import CensoringKaplanMeier, IPCWeights, PseudoObservations  # noqa: E402
from survhte.inference import AIPCW, _aipcw  # noqa: E402
from survhte.survival import (  # noqa: E402
    KaplanMeier,
    KaplanMeierSurvival,
    NelsonAalen,
    _curves,
    kaplan_meier_by_group,
    rmst,
    rmst_difference,
    survival_at,
)

#: Same operations in the same order on the same float64 data: agreement to rounding.
TOL = 1e-12
NAMESPACES = ["numpy", "array_api_strict"]


def _data(n: int = 120, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    w = rng.integers(0, 2, n)
    t = rng.exponential(size=n) * np.exp(0.3 * X[:, 0] * w)
    c = rng.exponential(2.0, size=n)
    return {"X": X, "w": w, "time": np.minimum(t, c).round(2), "event": t <= c,
            "weight": rng.uniform(0.5, 2.0, n)}


def _in(namespace: str, data: dict[str, np.ndarray]) -> dict:
    if namespace == "numpy":
        return dict(data)
    return {key: xp_strict.asarray(value) for key, value in data.items()}


def _check(result, expected, namespace: str) -> None:
    """``result`` is an array of ``namespace`` equal to the NumPy ``expected``."""
    if namespace == "numpy":
        assert isinstance(result, np.ndarray)
    else:
        assert type(result).__module__.startswith("array_api_strict"), type(result)
    np.testing.assert_allclose(np.asarray(result), expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_kaplan_meier_and_nelson_aalen_keep_the_namespace(namespace):
    d = _data()
    a = _in(namespace, d)
    km = KaplanMeier().fit(a["time"], a["event"], a["weight"])
    ref = KaplanMeier().fit(d["time"], d["event"], d["weight"])
    for name in ("timeline_", "n_at_risk_", "survival_", "survival_variance_"):
        _check(getattr(km, name), getattr(ref, name), namespace)
    query = np.array([[0.1, 0.5], [1.0, 3.0]])
    _check(km.predict(_in(namespace, {"q": query})["q"]), ref.predict(query), namespace)
    assert km.predict(0.5) == pytest.approx(ref.predict(0.5), abs=TOL)
    area, variance = km.rmst(1.0, return_variance=True)
    assert (area, variance) == pytest.approx(ref.rmst(1.0, return_variance=True), abs=TOL)
    for band, expected in zip(km.confidence_interval(), ref.confidence_interval(), strict=True):
        _check(band, expected, namespace)
    na = NelsonAalen().fit(a["time"], a["event"], a["weight"])
    na_ref = NelsonAalen().fit(d["time"], d["event"], d["weight"])
    _check(na.cumulative_hazard_, na_ref.cumulative_hazard_, namespace)
    _check(na.predict(_in(namespace, {"q": query})["q"]), na_ref.predict(query), namespace)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_curves_by_group_with_weights_and_rmst_difference(namespace):
    d = _data()
    a = _in(namespace, d)
    curves = kaplan_meier_by_group(a["time"], a["event"], a["w"], a["weight"])
    ref = kaplan_meier_by_group(d["time"], d["event"], d["w"], d["weight"])
    assert list(curves) == list(ref) == [0, 1]
    for label, curve in curves.items():
        _check(curve.survival_, ref[label].survival_, namespace)
        assert curve.rmst(1.0) == pytest.approx(ref[label].rmst(1.0), abs=TOL)
    diff = rmst_difference(a["time"], a["event"], a["w"], 1.0, a["weight"])
    diff_ref = rmst_difference(d["time"], d["event"], d["w"], 1.0, d["weight"])
    assert diff.difference == pytest.approx(diff_ref.difference, abs=TOL)
    assert diff.std_error == pytest.approx(diff_ref.std_error, abs=TOL)


def test_validation_errors_name_the_argument_in_the_namespace():
    with pytest.raises(ValueError, match="time contains 1 negative"):
        KaplanMeier().fit(xp_strict.asarray([1.0, -1.0]), xp_strict.asarray([True, True]))
    with pytest.raises(ValueError, match=r"event must be 0/1 or boolean; found values \[2.0\]"):
        KaplanMeier().fit(xp_strict.asarray([1.0, 2.0]), xp_strict.asarray([1, 2]))
    with pytest.raises(ValueError, match="sample_weight contains negative"):
        KaplanMeier().fit(xp_strict.asarray([1.0, 2.0]), xp_strict.asarray([1, 1]),
                          xp_strict.asarray([1.0, -1.0]))


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize(("target", "horizon"), [("rmst", 1.0), ("survival", 0.8)])
def test_pseudo_observations_keep_the_namespace(namespace, target, horizon):
    d = _data()
    a = _in(namespace, d)
    po = PseudoObservations(target=target, horizon=horizon)
    ref = PseudoObservations(target=target, horizon=horizon)
    _check(po.fit_transform((a["time"], a["event"])),
           ref.fit_transform((d["time"], d["event"])), namespace)
    _check(po.transform((a["time"][:10], a["event"][:10])),
           ref.transform((d["time"][:10], d["event"][:10])), namespace)
    # The IPCW version runs its Cox censoring model on host copies; the result comes back.
    cox = PseudoObservations(target=target, horizon=horizon, censoring="cox")
    cox_ref = PseudoObservations(target=target, horizon=horizon, censoring="cox")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # floor warnings, equal in both
        _check(cox.fit_transform((a["time"], a["event"]), a["X"]),
               cox_ref.fit_transform((d["time"], d["event"]), d["X"]), namespace)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_ipcw_weights_and_censoring_curve_keep_the_namespace(namespace):
    d = _data()
    a = _in(namespace, d)
    y, y_ref = (a["time"], a["event"]), (d["time"], d["event"])
    _check(IPCWeights(horizon=1.0).fit_transform(y), IPCWeights(horizon=1.0).fit_transform(y_ref),
           namespace)
    _check(IPCWeights(horizon=1.0).fit_transform(y, None, a["w"]),
           IPCWeights(horizon=1.0).fit_transform(y_ref, None, d["w"]), namespace)
    _check(IPCWeights(horizon=1.0, censoring="cox").fit_transform(y, a["X"], a["w"]),
           IPCWeights(horizon=1.0, censoring="cox").fit_transform(y_ref, d["X"], d["w"]),
           namespace)
    g = CensoringKaplanMeier().fit(a["X"], a["time"], a["event"])
    g_ref = CensoringKaplanMeier().fit(d["X"], d["time"], d["event"])
    times = _in(namespace, {"t": np.array([0.2, 0.7, 1.5])})["t"]
    _check(g.predict(times, left=True), g_ref.predict([0.2, 0.7, 1.5], left=True), namespace)
    _check(g.predict_survival(a["X"], times), g_ref.predict_survival(d["X"], [0.2, 0.7, 1.5]),
           namespace)


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("n_levels", [2, 3])
def test_aipcw_scores_and_ate_keep_the_namespace(namespace, n_levels):
    d = _data(n=300, seed=1)
    d["w"] = np.random.default_rng(2).integers(0, n_levels, d["w"].size)
    a = _in(namespace, d)
    params = dict(horizon=1.0, outcome_model="km", propensity_model="constant", n_folds=2,
                  random_state=0)
    est = AIPCW(**params).fit(a["X"], (a["time"], a["event"]), a["w"])
    ref = AIPCW(**params).fit(d["X"], (d["time"], d["event"]), d["w"])
    for name in ("scores_", "arm_means_", "arm_outcome_means_", "transformed_outcome_",
                 "propensity_"):
        _check(getattr(est, name), getattr(ref, name), namespace)
    if n_levels == 2:
        assert est.ate_ == pytest.approx(ref.ate_, abs=TOL)
        assert est.confidence_interval() == pytest.approx(ref.confidence_interval(), abs=TOL)
    else:
        _check(est.ate_, ref.ate_, namespace)
        _check(est.std_error_, ref.std_error_, namespace)


def test_aipcw_with_kaplan_meier_nuisances_never_copies_X_to_the_host(monkeypatch):
    """Kaplan-Meier outcome and censoring models and known propensities: the nuisances and the
    scores stay in the input's namespace end to end (only the 1-D time, event and codes are
    read on the host, for the folds and the horizon)."""
    copied = []
    for module in (_aipcw, _curves):
        real = module.to_numpy

        def spy(values, name="values", real=real):
            copied.append(name)
            return real(values, name)

        monkeypatch.setattr(module, "to_numpy", spy)
    d = _data(n=200, seed=4)
    a = _in("array_api_strict", d)
    est = AIPCW(horizon=1.0, outcome_model="km", propensity_model="constant", n_folds=2,
                random_state=0).fit(a["X"], (a["time"], a["event"]), a["w"])
    assert "X" not in copied and "times" not in copied, copied
    _check(est.scores_, AIPCW(horizon=1.0, outcome_model="km", propensity_model="constant",
                              n_folds=2, random_state=0).fit(
        d["X"], (d["time"], d["event"]), d["w"]).scores_, "array_api_strict")


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_kaplan_meier_survival_model_keeps_the_namespace(namespace):
    d = _data()
    a = _in(namespace, d)
    model = KaplanMeierSurvival().fit(a["X"], a["time"], a["event"])
    ref = KaplanMeierSurvival().fit(d["X"], d["time"], d["event"])
    times = np.array([0.2, 0.7, 1.5])
    _check(model.unique_times_, ref.unique_times_, namespace)
    _check(model.predict_survival(a["X"], _in(namespace, {"t": times})["t"]),
           ref.predict_survival(d["X"], times), namespace)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_rmst_and_survival_at_of_a_model_keep_the_namespace(namespace):
    """A Kaplan-Meier model fitted on the arrays is integrated in their namespace; a Cox model
    (CPU-only) is evaluated on host copies and its summaries moved to the namespace of X."""
    from survhte.survival import CoxPH

    d = _data()
    a = _in(namespace, d)
    for model, ref in ((KaplanMeierSurvival().fit(a["X"], a["time"], a["event"]),
                        KaplanMeierSurvival().fit(d["X"], d["time"], d["event"])),
                       (CoxPH().fit(d["X"], d["time"], d["event"]),) * 2):
        _check(rmst(model, a["X"], 1.0), rmst(ref, d["X"], 1.0), namespace)
        _check(survival_at(model, a["X"], 1.0), survival_at(ref, d["X"], 1.0), namespace)


def test_aipcw_numpy_scores_are_unchanged_with_a_cox_outcome_model():
    """NumPy in, NumPy out, with the default Cox outcome model (the host boundary)."""
    d = _data(n=300, seed=3)
    est = AIPCW(horizon=1.0, propensity_model=0.5, n_folds=2, random_state=0).fit(
        d["X"], (d["time"], d["event"]), d["w"])
    strict = AIPCW(horizon=1.0, propensity_model=0.5, n_folds=2, random_state=0).fit(
        *(_in("array_api_strict", {"X": d["X"]})["X"],),
        (xp_strict.asarray(d["time"]), xp_strict.asarray(d["event"])), xp_strict.asarray(d["w"]))
    assert isinstance(est.scores_, np.ndarray)
    _check(strict.scores_, est.scores_, "array_api_strict")
    assert strict.ate_ == pytest.approx(est.ate_, abs=TOL)


_LEARNER_SCRIPT = r"""
import json, warnings
import numpy as np, sklearn, array_api_strict as xp
from sklearn.linear_model import LogisticRegression, Ridge
from survhte.imputed_learners import DRLearner, RLearner, SLearner, TLearner, XLearner

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
n = 200
X = rng.normal(size=(n, 3))
t = rng.exponential(size=n) * np.exp(0.3 * X[:, 0])
c = rng.exponential(2.0, size=n)
time, event = np.minimum(t, c).round(3), t <= c
ridge = Ridge(solver="svd")
two_stage = dict(base_learner=ridge, effect_learner=ridge, propensity_model=LogisticRegression(),
                 n_bootstrap=0)
cases = [(TLearner, dict(base_learner=ridge), 3), (SLearner, dict(base_learner=ridge), 3),
         (DRLearner, two_stage, 3), (XLearner, two_stage, 2), (XLearner, two_stage, 3),
         (XLearner, dict(two_stage, multi_arm="naive"), 3), (RLearner, two_stage, 2),
         (RLearner, dict(two_stage, multi_arm="pairwise"), 3)]
out = []
for cls, params, n_levels in cases:
    w = rng.integers(0, n_levels, n)
    for imputation in ("pseudo", "ipcw"):
        full = dict(params, imputation=imputation, horizon=1.0, random_state=0)
        ref = cls(**full).fit(X, (time, event), w)
        with sklearn.config_context(array_api_dispatch=True):
            est = cls(**full).fit(xp.asarray(X), (xp.asarray(time), xp.asarray(event)),
                                  xp.asarray(w))
            tau = est.predict(xp.asarray(X))
            effect = est.effect(xp.asarray(X), 0, 1)
            ate = est.ate()
        out.append({
            "case": f"{cls.__name__}({params.get('multi_arm', '')}) K={n_levels} {imputation}",
            "types": [type(tau).__module__, type(effect).__module__],
            "predict": float(np.max(np.abs(np.asarray(tau) - ref.predict(X)))),
            "effect": float(np.max(np.abs(np.asarray(effect) - ref.effect(X, 0, 1)))),
            "ate": float(np.max(np.abs(np.asarray(ate) - ref.ate()))),
        })
w = rng.integers(0, 2, n)
boot = dict(base_learner=ridge, horizon=1.0, random_state=0, n_bootstrap=4)
ref = TLearner(**boot).fit(X, (time, event), w)
with sklearn.config_context(array_api_dispatch=True):
    est = TLearner(**boot).fit(xp.asarray(X), (xp.asarray(time), xp.asarray(event)),
                               xp.asarray(w))
    lower, upper = est.predict_interval(xp.asarray(X))
    ate_bounds = est.ate_interval(target_population="treated")
intervals = {
    "type": type(lower).__module__,
    "diff": max(float(np.max(np.abs(np.asarray(got) - want))) for got, want in zip(
        (lower, upper, *ate_bounds),
        (*ref.predict_interval(X), *ref.ate_interval(target_population="treated")))),
}
w = rng.integers(0, 3, n)
try:
    with sklearn.config_context(array_api_dispatch=True):
        RLearner(**two_stage, horizon=1.0).fit(xp.asarray(X), (xp.asarray(time),
                                               xp.asarray(event)), xp.asarray(w))
    joint = "no error"
except TypeError as error:
    joint = str(error)
print(json.dumps({"cases": out, "joint": joint, "intervals": intervals}))
"""


def test_imputed_learners_under_array_api_dispatch():
    """T-, S-, DR-, X- and (binary, pairwise) R-learners with ``Ridge(solver="svd")`` fitted on
    array_api_strict arrays inside ``array_api_dispatch`` return array_api_strict predictions
    equal to the NumPy fit: the same SVD solve on the same float64 data (``solver="svd"`` is
    what Ridge uses for a non-NumPy namespace; naming it makes the NumPy fit use it too). The
    propensity model (LogisticRegression) runs on the host in both. The joint multi-arm
    R-learner refuses non-NumPy arrays by name."""
    env = dict(os.environ, SCIPY_ARRAY_API="1", OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-c", _LEARNER_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    results = report["cases"]
    assert len(results) == 16
    assert "multi_arm='pairwise'" in report["joint"], report["joint"]
    # Bootstrap intervals: resamples drawn on the host, refits in the namespace.
    assert report["intervals"]["type"].startswith("array_api_strict"), report["intervals"]
    assert report["intervals"]["diff"] <= TOL, report["intervals"]
    for row in results:
        assert row["types"][0].startswith("array_api_strict"), row
        assert row["types"][1].startswith("array_api_strict"), row
        assert row["predict"] <= TOL and row["effect"] <= TOL and row["ate"] <= TOL, row


def test_imputed_learners_without_array_api_dispatch_convert_to_numpy():
    """Outside ``array_api_dispatch`` scikit-learn's regressors take NumPy only, so the learners
    convert array-API inputs to NumPy as before (any regressor works) and return NumPy."""
    from sklearn.linear_model import Ridge

    from survhte.imputed_learners import TLearner

    d = _data()
    a = _in("array_api_strict", d)
    est = TLearner(Ridge(), horizon=1.0, n_bootstrap=0).fit(a["X"], (a["time"], a["event"]),
                                                             a["w"])
    ref = TLearner(Ridge(), horizon=1.0, n_bootstrap=0).fit(d["X"], (d["time"], d["event"]),
                                                             d["w"])
    tau = est.predict(a["X"])
    assert isinstance(tau, np.ndarray)
    np.testing.assert_array_equal(tau, ref.predict(d["X"]))
