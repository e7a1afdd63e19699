"""A rough cost estimate of a study before it runs (``survhte study run --dry-run``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ._spec import Design, MethodSpec, Study
from ._tasks import expand

#: Training rows at which :data:`TASK_SECONDS` was measured.
REFERENCE_ROWS = 1000

#: Seconds of one task (fit + predict + the intervals a method has without the bootstrap) of
#: each registered method with its study defaults, on one core at :data:`REFERENCE_ROWS`
#: training and 1,000 test rows: the median of 6 tasks (designs RCT-50_A and OBS-CPS_A, 3
#: repeats, RMST at the median time) on a shared 2-core machine (numba kernels cached). A
#: method missing here costs :data:`UNKNOWN_METHOD_SECONDS`.
TASK_SECONDS = {
    "survival-s-learner": 0.04,
    "survival-t-learner": 0.09,
    "survival-x-learner": 1.45,
    "survival-m-learner": 1.05,
    "survival-r-learner": 1.44,
    "matching": 0.12,
    "t-learner": 0.77,
    "s-learner": 0.45,
    "x-learner": 2.25,
    "dr-learner": 0.52,
    "r-learner": 0.73,
    "causal-survival-forest": 1.80,
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
    """Estimated seconds of one task: the reference time scaled linearly in the training rows,
    times ``1 + n_bootstrap`` when the method refits for bootstrap intervals."""
    base = TASK_SECONDS.get(method.method, UNKNOWN_METHOD_SECONDS)
    replicates = int(dict(method.params).get("n_bootstrap", 0) or 0) if bootstrap else 0
    return base * rows / REFERENCE_ROWS * (1 + replicates)


def estimate_cost(study: Study, done: Collection[str] = ()) -> CostEstimate:
    """Task count and estimated core-seconds of ``study`` (an estimate, not a measurement).

    Each task costs its method's :data:`TASK_SECONDS` (measured at
    :data:`REFERENCE_ROWS` training rows with default parameters) scaled linearly in the
    design's training rows, times ``1 + n_bootstrap`` for bootstrap intervals (only computed
    when the study scores ``coverage``). Non-default base models, larger forests and the
    data generation itself are not modelled: treat the figure as an order of magnitude.

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
