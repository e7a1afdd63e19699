"""Calibrate the cost table: run each method of a study on a few small tasks at two sizes
(``survhte study calibrate``) and fit its scaling laws."""

from __future__ import annotations

import datetime
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from ._cost import CostTable, MethodCost, PowerLaw, cost_key
from ._data import check_data
from ._execute import execute_task
from ._run import _client, _one_thread_per_task
from ._spec import Study, StudyFileError
from ._store import write_result
from ._tasks import Task

#: Default training rows of the two calibration sizes.
CALIBRATION_ROWS = (500, 1500)

#: Bootstrap replicates of a calibration task of a method the study bootstraps.
CALIBRATION_REPLICATES = 2


def calibrate_costs(
    study: Study,
    *,
    rows: Sequence[int] = CALIBRATION_ROWS,
    tasks_per_size: int = 3,
    overhead_tasks: int = 40,
    progress: TextIO | None = sys.stderr,
) -> CostTable:
    """Measure every cost key of ``study`` and fit its scaling laws (:class:`CostTable`).

    For each distinct cost key (:func:`~survhte.study.cost_key`) of the study's methods, one
    unrecorded warm-up task (numba kernels loaded), then ``tasks_per_size`` tasks at each of
    the two training sizes ``rows`` (validation and test rows scaled with the study's
    proportions; designs spread over the study's generator designs, estimands cycled, the
    first repeat), run in this process on one thread (numba, BLAS). Per task: CPU seconds of
    the whole task (``task_cpu_seconds``), split into the method's part (wall
    ``fit_seconds + predict_seconds + interval_seconds`` times the task's CPU/wall ratio) and
    the rest (data, truth, scores), the CPU seconds of one bootstrap replicate and peak
    memory (the larger of tracemalloc's peak and the process's
    RSS growth, ``peak_memory_mb`` / ``peak_rss_mb`` of :func:`~survhte.study.execute_task`).
    A method the study bootstraps (``n_bootstrap > 0``) runs with 2 replicates and its
    intervals scored: a replicate costs ``interval_seconds / 2`` (the refits and their
    predictions; a replicate does not repeat the fit's one-off work, e.g. the T-learner's
    cross-fitted calibration), and its method part is fit and predict. For any other method
    the replicate law is one fit and prediction, an upper bound.
    The medians at the two sizes give one ``a * n**b`` law per part
    (:class:`~survhte.study.PowerLaw`).

    The scheduler overhead: ``overhead_tasks`` empty tasks through a one-worker local Dask
    cluster, each result written as the runner writes it (wall seconds per task), and the
    cluster's start; ``overhead_tasks=0`` skips it (the table then says 0).

    Parameters
    ----------
    study : Study
    rows : (int, int), default (500, 1500)
        Training rows of the two sizes.
    tasks_per_size : int, default 3
    overhead_tasks : int, default 40
    progress : text stream or None, default sys.stderr
        One line per method.

    Returns
    -------
    CostTable
        A method whose task raises is left out; its key and error are in
        ``info["failed"]``.

    Examples
    --------
    >>> from survhte.study import calibrate_costs, parse_study
    >>> study = parse_study({
    ...     "designs": [{"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["A"]}],
    ...     "methods": [{"name": "t-cox", "method": "survival-t-learner",
    ...                  "params": {"base_model": "cox"}}]})
    >>> table = calibrate_costs(study, rows=(100, 200), tasks_per_size=1, overhead_tasks=0,
    ...                         progress=None)
    >>> list(table.methods)
    ['survival-t-learner {"base_model":"cox"}']
    """
    rows = tuple(int(n) for n in rows)
    if len(rows) != 2 or not 0 < rows[0] < rows[1]:
        raise ValueError(f"rows: give two training sizes n1 < n2; got {rows}")
    if tasks_per_size < 1:
        raise ValueError(f"tasks_per_size must be >= 1; got {tasks_per_size}")
    if overhead_tasks < 0:
        raise ValueError(f"overhead_tasks must be >= 0; got {overhead_tasks}")
    designs = [d for d in study.designs if d.source != "actg-synthetic"]
    if not designs:
        raise StudyFileError("designs: calibration needs a generator design (the dataset "
                             "designs have fixed sizes)")
    for design in designs:
        check_data(design)
    keys: dict[str, Any] = {}
    for method in study.methods:  # per key, the method with the most bootstrap replicates
        known = keys.get(cost_key(method))
        if known is None or _replicates(method) > _replicates(known):
            keys[cost_key(method)] = method
    methods: dict[str, MethodCost] = {}
    failed: dict[str, str] = {}
    started = time.perf_counter()
    load_before = _load_average()
    for key, method in keys.items():
        replicates = min(_replicates(method), CALIBRATION_REPLICATES)
        method = replace(method, params=tuple(
            (name, replicates if name == "n_bootstrap" else value)
            for name, value in method.params))
        metrics = tuple(sorted({*study.metrics, "time", "memory"}
                               | ({"coverage"} if replicates else set())))

        def task(n: int, j: int, method=method, metrics=metrics) -> Task:
            sizes = _scaled(study.sizes, n)
            return Task(study.name, designs[(j * len(designs)) // tasks_per_size],
                        study.repeats[0], method, study.estimands[j % len(study.estimands)],
                        sizes, study.seed, study.alpha, metrics)

        try:
            _run_one(task(rows[0], 0))  # warm-up: kernels loaded, caches filled; not recorded
            samples = [_sample(_run_one(task(n, j)), n, replicates)
                       for n in rows for j in range(tasks_per_size)]
        except _TaskFailed as error:
            failed[key] = str(error)
            if progress is not None:
                print(f"not calibrated: {error}", file=progress)
            continue
        methods[key] = _fit(samples, rows)
        if progress is not None:
            cost = methods[key]
            print(f"calibrated {key}: {cost.task_seconds(rows[0]):.3g} s at n={rows[0]}, "
                  f"{cost.task_seconds(rows[1]):.3g} s at n={rows[1]} (method part exponent "
                  f"{cost.model_seconds.b:.2f}), {cost.memory_mb(rows[1]):.0f} MB",
                  file=progress)
    overhead, startup = _scheduler_overhead(overhead_tasks) if overhead_tasks else (0.0, 0.0)
    info = {
        "calibrated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "study": study.name, "rows": list(rows), "tasks_per_size": tasks_per_size,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "load_average": [round(x, 2) for x in (*load_before, *_load_average())],
        "seconds": round(time.perf_counter() - started, 1),
        "overhead_tasks": overhead_tasks,
        "failed": failed,
    }
    return CostTable(methods, overhead, startup, info)


def _scaled(sizes: tuple[int, int, int], n: int) -> tuple[int, int, int]:
    """Train / validation / test rows with ``n`` training rows, in the study's proportions."""
    train, val, test = sizes
    return n, round(val * n / train), max(1, round(test * n / train))


class _TaskFailed(RuntimeError):
    """A calibration task whose method raised."""


def _run_one(task: Task) -> dict[str, Any]:
    """:func:`execute_task` on one thread; a method error raises :class:`_TaskFailed`."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), _one_thread_per_task(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the methods' data warnings are not costs
        row = execute_task(task)
    if row["error"] is not None:
        raise _TaskFailed(f"calibration task of {task.method.name} on {task.design.name} "
                           f"({task.estimand.label}, n={task.sizes[0]}) failed: {row['error']}")
    return row


def _replicates(method: Any) -> int:
    return int(dict(method.params).get("n_bootstrap", 0) or 0)


def _sample(row: dict[str, Any], n: int, replicates: int) -> dict[str, Any]:
    cpu, wall = row["task_cpu_seconds"], row["task_seconds"]
    ratio = cpu / wall if wall > 0 else 1.0
    if replicates:  # the intervals are the bootstrap: refits and their predictions
        fit_predict = row["fit_seconds"] + row["predict_seconds"]
        bootstrap = row["interval_seconds"]
        return {"n": n, "design": row["design"], "estimand": row["estimand"],
                "seconds": cpu, "wall_seconds": wall, "model_seconds": fit_predict * ratio,
                "other_seconds": max(0.0, cpu - (fit_predict + bootstrap) * ratio),
                "replicate_seconds": bootstrap * ratio / replicates,
                "replicates": replicates, "memory_mb": _memory(row)}
    fit_predict = row["fit_seconds"] + row["predict_seconds"]
    model = fit_predict + (row.get("interval_seconds") or 0.0)
    model = 0.0 if math.isnan(model) else model
    return {"n": n, "design": row["design"], "estimand": row["estimand"],
            "seconds": cpu, "wall_seconds": wall, "model_seconds": model * ratio,
            "other_seconds": max(0.0, cpu - model * ratio),
            "replicate_seconds": fit_predict * ratio, "replicates": 0,
            "memory_mb": _memory(row)}


def _memory(row: dict[str, Any]) -> float:
    """The larger of the task's traced peak and its RSS growth, MB."""
    return max((m for m in (row["peak_memory_mb"], row["peak_rss_mb"]) if not math.isnan(m)),
               default=math.nan)


def _fit(samples: list[dict[str, Any]], rows: tuple[int, int]) -> MethodCost:
    def law(column: str) -> PowerLaw:
        medians = [statistics.median(s[column] for s in samples if s["n"] == n) for n in rows]
        if any(math.isnan(m) for m in medians):
            return PowerLaw(0.0, 0.0)
        return PowerLaw.through(rows[0], medians[0], rows[1], medians[1])

    rounded = tuple({k: round(v, 4) if isinstance(v, float) else v for k, v in s.items()}
                    for s in samples)
    return MethodCost(law("model_seconds"), law("other_seconds"), law("replicate_seconds"),
                      law("memory_mb"), rounded)


def _empty_task(i: int) -> dict[str, Any]:
    """A result row of no work (the scheduler-overhead measurement)."""
    return {"task_id": f"overhead{i:05d}", "design": "overhead", "repeat": 0,
            "method": "none", "estimand": "none", "error": None}


def _scheduler_overhead(count: int) -> tuple[float, float]:
    """(wall seconds per task, seconds to start the cluster) of ``count`` empty tasks through a
    one-worker local cluster, results written as :func:`survhte.study.run_study` writes
    them."""
    from distributed import as_completed

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out, _client(None, 1) as client:
        client.submit(_empty_task, -1, pure=False).result()  # the worker is up
        ready = time.perf_counter()
        futures = [client.submit(_empty_task, i, pure=False) for i in range(count)]
        for future in as_completed(futures):
            write_result(out, future.result())
            future.release()
        done = time.perf_counter()
    return (done - ready) / count, ready - start


def _load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (math.nan, math.nan, math.nan)
