"""Acharki et al.'s designs: the paper's effects, the biased-sampling propensity, the added
censoring, and the exact truth of every level against numerical integration and draws."""

import math

import numpy as np
import pytest
from scipy import integrate, special

from survhte.simulate import ACHARKI_DESIGNS, AcharkiSimulation, acharki_design


@pytest.mark.parametrize("n_levels", [3, 10, 50])
def test_untruncated_effects_are_the_papers(n_levels):
    lin = acharki_design("linear", n=300, n_levels=n_levels, random_state=0)
    doses = np.arange(1, n_levels) / (n_levels - 1)
    np.testing.assert_allclose(lin.levels[1:], doses)
    # tau_k(x) = w_k x (Acharki et al., appendix D1)
    np.testing.assert_allclose(lin.true_cate(), lin.X[:, :1] * doses, rtol=0, atol=1e-14)
    hr = acharki_design("hazard_rate", n=300, n_levels=n_levels, random_state=0)
    r = np.sqrt((hr.X**2).sum(axis=1))[:, None]
    # tau_k(x) = w_k + ||x|| (exp(-w_k ||x||) - 1) (appendices D3-D5)
    np.testing.assert_allclose(hr.true_cate(), doses + r * (np.exp(-doses * r) - 1), atol=1e-13)
    assert hr.true_cate("rmst", None).shape == (300, n_levels - 1)


@pytest.mark.parametrize("name", ACHARKI_DESIGNS)
def test_potential_times_are_the_shifted_paper_outcome(name):
    d = acharki_design(name, n=20_000, n_levels=4, random_state=1)
    means = np.column_stack([d.potential_outcome_mean(k, "rmst", None) for k in range(4)])
    z = (d.potential_times - means) / 0.05
    # standardized noise: mean 0 and sd 1 per level (5 SE: 0.035 and ~0.025 at n = 20,000)
    assert np.all(np.abs(z.mean(axis=0)) < 5 / math.sqrt(20_000))
    assert np.all(np.abs(z.std(axis=0) - 1) < 5 * math.sqrt(0.5 / 20_000))
    assert d.potential_times.min() > 0
    np.testing.assert_array_equal(d.event, np.ones(20_000, dtype=bool))  # uncensored
    np.testing.assert_array_equal(d.time, d.T)
    np.testing.assert_allclose(d.Y, d.T - 1)


@pytest.mark.parametrize("name", ACHARKI_DESIGNS)
@pytest.mark.parametrize("level", [0, 2, 4])
def test_rmst_closed_form_equals_integrated_survival(name, level):
    d = acharki_design(name, n=4, n_levels=5, random_state=2)
    for h in (1.2, 2.0, 3.1):
        closed = d.potential_outcome_mean(level, "rmst", h)
        for i in range(4):

            def survival(t, i=i):
                return d.potential_outcome_mean(level, "survival", t)[i]

            mean = d.potential_outcome_mean(level, "rmst", None)[i]
            # S(t) = 1 below the bulk: integrate where it moves, add the flat part exactly
            lo = max(min(mean - 12 * 0.05, h), 1e-9)
            value, _ = integrate.quad(survival, lo, h, epsabs=1e-13, limit=200)
            # quad's error estimate is held to 1e-13; 1e-9 leaves margin for the flat part
            # below lo, where 1 - S(t) < 1e-32
            assert closed[i] == pytest.approx(lo + value, abs=1e-9)


@pytest.mark.parametrize("name", ACHARKI_DESIGNS)
@pytest.mark.parametrize("censoring", [None, "covariate"])
def test_truth_is_the_conditional_mean_of_the_draws_per_level(name, censoring):
    d = acharki_design(name, n=40_000, n_levels=6, censoring=censoring, confounding=True,
                       random_state=3)
    h = float(np.quantile(d.T, 0.5))
    for target in ("rmst", "survival"):
        residual = d.individual_effect(h, target) - d.true_cate(target, h)
        # mean zero given X: also after weighting by a function of X. 5 standard errors.
        for weight in (np.ones(d.w.size), d.X[:, 0] - d.X[:, 0].mean()):
            terms = residual * weight[:, None]
            se = terms.std(axis=0) / math.sqrt(d.w.size)
            assert np.all(np.abs(terms.mean(axis=0)) <= 5 * se + 1e-15), (target, terms.mean(0))


