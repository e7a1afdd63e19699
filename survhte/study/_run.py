"""Run a study's unfinished tasks in process or on Dask, streaming each result to the store."""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .._warnings import user_stacklevel
from ._cost import longest_first
from ._data import check_data
from ._execute import execute_task
from ._progress import Progress
from ._spec import Study
from ._store import check_store, describe_unreadable, remove_partial_files, write_result
from ._tasks import Task, expand

SYNCHRONOUS = "synchronous"
"""``scheduler`` value that runs every task in this process, in order (tests, debugging)."""

#: Threads of each numerical library in a local-cluster worker: a worker is one core
#: (``threads_per_worker=1``). They go to ``distributed.nanny.pre-spawn-environ``, so the
#: worker process starts with them and numba reads them when it is first imported there (the
#: worker imports survhte, hence numba, before the nanny's ``env`` is applied; numba then
#: refuses a different ``NUMBA_NUM_THREADS`` at its next compilation). A variable already set
#: in the environment keeps its value (Dask's rule); :func:`_one_thread_per_task` still runs
#: each task on one numba thread.
_SINGLE_THREAD_ENV = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS")
}


@dataclass
class RunSummary:
    """What one call of :func:`run_study` did.

    Attributes
    ----------
    total : int
        Tasks of the (selected) study.
    skipped : list of str
        Ids found finished in the store, not run again.
    executed : list of str
        Ids run and written in this call.
    failed : list of str
        Of ``executed``, ids whose method raised (recorded with ``error`` set).
    failed_before : list of str
        Of ``skipped``, ids whose stored result records a method error (rerun with
        ``retry_failed=True``).
    errors : dict of str to str
        Id -> recorded error of every task in ``failed`` and ``failed_before``.
    lost : dict of str to str
        Ids that produced no result (worker died, runner error) and the reason; a rerun
        retries them.
    recomputed : list of Path
        Result files found unreadable (truncated, empty) whose tasks were run again.
    removed : list of Path
        Temporary files of killed writes, removed.
    seconds : float
        Wall time of the call.
    """

    total: int
    skipped: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    failed_before: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)
    recomputed: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_failed(self) -> int:
        """Tasks of the study without a valid result: method errors (now or before) and lost."""
        return len(self.failed) + len(self.failed_before) + len(self.lost)


