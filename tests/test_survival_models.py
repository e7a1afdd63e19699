"""Base survival models of the meta-learners: agreement with lifelines, exact RMST, contract."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter, LogNormalAFTFitter, WeibullAFTFitter
from scipy.integrate import quad
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import PolynomialFeatures

from survhte.datasets import load_rossi
from survhte.simulate import survhte_bench
from survhte.survival import (
    CoxPH,
    KaplanMeierSurvival,
    LifelinesSurvivalModel,
    SurvivalModel,
    TransformedSurvivalModel,
    WeibullAFT,
    rmst,
    survival_at_rows,
)
from survhte.survival_model_learners import default_base_model


def _frame(X, time, event, weight=None):
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]).assign(t=time, e=event)
    return frame if weight is None else frame.assign(wt=weight)


@pytest.fixture(scope="module")
def untied():
    """Continuous times (scenario A): no ties, so Efron's likelihood is Cox's exact one."""
    d = survhte_bench("RCT-50", "A", n=2000, random_state=3)
    return np.column_stack([d.X, d.w]), d.time, d.event


@pytest.mark.parametrize("penalizer", [0.0, 0.01, 0.5])
def test_coxph_matches_lifelines_without_ties(untied, penalizer):
    X, time, event = untied
    assert np.unique(time).size == time.size
    model = CoxPH(penalizer=penalizer).fit(X, time, event)
    ref = CoxPHFitter(penalizer=penalizer).fit(_frame(X, time, event), "t", "e")
    # lifelines stops Newton-Raphson at a step norm of 1e-7 (ours at a Newton decrement of
    # 1e-9 plus one more step): observed differences ~1e-8, checked at 1e-6 as required.
    np.testing.assert_allclose(model.coef_, ref.params_.to_numpy(), atol=1e-6)
    curves = ref.predict_survival_function(_frame(X, time, event).iloc[:30])
    np.testing.assert_allclose(model.predict_survival(X[:30], curves.index.to_numpy()),
                               curves.to_numpy().T, atol=1e-6)


def test_coxph_matches_lifelines_efron_ties_and_weights():
    d = survhte_bench("RCT-50", "C", n=1500, random_state=4)  # Poisson times: heavy ties
    X = np.column_stack([d.X, d.w])
    weight = np.random.default_rng(0).uniform(0.2, 3.0, d.time.size)
    assert np.unique(d.time).size < 30
    model = CoxPH().fit(X, d.time, d.event, sample_weight=weight)
    ref = CoxPHFitter(penalizer=0.01).fit(_frame(X, d.time, d.event, weight), "t", "e",
                                          weights_col="wt")
    np.testing.assert_allclose(model.coef_, ref.params_.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(model.baseline_cumulative_hazard_,
                               ref.baseline_cumulative_hazard_.iloc[:, 0].to_numpy()[
                                   np.isin(ref.baseline_cumulative_hazard_.index,
                                           model.unique_times_)], rtol=1e-6)


def test_weibull_aft_matches_lifelines_mle():
    d = survhte_bench("RCT-50", "B", n=2000, random_state=5)
    X = np.column_stack([d.X, d.w])
    model = WeibullAFT(penalizer=0.0).fit(X, d.time, d.event)
    ref = WeibullAFTFitter().fit(_frame(X, d.time, d.event), "t", "e")
    lam = ref.params_.loc["lambda_"]
    # lifelines' BFGS stops at gradient ~1e-6 of the mean log-likelihood; ours at 1e-10
    np.testing.assert_allclose(model.coef_, lam.drop("Intercept").to_numpy(), atol=1e-5)
    assert model.intercept_ == pytest.approx(lam["Intercept"], abs=1e-5)
    assert model.shape_ == pytest.approx(np.exp(ref.params_.loc[("rho_", "Intercept")]), abs=1e-5)
    with pytest.raises(ValueError, match="time must be positive for WeibullAFT"):
        WeibullAFT().fit(X, np.r_[0.0, d.time[1:]], d.event)


def _quad_rmst(model, x, horizon, points=None):
    value, _ = quad(lambda t: model.predict_survival(x[None, :], [t])[0, 0], 0.0, horizon,
                    points=points, limit=2000, epsabs=1e-12, epsrel=1e-12)
    return value


@pytest.mark.parametrize("kind", ["cox", "weibull", "lognormal", "km", "transformed"])
def test_rmst_equals_numerical_integration(untied, kind):
    X, time, event = untied
    model = {
        "cox": CoxPH(),
        "weibull": WeibullAFT(),
        "lognormal": LifelinesSurvivalModel(LogNormalAFTFitter(penalizer=0.01)),
        "km": KaplanMeierSurvival(),
        "transformed": default_base_model(),
    }[kind].fit(X[:400], time[:400], event[:400])
    horizon = float(np.quantile(time[:400], 0.6))
    exact = rmst(model, X[:4], horizon)
    jumps = getattr(model, "unique_times_", None)
    breaks = None if jumps is None else jumps[jumps < horizon][:1500]
    numeric = [_quad_rmst(model, X[i], horizon, breaks) for i in range(4)]
    # quad with the jump times as break points integrates each flat piece exactly and the
    # smooth parametric curves to ~1e-13; the 64-node Gauss-Legendre rule of the lifelines
    # adapter is accurate to ~1e-12 on these curves
    np.testing.assert_allclose(exact, numeric, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 120),
       penalizer=st.floats(0.0, 1.0), weibull=st.booleans())
def test_predicted_survival_is_monotone_in_time(seed, n, penalizer, weibull):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    time = rng.exponential(np.exp(X[:, 0])) + 1e-3
    event = rng.random(n) < 0.7
    event[0] = True
    model = (WeibullAFT if weibull else CoxPH)(penalizer=max(penalizer, 0.05))
    model.fit(X, time, event)
    grid = np.sort(rng.uniform(0, 2 * time.max(), 40))
    curves = model.predict_survival(rng.normal(size=(7, 3)), grid)
    assert np.all(np.diff(curves, axis=1) <= 1e-15)
    assert np.all((curves >= 0) & (curves <= 1))


def test_survival_at_rows_left_limits(untied):
    X, time, event = untied
    model = CoxPH().fit(X, time, event)
    at_jump = model.unique_times_[[0, 5, 10]]
    left = survival_at_rows(model, X[:3], at_jump, left=True)
    before = [model.predict_survival(X[i:i + 1], [np.nextafter(at_jump[i], 0)])[0, 0]
              for i in range(3)]
    np.testing.assert_allclose(left, before)
    assert survival_at_rows(model, X[:3], at_jump)[0] < left[0]


def test_models_follow_the_interface_and_sklearn_contract():
    rossi = load_rossi()
    X = rossi.X.to_numpy()
    for model in (CoxPH(), WeibullAFT(), KaplanMeierSurvival(), default_base_model(),
                  LifelinesSurvivalModel(CoxPHFitter(penalizer=0.1)),
                  TransformedSurvivalModel(PolynomialFeatures(2), WeibullAFT())):
        assert isinstance(model, SurvivalModel)
        with pytest.raises(NotFittedError):
            model.predict_survival(X[:2], [1.0])
        fitted = clone(model).fit(X, rossi.time, rossi.event)
        restored = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(restored.predict_survival(X[:3], [5.0, 30.0]),
                                      fitted.predict_survival(X[:3], [5.0, 30.0]))
        with pytest.raises(ValueError, match="X has 5 features"):
            fitted.predict_survival(X[:2, :5], [1.0])
    adapter = LifelinesSurvivalModel(CoxPHFitter(penalizer=0.01)).fit(X, rossi.time, rossi.event)
    mine = CoxPH().fit(X, rossi.time, rossi.event)
    np.testing.assert_allclose(adapter.predict_survival(X[:5], [10.0, 40.0]),
                               mine.predict_survival(X[:5], [10.0, 40.0]), atol=1e-6)
    np.testing.assert_allclose(rmst(adapter, X[:5], 40.0), rmst(mine, X[:5], 40.0), atol=1e-5)


def test_base_model_errors_name_the_argument():
    rossi = load_rossi()
    X = rossi.X.to_numpy()
    with pytest.raises(ValueError, match=r"penalizer of CoxPH must be a number in \[0, inf\); "
                                         "got -1"):
        CoxPH(penalizer=-1).fit(X, rossi.time, rossi.event)
    with pytest.raises(ValueError, match=r"penalizer of WeibullAFT must be a number in "):
        WeibullAFT(penalizer=float("nan")).fit(X, rossi.time, rossi.event)
    with pytest.raises(ValueError, match="time has 432 rows but X has 10"):
        CoxPH().fit(X[:10], rossi.time, rossi.event)
    with pytest.raises(ValueError, match="event has no events"):
        CoxPH().fit(X, rossi.time, np.zeros(432))
    with pytest.raises(ValueError, match="CoxPH needs at least one covariate that varies"):
        CoxPH().fit(np.ones((432, 2)), rossi.time, rossi.event)
    with pytest.raises(TypeError, match=r"model of TransformedSurvivalModel must be an object "
                                        r"with fit\(\) and predict_survival\(\); got 'cox'"):
        TransformedSurvivalModel(PolynomialFeatures(2), "cox").fit(X, rossi.time, rossi.event)
    with pytest.raises(TypeError, match="fitter must be a lifelines regression fitter"):
        LifelinesSurvivalModel(object()).fit(X, rossi.time, rossi.event)
    with pytest.raises(TypeError, match="transformer of TransformedSurvivalModel must be"):
        TransformedSurvivalModel(CoxPH, CoxPH()).fit(X, rossi.time, rossi.event)
