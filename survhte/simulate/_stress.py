r"""Stress designs: harder than SurvHTE-Bench, with exact conditional truth.

The SurvHTE-Bench designs have 5 covariates and near-linear effects; estimator defaults tuned on
them can be worse than predicting the average effect for everyone on data with more covariates,
nonlinear effects, heavy censoring or small arms. These designs exercise exactly that.

Every design draws event times from a Weibull proportional-hazards model per treatment level
``k = 0..K``,

.. math::

    S_k(t \mid x) = \exp\{-(t / \lambda)^{\kappa}\, e^{\eta_k(x)}\}, \qquad
    \eta_k(x) = f(x) + g_k(x), \quad g_0 \equiv 0,

with a nonlinear prognostic term ``f`` and nonlinear log-hazard-ratio terms ``g_k``, so the
truth is closed form: with :math:`a = e^{\eta} / \lambda^{\kappa}`,
:math:`E[\min(T, h)] = \Gamma(1/\kappa)\, P(1/\kappa, a h^{\kappa}) / (\kappa a^{1/\kappa})`
(``P`` the regularised lower incomplete gamma function) and :math:`P(T > h) = e^{-a h^\kappa}`.
Censoring is the earlier of administrative censoring (uniform staggered entry) and dropout
(exponential with a rate depending on ``X``, and on ``W`` in the confounded design), so it is
independent of ``T`` given ``(X, W)``: the effects are identified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gamma, gammainc

from .._validation import check_target

_SURVIVAL_DTYPE = np.dtype([("event", np.bool_), ("time", np.float64)])

#: Weibull scale ``lambda`` (months) and shape ``kappa`` shared by every design.
_SCALE, _SHAPE = 30.0, 1.3


@dataclass(frozen=True)
class _Design:
    """One stress design's constants (see :data:`STRESS_DESIGNS` for the descriptions)."""

    description: str
    n: int
    p: int
    n_treated: int
    horizon: float
    admin: tuple[float, float]
    dropout: float
    treated_share: float | None = None
    confounded: bool = False
    effect: str = "nonlinear"
    effect_scale: float = 1.0


#: The stress designs by name, each with its defaults (``n``, covariates, levels, horizon).
STRESS_DESIGNS: dict[str, _Design] = {
    "nonlinear": _Design(
        "15 covariates (9 correlated Gaussian, 6 binary), nonlinear prognosis and effect, "
        "randomised 1:1, ~48% censored, RMST / survival at 24 months",
        n=4000, p=15, n_treated=1, horizon=24.0, admin=(24.0, 60.0), dropout=0.008,
        treated_share=0.5),
    "confounded": _Design(
        "15 covariates, nonlinear propensity (overlap ~0.07-0.93), nonlinear effect, dropout "
        "depending on X and W, ~50% censored, horizon 24",
        n=4000, p=15, n_treated=1, horizon=24.0, admin=(24.0, 60.0), dropout=0.01,
        confounded=True),
    "heavy_censoring": _Design(
        "10 covariates, nonlinear effect, randomised 1:1, ~75% censored (short staggered "
        "follow-up, high dropout), horizon 15",
        n=4000, p=10, n_treated=1, horizon=15.0, admin=(15.0, 30.0), dropout=0.05,
        treated_share=0.5),
    "small_arm": _Design(
        "10 covariates, nonlinear effect, randomised with 12% treated, ~43% censored, "
        "horizon 24",
        n=3000, p=10, n_treated=1, horizon=24.0, admin=(24.0, 60.0), dropout=0.008,
        treated_share=0.12),
    "trial_4arm": _Design(
        "4 arms (control + 3 regimens, ~1,000 rows each), 13 covariates, arm-specific "
        "nonlinear effects at half the other designs' size (a trial-size signal), randomised "
        "1:1:1:1, ~50% censored, RMST at 24 months",
        n=4000, p=13, n_treated=3, horizon=24.0, admin=(24.0, 60.0), dropout=0.008,
        treated_share=0.25, effect_scale=0.5),
    "null": _Design(
        "10 covariates, nonlinear prognosis, no treatment effect at all (tau = 0 for both "
        "targets), randomised 1:1, ~41% censored, horizon 24",
        n=2000, p=10, n_treated=1, horizon=24.0, admin=(24.0, 60.0), dropout=0.008,
        treated_share=0.5, effect="none"),
}


