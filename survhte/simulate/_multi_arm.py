r"""K-arm extension of the SurvHTE-Bench synthetic designs, with exact conditional truth.

SurvHTE-Bench (Noroozizadeh et al., ICLR 2026) has one treated level. Here the treatment takes
the levels ``0..K`` (``K = n_treated``, 1 to 5; 0 the control) and every level keeps the
survival family of the scenario: the event-time parameter of level ``k`` is

.. math::

    \theta_k(x) = b(x) + g_k(x) + c, \qquad g_0 \equiv 0,

where ``b(x) + g(x) w + c`` is the binary design's parameter (:func:`event_parameter`: the
Weibull-Cox linear predictor in A, the log-normal location in B and D, the Poisson mean in C
and E) and ``c = 0.5 (U1 - X2)`` in OBS-UConf[-IC], 0 otherwise. The effect terms ``g_k`` follow
from the binary design's effect term ``g`` (see :func:`multi_arm_bench`), so the truth has the
binary design's closed forms (:mod:`survhte.simulate._truth`) and ``K = 1`` is the binary design.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd

from .._validation import check_target
from ._checks import check_config, check_covariates, check_horizon, check_n, check_scenario
from ._data import SurvivalSimulation
from ._designs import (
    EVENT_FAMILY,
    N_FEATURES,
    RCT_TREATED_FRACTION,
    base_config,
    confounding_shift,
    event_parameter,
    hidden_confounding,
    propensity,
)
from ._generate import _draw_censoring_time, _draw_event_time, _stream
from ._truth import DEFAULT_QUADRATURE_NODES, _functional, _unit_gauss_legendre

MAX_TREATED = N_FEATURES
"""Largest number of treated levels: the "distinct" effects rotate the 5 covariates."""

EFFECTS: tuple[str, ...] = ("distinct", "shared")
"""How the effect terms of the treated levels relate (see :func:`multi_arm_bench`)."""

#: Score variable z_k of level k's confounded propensity: X1, 1 - X1, X2, 1 - X2, X3.
_PROPENSITY_COLUMN = (0, 0, 1, 1, 2)
_PROPENSITY_FLIPPED = (False, True, False, True, False)


def check_n_treated(n_treated: object) -> int:
    """Return ``n_treated`` if it is an integer 1..:data:`MAX_TREATED`, else raise ValueError."""
    if (
        isinstance(n_treated, bool)
        or not isinstance(n_treated, Integral)
        or not 1 <= n_treated <= MAX_TREATED
    ):
        raise ValueError(
            f"n_treated must be an integer 1..{MAX_TREATED} (treated levels); got {n_treated!r}"
        )
    return int(n_treated)


def check_effects(effects: object) -> str:
    """Return ``effects`` if it is one of :data:`EFFECTS`, else raise ValueError."""
    if effects not in EFFECTS:
        raise ValueError(f"effects must be one of {list(EFFECTS)}; got {effects!r}")
    return str(effects)


def _check_level(level: object, n_treated: int) -> int:
    if isinstance(level, bool) or not isinstance(level, Integral) or not 0 <= level <= n_treated:
        raise ValueError(f"level must be an integer 0..{n_treated}; got {level!r}")
    return int(level)


def arm_parameter(
    scenario: str,
    X: np.ndarray,
    level: int,
    n_treated: int,
    effects: str,
    shift: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Event-time parameter theta_k(X) of level ``level`` (see :func:`multi_arm_bench`).

    ``shift`` (c) broadcasts as in :func:`event_parameter`. Levels 0 and 1 call
    :func:`event_parameter` exactly as the binary generator does, so ``n_treated = 1``
    reproduces its draws bit for bit.
    """
    if level == 0:
        return event_parameter(scenario, X, 0, shift)
    if effects == "shared":
        return event_parameter(scenario, X, 2 * level / (n_treated + 1), shift)
    if level == 1:
        return event_parameter(scenario, X, 1, shift)
    rotated = np.roll(X, -(level - 1), axis=1)
    effect = event_parameter(scenario, rotated, 1) - event_parameter(scenario, rotated, 0)
    return event_parameter(scenario, X, 0, shift) + effect


