r"""Acharki et al.'s multi-valued treatment designs as survival data, with exact truth per level.

Acharki, Lugo, Bertoncello and Garnier, "Comparison of meta-learners for estimating multi-valued
treatment heterogeneous effects", ICML 2023 (arXiv:2205.14714; their code: the R scripts of
``nacharki/multipleT-MetaLearners``, appendices D1-D5). ``K`` treatment levels
``w_k = k / (K - 1)``, ``k = 0..K-1`` (level 0 the control), and an outcome

.. math::

    Y(w) = \mu_w(x) + \varepsilon, \qquad \varepsilon \sim N(0, 0.05^2),

* ``"linear"``: X ~ Uniform(0, 1) (one covariate), :math:`\mu_w(x) = (1 + w) x`, so
  :math:`\tau_k(x) = w_k x` (their appendices D1, D2; K = 10 in the paper);
* ``"hazard_rate"``: X ~ N(0, I_5), :math:`\mu_w(x) = w + r e^{-w r}` with
  :math:`r = \lVert x \rVert_2`, so :math:`\tau_k(x) = w_k + r (e^{-w_k r} - 1)` (appendices
  D3-D5; n = 10,000 and K from 3 to 50 in D5).

Here the event time is the paper's outcome moved by one time unit, ``T(w) = 1 + Y(w)``, so
times are positive (``T < 0`` needs :math:`\varepsilon < -20`, probability below 1e-88; the
draws are clipped at 0 all the same) and the untruncated mean effect
:math:`E[T(w_k) - T(0) \mid x]` is the paper's :math:`\tau_k(x)` exactly: a learner that is
equivariant to a shift of the outcome (trees, least squares) scores the paper's mPEHE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import special

from .._validation import check_target
from ._checks import check_horizon, check_n
from ._data import SURVIVAL_DTYPE

ACHARKI_DESIGNS: tuple[str, ...] = ("linear", "hazard_rate")
"""Acharki et al.'s two synthetic designs (see :func:`acharki_design`)."""

ACHARKI_CENSORING: tuple[str | None, ...] = (None, "uniform", "covariate")
"""Censoring added to the designs (the paper's outcomes are uncensored)."""

NOISE_SD = 0.05
"""Standard deviation of the outcome noise (the paper's N(0, 0.05^2))."""

TIME_OFFSET = 1.0
"""T(w) = TIME_OFFSET + Y(w): the paper's outcome moved to positive times."""

MAX_LEVELS = 50
"""Most treatment levels (the paper's sweep goes from 3 to 50)."""

#: Upper end of the uniform censoring time C ~ Uniform(1, c_max) (~30% censored).
_UNIFORM_MAX = {"linear": 3.5, "hazard_rate": 6.0}
#: Base rate of the covariate-dependent censoring (~29% / ~27% censored).
_COVARIATE_RATE = {"linear": 0.15, "hazard_rate": 0.08}
_N_FEATURES = {"linear": 1, "hazard_rate": 5}


def _check_name(name: object) -> str:
    if name not in ACHARKI_DESIGNS:
        raise ValueError(f"name must be one of {list(ACHARKI_DESIGNS)}; got {name!r}")
    return str(name)


def _check_levels(n_levels: object) -> int:
    if (
        isinstance(n_levels, bool)
        or not isinstance(n_levels, Integral)
        or not 2 <= n_levels <= MAX_LEVELS
    ):
        raise ValueError(
            f"n_levels must be an integer 2..{MAX_LEVELS} (levels including the control); "
            f"got {n_levels!r}"
        )
    return int(n_levels)


def _uniform_score(name: str, X: np.ndarray) -> np.ndarray:
    """F(X1), X1's distribution function at each row: Uniform(0, 1) under both designs."""
    return X[:, 0] if name == "linear" else special.ndtr(X[:, 0])


def acharki_mean(name: str, X: np.ndarray, dose: np.ndarray | float) -> np.ndarray:
    """``mu_w(x)`` of design ``name`` (the paper's noiseless outcome; ``dose`` broadcasts)."""
    if name == "linear":
        return (1 + dose) * X[:, 0]
    r = np.linalg.norm(X, axis=1)
    return dose + r * np.exp(-dose * r)


