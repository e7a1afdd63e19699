"""Scores of the causal survival forest (Cui et al. 2023; grf's ``compute_psi``): the outcome
and grid preprocessing and the callers of the score kernels
(:mod:`survhte._kernels.causal_survival_score`).

With the default nuisance forests, each training row's out-of-bag curves ``S(t | X_i, w)``
(both arms) and ``C(t | X_i, W_i)`` are built and reduced to ``E[f(T) | X_i, w]`` and the
score at once, on their jumps only (:func:`forest_scores`): O(n) memory and O(jumps) work
per row, where grf evaluates every curve on the whole failure-time grid (O(n x grid) work;
memory grf issue #763). Plug-in nuisance models give curves on the grid
(:func:`curve_scores`): the training rows are taken in blocks of about
``_BLOCK_VALUES / grid`` rows, so peak memory is O(n + block x grid).
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from .._kernels._jit import chunk_callback
from .._kernels.causal_survival_levels import curve_scores_levels as _curve_levels_kernel
from .._kernels.causal_survival_levels import forest_scores_levels as _forest_levels_kernel
from .._kernels.causal_survival_score import curve_scores as _curve_kernel
from .._kernels.causal_survival_score import forest_scores as _forest_kernel
from .._validation import check_time
from .._warnings import user_stacklevel
from ..config import Progress, phase_label
from ._engine import numba_threads
from ._nuisances import SurvivalNuisance
from ._survival import bounded_grid

# Rows of a block of training rows for plug-in nuisances: block x (grid + 1) values (~64 MB)
# per curve matrix. Results do not depend on it (everything downstream is row-wise).
_BLOCK_VALUES = 1 << 23
# Above this many rows, a grid of more than a tenth of them ("all", or a large cap or grid)
# draws a warning: the scores cost O(n x grid) (n = 5e5 with every distinct time: > 23 min;
# a 1,000-time grid: 12 min in all).
_LARGE_N = 100_000


class Outcome(NamedTuple):
    """grf's preprocessing of ``(time, event)`` for target ``f`` and horizon ``h``.

    ``f_value``: ``f(Y)`` (RMST: ``min(Y, h)``; survival: ``1{not (event and Y <= h)}``);
    ``nuis_time``, ``nuis_event``: what the survival nuisances see (RMST: rows with
    ``Y >= h`` become events at ``h``; survival: unchanged).
    """

    f_value: np.ndarray
    nuis_time: np.ndarray
    nuis_event: np.ndarray


def outcome(target: str, time: np.ndarray, event: np.ndarray, horizon: float) -> Outcome:
    """:class:`Outcome` of ``target`` ("rmst" or "survival") at ``horizon``."""
    if target == "rmst":
        f_value = np.minimum(time, horizon)
        return Outcome(f_value, f_value, event | (time >= horizon))
    return Outcome((~(event & (time <= horizon))).astype(np.float64), time, event)


# The default cap of the nuisance grid (``failure_times=None``): every distinct observed time
# up to the horizon when there are at most this many, else this many at evenly spaced order
# statistics. Measured (benchmarks/csf_grid.py): see the docstring of
# ``CausalSurvivalForest``'s ``failure_times``.
DEFAULT_MAX_GRID = 2000


class ScoreGrid(NamedTuple):
    """The fit's time grid: ``grid`` (0, then the grid times up to the horizon) and
    ``forest_times``, the ``failure_times`` of the default nuisance survival forests (None:
    their own default, the distinct event times they see)."""

    grid: np.ndarray
    forest_times: Any


def score_grid(failure_times: Any, nuis_time: np.ndarray, horizon: float) -> ScoreGrid:
    """:class:`ScoreGrid` of ``failure_times``: ``None`` (a cap of :data:`DEFAULT_MAX_GRID`),
    an integer cap ``G``, ``"all"`` (every distinct time the nuisances see, grf's default) or
    the grid times themselves.

    Under a cap, a data set with more than ``G`` distinct times up to the horizon gets ``G``
    of them evenly spaced in rank (:func:`~survhte.forest._survival.bounded_grid`), and the first
    time after the horizon (if any) so that later events do not round down onto the horizon;
    the nuisance forests get the same grid. Otherwise every distinct time, as with "all".
    """
    forest_times = failure_times
    if failure_times is None or isinstance(failure_times, (int, np.integer)):
        cap = DEFAULT_MAX_GRID if failure_times is None else int(failure_times)
        before = np.unique(nuis_time[nuis_time <= horizon])
        forest_times = None
        times = nuis_time
        if before.size > cap:
            times = bounded_grid(before, cap)
            after = nuis_time[nuis_time > horizon]
            if after.size:
                times = np.append(times, after.min())
            forest_times = times
    elif isinstance(failure_times, str):  # "all"
        forest_times = None
        times = nuis_time
    else:
        times = check_time(np.atleast_1d(np.asarray(failure_times, dtype=np.float64)),
                           name="failure_times")
        if np.any(np.diff(times) <= 0):
            raise ValueError("failure_times must be strictly increasing.")
        if times[0] > nuis_time.min():
            raise ValueError(
                f"failure_times must start on or before the first time "
                f"{nuis_time.min():g}; it starts at {times[0]:g}."
            )
    grid = np.unique(np.concatenate([[0.0], times[times <= horizon]]))
    if np.unique(nuis_time).size <= 2 or grid.size < 2:
        raise ValueError(
            "the number of distinct times before the horizon should be more than 2; "
            f"got grid {grid.tolist()[:5]} for horizon={horizon:g}."
        )
    return ScoreGrid(grid, forest_times)


def score_times(time: np.ndarray, event: np.ndarray, horizon: float, grid: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """``(known, eval_times, rounding)`` of the score kernels: rows with an event or followed
    to the horizon, the evaluation times (grid..., horizon), and each truncated time rounded
    down to the grid (``t_right``: the largest grid time ``<= Y``; ``t_left``: the largest
    ``< Y``; whether there is one)."""
    known = event | (time >= horizon)
    y_trunc = np.minimum(time, horizon)
    eval_times = np.append(grid, horizon)
    k_right = np.searchsorted(grid, y_trunc, side="right") - 1  # largest grid time <= Y
    k_left = np.searchsorted(grid, y_trunc, side="left") - 1  # largest grid time < Y
    return known, eval_times, (grid[k_right], grid[np.maximum(k_left, 0)], k_left >= 0)


def causal_survival_scores(X: np.ndarray, treated: np.ndarray, time: np.ndarray,
                           event: np.ndarray, horizon: float, grid: np.ndarray,
                           f_value: np.ndarray, w_hat: np.ndarray,
                           event_nuisance: SurvivalNuisance,
                           censoring_nuisance: SurvivalNuisance | None, target: str,
                           style: str, n_jobs: int | None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_hat, bracket, C at Y)`` of the training rows: ``m(X_i)``, the score's bracket
    (``psi_i = (W_i - e_i) bracket_i``) and ``C(Y_i | X_i, W_i)``.

    The score truncates at the horizon (survival target: after the nuisances, as grf):
    ``known`` rows had an event or follow-up to ``h``; each ``Y_i`` is rounded down to the
    grid (the largest grid time ``<= Y`` and ``< Y``). Default forests
    (:func:`forest_scores`) or plug-in curves on the grid (:func:`curve_scores`).
    """
    known, eval_times, rounding = score_times(time, event, horizon, grid)
    with Progress(phase_label("causal survival scores"), X.shape[0], "rows") as progress:
        if event_nuisance.fold_of is None and (censoring_nuisance is None
                                               or censoring_nuisance.fold_of is None):
            with chunk_callback(progress.chunk_callback(share=True)):
                return forest_scores(
                    X, treated, event_nuisance.fitted,
                    None if censoring_nuisance is None else censoring_nuisance.fitted,
                    eval_times, rounding, known, f_value, w_hat, target, style)
        return curve_scores(X, treated, event_nuisance, censoring_nuisance, eval_times,
                            rounding, known, f_value, w_hat, target, style, n_jobs, progress)


def forest_scores(X: np.ndarray, treated: np.ndarray, event_forest: Any,
                  censoring_forest: Any, eval_times: np.ndarray,
                  rounding: tuple[np.ndarray, ...], known: np.ndarray, f_value: np.ndarray,
                  w_hat: np.ndarray, target: str, style: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores from the default nuisance forests: out-of-bag curves, row by row, reduced to
    the score at once by ``_kernels.causal_survival_score.forest_scores``: O(jumps) work per
    row, no curve on the grid is formed."""
    n = X.shape[0]
    X0 = np.column_stack([X, np.zeros(n)])
    X1 = np.column_stack([X, np.ones(n)])
    censored = censoring_forest is not None
    c_forest = censoring_forest if censored else event_forest
    nuisances = [part for forest in (event_forest, c_forest)
                 for part in forest._curve_inputs(eval_times)]
    c_limit = np.searchsorted(c_forest.failure_times_, rounding[0], side="right")
    with numba_threads(event_forest.n_jobs):
        y_hat, bracket, c_at_y = _forest_kernel(
            X0, X1, np.where(treated[:, None] > 0.5, X1, X0), treated,
            np.arange(n, dtype=np.int64), *nuisances, censored,
            c_limit.astype(np.int64), eval_times, *rounding, known, f_value, w_hat,
            target == "rmst", style == "grf")
    return y_hat, bracket, c_at_y


def curve_scores(X: np.ndarray, treated: np.ndarray, event_nuisance: SurvivalNuisance,
                 censoring_nuisance: SurvivalNuisance | None, eval_times: np.ndarray,
                 rounding: tuple[np.ndarray, ...], known: np.ndarray, f_value: np.ndarray,
                 w_hat: np.ndarray, target: str, style: str, n_jobs: int | None,
                 progress: Progress | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`forest_scores` for plug-in nuisances: their held-out curves on the grid, block
    of rows by block (O(block x grid) memory), reduced by ``curve_scores``; each block's rows
    counted in ``progress``."""
    n = X.shape[0]
    grid = eval_times[:-1]
    y_hat, bracket, c_at_y = np.empty(n), np.empty(n), np.empty(n)
    step = max(1, _BLOCK_VALUES // eval_times.size)
    for start in range(0, n, step):
        block = slice(start, min(n, start + step))
        size = block.stop - block.start
        s0, s1 = (event_nuisance.curves(X, np.full(size, code), block, eval_times)
                  for code in (0.0, 1.0))
        c_obs = (np.ones((size, grid.size)) if censoring_nuisance is None
                 else censoring_nuisance.curves(X, treated[block], block, grid))
        with numba_threads(n_jobs):
            y_hat[block], bracket[block], c_at_y[block] = _curve_kernel(
                s0, s1, c_obs, treated[block], eval_times, *(r[block] for r in rounding),
                known[block], f_value[block], w_hat[block], target == "rmst", style == "grf")
        if progress is not None:
            progress.update(size)
    return y_hat, bracket, c_at_y


def causal_survival_level_scores(
        X: np.ndarray, design: np.ndarray, codes: np.ndarray, time: np.ndarray,
        event: np.ndarray, horizon: float, grid: np.ndarray, f_value: np.ndarray,
        propensities: np.ndarray, event_nuisance: SurvivalNuisance,
        censoring_nuisance: SurvivalNuisance | None, target: str, style: str,
        n_jobs: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`causal_survival_scores` with treatment levels ``0..K``: ``(y_hat, bracket,
    C at Y, level means)``.

    The nuisances were fitted on ``(X, design)``, ``design`` (n, K) the level indicators
    ``1{W = k}``; ``m(X_i) = sum_k e_k(X_i) E[f(T) | X_i, k]`` with ``propensities`` (n,
    K + 1), and the bracket (``Gamma_i``) uses the curves at the row's observed level
    ``codes``. ``level means`` (n, K + 1) are ``E[f(T) | X_i, k]``. With K = 1 the first three
    equal :func:`causal_survival_scores`' bit for bit
    (``survhte._kernels.causal_survival_levels``).
    """
    n = design.shape[0]
    known, eval_times, rounding = score_times(time, event, horizon, grid)
    codes = codes.astype(np.int64)
    with Progress(phase_label("causal survival scores"), n, "rows") as progress:
        return _level_scores(X, design, codes, known, eval_times, rounding, f_value,
                             propensities, event_nuisance, censoring_nuisance, target, style,
                             n_jobs, progress)


def _level_scores(X: np.ndarray, design: np.ndarray, codes: np.ndarray, known: np.ndarray,
                  eval_times: np.ndarray, rounding: tuple[np.ndarray, ...],
                  f_value: np.ndarray, propensities: np.ndarray,
                  event_nuisance: SurvivalNuisance, censoring_nuisance: SurvivalNuisance | None,
                  target: str, style: str, n_jobs: int | None, progress: Progress
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`causal_survival_level_scores` once the times are set, rows counted in
    ``progress``."""
    n, k = design.shape
    rows_of = np.vstack([np.zeros(k), np.eye(k)])  # the design row of each level
    if event_nuisance.fold_of is None and (censoring_nuisance is None
                                           or censoring_nuisance.fold_of is None):
        event_forest = event_nuisance.fitted
        censored = censoring_nuisance is not None
        c_forest = censoring_nuisance.fitted if censored else event_forest
        X_levels = np.stack([np.column_stack([X, np.broadcast_to(row, (n, k))])
                             for row in rows_of])
        nuisances = [part for forest in (event_forest, c_forest)
                     for part in forest._curve_inputs(eval_times)]
        c_limit = np.searchsorted(c_forest.failure_times_, rounding[0], side="right")
        with numba_threads(event_forest.n_jobs), \
                chunk_callback(progress.chunk_callback(share=True)):
            return _forest_levels_kernel(
                X_levels, np.column_stack([X, design]), codes, np.arange(n, dtype=np.int64),
                *nuisances, censored, c_limit.astype(np.int64), eval_times, *rounding, known,
                f_value, np.ascontiguousarray(propensities), target == "rmst",
                style == "grf")
    grid = eval_times[:-1]
    y_hat, bracket, c_at_y = np.empty(n), np.empty(n), np.empty(n)
    means = np.empty((n, k + 1))
    step = max(1, _BLOCK_VALUES // (eval_times.size * (k + 1)))
    for start in range(0, n, step):
        block = slice(start, min(n, start + step))
        size = block.stop - block.start
        s_levels = np.stack([event_nuisance.curves(X, np.broadcast_to(row, (size, k)), block,
                                                   eval_times) for row in rows_of])
        c_obs = (np.ones((size, grid.size)) if censoring_nuisance is None
                 else censoring_nuisance.curves(X, design[block], block, grid))
        with numba_threads(n_jobs):
            y_hat[block], bracket[block], c_at_y[block], means[block] = _curve_levels_kernel(
                s_levels, c_obs, codes[block], eval_times, *(r[block] for r in rounding),
                known[block], f_value[block], np.ascontiguousarray(propensities[block]),
                target == "rmst", style == "grf")
        progress.update(size)
    return y_hat, bracket, c_at_y, means


def warn_large_grid(n: int, grid: np.ndarray) -> None:
    """Warn when a grid of more than a tenth of ``n > _LARGE_N`` rows makes the scores
    quadratic in ``n``."""
    if n > _LARGE_N and grid.size > 0.1 * n:
        warnings.warn(
            f"{grid.size} grid times for {n} rows: each row's out-of-bag nuisance curves "
            "jump up to once per grid time, so the scores cost O(n x grid), quadratic in "
            f"n. Leave failure_times at its default (a cap of {DEFAULT_MAX_GRID:,} times) "
            "or pass an integer cap to keep it linear.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def warn_censoring(c_at_y: np.ndarray, target: str) -> None:
    """Warn when the censoring survival at ``Y_i`` gets small (the score divides by it)."""
    low = float(np.min(c_at_y))
    strong, mild = (0.05, 0.2) if target == "rmst" else (0.001, 0.05)
    if low < mild:
        warnings.warn(
            f"estimated censoring survival C(Y_i | X_i, W_i) goes as low as {low:.3g}"
            f"{' (below ' + str(strong) + ')' if low <= strong else ''}: the forest "
            "needs P(follow-up past the horizon | X) bounded away from 0; estimates may be "
            "unstable. A smaller horizon helps.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
