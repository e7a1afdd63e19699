"""Run one task in a worker: make its data, fit and score the method, return one result row."""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._validation import default_horizon
from ._data import Realization, realize
from ._methods import METHODS
from ._metrics import interval_scores, mean_squared_error
from ._tasks import Task


def execute_task(task: Task) -> dict[str, Any]:
    """Fit ``task``'s method on its design's training rows and score it on the test rows.

    The data are generated (or read) here from the task's seed; only this row goes back.
    An exception raised by the method (fit, predict, intervals) is recorded in ``error``,
    with the metrics left NaN; anything else propagates.

    Parameters
    ----------
    task : Task

    Returns
    -------
    dict
        The columns of :data:`survhte.study.RESULT_COLUMNS`. By metric group:
        ``cate_mse``: ``mse_row`` (vs the per-row effect, as SurvHTE-Bench scores),
        ``mse_cond`` (vs the conditional truth; NaN where unknown) and ``mpehe``
        (``sqrt(mse_cond)``: with K treated levels, Acharki et al.'s mPEHE
        ``sqrt(mean_k mean_i (tau_hat_k - tau_k)^2)``; the MSEs also average over the levels);
        ``ate_bias``: ``ate`` (``est.ate()``, over the training rows), ``ate_row`` /
        ``ate_cond`` (the mean per-row / conditional truth over those rows) and the biases
        ``ate_bias_row`` / ``ate_bias_cond`` (one treated level only: NaN with K >= 2);
        ``coverage``: ``cate_coverage`` / ``cate_width`` (``predict_interval`` on the test rows
        vs the conditional truth; with K levels over all rows and levels), ``ate_lower`` /
        ``ate_upper`` / ``ate_coverage`` / ``ate_width`` (``ate_interval`` vs ``ate_cond``; one
        treated level only), where the method has them;
        ``time``: ``fit_seconds``, ``predict_seconds``, ``interval_seconds`` and the whole
        task's ``task_seconds`` (wall) and ``task_cpu_seconds`` (CPU time of this process:
        data, fit, predict, intervals, scores);
        ``memory``: ``peak_memory_mb`` (peak traced allocation during fit and predict) and
        ``peak_rss_mb`` (growth of the process's resident memory over the whole task, data
        included: the peak RSS, reset at the task's start through ``/proc/self/clear_refs``,
        minus the RSS then; NaN where Linux's ``/proc`` is not available).
    """
    with _rss_growth("memory" in task.metrics) as rss:
        start, cpu_start = time.perf_counter(), time.process_time()
        row = _execute(task)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if "time" in task.metrics:
        row |= {"task_seconds": seconds, "task_cpu_seconds": cpu}
    if "memory" in task.metrics:
        row["peak_rss_mb"] = rss() / 2**20
    return row


def _execute(task: Task) -> dict[str, Any]:
    data_seed, method_seed = task.seeds
    data = realize(task.design, task.repeat, task.sizes, data_seed)
    target = task.estimand.target
    requested = resolve_horizon(task.estimand.horizon, data)
    horizon = min(requested, default_horizon(data.time[data.train], data.w[data.train]))
    row = _identity(task, data, data_seed, method_seed, requested, horizon)
    estimator = METHODS[task.method.method].build(
        target=target, horizon=horizon, random_state=method_seed, **dict(task.method.params)
    )
    try:
        row |= _fit_and_score(task, estimator, data, horizon)
    except Exception as error:  # the method's failure is a result of the study
        row["error"] = f"{type(error).__name__}: {' '.join(str(error).split())}"
    return row


def resolve_horizon(rule: float | str, data: Realization) -> float:
    """The horizon a rule asks for on one realization (before capping at the follow-up).

    A number is itself; ``"median_T"`` and ``"quantile_T:Q"`` are quantiles of the factual
    event time over all rows of the design (SurvHTE-Bench's convention); ``"max_train_time"``
    is the largest observed training time (the benchmark's default, RMST almost untruncated).
    """
    if isinstance(rule, float):
        return rule
    if rule == "max_train_time":
        return float(data.time[data.train].max())
    q = 0.5 if rule == "median_T" else float(rule.removeprefix("quantile_T:"))
    return float(np.quantile(data.factual_time, q))


def _identity(
    task: Task, data: Realization, data_seed: int, method_seed: int, requested: float,
    horizon: float,
) -> dict[str, Any]:
    design = task.design
    return {
        "task_id": task.id,
        "study": task.study,
        "design": design.name,
        "source": design.source,
        "config": design.option("config"),
        "scenario": design.option("scenario"),
        "repeat": task.repeat,
        "method": task.method.name,
        "estimand": task.estimand.label,
        "target": task.estimand.target,
        "horizon_rule": str(task.estimand.horizon),
        "horizon_requested": requested,
        "horizon": horizon,
        "n_train": int(data.train.size),
        "n_test": int(data.test.size),
        "data_seed": data_seed if design.option("random_state") is None
        else design.option("random_state"),
        "method_seed": method_seed,
        "alpha": task.alpha,
        "error": None,
    }