def _normal_functional(mean: np.ndarray, target: str, h: float) -> np.ndarray:
    """E[min(T, h)] or P(T > h) for T ~ N(mean, NOISE_SD^2).

    E[min(T, h)] = m - E[(T - h)^+] = m - (m - h) Phi(d) - s phi(d), d = (m - h) / s.
    """
    if math.isinf(h):
        return mean
    d = (mean - h) / NOISE_SD
    tail = special.ndtr(d)
    if target == "survival":
        return tail
    density = np.exp(-0.5 * d**2) / math.sqrt(2 * math.pi)
    return mean - (mean - h) * tail - NOISE_SD * density


@dataclass(frozen=True, eq=False)
class AcharkiSimulation:
    """A simulated Acharki et al. design with exact truth for every level; see
    :func:`acharki_design`.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        Covariates (p = 1 for ``"linear"``, 5 for ``"hazard_rate"``).
    time, event : ndarray of shape (n,)
        Observed ``min(T, C)`` and ``1{T <= C}`` (all True when uncensored).
    w : ndarray of shape (n,), int64
        Level index ``k`` in ``0..K-1`` (0 the control); the dose is ``levels[w]``.
    levels : ndarray of shape (K,)
        The doses ``w_k = k / (K - 1)``.
    potential_times : ndarray of shape (n, K)
        T(w_0), ..., T(w_{K-1}), independent given X.
    C : ndarray of shape (n,)
        Censoring time (``inf`` when uncensored).
    propensity : ndarray of shape (n, K)
        True generalized propensity P(W = k | X).
    name : str
    censoring : str or None
    confounding : bool
    """

    X: np.ndarray
    time: np.ndarray
    event: np.ndarray
    w: np.ndarray
    levels: np.ndarray
    potential_times: np.ndarray
    C: np.ndarray
    propensity: np.ndarray
    name: str
    censoring: str | None
    confounding: bool

    @property
    def y(self) -> np.ndarray:
        """Structured array with fields ``event`` (bool) and ``time`` (float64)."""
        y = np.empty(self.time.shape[0], dtype=SURVIVAL_DTYPE)
        y["event"] = self.event
        y["time"] = self.time
        return y

    @property
    def n_levels(self) -> int:
        """K, the number of levels including the control."""
        return self.levels.shape[0]

    @property
    def n_treated(self) -> int:
        """K - 1, the number of treated levels."""
        return self.n_levels - 1

    @property
    def T(self) -> np.ndarray:
        """Factual event time T = T(w_W), shape (n,)."""
        return np.take_along_axis(self.potential_times, self.w[:, None], axis=1)[:, 0]

    @property
    def Y(self) -> np.ndarray:
        """The paper's factual outcome ``T - 1`` (uncensored designs: what the paper fits)."""
        return self.T - TIME_OFFSET

    def potential_outcome_mean(
        self, level: int, target: str = "rmst", horizon: float | None = None
    ) -> np.ndarray:
        """E[min(T(w_k), h) | X] (``"rmst"``; ``horizon=None``: E[T(w_k) | X]) or
        P(T(w_k) > h | X) (``"survival"``) of level index ``level``, shape (n,).

        T(w_k) given X is normal with mean ``1 + mu_{w_k}(X)`` and sd 0.05, so
        E[min(T, h)] = m - (m - h) Phi(d) - 0.05 phi(d) and P(T > h) = Phi(d),
        ``d = (m - h) / 0.05`` (exact; the clipping at 0 changes it by less than 1e-88).
        """
        target = check_target(target)
        h = check_horizon(horizon, target)
        if isinstance(level, bool) or not isinstance(level, Integral) or not (
            0 <= level < self.n_levels
        ):
            raise ValueError(f"level must be an integer 0..{self.n_levels - 1}; got {level!r}")
        mean = TIME_OFFSET + acharki_mean(self.name, self.X, self.levels[level])
        return _normal_functional(mean, target, h)

    def true_cate(self, target: str = "rmst", horizon: float | None = None) -> np.ndarray:
        """Exact tau_k(X) of the levels k = 1..K-1 vs the control, shape (n, K - 1).

        ``E[min(T(w_k), h) - min(T(0), h) | X]`` (``"rmst"``; ``horizon=None``: the paper's
        untruncated tau_k) or ``P(T(w_k) > h | X) - P(T(0) > h | X)`` (``"survival"``).
        """
        control = self.potential_outcome_mean(0, target, horizon)
        return np.column_stack([
            self.potential_outcome_mean(k, target, horizon) - control
            for k in range(1, self.n_levels)
        ])

    def individual_effect(self, horizon: float | None = None, target: str = "rmst") -> np.ndarray:
        """Per-row realized effects of the levels 1..K-1 vs 0, shape (n, K - 1); their mean
        given X is :meth:`true_cate`."""
        target = check_target(target)
        h = check_horizon(horizon, target)
        if target == "survival":
            alive = (self.potential_times > h).astype(np.float64)
            return alive[:, 1:] - alive[:, :1]
        capped = np.minimum(self.potential_times, h)
        return capped[:, 1:] - capped[:, :1]

    def to_frame(self) -> pd.DataFrame:
        """Covariates ``X1..Xp``, ``time``, ``event`` (0/1), ``W`` (level index) and ``dose``."""
        frame = pd.DataFrame(self.X, columns=[f"X{j + 1}" for j in range(self.X.shape[1])])
        frame["time"] = self.time
        frame["event"] = self.event.astype(np.int64)
        frame["W"] = self.w
        frame["dose"] = self.levels[self.w]
        return frame