def multi_arm_propensity(config: str, X: np.ndarray, U: np.ndarray, n_treated: int) -> np.ndarray:
    """True generalized propensity P(W = k | X, U) of each row, shape (n, K + 1).

    See :func:`multi_arm_bench` for the rules; with ``n_treated = 1`` column 1 is the binary
    design's :func:`propensity`.
    """
    n, base = X.shape[0], base_config(config)
    probs = np.empty((n, n_treated + 1))
    if n_treated == 1:
        probs[:, 1] = propensity(config, X, U)
        probs[:, 0] = 1 - probs[:, 1]
        return probs
    if base in RCT_TREATED_FRACTION:
        share = 1 / (n_treated + 1) if base == "RCT-50" else RCT_TREATED_FRACTION[base]
        probs[:, 1:] = share
        probs[:, 0] = 1 - share * n_treated
        return probs
    if base == "OBS-NoPos":
        x1 = X[:, 0]
        middle = 1 / (n_treated + 1)
        probs[:, 1:] = np.where(x1 > 0.8, 1 / n_treated, np.where(x1 < 0.2, 0.0, middle))[:, None]
        probs[:, 0] = np.where(x1 > 0.8, 0.0, np.where(x1 < 0.2, 1.0, middle))
        return probs
    # multinomial logit: level k's odds against the control are e_k / (1 - e_k), with e_k the
    # binary design's propensity evaluated at the level's score variable z_k (and U1 or 1 - U1)
    odds = np.ones((n, n_treated + 1))
    for k in range(1, n_treated + 1):
        z = X[:, _PROPENSITY_COLUMN[k - 1]]
        u = U[:, 0]
        if _PROPENSITY_FLIPPED[k - 1]:
            z, u = 1 - z, 1 - u
        e_k = propensity(config, z[:, None], u[:, None])
        odds[:, k] = e_k / (1 - e_k)
    return odds / odds.sum(axis=1, keepdims=True)


def multi_arm_potential_outcome(
    config: str,
    scenario: str,
    X: np.ndarray,
    level: int,
    n_treated: int,
    target: str = "rmst",
    horizon: float | None = None,
    *,
    effects: str = "distinct",
    n_nodes: int = DEFAULT_QUADRATURE_NODES,
) -> np.ndarray:
    """Exact E[min(T(k), h) | X] (``"rmst"``) or P(T(k) > h | X) (``"survival"``).

    Parameters
    ----------
    config, scenario : str
        As in :func:`multi_arm_bench`.
    X : array-like of shape (n, 5)
        Covariates in [0, 1].
    level : int
        Treatment level k, 0..``n_treated``.
    n_treated : int
        K, the number of treated levels of the design (the "shared" effects depend on it).
    target : {"rmst", "survival"}, default "rmst"
    horizon : float or None
        As in :func:`conditional_potential_outcome` (``None``: untruncated mean for RMST).
    effects : {"distinct", "shared"}, default "distinct"
    n_nodes : int, default 16
        Gauss-Legendre nodes for U1 (OBS-UConf[-IC]).

    Returns
    -------
    ndarray of shape (n,)
    """
    config, scenario = check_config(config), check_scenario(scenario)
    X = check_covariates(X)
    n_treated = check_n_treated(n_treated)
    level = _check_level(level, n_treated)
    effects = check_effects(effects)
    target = check_target(target)
    h = check_horizon(horizon, target)
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, Integral) or n_nodes < 1:
        raise ValueError(f"n_nodes must be a positive integer; got {n_nodes!r}")
    family = EVENT_FAMILY[scenario]
    if not hidden_confounding(config):
        return _functional(family, arm_parameter(scenario, X, level, n_treated, effects), target, h)
    nodes, weights = _unit_gauss_legendre(int(n_nodes))
    shift = confounding_shift(config, X, nodes[:, None])  # (n_nodes, n)
    param = arm_parameter(scenario, X, level, n_treated, effects, shift)
    return weights @ _functional(family, param, target, h)


