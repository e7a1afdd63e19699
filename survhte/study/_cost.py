"""A rough cost estimate of a study before it runs (``survhte study run --dry-run``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ._spec import Design, MethodSpec, Study
from ._tasks import expand

#: Training rows at which :data:`TASK_SECONDS` was measured.
REFERENCE_ROWS = 1000

#: Core-seconds of one whole task (data, fit, predict, ATE, the intervals a method has
#: without the bootstrap) of each registered method with its study defaults, at
#: :data:`REFERENCE_ROWS` training and 1,000 test rows: the median process CPU time of 6
#: tasks (designs RCT-50_A and OBS-CPS_A, 3 repeats, RMST at the median time, metrics
#: cate_mse, ate_bias, coverage, time; one thread, numba kernels cached). CPU time, not wall
#: time: the measuring machine was shared (wall times were 3-4x longer). A method missing
#: here costs :data:`UNKNOWN_METHOD_SECONDS`.
TASK_SECONDS = {
    "survival-s-learner": 0.15,
    "survival-t-learner": 0.32,
    "survival-x-learner": 1.43,
    "survival-m-learner": 0.85,
    "survival-r-learner": 1.05,
    "matching": 0.07,
    "t-learner": 0.42,
    "s-learner": 0.32,
    "x-learner": 1.75,
    "dr-learner": 0.50,
    "r-learner": 0.79,
    "causal-survival-forest": 1.50,
}

#: Core-seconds of one fit (one bootstrap replicate) at :data:`REFERENCE_ROWS` rows, same
#: setting (median of 3 fits on RCT-50_A).
FIT_SECONDS = {
    "survival-s-learner": 0.10,
    "survival-t-learner": 0.27,
    "survival-x-learner": 1.29,
    "survival-m-learner": 0.72,
    "survival-r-learner": 0.97,
    "matching": 0.03,
    "t-learner": 0.44,
    "s-learner": 0.28,
    "x-learner": 1.80,
    "dr-learner": 0.41,
    "r-learner": 0.59,
    "causal-survival-forest": 0.95,
}
UNKNOWN_METHOD_SECONDS = 1.0

#: Training rows of the dataset designs (their own 0.5 / 0.25 / 0.25 splits).
_DATASET_TRAIN_ROWS = {"actg-synthetic": 1070}


@dataclass(frozen=True)
class CostEstimate:
    """What :func:`estimate_cost` says a study will cost.

    Attributes
    ----------
    tasks : int
        Designs x repeats x methods x estimands.
    seconds : float
        Estimated core-seconds of all tasks.
    by_method : dict of str to (int, float)
        Method name -> (tasks, estimated core-seconds).
    reference_rows : int
        Training rows at which the per-method times were measured.
    """

    tasks: int
    seconds: float
    by_method: dict[str, tuple[int, float]]
    reference_rows: int = REFERENCE_ROWS

    def wall_seconds(self, workers: int) -> float:
        """Estimated wall time on ``workers`` single-core workers (perfect load balance)."""
        return self.seconds / max(1, workers)


def train_rows(design: Design, sizes: tuple[int, int, int]) -> int:
    """Training rows of one repeat of ``design``."""
    if design.source in _DATASET_TRAIN_ROWS:
        return _DATASET_TRAIN_ROWS[design.source]
    return sizes[0]


def task_seconds(method: MethodSpec, rows: int, *, bootstrap: bool = True) -> float:
    """Estimated core-seconds of one task: the reference task time plus ``n_bootstrap``
    reference fits (when the method refits for bootstrap intervals), scaled linearly in the
    training rows."""
    base = TASK_SECONDS.get(method.method, UNKNOWN_METHOD_SECONDS)
    fit = FIT_SECONDS.get(method.method, UNKNOWN_METHOD_SECONDS)
    replicates = int(dict(method.params).get("n_bootstrap", 0) or 0) if bootstrap else 0
    return (base + replicates * fit) * rows / REFERENCE_ROWS


def estimate_cost(study: Study, done: Collection[str] = ()) -> CostEstimate:
    """Task count and estimated core-seconds of ``study`` (an estimate, not a measurement).

    Each task costs its method's :data:`TASK_SECONDS` plus ``n_bootstrap`` times its
    :data:`FIT_SECONDS` (bootstrap refits, only when the study scores ``coverage``), both
    measured at :data:`REFERENCE_ROWS` training rows with default parameters, scaled
    linearly in the design's training rows. Non-default base models (a Cox model is cheaper
    than the default selected model, a bigger forest dearer), other test sizes and
    scheduling overhead are not modelled: treat the figure as an order of magnitude.

    Parameters
    ----------
    study : Study
    done : collection of str, optional
        Ids of finished tasks (:func:`survhte.study.finished_tasks`), left out.

    Returns
    -------
    CostEstimate
        Of the tasks not in ``done``.
    """
    bootstrap = "coverage" in study.metrics
    by_method: dict[str, tuple[int, float]] = {m.name: (0, 0.0) for m in study.methods}
    for task in expand(study):
        if task.id in done:
            continue
        count, seconds = by_method[task.method.name]
        cost = task_seconds(task.method, train_rows(task.design, task.sizes),
                            bootstrap=bootstrap)
        by_method[task.method.name] = (count + 1, seconds + cost)
    return CostEstimate(
        tasks=sum(count for count, _ in by_method.values()),
        seconds=sum(seconds for _, seconds in by_method.values()),
        by_method=by_method,
    )
