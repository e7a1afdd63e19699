"""Random draws of the SurvHTE-Bench synthetic datasets."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ._checks import check_config, check_n, check_scenario
from ._data import SurvivalSimulation
from ._designs import (
    CENSORING_WEIBULL_SHAPE,
    EVENT_FAMILY,
    INFORMATIVE_RATE_BASE,
    INFORMATIVE_RATE_SLOPE,
    N_FEATURES,
    NEVER_CENSORED_PROB,
    RCT_TREATED_FRACTION,
    WEIBULL_SHAPE,
    base_config,
    censoring_linear_predictor,
    censoring_poisson_mean,
    confounding_shift,
    event_parameter,
    informative_censoring,
    propensity,
)

Stream = np.random.Generator | np.random.RandomState


def survhte_bench(
    config: str,
    scenario: str,
    n: int = 50_000,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    legacy: bool = False,
) -> SurvivalSimulation:
    """Simulate one of the 40 synthetic datasets of SurvHTE-Bench, with ground truth.

    SurvHTE-Bench (Noroozizadeh et al., "SurvHTE-Bench: A Benchmark for Heterogeneous
    Treatment Effect Estimation in Survival Analysis", ICLR 2026) crosses 8 causal
    configurations with 5 survival scenarios. Covariates X1..X5 and hidden confounders
    U1, U2 are iid Uniform(0, 1); the treatment follows ``config``; the potential event
    times T(0), T(1) (drawn independently) and the censoring time C follow ``scenario``,
    except that the ``-IC`` configurations censor informatively,
    C ~ Exponential(rate = 0.1 + 0.05 T) with T = T(W).
    Observed: ``time = min(T, C)``, ``event = 1{T <= C}``.

    The estimands are tau(x) = E[min(T(1), h) - min(T(0), h) | X = x] (RMST) and
    P(T(1) > h | X = x) - P(T(0) > h | X = x) (survival probability); see
    :meth:`SurvivalSimulation.true_cate` (exact conditional truth) and
    :meth:`SurvivalSimulation.individual_effect` (per-row truth, as the paper scores).

    Parameters
    ----------
    config : str
        One of :data:`CONFIGS`: ``"RCT-50"``, ``"RCT-5"`` (W ~ Bernoulli(0.5 / 0.05)),
        ``"OBS-CPS"`` (confounded, positivity holds), ``"OBS-UConf"`` (unobserved
        confounding by U1), ``"OBS-NoPos"`` (positivity violated) and their informative
        censoring variants ``"OBS-CPS-IC"``, ``"OBS-UConf-IC"``, ``"OBS-NoPos-IC"``.
    scenario : str
        One of :data:`SCENARIOS`: ``"A"`` (Weibull-Cox), ``"B"`` and ``"D"`` (log-normal
        AFT), ``"C"`` and ``"E"`` (Poisson).
    n : int, default 50_000
        Number of rows (the benchmark uses 50,000).
    random_state : int, Generator, SeedSequence or None, default None
        Seed. With ``legacy=False`` anything :func:`numpy.random.default_rng` accepts;
        with ``legacy=True`` an int or None (the benchmark used 2025).
    legacy : bool, default False
        Draw from a private ``numpy.random.RandomState(random_state)`` instead of
        ``numpy.random.default_rng(random_state)``. With ``random_state=2025`` and
        ``n=50_000`` this reproduces the published datasets bit for bit.

    Returns
    -------
    SurvivalSimulation
        Data (``X``, ``y``, ``time``, ``event``, ``w``) and truth (``T0``, ``T1``, ``C``,
        ``propensity``, ``U``).

    Raises
    ------
    ValueError
        If ``config``, ``scenario`` or ``n`` is invalid (the message lists valid values).
    TypeError
        If ``legacy=True`` and ``random_state`` is not an int or None.

    Notes
    -----
    Both modes draw in the order of the original generator, each step on the
    whole sample: X ``random((n, 5))``; U ``1 - random((n, 2))``; W
    ``binomial(1, p, n)`` (RCT) or ``binomial(1, e)``; for T(0) then T(1) a
    ``normal(size=n)`` (drawn in every scenario, used by B and D) followed by
    ``uniform(size=n)`` (A, inverse-transform Weibull) or ``poisson(lam)`` (C, E);
    finally C: ``exponential(scale=1 / rate)`` (-IC), ``uniform(0, 3, n)`` (A),
    ``uniform(size=n)`` (B, D, inverse-transform Weibull), ``random(n)`` (C) or
    ``poisson(lam)`` (E).

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("OBS-CPS", "A", n=1_000, random_state=0)
    >>> d.X.shape, d.y.dtype.names
    ((1000, 5), ('event', 'time'))
    """
    config = check_config(config)
    scenario = check_scenario(scenario)
    n = check_n(n)
    rng = _stream(random_state, legacy)

    X = rng.random((n, N_FEATURES))
    U = 1 - rng.random((n, 2))
    e = propensity(config, X, U)
    base = base_config(config)
    if base in RCT_TREATED_FRACTION:
        w = rng.binomial(1, RCT_TREATED_FRACTION[base], n)
    else:
        w = rng.binomial(1, e)
    w = w.astype(np.int64)

    shift = confounding_shift(config, X, U[:, 0])
    T0 = _draw_event_time(rng, scenario, event_parameter(scenario, X, 0, shift))
    T1 = _draw_event_time(rng, scenario, event_parameter(scenario, X, 1, shift))
    T = np.where(w == 1, T1, T0)
    C = _draw_censoring_time(rng, config, scenario, X, w, T)
    return SurvivalSimulation(
        X=X,
        time=np.minimum(T, C),
        event=T <= C,
        w=w,
        T0=T0,
        T1=T1,
        C=C,
        propensity=e,
        U=U,
        config=config,
        scenario=scenario,
    )


def _stream(random_state: object, legacy: bool) -> Stream:
    if not legacy:
        return np.random.default_rng(random_state)
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral)
    ):
        raise TypeError(
            f"random_state must be an int or None when legacy=True; got {random_state!r}"
        )
    return np.random.RandomState(random_state)


def _draw_event_time(rng: Stream, scenario: str, param: np.ndarray) -> np.ndarray:
    """Draw T(w) given its parameter (see :func:`event_parameter`)."""
    n = param.shape[0]
    eps = rng.normal(size=n)
    family = EVENT_FAMILY[scenario]
    if family == "weibull":
        return _weibull_cox(rng, param, WEIBULL_SHAPE)
    if family == "lognormal":
        return np.exp(param + eps)
    return rng.poisson(param).astype(np.float64)


def _weibull_cox(rng: Stream, lp: np.ndarray, shape: float) -> np.ndarray:
    """Inverse-transform draw from S(t) = exp(-exp(lp) t^shape) (Weibull-Cox, scale 1)."""
    v = rng.uniform(size=lp.shape[0])
    return (-np.log(v) / np.exp(lp)) ** (1.0 / shape)


def _draw_censoring_time(
    rng: Stream, config: str, scenario: str, X: np.ndarray, w: np.ndarray, T: np.ndarray
) -> np.ndarray:
    n = X.shape[0]
    if informative_censoring(config):
        rate = INFORMATIVE_RATE_BASE + INFORMATIVE_RATE_SLOPE * T
        return rng.exponential(scale=1.0 / rate, size=n)
    if scenario == "A":
        return rng.uniform(0, 3, n)
    if scenario in ("B", "D"):
        lp = censoring_linear_predictor(scenario, X, w)
        return _weibull_cox(rng, lp, CENSORING_WEIBULL_SHAPE)
    if scenario == "C":
        u = rng.random(n)
        return np.where(u < NEVER_CENSORED_PROB, np.inf, 1.0 + (X[:, 3] < 0.5))
    return rng.poisson(censoring_poisson_mean(X)).astype(np.float64)