@dataclass(frozen=True, eq=False)
class StressSimulation:
    """A simulated stress-design dataset with its exact conditional truth.

    Returned by :func:`stress_design`.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        Covariates: the first ``ceil(0.6 p)`` correlated standard Gaussian (AR(1), 0.3), the
        rest binary (``P = 0.4``).
    time, event : ndarray of shape (n,)
        Observed ``min(T, C)`` and ``1{T <= C}``.
    w : ndarray of shape (n,), int64
        Treatment level ``0..K`` (0 the control).
    propensity : ndarray of shape (n, K + 1)
        True ``P(W = k | X)``.
    log_hazard : ndarray of shape (n, K + 1)
        :math:`\\eta_k(X_i)`, the log relative hazard of each level.
    horizon : float
        The design's horizon (every arm followed up beyond it).
    name : str

    Examples
    --------
    >>> from survhte.simulate import stress_design
    >>> s = stress_design("small_arm", n=1000, random_state=0)
    >>> s.X.shape, round(float(s.w.mean()), 2)                  # 12% treated in expectation
    ((1000, 10), 0.11)
    >>> s.true_cate("rmst").shape                              # at the design's horizon
    (1000,)
    """

    X: np.ndarray
    time: np.ndarray
    event: np.ndarray
    w: np.ndarray
    propensity: np.ndarray
    log_hazard: np.ndarray
    horizon: float
    name: str
    feature_names: list[str] = field(default_factory=list)

    @property
    def y(self) -> np.ndarray:
        """Structured array with fields ``event`` (bool) and ``time`` (float64)."""
        y = np.empty(self.time.shape[0], dtype=_SURVIVAL_DTYPE)
        y["event"] = self.event
        y["time"] = self.time
        return y

    @property
    def n_treated(self) -> int:
        """``K``, the number of treated levels."""
        return self.log_hazard.shape[1] - 1

    @property
    def n_levels(self) -> int:
        """``K + 1``, the number of treatment levels including the control."""
        return self.log_hazard.shape[1]

    def potential_outcome_mean(self, level: int, target: str = "rmst",
                               horizon: float | None = None) -> np.ndarray:
        """``E[min(T(k), h) | X]`` (``"rmst"``) or ``P(T(k) > h | X)`` (``"survival"``).

        Returns
        -------
        ndarray of shape (n,)
        """
        target = check_target(target)
        h = self._horizon(horizon)
        if not 0 <= int(level) < self.n_levels:
            raise ValueError(f"level must be in 0..{self.n_levels - 1}; got {level!r}.")
        rate = np.exp(self.log_hazard[:, int(level)]) / _SCALE**_SHAPE
        if target == "survival":
            return np.exp(-rate * h**_SHAPE)
        inv = 1.0 / _SHAPE
        return gamma(inv) * gammainc(inv, rate * h**_SHAPE) / (_SHAPE * rate**inv)

    def true_cate(self, target: str = "rmst", horizon: float | None = None) -> np.ndarray:
        """Conditional effect of each treated level vs the control (noiseless truth).

        ``E[min(T(k), h) - min(T(0), h) | X]`` or ``P(T(k) > h | X) - P(T(0) > h | X)``;
        ``horizon=None`` is the design's :attr:`horizon`.

        Returns
        -------
        ndarray of shape (n,) for one treated level, (n, K) for several
        """
        base = self.potential_outcome_mean(0, target, horizon)
        effects = np.column_stack(
            [self.potential_outcome_mean(k, target, horizon) - base
             for k in range(1, self.n_levels)]
        )
        return effects[:, 0] if effects.shape[1] == 1 else effects

    def to_frame(self) -> pd.DataFrame:
        """Covariates, ``time``, ``event`` (0/1) and ``W``, one row per unit."""
        frame = pd.DataFrame(self.X, columns=self.feature_names)
        frame["time"] = self.time
        frame["event"] = self.event.astype(np.int64)
        frame["W"] = self.w
        return frame

    def _horizon(self, horizon: float | None) -> float:
        if horizon is None:
            return self.horizon
        h = float(horizon)
        if not np.isfinite(h) or h <= 0:
            raise ValueError(f"horizon must be a positive finite number; got {horizon!r}.")
        return h