def _fit_and_score(
    task: Task, estimator: Any, data: Realization, horizon: float
) -> dict[str, float]:
    train, test, target = data.train, data.test, task.estimand.target
    y_train = (data.time[train], data.event[train])
    with _peak_memory("memory" in task.metrics) as peak:
        start = time.perf_counter()
        estimator.fit(data.X[train], y_train, data.w[train])
        fitted = time.perf_counter()
        cate = np.asarray(estimator.predict(data.X[test]), dtype=np.float64)
        predicted = time.perf_counter()
    expected = (test.size,) if data.n_treated == 1 else (test.size, data.n_treated)
    if cate.shape != expected:
        raise ValueError(f"predict returned shape {cate.shape}; the design needs {expected}")
    multi_level = data.n_treated > 1
    scores: dict[str, float] = {}
    if "time" in task.metrics:
        scores |= {"fit_seconds": fitted - start, "predict_seconds": predicted - fitted}
    if "memory" in task.metrics:
        scores["peak_memory_mb"] = peak() / 2**20
    conditional_test = data.conditional_effect(target, horizon, test)
    if "cate_mse" in task.metrics:
        scores["mse_row"] = mean_squared_error(
            cate, data.individual_effect(target, horizon, test)
        )
        scores["mse_cond"] = mean_squared_error(cate, conditional_test)
        scores["mpehe"] = math.sqrt(scores["mse_cond"])
    conditional_train = data.conditional_effect(target, horizon, train)
    ate_cond = math.nan if conditional_train is None else float(conditional_train.mean())
    if "ate_bias" in task.metrics and not multi_level:
        ate = float(estimator.ate())
        ate_row = float(data.individual_effect(target, horizon, train).mean())
        scores |= {"ate": ate, "ate_row": ate_row, "ate_cond": ate_cond,
                   "ate_bias_row": ate - ate_row, "ate_bias_cond": ate - ate_cond}
    if "coverage" in task.metrics:
        start = time.perf_counter()
        scores |= _intervals(estimator, data.X[test], task.alpha, conditional_test, ate_cond,
                             with_ate=not multi_level)
        if "time" in task.metrics:
            scores["interval_seconds"] = time.perf_counter() - start
    return scores


def _intervals(
    estimator: Any, X_test: np.ndarray, alpha: float, cate_truth: np.ndarray | None,
    ate_truth: float, with_ate: bool = True,
) -> dict[str, float]:
    """Coverage and width of the method's CATE and ATE intervals, where it has them (the ATE
    interval only ``with_ate``).

    With ``n_bootstrap=0`` (the study default) a method has no bootstrap interval; an
    interval that does not need the bootstrap (e.g. the DR-learner's influence-function ATE
    interval) is still scored.
    """
    scores: dict[str, float] = {}
    interval = _unless_bootstrap_off(estimator, "predict_interval")
    bounds = None if interval is None else interval(X_test, alpha=alpha)
    if bounds is not None:
        lower, upper = bounds
        coverage, width = interval_scores(lower, upper, cate_truth)
        scores |= {"cate_coverage": coverage, "cate_width": width}
    interval = _unless_bootstrap_off(estimator, "ate_interval") if with_ate else None
    bounds = None if interval is None else interval(alpha=alpha)
    if bounds is not None:
        lower, upper = (float(bound) for bound in bounds)
        truth = None if math.isnan(ate_truth) else np.array([ate_truth])
        coverage, width = interval_scores(np.array([lower]), np.array([upper]), truth)
        scores |= {"ate_lower": lower, "ate_upper": upper, "ate_coverage": coverage,
                   "ate_width": width}
    return scores


def _unless_bootstrap_off(estimator: Any, name: str) -> Callable[..., Any] | None:
    """``estimator.<name>``, returning None instead of raising where it needs the bootstrap
    and ``n_bootstrap`` is 0; None if the estimator has no such method."""
    method = getattr(estimator, name, None)
    if method is None or getattr(estimator, "n_bootstrap", 1) != 0:
        return method

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ValueError as error:
            if "n_bootstrap=0" in str(error):  # the bootstrap is off: no interval
                return None
            raise

    return call


_PROC_STATUS = "/proc/self/status"
_PROC_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kib(field: str) -> float:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    with open(_PROC_STATUS, encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return float(line.split()[1]) * 1024
    raise OSError(f"{_PROC_STATUS} has no {field}")


@contextmanager
def _rss_growth(enabled: bool) -> Iterator[Callable[[], float]]:
    """Peak resident memory of the block above the resident memory at its start, in bytes.

    Resets the process's peak RSS (``VmHWM``) to the current RSS by writing ``5`` to
    ``/proc/self/clear_refs`` (Linux >= 4.0) and reads ``VmHWM`` at the end; the getter gives
    NaN where that is not possible. Counts every allocation (numba's, BLAS's), unlike
    tracemalloc, but not memory the allocator reuses from earlier, already-resident blocks.
    """
    start = math.nan
    if enabled:
        try:
            with open(_PROC_CLEAR_REFS, "w", encoding="ascii") as clear:
                clear.write("5")
            start = _status_kib("VmRSS")
        except OSError:
            start = math.nan
    growth = [math.nan]
    try:
        yield lambda: growth[0]
    finally:
        if not math.isnan(start):
            try:
                growth[0] = max(0.0, _status_kib("VmHWM") - start)
            except OSError:
                pass


@contextmanager
def _peak_memory(enabled: bool) -> Iterator[Callable[[], float]]:
    """Trace allocations (Python and NumPy) in the block; yields a getter of the peak in bytes."""
    if not enabled or tracemalloc.is_tracing():
        yield lambda: math.nan
        return
    tracemalloc.start()
    peak = [0]
    try:
        yield lambda: float(peak[0])
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
