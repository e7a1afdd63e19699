"""Container for one simulated SurvHTE-Bench dataset and its ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import check_target
from ._checks import check_horizon
from ._truth import conditional_cate, conditional_potential_outcome

SURVIVAL_DTYPE = np.dtype([("event", np.bool_), ("time", np.float64)])
"""scikit-survival style structured dtype of :attr:`SurvivalSimulation.y`."""


@dataclass(frozen=True, eq=False)
class SurvivalSimulation:
    """A simulated censored-survival dataset with its causal ground truth.

    Returned by :func:`survhte_bench`, the generator of the 40 synthetic designs of
    SurvHTE-Bench (Noroozizadeh et al., ICLR 2026).

    Attributes
    ----------
    X : ndarray of shape (n, 5), float64
        Observed covariates X1..X5.
    time : ndarray of shape (n,), float64
        Observed time min(T, C), with T = T(W) the factual event time.
    event : ndarray of shape (n,), bool
        Event indicator 1{T <= C}.
    w : ndarray of shape (n,), int64
        Treatment W in {0, 1}.
    T0, T1 : ndarray of shape (n,), float64
        Potential event times T(0) and T(1), drawn independently given (X, U).
    C : ndarray of shape (n,), float64
        Censoring time (``inf`` = never censored, scenario C).
    propensity : ndarray of shape (n,), float64
        True P(W = 1 | X) (P(W = 1 | X, U) in the OBS-UConf configurations).
    U : ndarray of shape (n, 2), float64
        Unobserved confounders U1, U2. Never features: only U1 enters, and only in
        the OBS-UConf configurations (treatment and event times).
    config : str
        Causal configuration, one of :data:`CONFIGS`.
    scenario : str
        Survival scenario, one of :data:`SCENARIOS`.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("OBS-CPS", "A", n=500, random_state=0)
    >>> d.X.shape, d.config, d.scenario
    ((500, 5), 'OBS-CPS', 'A')
    >>> tau = d.true_cate("rmst", 1.0)      # E[min(T1, 1) - min(T0, 1) | X], exact
    >>> tau.shape
    (500,)
    """

    X: np.ndarray
    time: np.ndarray
    event: np.ndarray
    w: np.ndarray
    T0: np.ndarray
    T1: np.ndarray
    C: np.ndarray
    propensity: np.ndarray
    U: np.ndarray
    config: str
    scenario: str

    @property
    def y(self) -> np.ndarray:
        """Structured array with fields ``event`` (bool) and ``time`` (float64)."""
        y = np.empty(self.time.shape[0], dtype=SURVIVAL_DTYPE)
        y["event"] = self.event
        y["time"] = self.time
        return y

    @property
    def T(self) -> np.ndarray:
        """Factual event time T = T(W), shape (n,)."""
        return np.where(self.w == 1, self.T1, self.T0)

    def potential_outcome_mean(
        self, w: int, target: str = "rmst", horizon: float | None = None
    ) -> np.ndarray:
        """Conditional mean of arm ``w``'s outcome given each row's X.

        ``E[min(T(w), h) | X]`` for ``target="rmst"`` (``horizon=None`` or ``inf``: the
        untruncated E[T(w) | X]) and ``P(T(w) > h | X)`` for ``target="survival"``.
        See :func:`conditional_potential_outcome`.

        Returns
        -------
        ndarray of shape (n,)
        """
        return conditional_potential_outcome(
            self.config, self.scenario, self.X, w, target=target, horizon=horizon
        )

    def true_cate(self, target: str = "rmst", horizon: float | None = None) -> np.ndarray:
        """Conditional average treatment effect tau(X) of each row (noiseless truth).

        ``tau(x) = E[min(T(1), h) - min(T(0), h) | X = x]`` for ``target="rmst"``
        (``horizon=None`` or ``inf``: E[T(1) - T(0) | X = x]) and
        ``P(T(1) > h | X = x) - P(T(0) > h | X = x)`` for ``target="survival"``
        (finite ``horizon`` required). U is integrated out, so in the OBS-UConf
        configurations this is the effect given the observed X only.
        See :func:`conditional_cate`.

        Returns
        -------
        ndarray of shape (n,)
        """
        return conditional_cate(self.config, self.scenario, self.X, target=target, horizon=horizon)

    def individual_effect(self, horizon: float | None = None, target: str = "rmst") -> np.ndarray:
        """Per-row realized effect, the quantity SurvHTE-Bench scores against.

        ``min(T1, h) - min(T0, h)`` for ``target="rmst"`` (``horizon=None`` or ``inf``:
        the untruncated ``T1 - T0``, the benchmark's default) and
        ``1{T1 > h} - 1{T0 > h}`` for ``target="survival"`` (finite ``horizon``
        required). The benchmark's horizons are quantiles of the factual time,
        e.g. ``np.quantile(sim.T, 0.5)``. Its mean given X is :meth:`true_cate`.

        Returns
        -------
        ndarray of shape (n,), float64
        """
        target = check_target(target)
        h = check_horizon(horizon, target)
        if target == "survival":
            return (self.T1 > h).astype(np.float64) - (self.T0 > h).astype(np.float64)
        return np.minimum(self.T1, h) - np.minimum(self.T0, h)

    def to_frame(self) -> pd.DataFrame:
        """The dataset as a DataFrame, one row per unit.

        Columns ``X1..X5``, ``time``, ``event`` (0/1), ``W``, then the truth columns
        ``T0``, ``T1``, ``C`` and ``propensity``. U is left out (never a feature).
        """
        columns = {f"X{j + 1}": self.X[:, j] for j in range(self.X.shape[1])}
        columns |= {
            "time": self.time,
            "event": self.event.astype(np.int64),
            "W": self.w,
            "T0": self.T0,
            "T1": self.T1,
            "C": self.C,
            "propensity": self.propensity,
        }
        return pd.DataFrame(columns)