def _covariates(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    n_gauss = int(np.ceil(0.6 * p))
    cov = 0.3 ** np.abs(np.subtract.outer(np.arange(n_gauss), np.arange(n_gauss)))
    gauss = rng.standard_normal((n, n_gauss)) @ np.linalg.cholesky(cov).T
    binary = (rng.random((n, p - n_gauss)) < 0.4).astype(np.float64)
    return np.column_stack([gauss, binary])


def _prognosis(X: np.ndarray, n_gauss: int) -> np.ndarray:
    """``f(x)``: nonlinear in the Gaussian covariates, with a binary one and an interaction."""
    x, b = X[:, :n_gauss], X[:, n_gauss:]
    return (0.5 * x[:, 0] - 0.3 * x[:, 1] ** 2 + 0.4 * np.sin(np.pi * x[:, 2] / 2)
            + 0.3 * x[:, 3] * x[:, 4] + 0.4 * b[:, 0] - 0.2)


def _effects(X: np.ndarray, n_gauss: int, n_treated: int, kind: str) -> np.ndarray:
    """``g_k(x)``, the log hazard ratio of each treated level vs the control, (n, K)."""
    x, b = X[:, :n_gauss], X[:, n_gauss:]
    if kind == "none":
        return np.zeros((X.shape[0], n_treated))
    terms = [
        # benefit concentrated at low x1 and in stratum b2, harm at high x6
        -0.5 + 0.8 * np.tanh(1.5 * x[:, 0]) - 0.6 * b[:, 1] + 0.5 * (x[:, 5] > 0.5),
        # a threshold in x2 and a sinusoid in x3
        -0.3 - 0.7 * (x[:, 1] < -0.3) + 0.5 * np.sin(np.pi * x[:, 2]),
        # an interaction and a binary modifier
        0.1 - 0.6 * x[:, 3] * (x[:, 0] > 0) - 0.5 * b[:, 2],
    ]
    return np.column_stack([terms[k % len(terms)] for k in range(n_treated)])


def _assignment(rng: np.random.Generator, X: np.ndarray, n_gauss: int, design: _Design
                ) -> tuple[np.ndarray, np.ndarray]:
    n, k1 = X.shape[0], design.n_treated + 1
    if design.confounded:
        x, b = X[:, :n_gauss], X[:, n_gauss:]
        logit = 0.9 * np.sin(x[:, 0]) - 0.5 * x[:, 1] * b[:, 0] + 0.4 * (x[:, 2] > 0.5) - 0.1
        p1 = 0.07 + 0.86 / (1.0 + np.exp(-2.0 * logit))
        probs = np.column_stack([1.0 - p1, p1])
    else:
        share = float(design.treated_share)
        probs = np.full((n, k1), share)
        probs[:, 0] = 1.0 - share * design.n_treated
    cum = np.cumsum(probs, axis=1)
    w = (rng.random(n)[:, None] > cum[:, :-1]).sum(axis=1).astype(np.int64)
    return w, probs


def stress_design(name: str, n: int | None = None, random_state: Any = None) -> StressSimulation:
    """Draw one stress design: more covariates, nonlinear effects, heavy censoring, small arms.

    Parameters
    ----------
    name : str
        One of :data:`STRESS_DESIGNS`: ``"nonlinear"``, ``"confounded"``,
        ``"heavy_censoring"``, ``"small_arm"``, ``"trial_4arm"``, ``"null"``.
    n : int, optional
        Rows; default the design's own (4,000, or 3,000 / 2,000 for ``small_arm`` / ``null``).
    random_state : int, numpy Generator or None

    Returns
    -------
    StressSimulation
        Data (``X``, ``y``, ``w``) with the exact :meth:`~StressSimulation.true_cate`.

    Examples
    --------
    >>> from survhte.simulate import stress_design
    >>> d = stress_design("nonlinear", n=500, random_state=0)
    >>> d.X.shape, d.true_cate("rmst").shape
    ((500, 15), (500,))
    """
    if name not in STRESS_DESIGNS:
        raise ValueError(f"name must be one of {sorted(STRESS_DESIGNS)}; got {name!r}.")
    design = STRESS_DESIGNS[name]
    if n is None:
        n = design.n
    smallest = 2 * (design.n_treated + 1)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < smallest:
        raise ValueError(f"n must be an integer >= {smallest}; got {n!r}.")
    rng = np.random.default_rng(random_state)
    n = int(n)
    X = _covariates(rng, n, design.p)
    n_gauss = int(np.ceil(0.6 * design.p))
    w, probs = _assignment(rng, X, n_gauss, design)
    eta = _prognosis(X, n_gauss)[:, None] + np.column_stack(
        [np.zeros(n), design.effect_scale * _effects(X, n_gauss, design.n_treated, design.effect)]
    )
    own = eta[np.arange(n), w]
    # Weibull PH by inversion: S(T) = U  <=>  T = lambda (-log U / e^eta)^(1/kappa)
    t_event = _SCALE * (-np.log(rng.random(n)) / np.exp(own)) ** (1.0 / _SHAPE)
    admin = rng.uniform(*design.admin, size=n)
    drop_rate = design.dropout * np.exp(0.3 * X[:, 0] - 0.3 * X[:, -1]
                                        + (0.4 * (w > 0) if design.confounded else 0.0))
    dropout = rng.exponential(1.0 / drop_rate)
    censor = np.minimum(admin, dropout)
    names = [f"X{j + 1}" for j in range(design.p)]
    return StressSimulation(
        X=X, time=np.minimum(t_event, censor), event=t_event <= censor, w=w,
        propensity=probs, log_hazard=eta, horizon=design.horizon, name=name,
        feature_names=names,
    )