def acharki_design(
    name: str,
    n: int = 10_000,
    n_levels: int = 10,
    *,
    censoring: str | None = None,
    confounding: bool = False,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
) -> AcharkiSimulation:
    r"""Simulate Acharki et al.'s linear or "hazard-rate" design as survival data.

    Acharki et al. (ICML 2023) compare meta-learners for multi-valued treatments on two designs
    with ``K`` levels ``w_k = k / (K - 1)``, ``k = 0..K-1``:

    * ``"linear"``: X ~ Uniform(0, 1) (p = 1), ``mu_w(x) = (1 + w) x``, ``tau_k(x) = w_k x``;
    * ``"hazard_rate"``: X ~ N(0, I_5), ``r = ||x||_2``, ``mu_w(x) = w + r exp(-w r)``,
      ``tau_k(x) = w_k + r (exp(-w_k r) - 1)``.

    The event time of level k is ``T(w_k) = 1 + mu_{w_k}(X) + 0.05 eps_k``, ``eps_k ~ N(0, 1)``
    independent over levels: the paper's outcome moved to positive times, so the untruncated
    mean effect ``E[T(w_k) - T(0) | x]`` is the paper's ``tau_k(x)``.

    **Assignment.** Randomised (``confounding=False``): ``P(W = k | X) = 1 / K``. Confounded: the
    paper's biased sampling, which keeps a random half of a randomised population and fills the
    other half with, for each level k, units of level k whose X1 lies in the k-th of K
    equal-probability bins of X1's distribution F (``F(X1) in (k/K, (k+1)/K]``). Its limit, drawn
    here directly (X keeps its distribution), is the generalized propensity

    ``P(W = k | X) = (K + 1) / (2K)`` if X1 is in bin k, ``1 / (2K)`` otherwise

    (the paper's ``K_GPS_unif`` / ``K_GPS_norm``): with probability 1/2 a row takes its X1 bin's
    level, otherwise a level uniformly at random.

    **Censoring** (added here; the paper is uncensored). ``None``: ``C = inf``, every event
    observed. ``"uniform"``: ``C ~ Uniform(1, c_max)`` independent of (X, W), ``c_max = 3.5``
    (linear, ~30% censored) or 6 (hazard-rate, ~27-30%). ``"covariate"``: ``C = 1 + E``,
    ``E ~ Exponential(rate = lambda_0 exp(F(X1) + w))``, depending on the confounder's bin
    and on the dose, independent of T given (X, W); ``lambda_0 = 0.15`` (linear, ~29%) or 0.08
    (hazard-rate, ~27%), so ``P(C > t | X, W) >= exp(-lambda_0 e^2 (t - 1))`` (>= 0.2 at the
    90% quantile of T).

    **Truth.** T(w_k) given X is normal (mean ``1 + mu_{w_k}(X)``, sd 0.05), so
    :meth:`~AcharkiSimulation.true_cate` is closed form for ``"rmst"`` at any horizon
    (``None``: the paper's tau_k) and for ``"survival"``; shape (n, K - 1).

    Parameters
    ----------
    name : {"linear", "hazard_rate"}
    n : int, default 10_000
        Rows (the paper: 2,000 for the linear design, 10,000 for the hazard-rate one).
    n_levels : int, default 10
        K, the number of levels including the control, 2..50 (the paper: 10; 3..50 in D5).
    censoring : {None, "uniform", "covariate"}, default None
    confounding : bool, default False
        Biased-sampling confounding (above) instead of randomised assignment.
    random_state : int, Generator, SeedSequence or None

    Returns
    -------
    AcharkiSimulation
        ``X``, ``y``, ``w`` (level index 0..K-1), ``levels`` (the doses), ``propensity``
        (n, K), ``potential_times`` (n, K) and the exact ``true_cate``.

    Raises
    ------
    ValueError
        If an argument is invalid (the message names it).

    References
    ----------
    Acharki, N., Lugo, R., Bertoncello, A. and Garnier, J. (2023). Comparison of meta-learners
    for estimating multi-valued treatment heterogeneous effects. ICML. arXiv:2205.14714.

    Examples
    --------
    >>> from survhte.simulate import acharki_design
    >>> d = acharki_design("hazard_rate", n=2_000, n_levels=5, censoring="uniform",
    ...                    confounding=True, random_state=0)
    >>> d.X.shape, d.true_cate("rmst", 2.5).shape, d.levels.tolist()
    ((2000, 5), (2000, 4), [0.0, 0.25, 0.5, 0.75, 1.0])
    """
    name = _check_name(name)
    n = check_n(n)
    n_levels = _check_levels(n_levels)
    if censoring not in ACHARKI_CENSORING:
        raise ValueError(f"censoring must be one of {list(ACHARKI_CENSORING)}; got {censoring!r}")
    if not isinstance(confounding, (bool, np.bool_)):
        raise TypeError(f"confounding must be True or False; got {confounding!r}")
    rng = np.random.default_rng(random_state)

    p = _N_FEATURES[name]
    X = rng.random((n, p)) if name == "linear" else rng.standard_normal((n, p))
    levels = np.arange(n_levels) / (n_levels - 1)
    uniform_level = rng.integers(0, n_levels, n)
    if confounding:
        score = _uniform_score(name, X)
        # bin k is F(X1) in (k/K, (k+1)/K]; ceil(K F) - 1 (F = 0 has probability 0: bin 0)
        own_bin = np.clip(np.ceil(n_levels * score).astype(np.int64) - 1, 0, n_levels - 1)
        takes_bin = rng.random(n) < 0.5
        w = np.where(takes_bin, own_bin, uniform_level)
        probs = np.full((n, n_levels), 1 / (2 * n_levels))
        probs[np.arange(n), own_bin] = (n_levels + 1) / (2 * n_levels)
    else:
        w = uniform_level
        probs = np.full((n, n_levels), 1 / n_levels)
    w = w.astype(np.int64)

    means = TIME_OFFSET + np.column_stack([acharki_mean(name, X, dose) for dose in levels])
    times = np.maximum(means + NOISE_SD * rng.standard_normal((n, n_levels)), 0.0)
    T = times[np.arange(n), w]
    if censoring is None:
        C = np.full(n, np.inf)
    elif censoring == "uniform":
        C = rng.uniform(1.0, _UNIFORM_MAX[name], n)
    else:
        rate = _COVARIATE_RATE[name] * np.exp(_uniform_score(name, X) + levels[w])
        C = 1.0 + rng.exponential(1.0 / rate)
    return AcharkiSimulation(
        X=X,
        time=np.minimum(T, C),
        event=T <= C,
        w=w,
        levels=levels,
        potential_times=times,
        C=C,
        propensity=probs,
        name=name,
        censoring=censoring,
        confounding=bool(confounding),
    )