def multi_arm_cate(
    config: str,
    scenario: str,
    X: np.ndarray,
    n_treated: int,
    target: str = "rmst",
    horizon: float | None = None,
    *,
    effects: str = "distinct",
    n_nodes: int = DEFAULT_QUADRATURE_NODES,
) -> np.ndarray:
    """Exact conditional effects tau_k(x) of every treated level vs the control, shape (n, K).

    ``tau_k(x) = E[min(T(k), h) - min(T(0), h) | X = x]`` (``"rmst"``) or
    ``P(T(k) > h | X = x) - P(T(0) > h | X = x)`` (``"survival"``), k = 1..K; arguments as
    in :func:`multi_arm_potential_outcome`.
    """
    kwargs = {"target": target, "horizon": horizon, "effects": effects, "n_nodes": n_nodes}
    control = multi_arm_potential_outcome(config, scenario, X, 0, n_treated, **kwargs)
    return np.column_stack([
        multi_arm_potential_outcome(config, scenario, X, k, n_treated, **kwargs) - control
        for k in range(1, check_n_treated(n_treated) + 1)
    ])


@dataclass(frozen=True, eq=False)
class MultiArmSimulation(SurvivalSimulation):
    """A simulated K-arm SurvHTE-Bench dataset and its exact truth; see :func:`multi_arm_bench`.

    The fields of :class:`SurvivalSimulation` (``T0``, ``T1`` are levels 0 and 1), except that
    ``w`` takes the values ``0..K`` and ``propensity`` is the (n, K + 1) matrix
    P(W = k | X) (P(W = k | X, U) in OBS-UConf[-IC]). Moreover:

    Attributes
    ----------
    potential_times : ndarray of shape (n, K + 1)
        Potential event times T(0), ..., T(K), drawn independently given (X, U).
    n_treated : int
        K, the number of treated levels.
    effects : str
        ``"distinct"`` or ``"shared"``: how the levels' effect terms relate.
    """

    potential_times: np.ndarray
    n_treated: int
    effects: str

    @property
    def n_levels(self) -> int:
        """K + 1, the number of levels including the control."""
        return self.n_treated + 1

    @property
    def T(self) -> np.ndarray:
        """Factual event time T = T(W), shape (n,)."""
        return np.take_along_axis(self.potential_times, self.w[:, None], axis=1)[:, 0]

    def potential_outcome_mean(
        self, w: int, target: str = "rmst", horizon: float | None = None
    ) -> np.ndarray:
        """E[min(T(w), h) | X] or P(T(w) > h | X) of level ``w`` (0..K), shape (n,).

        See :func:`multi_arm_potential_outcome`.
        """
        return multi_arm_potential_outcome(
            self.config, self.scenario, self.X, w, self.n_treated,
            target=target, horizon=horizon, effects=self.effects,
        )

    def true_cate(self, target: str = "rmst", horizon: float | None = None) -> np.ndarray:
        """Exact conditional effects tau_k(X) of the levels k = 1..K vs 0, shape (n, K).

        See :func:`multi_arm_cate`; U is integrated out (effects given the observed X).
        """
        return multi_arm_cate(
            self.config, self.scenario, self.X, self.n_treated,
            target=target, horizon=horizon, effects=self.effects,
        )

    def individual_effect(self, horizon: float | None = None, target: str = "rmst") -> np.ndarray:
        """Per-row realized effects ``min(T(k), h) - min(T(0), h)`` (or ``1{T(k) > h} -
        1{T(0) > h}``) of k = 1..K, shape (n, K); their mean given X is :meth:`true_cate`."""
        target = check_target(target)
        h = check_horizon(horizon, target)
        times = self.potential_times
        if target == "survival":
            alive = (times > h).astype(np.float64)
            return alive[:, 1:] - alive[:, :1]
        capped = np.minimum(times, h)
        return capped[:, 1:] - capped[:, :1]

    def to_frame(self) -> pd.DataFrame:
        """Columns ``X1..X5``, ``time``, ``event`` (0/1), ``W``, ``T0..TK``, ``C`` and
        ``propensity0..propensityK``."""
        columns = {f"X{j + 1}": self.X[:, j] for j in range(self.X.shape[1])}
        columns |= {"time": self.time, "event": self.event.astype(np.int64), "W": self.w}
        columns |= {f"T{k}": self.potential_times[:, k] for k in range(self.n_levels)}
        columns["C"] = self.C
        columns |= {f"propensity{k}": self.propensity[:, k] for k in range(self.n_levels)}
        return pd.DataFrame(columns)