def run_study(
    study: Study,
    out: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    retry_failed: bool = False,
    progress: TextIO | None = sys.stderr,
) -> RunSummary:
    """Run the tasks of ``study`` that have no result under ``out`` yet.

    Every task (design, repeat, method, estimand) makes its own data from its seed in the
    worker and returns one small row, which is written to ``out`` as soon as it arrives; so a
    study that is killed resumes where it stopped and never recomputes a finished task. A
    result file that does not read back (truncated, empty) is not a finished task: it is run
    again, with a warning naming the files; temporary files left by a killed write are removed.
    Local-cluster workers run each task on one thread (numba, OpenMP, BLAS). Tasks go to Dask
    longest first, by the shipped cost table's prediction (:func:`estimate_cost`).

    Parameters
    ----------
    study : Study
        From :func:`survhte.study.load_study` (optionally narrowed with ``Study.select``).
    out : path-like
        Results folder (created if needed).
    scheduler : str, optional
        ``None``: a Dask ``LocalCluster`` of ``workers`` single-threaded worker processes;
        ``"synchronous"``: run in this process; otherwise the address of a running Dask
        scheduler (``tcp://host:8786``).
    workers : int, optional
        Worker processes of the local cluster; default: the number of CPUs.
    retry_failed : bool, default False
        Also rerun tasks whose stored result records a method error.
    progress : text stream or None, default sys.stderr
        Where the progress line goes; ``None`` for silence.

    Returns
    -------
    RunSummary

    Raises
    ------
    FileNotFoundError
        If a split file or dataset a design needs is missing (checked before any task runs).

    Warns
    -----
    UserWarning
        If result files are unreadable (they are recomputed where the study has their task).

    Examples
    --------
    >>> from survhte.study import parse_study
    >>> study = parse_study({
    ...     "name": "tiny", "seed": 0, "repeats": 1,
    ...     "sizes": {"train": 300, "val": 0, "test": 300},
    ...     "designs": [{"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["A"]}],
    ...     "methods": [{"name": "t-cox", "method": "survival-t-learner",
    ...                  "params": {"base_model": "cox", "n_bootstrap": 0}}],
    ...     "estimands": [{"target": "rmst", "horizons": ["median_T"]}],
    ... })
    >>> import tempfile
    >>> from survhte.study import read_results, run_study, write_report
    >>> out = tempfile.mkdtemp()
    >>> summary = run_study(study, out, scheduler="synchronous", progress=None)
    >>> summary.total, summary.failed
    (1, [])
    """
    start = time.perf_counter()
    for design in study.designs:
        check_data(design)
    tasks = expand(study)
    store = check_store(out)
    if store.unreadable:
        warnings.warn(
            f"{describe_unreadable(store.unreadable)}; their tasks are run again",
            UserWarning, stacklevel=user_stacklevel(),
        )
    stored = {task_id: error for task_id, error in store.errors.items()
              if not (retry_failed and error is not None)}
    todo = [task for task in tasks if task.id not in stored]
    summary = RunSummary(total=len(tasks), skipped=[t.id for t in tasks if t.id in stored])
    summary.failed_before = [i for i in summary.skipped if stored[i] is not None]
    summary.errors = {i: stored[i] for i in summary.failed_before}
    todo_ids = {task.id for task in todo}
    summary.recomputed = [path for path in store.unreadable if path.stem in todo_ids]
    summary.removed = remove_partial_files(out)
    bar = Progress(len(todo), len(summary.skipped), progress)

    def record(row: dict) -> None:
        write_result(out, row)
        summary.executed.append(row["task_id"])
        if row["error"] is not None:
            summary.failed.append(row["task_id"])
            summary.errors[row["task_id"]] = row["error"]
        bar.update(failed=row["error"] is not None)

    if todo:
        if scheduler == SYNCHRONOUS:
            for task in todo:
                record(execute_task(task))
        else:
            _run_on_dask(todo, record, summary.lost, scheduler, workers)
    summary.seconds = time.perf_counter() - start
    return summary


def _run_on_dask(
    tasks: list[Task], record: Callable[[dict], None], lost: dict[str, str],
    scheduler: str | None, workers: int | None,
) -> None:
    from distributed import as_completed

    tasks = longest_first(tasks)  # the schedule estimate_cost(...).wall_seconds simulates
    with _client(scheduler, workers) as client:
        futures = {
            client.submit(_execute_in_worker, task, key=f"survhte-study-{task.id}"): task.id
            for task in tasks
        }
        for future in as_completed(futures):
            if future.status == "finished":
                record(future.result())
            else:
                error = future.exception()
                lost[futures[future]] = f"{type(error).__name__}: {error}"
            future.release()


def _execute_in_worker(task: Task) -> dict:
    """:func:`execute_task` on one numba thread (a Dask worker runs one task per thread)."""
    with _one_thread_per_task():
        return execute_task(task)


@contextmanager
def _one_thread_per_task() -> Iterator[None]:
    """Run the block on one numba thread (numba's count is per calling thread).

    ``numba.set_num_threads`` within the worker's pool, not ``NUMBA_NUM_THREADS``: the
    variable cannot change once numba has started its threads.
    """
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[object]:
    """A Dask client of a new LocalCluster (``scheduler=None``) or of a running scheduler."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with (
        _worker_environment(_SINGLE_THREAD_ENV),
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def _worker_environment(variables: dict[str, str]) -> Iterator[None]:
    """Start the block's local-cluster workers with ``variables`` in their environment.

    Adds them to Dask's ``distributed.nanny.pre-spawn-environ``, which the nanny copies into
    this process's environment just before it starts a worker (so they are there before the
    worker imports anything); this process's environment is restored afterwards.
    """
    import dask

    spawn_env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}))
    spawn_env |= variables
    # The nanny also sets PYTHONHASHSEED before a spawn.
    saved = {name: os.environ.get(name) for name in [*spawn_env, "PYTHONHASHSEED"]}
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn_env}):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
