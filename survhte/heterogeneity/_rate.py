"""Rank-weighted average treatment effect and the TOC curve (grf's
``rank_average_treatment_effect``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils import check_random_state

from ._inputs import resolve, score_options

RATE_TARGETS = ("AUTOC", "QINI")
DEFAULT_Q = tuple(np.round(np.arange(1, 11) / 10, 10))


@dataclass
class RankAverageTreatmentEffect:
    """Result of :func:`rank_average_treatment_effect`.

    Attributes
    ----------
    target : {"AUTOC", "QINI"}
    estimate : float, or ndarray of shape (K,) for K treated levels
    std_error : float or ndarray of shape (K,)
        Half-sample bootstrap standard error (grf's).
    toc : DataFrame
        The TOC curve on the grid ``q``: columns ``q``, ``estimate``, ``std_error`` (and
        ``level`` with K treated levels).
    levels : list of str
        The treated levels' names.
    n_bootstrap : int

    Examples
    --------
    >>> import numpy as np
    >>> from survhte import rank_average_treatment_effect
    >>> from survhte.simulate import stress_design
    >>> s = stress_design("nonlinear", n=1000, random_state=0)
    >>> rate = rank_average_treatment_effect(s.true_cate("rmst", 24.0), s.X, s.y, s.w,
    ...                                      horizon=24.0, n_bootstrap=50, random_state=0)
    >>> rate.target, rate.toc.shape[0]
    ('AUTOC', 10)
    >>> lower, upper = rate.confidence_interval()
    """

    target: str
    estimate: Any
    std_error: Any
    toc: pd.DataFrame
    levels: list[str] = field(default_factory=list)
    n_bootstrap: int = 200

    def confidence_interval(self, alpha: float = 0.05) -> tuple[Any, Any]:
        """Normal interval ``estimate -+ z_{1 - alpha/2} std_error`` (grf's reporting)."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
        half = stats.norm.ppf(1 - alpha / 2) * np.asarray(self.std_error)
        lower, upper = np.asarray(self.estimate) - half, np.asarray(self.estimate) + half
        if np.ndim(self.estimate) == 0:
            return float(lower), float(upper)
        return lower, upper

    @property
    def p_value(self) -> Any:
        """Two-sided p-value of ``RATE = 0`` (no heterogeneity that the priority ranks)."""
        z = np.asarray(self.estimate) / np.asarray(self.std_error)
        p = 2 * stats.norm.sf(np.abs(z))
        return float(p) if np.ndim(self.estimate) == 0 else p

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per treated level: estimate, std_error, ci_lower, ci_upper, p_value."""
        lower, upper = self.confidence_interval(alpha)
        return pd.DataFrame(
            {"estimate": np.atleast_1d(self.estimate), "std_error": np.atleast_1d(self.std_error),
             "ci_lower": np.atleast_1d(lower), "ci_upper": np.atleast_1d(upper),
             "p_value": np.atleast_1d(self.p_value)},
            index=pd.Index(self.levels or ["1"], name="level"),
        )

    def __repr__(self) -> str:
        lower, upper = self.confidence_interval()
        parts = [f"{self.target} {e:.4g} (SE {s:.3g}; 95% CI {lo:.4g} to {hi:.4g})"
                 for e, s, lo, hi in zip(np.atleast_1d(self.estimate),
                                         np.atleast_1d(self.std_error), np.atleast_1d(lower),
                                         np.atleast_1d(upper), strict=True)]
        if len(parts) > 1:
            parts = [f"level {level}: {part}" for level, part in zip(self.levels, parts,
                                                                     strict=True)]
        return f"RankAverageTreatmentEffect({'; '.join(parts)})"

    def plot(self, ax: Any = None, *, alpha: float = 0.05, **kwargs: Any) -> Any:
        """The TOC curve with its pointwise ``1 - alpha`` band
        (:func:`survhte.plotting.toc_plot`). Returns the Axes."""
        from ..plotting import toc_plot

        return toc_plot(self, ax=ax, alpha=alpha, **kwargs)


def rank_average_treatment_effect(
    estimator_or_priorities: Any,
    X: Any = None,
    y: Any = None,
    w: Any = None,
    *,
    target: str = "AUTOC",
    q: Any = DEFAULT_Q,
    n_bootstrap: int = 200,
    scores: Any = None,
    outcome: str = "rmst",
    horizon: float | None = None,
    control: Any = None,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = None,
) -> RankAverageTreatmentEffect:
    r"""Rank-weighted average treatment effect (RATE) of a prioritisation rule.

    grf's ``rank_average_treatment_effect`` (Yadlowsky, Fleming, Shah, Brunskill & Wager
    2024) with the AIPCW scores of a censored outcome. For a priority :math:`S(X)` (e.g. the
    predicted CATE; larger = treat first) the Targeting Operator Characteristic is

    .. math::

        \mathrm{TOC}(u) = E[\tau(X) \mid F_S(S(X)) \ge 1 - u] - E[\tau(X)],
        \qquad u \in (0, 1],

    the excess effect among the top ``u`` share, and the RATE is its weighted area:
    ``"AUTOC"`` :math:`\int_0^1 \mathrm{TOC}(u)\,du`, ``"QINI"``
    :math:`\int_0^1 u\,\mathrm{TOC}(u)\,du`. Estimated by sorting the doubly robust scores by
    priority (rows with tied priorities get their group's average score, as grf), taking the
    running mean minus the overall mean at ``u = j / n`` and averaging. The standard error is
    grf's half-sample bootstrap: the sd of the statistic over ``n_bootstrap`` subsamples of
    ``floor(n / 2)`` rows drawn without replacement (for a mean this reproduces the full
    sample's variance). A RATE of 0 means the priority finds no heterogeneity: with the
    interval excluding 0 it is an omnibus test of heterogeneity along ``S``.

    The priorities must not come from the rows' own outcomes: use held-out rows, or
    cross-fitted / out-of-bag predictions passed in as the priorities.

    Parameters
    ----------
    estimator_or_priorities : fitted CATE estimator, or array of shape (n,) or (n, K)
        An estimator: the priorities are its ``predict(X)``. An array: the priorities
        themselves (any score; only the order matters), one column per treated level.
    X, y, w : the held-out rows
        For the scores unless ``scores`` is given; ``X`` for an estimator's predictions.
    target : {"AUTOC", "QINI"}, default "AUTOC"
        AUTOC weighs the top of the ranking more (sensitive to a small very-responsive
        group), QINI weighs the whole ranking (broad heterogeneity).
    q : sequence of float, default 0.1, 0.2, ..., 1.0
        The grid of the reported TOC curve: strictly increasing in (0, 1], ending at 1.
    n_bootstrap : int, default 200
        Half-sample replicates for the standard errors (0: no standard errors, NaN).
    scores : array of shape (n,) or (n, K), optional
        Doubly robust scores of the rows (:func:`get_scores`).
    outcome : {"rmst", "survival"}, default "rmst"
        The scores' target (grf's ``target`` names the RATE here); with an estimator, its own.
    horizon, control, outcome_model, censoring_model, propensity_model, n_folds
        Options of the scores (:func:`doubly_robust_scores`); with an estimator, its
        ``horizon_`` and control are used.
    random_state : int, RandomState or None
        Seeds the scores' folds and the bootstrap.

    Returns
    -------
    RankAverageTreatmentEffect
        ``estimate``, ``std_error``, ``confidence_interval(alpha)``, ``p_value``, ``toc``
        (q, estimate, std_error) and ``plot()``.

    References
    ----------
    Yadlowsky, S., Fleming, S., Shah, N., Brunskill, E. & Wager, S. (2024). Evaluating
    treatment prioritization rules via rank-weighted average treatment effects. *JASA*.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte import rank_average_treatment_effect
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=1000, random_state=0)
    >>> rate = rank_average_treatment_effect(d.X[:, 0], d.X, d.y, d.w, horizon=1.0,
    ...                                      random_state=0)
    >>> rate.toc.shape
    (10, 3)
    """
    name = str(target).upper()
    if name not in RATE_TARGETS:
        raise ValueError(f"target must be 'AUTOC' or 'QINI'; got {target!r}.")
    grid = _check_q(q)
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer) \
            or n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be an integer >= 0; got {n_bootstrap!r}.")
    options = score_options(outcome, horizon, control, outcome_model, censoring_model,
                            propensity_model, n_folds, random_state)
    inputs = resolve(estimator_or_priorities, X, y, w, scores, options,
                     first_name="estimator_or_priorities", first_is="predictions")
    psi, priorities = inputs.scores, inputs.predictions
    n, n_levels = psi.shape
    if n < 4:
        raise ValueError(f"the RATE needs at least 4 rows; got {n}.")
    ranks = np.column_stack([stats.rankdata(priorities[:, k], method="dense")
                             for k in range(n_levels)])
    qini = name == "QINI"
    point = np.array([rate_and_toc(psi[:, k], ranks[:, k], grid, qini)
                      for k in range(n_levels)])  # (K, 1 + len(q))
    rng = check_random_state(random_state)
    replicates = np.empty((n_bootstrap, n_levels, 1 + grid.size))
    for b in range(n_bootstrap):
        rows = rng.choice(n, n // 2, replace=False)
        for k in range(n_levels):
            replicates[b, k] = rate_and_toc(psi[rows, k], ranks[rows, k], grid, qini)
    spread = (replicates.std(axis=0, ddof=1) if n_bootstrap >= 2
              else np.full_like(point, np.nan))
    toc = pd.DataFrame({
        "q": np.tile(grid, n_levels),
        "estimate": point[:, 1:].ravel(),
        "std_error": spread[:, 1:].ravel(),
    })
    if n_levels > 1:
        toc.insert(0, "level", np.repeat(inputs.levels, grid.size))
    estimate, std_error = point[:, 0], spread[:, 0]
    if n_levels == 1:
        estimate, std_error = float(estimate[0]), float(std_error[0])
    return RankAverageTreatmentEffect(name, estimate, std_error, toc, inputs.levels,
                                      n_bootstrap)


def _check_q(q: Any) -> np.ndarray:
    grid = np.asarray(q, dtype=np.float64).ravel()
    if grid.size == 0 or np.any(np.diff(grid) <= 0) or grid[0] <= 0 \
            or not np.isclose(grid[-1], 1.0, rtol=0, atol=1e-12):
        raise ValueError(f"q must be a strictly increasing grid in (0, 1] ending at 1; got "
                         f"{grid.tolist()}.")
    grid[-1] = 1.0
    return grid


def rate_and_toc(scores: np.ndarray, ranks: np.ndarray, grid: np.ndarray,
                 qini: bool) -> np.ndarray:
    """``[RATE, TOC(q_1), ..., TOC(q_m)]`` of one sample (grf's ``estimate_rate``, unit
    weights): scores sorted by decreasing priority rank, tied ranks given their group's mean
    score, the TOC at ``u = j / n`` the running mean minus the overall mean, and at a grid
    point ``q`` between ``j / n`` and ``(j + 1) / n`` the next row counted fractionally."""
    order = np.argsort(-ranks, kind="stable")
    sorted_scores = scores[order]
    sorted_ranks = ranks[order]
    starts = np.flatnonzero(np.r_[True, np.diff(sorted_ranks) != 0])
    if starts.size < sorted_scores.size:  # ties: each row gets its group's mean
        sizes = np.diff(np.r_[starts, sorted_scores.size])
        sorted_scores = np.repeat(np.add.reduceat(sorted_scores, starts) / sizes, sizes)
    n = sorted_scores.size
    counts = np.arange(1, n + 1)
    running = np.cumsum(sorted_scores)
    ate = running[-1] / n
    toc = running / counts - ate
    rate = np.sum(counts / n * toc) / n if qini else toc.mean()
    target = grid * n
    full = np.minimum(np.floor(target + 1e-9).astype(np.int64), n)  # whole rows in the top q
    used = np.maximum(full, 1)
    extra = target - used  # fractional share of the next row (negative below one row)
    numerator = running[used - 1] + extra * sorted_scores[np.minimum(full, n - 1)]
    return np.r_[rate, numerator / (used + extra) - ate]