def multi_arm_bench(
    config: str,
    scenario: str,
    n: int = 50_000,
    n_treated: int = 2,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    *,
    effects: str = "distinct",
    legacy: bool = False,
) -> MultiArmSimulation:
    r"""Simulate a K-arm version of a SurvHTE-Bench design, with exact truth for every level.

    A K-arm extension of SurvHTE-Bench (Noroozizadeh et al., ICLR 2026; one of its 8 causal
    configurations x 5 survival scenarios): levels ``0..K`` (``K = n_treated``), covariates,
    hidden confounders, survival families and censoring as in :func:`survhte_bench`, and
    ``n_treated=1`` reproduces :func:`survhte_bench` with the same seed row for row.

    **Event times.** The binary design's parameter is ``b(x) + g(x) w + c``; level k's is
    ``theta_k(x) = b(x) + g_k(x) + c`` (``g_0 = 0``, ``c = 0.5 (U1 - X2)`` in OBS-UConf[-IC],
    else 0), drawn from the scenario's family (A: Weibull-Cox, S(t) = exp(-e^theta t^0.5);
    B, D: log T ~ N(theta, 1); C, E: T ~ Poisson(theta)). The binary effect terms are

    * A: ``g(x) = -0.5 + X2`` (log hazard ratio),
    * B: ``g(x) = 0.7 - 0.4 1{X1 < 0.5} - 0.4 sqrt(X2)`` (log time ratio),
    * C, E: ``g(x) = 2 (sqrt(X1) - 0.3)`` (shift of the Poisson mean),
    * D: ``g(x) = 1 - 0.8 1{X1 < 0.5} - 0.8 sqrt(X2)`` (log time ratio),

    and ``effects`` sets the levels' terms:

    * ``"distinct"`` (default; each level has its own effect modifiers): ``g_k(x) = g(x^{(k)})``
      with ``x^{(k)}`` the covariates rotated by ``k - 1`` places,
      ``x^{(k)}_j = X_{((j + k - 2) mod 5) + 1}``. In A, ``g_k = -0.5 + X_{k+1}`` (X6 = X1);
      in C/E, ``g_k = 2 (sqrt(X_k) - 0.3)``; in B, ``g_k = 0.7 - 0.4 1{X_k < 0.5} - 0.4
      sqrt(X_{k+1})``; D likewise.
    * ``"shared"`` (one effect shape, a dose-response in k): ``g_k(x) = a_k g(x)`` with
      ``a_k = 2k / (K + 1)`` (mean 1 over the levels; ``a_1 = 1`` when K = 1).

    The potential times T(0), ..., T(K) are drawn independently given (X, U).

    **Assignment** ``P(W = k | X)`` (``(n, K + 1)`` in :attr:`~MultiArmSimulation.propensity`):

    * RCT-50: ``1 / (K + 1)`` each; RCT-5: ``0.05`` per treated level, ``1 - 0.05 K`` control.
    * OBS-CPS (multinomial logit on X): ``P(W = k | X) = o_k / (1 + sum_j o_j)`` with the odds
      ``o_k = e(z_k) / (1 - e(z_k))``, ``e(z) = (1 + BetaPDF(z; 2, 4)) / 4`` the binary
      propensity and the score variables ``z_1..z_5 = X1, 1 - X1, X2, 1 - X2, X3``. As
      ``1/3 <= o_k <= 3.49``, every probability is at least ``(1/3) / (1 + 3.49 K)``
      (>= 0.018 at K = 5): positivity holds.
    * OBS-UConf: as OBS-CPS with ``z_k`` replaced by ``0.3 z_k + 0.7 u_k``, ``u_k = U1`` for odd
      k and ``1 - U1`` for even k (hidden confounding, as in the binary design).
    * OBS-NoPos: ``X1 < 0.2``: control only; ``X1 > 0.8``: the K treated levels, ``1 / K`` each;
      otherwise ``1 / (K + 1)`` each (positivity violated, as in the binary design).

    With K = 1 the binary rules are used as they are (same draws). For K >= 2 the level is drawn
    by inversion of one uniform per row against the cumulative probabilities.

    **Censoring** as in the originals, the treated levels sharing the binary treated arm's
    mechanism: A ``Uniform(0, 3)``; B, D Weibull-Cox (shape 2) with the treatment term multiplied
    by ``1{W >= 1}``; C, E independent of W; the -IC configurations
    ``C ~ Exponential(rate = 0.1 + 0.05 T)``, ``T = T(W)``.

    **Truth.** :meth:`~MultiArmSimulation.true_cate` returns the exact
    ``tau_k(x) = E[min(T(k), h) - min(T(0), h) | X = x]`` (``"rmst"``) or
    ``P(T(k) > h | x) - P(T(0) > h | x)`` (``"survival"``), shape (n, K), from the binary
    designs' closed forms (incomplete gamma, normal CDF, Poisson CDF) with U1 integrated out
    by Gauss-Legendre quadrature in OBS-UConf[-IC].

    Parameters
    ----------
    config : str
        One of :data:`CONFIGS`.
    scenario : str
        One of :data:`SCENARIOS`.
    n : int, default 50_000
        Number of rows.
    n_treated : int, default 2
        K, the number of treated levels, 1 to 5.
    random_state : int, Generator, SeedSequence or None
        Seed, as in :func:`survhte_bench`.
    effects : {"distinct", "shared"}, default "distinct"
        How the treated levels' effect terms relate (above).
    legacy : bool, default False
        Draw from ``numpy.random.RandomState`` as :func:`survhte_bench` does with
        ``legacy=True``.

    Returns
    -------
    MultiArmSimulation
        A :class:`SurvivalSimulation` with ``w`` in ``0..K``, ``potential_times`` (n, K + 1),
        ``propensity`` (n, K + 1) and ``true_cate`` of shape (n, K).

    Raises
    ------
    ValueError
        If an argument is invalid (the message names it and the valid values).

    Notes
    -----
    Draw order (each on the whole sample, as :func:`survhte_bench`): X, U, W (K = 1: the binary
    generator's ``binomial``; K >= 2: ``random(n)``), then for k = 0..K a ``normal(size=n)``
    followed by the family's draw (``uniform`` for A, ``poisson`` for C, E), then C.

    Examples
    --------
    >>> from survhte.simulate import multi_arm_bench
    >>> d = multi_arm_bench("OBS-CPS", "A", n=1_000, n_treated=3, random_state=0)
    >>> d.true_cate("rmst", 1.0).shape, sorted(set(d.w.tolist()))
    ((1000, 3), [0, 1, 2, 3])
    """
    config, scenario = check_config(config), check_scenario(scenario)
    n = check_n(n)
    n_treated = check_n_treated(n_treated)
    effects = check_effects(effects)
    rng = _stream(random_state, legacy)

    X = rng.random((n, N_FEATURES))
    U = 1 - rng.random((n, 2))
    probs = multi_arm_propensity(config, X, U, n_treated)
    base = base_config(config)
    if n_treated == 1 and base in RCT_TREATED_FRACTION:
        w = rng.binomial(1, RCT_TREATED_FRACTION[base], n)
    elif n_treated == 1:
        w = rng.binomial(1, probs[:, 1])
    else:
        cumulative = np.cumsum(probs, axis=1)[:, :-1]
        w = (rng.random(n)[:, None] >= cumulative).sum(axis=1)
    w = w.astype(np.int64)

    shift = confounding_shift(config, X, U[:, 0])
    times = np.column_stack([
        _draw_event_time(rng, scenario, arm_parameter(scenario, X, k, n_treated, effects, shift))
        for k in range(n_treated + 1)
    ])
    T = times[np.arange(n), w]
    C = _draw_censoring_time(rng, config, scenario, X, (w >= 1).astype(np.int64), T)
    return MultiArmSimulation(
        X=X,
        time=np.minimum(T, C),
        event=T <= C,
        w=w,
        T0=times[:, 0],
        T1=times[:, 1],
        C=C,
        propensity=probs,
        U=U,
        config=config,
        scenario=scenario,
        potential_times=times,
        n_treated=n_treated,
        effects=effects,
    )
