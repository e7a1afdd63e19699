"""Sampling checks of the 40 SurvHTE-Bench designs at the benchmark's n = 50,000.

Every comparison is a z-test: |estimate - reference| <= Z_MAX * standard error, with
the standard error estimated from the same sample(s). Z_MAX = 4 gives a false-alarm
probability of 6e-5 per comparison, so the ~600 comparisons of this file fail by
chance with probability < 4% at an arbitrary seed (Bonferroni); the seeds are fixed,
so the outcome is deterministic. A modelling slip of the size that matters (a wrong
coefficient, arm or distribution) moves these means by tens of standard errors.
"""

import math
from functools import cache

import numpy as np
import pytest
from scipy import integrate

from survhte.simulate import CONFIGS, SCENARIOS, survhte_bench

N = 50_000
N_BIG = 400_000
Z_MAX = 4.0
DESIGNS = [(c, s) for c in CONFIGS for s in SCENARIOS]


def _assert_within(estimate, reference, se, what):
    z = (estimate - reference) / se
    assert abs(z) <= Z_MAX, f"{what}: {estimate:.6g} vs {reference:.6g} (z = {z:.1f})"


def _two_sample(a, b, what):
    """Means of two independent samples agree within Z_MAX standard errors."""
    se = math.sqrt(a.var() / a.size + b.var() / b.size)
    _assert_within(a.mean(), b.mean(), se, what)


def _zero_mean(residual, what):
    """A residual with mean zero in the population has sample mean within Z_MAX SE of 0."""
    _assert_within(residual.mean(), 0.0, residual.std() / math.sqrt(residual.size), what)


def _seed(config, scenario, offset):
    return 1_000 * offset + 10 * CONFIGS.index(config) + SCENARIOS.index(scenario)


@pytest.mark.parametrize(("config", "scenario"), DESIGNS)
def test_matches_a_large_independent_draw(config, scenario):
    small = survhte_bench(config, scenario, n=N, random_state=_seed(config, scenario, 1))
    big = survhte_bench(config, scenario, n=N_BIG, random_state=_seed(config, scenario, 2))
    _two_sample(~small.event, ~big.event, "censoring rate")
    _two_sample(small.w, big.w, "treatment rate")
    _two_sample(small.individual_effect(), big.individual_effect(), "ATE of T1 - T0")
    h = float(np.median(big.T))
    _two_sample(small.individual_effect(h), big.individual_effect(h), "RMST ATE at median")


@cache
def _population_treatment_rate(config):
    base = config.removesuffix("-IC")
    if base == "RCT-5":
        return 0.05
    if base != "OBS-UConf":
        # RCT-50: 0.5; OBS-CPS: (1 + E[BetaPDF(X1)]) / 4 = (1 + 1) / 4; OBS-NoPos:
        # 0.6 * 0.5 + 0.2 * 1
        return 0.5

    def beta24(x1, u1):
        z = 0.3 * x1 + 0.7 * u1
        return 20 * z * (1 - z) ** 3

    mean_pdf, _ = integrate.dblquad(beta24, 0, 1, 0, 1, epsabs=1e-12)
    return (1 + mean_pdf) / 4


@pytest.mark.parametrize("config", CONFIGS)
def test_treatment_rate_matches_the_population_value(config):
    d = survhte_bench(config, "A", n=N, random_state=_seed(config, "A", 3))
    rate = _population_treatment_rate(config)
    _assert_within(d.w.mean(), rate, math.sqrt(rate * (1 - rate) / N), "treatment rate")
    _zero_mean(d.w - d.propensity, "W - e(X, U)")


@pytest.mark.parametrize(("config", "scenario"), DESIGNS)
def test_truth_is_the_conditional_mean_of_the_realized_outcomes(config, scenario):
    d = survhte_bench(config, scenario, n=N, random_state=_seed(config, scenario, 4))
    h = float(np.median(d.T))
    for target, horizon in [("rmst", None), ("rmst", h), ("survival", h)]:
        what = f"{target} at {horizon}"
        realized = d.individual_effect(horizon, target=target)
        _zero_mean(realized - d.true_cate(target, horizon), f"CATE {what}")
        for w, T in [(0, d.T0), (1, d.T1)]:
            if target == "survival":
                outcome = (T > h).astype(float)
            else:
                outcome = np.minimum(T, math.inf if horizon is None else horizon)
            _zero_mean(outcome - d.potential_outcome_mean(w, target, horizon), f"arm {w} {what}")


def _censoring_residual(d):
    """A function of C with mean zero given (X, W, T) under the spec's censoring model."""
    x1, x2, x3, x4 = d.X[:, 0], d.X[:, 1], d.X[:, 2], d.X[:, 3]
    if d.config.endswith("-IC"):  # C ~ Exponential(rate 0.1 + 0.05 T): rate * C ~ Exp(1)
        return d.C * (0.1 + 0.05 * d.T) - 1
    if d.scenario == "A":  # C ~ Uniform(0, 3)
        return d.C - 1.5
    if d.scenario in "BD":  # Weibull-Cox shape 2: exp(lp_C) C^2 ~ Exp(1)
        arm = (1.15 + 0.5 * (x1 < 0.5) - 0.3 * np.sqrt(x2)) * d.w
        if d.scenario == "B":
            lp = -1.75 - 0.5 * np.sqrt(x2) + 0.2 * x3 + arm
        else:
            lp = -0.9 + 2 * np.sqrt(x2) + 2 * x3 + arm
        return np.exp(lp) * d.C**2 - 1
    if d.scenario == "C":  # never censored with probability 0.6, else 1 + 1{X4 < 0.5}
        finite = np.isfinite(d.C)
        assert np.all(d.C[finite] == 1 + (x4[finite] < 0.5))
        return (~finite) - 0.6
    return d.C - (3 + np.log(1 + np.exp(2 * x2 + x3)))  # Poisson


@pytest.mark.parametrize(("config", "scenario"), DESIGNS)
def test_censoring_follows_its_model(config, scenario):
    d = survhte_bench(config, scenario, n=N, random_state=_seed(config, scenario, 5))
    assert np.all(d.C >= 0)
    _zero_mean(_censoring_residual(d), "censoring model")