@pytest.mark.parametrize("name", ACHARKI_DESIGNS)
def test_biased_sampling_propensity(name):
    K, n = 5, 60_000
    d = acharki_design(name, n=n, n_levels=K, confounding=True, random_state=4)
    np.testing.assert_allclose(d.propensity.sum(axis=1), 1.0)
    score = d.X[:, 0] if name == "linear" else special.ndtr(d.X[:, 0])
    own_bin = np.minimum((score * K).astype(int), K - 1)
    assert set(np.unique(d.propensity)) == {1 / (2 * K), (K + 1) / (2 * K)}
    np.testing.assert_array_equal(d.propensity.argmax(axis=1), own_bin)
    for j in range(K):
        rows = own_bin == j
        share = np.bincount(d.w[rows], minlength=K) / rows.sum()
        expected = np.where(np.arange(K) == j, (K + 1) / (2 * K), 1 / (2 * K))
        # multinomial proportions over ~12,000 rows: 5 SE <= 0.023
        se = np.sqrt(expected * (1 - expected) / rows.sum())
        assert np.all(np.abs(share - expected) < 5 * se)
    # the sampling keeps X's distribution: X1 is Uniform(0, 1) or N(0, 1)
    target_mean = 0.5 if name == "linear" else 0.0
    assert abs(d.X[:, 0].mean() - target_mean) < 0.01
    randomised = acharki_design(name, n=200, n_levels=K, random_state=4)
    np.testing.assert_allclose(randomised.propensity, 1 / K)


@pytest.mark.parametrize("name", ACHARKI_DESIGNS)
def test_added_censoring(name):
    uniform = acharki_design(name, n=20_000, n_levels=10, censoring="uniform", random_state=5)
    c_max = 3.5 if name == "linear" else 6.0
    assert uniform.C.min() >= 1 and uniform.C.max() <= c_max
    covariate = acharki_design(name, n=20_000, n_levels=10, censoring="covariate", random_state=5)
    for d in (uniform, covariate):
        assert 0.2 < 1 - d.event.mean() < 0.35  # documented: ~26-31% censored
        np.testing.assert_array_equal(d.time, np.minimum(d.T, d.C))
    # covariate censoring: earlier for higher doses (rate lambda_0 exp(F(X1) + w))
    early = [np.median(covariate.C[covariate.w == k]) for k in (0, 9)]
    assert early[1] < early[0]


def test_container_and_frame():
    d = acharki_design("hazard_rate", n=500, n_levels=50, confounding=True, random_state=6)
    assert isinstance(d, AcharkiSimulation)
    assert (d.n_levels, d.n_treated) == (50, 49) and d.potential_times.shape == (500, 50)
    assert d.true_cate("survival", 2.2).shape == (500, 49)
    assert d.y.dtype.names == ("event", "time")
    frame = d.to_frame()
    np.testing.assert_allclose(frame["dose"], d.levels[d.w])
    assert list(frame.columns[:5]) == [f"X{j}" for j in range(1, 6)]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "quadratic"}, ValueError, "name must be one of"),
        ({"n_levels": 1}, ValueError, r"n_levels must be an integer 2\.\.50"),
        ({"n_levels": 51}, ValueError, "n_levels"),
        ({"censoring": "heavy"}, ValueError, "censoring must be one of"),
        ({"confounding": "yes"}, TypeError, "confounding must be True or False"),
        ({"n": -3}, ValueError, "n must be a positive integer"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        acharki_design(**{"name": "linear", "n": 10, **kwargs})


def test_invalid_level():
    d = acharki_design("linear", n=10, n_levels=3, random_state=0)
    with pytest.raises(ValueError, match=r"level must be an integer 0\.\.2"):
        d.potential_outcome_mean(3)
