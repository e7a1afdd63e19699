"""survhte.survival against lifelines on random, heavily tied data (with and without weights)."""

import warnings

import numpy as np
import pytest
from lifelines import KaplanMeierFitter, NelsonAalenFitter
from lifelines.exceptions import StatisticalWarning
from lifelines.utils import restricted_mean_survival_time

from survhte.survival import KaplanMeier, NelsonAalen

SEEDS = range(40)
TOL = {"rtol": 1e-10, "atol": 1e-12}


def random_data(seed, weights=None):
    """n in 1..2000, integer times with heavy ties and time 0, ~30% censoring, >= 1 event.

    ``weights``: None, "integer" (frequency weights 0..3) or "float" (0 allowed).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, 10, 50, 300, 2000])) if seed < 14 else int(rng.integers(1, 2001))
    time = np.round(rng.exponential(rng.uniform(1.0, 30.0), n))
    event = rng.random(n) < 0.7
    event[rng.integers(n)] = True
    if weights == "integer":
        weight = rng.integers(0, 4, n).astype(np.float64)
        weight[event.argmax()] = 1.0
    elif weights == "float":
        weight = rng.uniform(0.0, 3.0, n) * (rng.random(n) > 0.1)
        weight[event.argmax()] = 0.5
    else:
        weight = None
    return time, event, weight


def lifelines_km(time, event, weight):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return KaplanMeierFitter().fit(time, event, weights=weight)


def on_timeline(frame, timeline):
    """lifelines always adds time 0 to its index; read its values at our unique times."""
    assert set(frame.index) == set(timeline) | {0.0}
    return frame.loc[timeline].to_numpy()


@pytest.mark.parametrize("weights", [None, "integer", "float"])
@pytest.mark.parametrize("seed", SEEDS)
def test_kaplan_meier_matches_lifelines(seed, weights):
    time, event, weight = random_data(seed, weights)
    ours = KaplanMeier().fit(time, event, sample_weight=weight)
    theirs = lifelines_km(time, event, weight)
    timeline = ours.timeline_
    survival = on_timeline(theirs.survival_function_, timeline)[:, 0]
    if weights == "float":
        # Where the whole risk set fails, lifelines forms n - d as (total - cumsum) - d, which
        # rounds to +-1e-16 instead of 0 and leaves S > 0; ours computes n - d exactly.
        wiped_out = ours.survival_ == 0
        survival[wiped_out] = 0.0
    np.testing.assert_allclose(ours.survival_, survival, **TOL)
    table = on_timeline(theirs.event_table[["at_risk", "observed", "censored"]], timeline)
    np.testing.assert_allclose(ours.n_at_risk_, table[:, 0], **TOL)
    np.testing.assert_allclose(ours.n_events_, table[:, 1], **TOL)
    if weights == "float":
        return  # lifelines truncates weighted totals to integers in its censored counts and CI
    np.testing.assert_array_equal(ours.n_censored_, table[:, 2])
    lower, upper = ours.confidence_interval(alpha=0.05)
    band = on_timeline(theirs.confidence_interval_, timeline)
    np.testing.assert_allclose(lower, band[:, 0], **TOL)
    np.testing.assert_allclose(upper, band[:, 1], **TOL)
    greenwood_sum = on_timeline(theirs._cumulative_sq_, timeline)
    np.testing.assert_allclose(ours.survival_variance_, ours.survival_**2 * greenwood_sum, **TOL)


@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.32])
def test_confidence_level_matches_lifelines(alpha):
    time, event, _ = random_data(5)
    lower, upper = KaplanMeier().fit(time, event).confidence_interval(alpha=alpha)
    theirs = KaplanMeierFitter(alpha=alpha).fit(time, event)
    band = on_timeline(theirs.confidence_interval_, np.unique(time))
    np.testing.assert_allclose(lower, band[:, 0], **TOL)
    np.testing.assert_allclose(upper, band[:, 1], **TOL)


@pytest.mark.parametrize("weights", [None, "integer", "float"])
@pytest.mark.parametrize("seed", SEEDS)
def test_nelson_aalen_matches_lifelines_without_smoothing(seed, weights):
    time, event, weight = random_data(seed, weights)
    ours = NelsonAalen().fit(time, event, sample_weight=weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        theirs = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(
            time, event, weights=weight
        )
    np.testing.assert_allclose(
        ours.cumulative_hazard_,
        on_timeline(theirs.cumulative_hazard_, ours.timeline_)[:, 0],
        **TOL,
    )
    np.testing.assert_allclose(
        ours.cumulative_hazard_variance_, on_timeline(theirs._cumulative_sq, ours.timeline_), **TOL
    )


@pytest.mark.parametrize("weights", [None, "float"])
@pytest.mark.parametrize("seed", SEEDS)
def test_rmst_matches_lifelines(seed, weights):
    time, event, weight = random_data(seed, weights)
    ours = KaplanMeier().fit(time, event, sample_weight=weight)
    theirs = lifelines_km(time, event, weight)
    rng = np.random.default_rng(seed + 1000)
    last = float(time.max())
    horizons = [last, *rng.uniform(0.0, last, 3).tolist(), *rng.choice(ours.timeline_, 3)]
    # lifelines misses S = 0 after a weighted risk set fails whole (see the KM test above)
    wiped_out = ours.timeline_[ours.survival_ == 0]
    usable = wiped_out[0] if weights == "float" and wiped_out.size else last
    for horizon in horizons:
        if horizon <= 0 or horizon > usable:
            continue
        expected = restricted_mean_survival_time(theirs, t=horizon)
        assert abs(ours.rmst(horizon) - expected) <= 1e-10 * max(1.0, abs(expected))


def test_rmst_variance_is_the_variance_of_the_estimator_not_of_min_t_h():
    """lifelines returns Var(min(T, h)); without censoring ours is exactly that over n."""
    rng = np.random.default_rng(11)
    time = np.round(rng.exponential(5.0, 60))
    event = np.ones(60, dtype=bool)
    horizon = 6.5
    rmst, variance = KaplanMeier().fit(time, event).rmst(horizon, return_variance=True)
    truncated = np.minimum(time, horizon)
    assert rmst == pytest.approx(truncated.mean(), rel=1e-12)
    assert variance == pytest.approx(truncated.var() / time.size, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines integrates t S(t) with quad: it warns
        _, theirs = restricted_mean_survival_time(
            KaplanMeierFitter().fit(time, event), t=horizon, return_variance=True
        )
    assert theirs / time.size == pytest.approx(variance, rel=1e-2)
