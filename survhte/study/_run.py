"""Run a study's unfinished tasks in process or on Dask, streaming each result to the store."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from ._data import check_data
from ._execute import execute_task
from ._progress import Progress
from ._spec import Study
from ._store import finished_tasks, read_results, write_result
from ._tasks import Task, expand

SYNCHRONOUS = "synchronous"
"""``scheduler`` value that runs every task in this process, in order (tests, debugging)."""

#: One thread per library in each worker: a worker is one core (threads_per_worker=1).
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
    lost : dict of str to str
        Ids that produced no result (worker died, runner error) and the reason; a rerun
        retries them.
    seconds : float
        Wall time of the call.
    """

    total: int
    skipped: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


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
    study that is killed resumes where it stopped and never recomputes a finished task.

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
    """
    start = time.perf_counter()
    for design in study.designs:
        check_data(design)
    tasks = expand(study)
    done = finished_tasks(out)
    if retry_failed and done:
        results = read_results(out)
        done -= set(results.loc[results["error"].notna(), "task_id"])
    todo = [task for task in tasks if task.id not in done]
    summary = RunSummary(total=len(tasks), skipped=[t.id for t in tasks if t.id in done])
    bar = Progress(len(todo), len(summary.skipped), progress)

    def record(row: dict) -> None:
        write_result(out, row)
        summary.executed.append(row["task_id"])
        if row["error"] is not None:
            summary.failed.append(row["task_id"])
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

    with _client(scheduler, workers) as client:
        futures = {
            client.submit(execute_task, task, key=f"survhte-study-{task.id}"): task.id
            for task in tasks
        }
        for future in as_completed(futures):
            if future.status == "finished":
                record(future.result())
            else:
                error = future.exception()
                lost[futures[future]] = f"{type(error).__name__}: {error}"
            future.release()


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[object]:
    """A Dask client of a new LocalCluster (``scheduler=None``) or of a running scheduler."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            env=_SINGLE_THREAD_ENV,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
