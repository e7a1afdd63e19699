"""What a study will cost before it runs (``survhte study run --dry-run``).

Each task's cost comes from a cost table (:class:`CostTable`, a JSON file written by
``survhte study calibrate``): per *cost key* (:func:`cost_key`: the registry method and every
parameter that is not its study default, ``n_bootstrap`` apart) scaling laws ``a * n**b`` in
the training rows ``n`` for the CPU seconds of one task (the method's part and the data and
scoring part), of one bootstrap replicate, and the task's peak memory. The wall time on W
workers is a list schedule of the tasks' predicted seconds, longest first
(:func:`list_schedule`), plus the scheduler's measured overhead per task and the cluster's
start.
"""

from __future__ import annotations

import heapq
import json
import math
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ._methods import METHODS
from ._spec import Design, MethodSpec, Study, _plain
from ._tasks import Task, expand

#: Format version of a cost table file.
COST_TABLE_VERSION = 1

#: The cost table shipped with the package (calibrated on the preset ``survhte-bench``'s
#: methods and ``simulations/small.toml``'s), used when no other is given.
DEFAULT_COST_TABLE = "cost_table.json"

#: CPU seconds of a task whose cost key is not in the table (nor its method's defaults).
UNKNOWN_TASK_SECONDS = 1.0

#: Bounds of a fitted exponent ``b``: two noisy timings on a shared machine can give a
#: negative or absurd slope; cost cannot fall with ``n``, and no task here is worse than
#: quadratic-and-a-half.
_EXPONENT_BOUNDS = (0.0, 2.5)

#: Training rows of the dataset designs (their own 0.5 / 0.25 / 0.25 splits).
_DATASET_TRAIN_ROWS = {"actg-synthetic": 1070}


@dataclass(frozen=True)
class PowerLaw:
    """``a * n ** b``: a cost (seconds, MB) as a function of the training rows ``n``.

    Examples
    --------
    >>> from survhte.study import PowerLaw
    >>> law = PowerLaw.through(1000, 2.0, 4000, 8.0)     # two (n, cost) measurements
    >>> round(law.b, 3), round(law(2000), 3)
    (1.0, 4.0)
    """

    a: float
    b: float

    def __call__(self, n: float) -> float:
        return self.a * float(n) ** self.b

    @classmethod
    def through(cls, n1: float, y1: float, n2: float, y2: float) -> PowerLaw:
        """The law through ``(n1, y1)`` and ``(n2, y2)`` (``n1 < n2``), its exponent kept in
        ``[0, 2.5]``; costs below 1e-6 count as 1e-6."""
        if not 0 < n1 < n2:
            raise ValueError(f"need 0 < n1 < n2; got n1={n1}, n2={n2}")
        y1, y2 = max(y1, 1e-6), max(y2, 1e-6)
        low, high = _EXPONENT_BOUNDS
        b = min(high, max(low, math.log(y2 / y1) / math.log(n2 / n1)))
        # anchored at the larger size, the one nearer the sizes studies run at
        return cls(a=y2 / n2**b, b=b)


@dataclass(frozen=True)
class MethodCost:
    """Calibrated costs of one cost key, in CPU seconds and MB at ``n`` training rows.

    Attributes
    ----------
    model_seconds : PowerLaw
        The method's part of a task: fit, predict and the intervals that need no bootstrap.
    other_seconds : PowerLaw
        The rest of the task: making the data (for the legacy benchmark designs all 50,000
        rows, whatever ``n``), the truth and the scores; kept apart because it barely grows
        with ``n`` and would flatten one law of the whole task.
    replicate_seconds : PowerLaw
        One bootstrap replicate (a fit and a prediction); a task with ``n_bootstrap = B``
        costs ``model_seconds(n) + other_seconds(n) + B * replicate_seconds(n)``.
    memory_mb : PowerLaw
        Peak memory of one task: the larger of the traced peak (tracemalloc, fit and predict)
        and the growth of the process's resident memory over the task (data included).
    samples : tuple of dict
        The measurements the laws were fitted to.

    Examples
    --------
    >>> from survhte.study import MethodCost, PowerLaw
    >>> cost = MethodCost(model_seconds=PowerLaw(0.001, 1.0), other_seconds=PowerLaw(0.2, 0.0),
    ...                   replicate_seconds=PowerLaw(0.0005, 1.0), memory_mb=PowerLaw(0.01, 1.0))
    >>> round(cost.task_seconds(2000), 3), round(cost.task_seconds(2000, n_bootstrap=10), 3)
    (2.2, 12.2)
    """

    model_seconds: PowerLaw
    other_seconds: PowerLaw
    replicate_seconds: PowerLaw
    memory_mb: PowerLaw
    samples: tuple[dict[str, Any], ...] = ()

    def task_seconds(self, n: int, n_bootstrap: int = 0) -> float:
        """Predicted CPU seconds of one task at ``n`` training rows with ``n_bootstrap``
        refits."""
        return (self.model_seconds(n) + self.other_seconds(n)
                + n_bootstrap * self.replicate_seconds(n))


@dataclass(frozen=True)
class CostTable:
    """Per-method scaling laws from a calibration run, and the scheduler's overhead.

    Attributes
    ----------
    methods : dict of str to MethodCost
        Cost key (:func:`cost_key`) -> its laws.
    overhead_seconds : float
        Wall seconds the runner spends per task besides the task (Dask submit, transfer,
        writing the result file), measured on a one-worker local cluster.
    startup_seconds : float
        Wall seconds to start the local cluster.
    info : dict
        Where and how it was calibrated (machine, load average, sizes, date).

    Examples
    --------
    >>> from survhte.study import CostTable, estimate_cost, load_study
    >>> table = CostTable.load()                 # the table shipped with survhte
    >>> "causal-survival-forest" in table.methods
    True
    >>> cost = estimate_cost(load_study("preset:survhte-bench"), table=table)
    >>> cost.tasks, cost.wall_seconds(64) < cost.wall_seconds(16) < cost.wall_seconds(2)
    (15600, True)
    """

    methods: dict[str, MethodCost]
    overhead_seconds: float = 0.0
    startup_seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The table as JSON text (format version :data:`COST_TABLE_VERSION`)."""
        table = {"version": COST_TABLE_VERSION, "info": self.info,
                 "overhead_seconds": self.overhead_seconds,
                 "startup_seconds": self.startup_seconds,
                 "methods": {key: asdict(cost) for key, cost in sorted(self.methods.items())}}
        return json.dumps(table, indent=1, sort_keys=False) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table to ``path`` (JSON); return the path."""
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, text: str, where: str = "cost table") -> CostTable:
        """Read a table from JSON text; ValueError naming ``where`` and the key if invalid."""
        try:
            table = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not valid JSON: {error}") from None
        if not isinstance(table, dict) or table.get("version") != COST_TABLE_VERSION:
            raise ValueError(f"{where}: version: expected {COST_TABLE_VERSION}; got "
                             f"{table.get('version') if isinstance(table, dict) else table!r}")
        methods = {}
        for key, entry in table.get("methods", {}).items():
            try:
                methods[key] = MethodCost(
                    model_seconds=_law(entry["model_seconds"]),
                    other_seconds=_law(entry["other_seconds"]),
                    replicate_seconds=_law(entry["replicate_seconds"]),
                    memory_mb=_law(entry["memory_mb"]),
                    samples=tuple(entry.get("samples", ())),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{where}: methods.{key}: {type(error).__name__}: {error}"
                                 ) from None
        return cls(methods, float(table.get("overhead_seconds", 0.0)),
                   float(table.get("startup_seconds", 0.0)), dict(table.get("info", {})))

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> CostTable:
        """The table at ``path``, or the one shipped with survhte (``path=None``)."""
        if path is None:
            text = (resources.files(__package__) / DEFAULT_COST_TABLE).read_text(
                encoding="utf-8")
            return cls.from_json(text, f"survhte/study/{DEFAULT_COST_TABLE}")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"cost table not found: {path}")
        return cls.from_json(path.read_text(encoding="utf-8"), str(path))

    def merged(self, other: CostTable) -> CostTable:
        """This table with ``other``'s entries added (``other``'s win), ``other``'s overhead
        where it measured one; ``info`` is this table's, ``other``'s appended under
        ``"merged"``."""
        overhead = other.overhead_seconds or self.overhead_seconds
        startup = other.startup_seconds or self.startup_seconds
        merged = [*self.info.get("merged", []), other.info]
        return CostTable({**self.methods, **other.methods}, overhead, startup,
                         {**self.info, "merged": merged})

    def lookup(self, method: MethodSpec) -> tuple[MethodCost | None, bool]:
        """``(cost, exact)``: the entry of ``method``'s cost key, else of its registry method
        with default parameters (``exact`` False), else ``(None, False)``."""
        key = cost_key(method)
        if key in self.methods:
            return self.methods[key], True
        return self.methods.get(method.method), False


def _law(value: Mapping[str, Any]) -> PowerLaw:
    a, b = float(value["a"]), float(value["b"])
    if not (math.isfinite(a) and a >= 0 and math.isfinite(b)):
        raise ValueError(f"a law needs finite a >= 0 and b; got a={a}, b={b}")
    return PowerLaw(a, b)


def cost_key(method: MethodSpec) -> str:
    """What a method's cost depends on: its registry key and every parameter other than
    ``n_bootstrap`` that differs from the registry's study defaults (a base model, a number
    of trees); ``n_bootstrap`` enters the cost through the replicate law.

    Examples
    --------
    >>> from survhte.study import MethodSpec, cost_key
    >>> cost_key(MethodSpec("t-cox-boot", "survival-t-learner",
    ...                     (("base_model", "cox"), ("n_bootstrap", 20))))
    'survival-t-learner {"base_model":"cox"}'
    >>> cost_key(MethodSpec("csf", "causal-survival-forest"))
    'causal-survival-forest'
    """
    defaults = METHODS[method.method].defaults if method.method in METHODS else {}
    params = {name: value for name, value in method.params
              if name != "n_bootstrap" and defaults.get(name, _MISSING) != value}
    if not params:
        return method.method
    return f"{method.method} {json.dumps(_plain(params), sort_keys=True, separators=(',', ':'))}"


_MISSING = object()


def list_schedule(seconds: Iterable[float], workers: int) -> float:
    """Makespan of tasks given to ``workers`` identical workers, longest first, each to the
    worker that frees first (Graham's LPT list schedule; what a Dask cluster does with tasks
    submitted longest first).

    Examples
    --------
    >>> from survhte.study import list_schedule
    >>> list_schedule([3, 3, 2, 2, 2], workers=2)   # {3, 2, 2} and {3, 2} (the optimum: 6)
    7.0
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    finish = [0.0] * workers
    for cost in sorted(seconds, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + float(cost))
    return max(finish)


@dataclass(frozen=True)
class CostEstimate:
    """What :func:`estimate_cost` predicts a study (or its unfinished part) will cost.

    Attributes
    ----------
    tasks : int
        Designs x repeats x methods x estimands (less finished ones).
    seconds : float
        Predicted CPU seconds of all tasks (one core each).
    by_method : dict of str to (int, float)
        Method name -> (tasks, predicted CPU seconds).
    memory_mb : dict of str to float
        Method name -> predicted peak memory of its largest task, MB (NaN: not in the
        table).
    task_seconds : tuple of float
        Predicted CPU seconds of every task, in :func:`expand` order.
    overhead_seconds, startup_seconds : float
        The table's scheduler overhead per task and cluster start.
    uncalibrated : tuple of str
        Method names whose cost key is not in the table (their registry method's default
        entry, or :data:`UNKNOWN_TASK_SECONDS`, stands in).
    """

    tasks: int
    seconds: float
    by_method: dict[str, tuple[int, float]]
    memory_mb: dict[str, float] = field(default_factory=dict)
    task_seconds: tuple[float, ...] = ()
    overhead_seconds: float = 0.0
    startup_seconds: float = 0.0
    uncalibrated: tuple[str, ...] = ()

    def wall_seconds(self, workers: int) -> float:
        """Predicted wall time on ``workers`` single-core workers: the cluster's start plus
        the list schedule (:func:`list_schedule`) of every task's seconds plus the overhead
        per task."""
        if not self.task_seconds:
            return 0.0
        return self.startup_seconds + list_schedule(
            (s + self.overhead_seconds for s in self.task_seconds), workers)

    @property
    def peak_memory_mb(self) -> float:
        """Predicted peak memory of the most demanding task, MB (NaN where none is known)."""
        return max((m for m in self.memory_mb.values() if not math.isnan(m)), default=math.nan)


def train_rows(design: Design, sizes: tuple[int, int, int]) -> int:
    """Training rows of one repeat of ``design``."""
    if design.source in _DATASET_TRAIN_ROWS:
        return _DATASET_TRAIN_ROWS[design.source]
    return sizes[0]


def task_costs(tasks: Sequence[Task], table: CostTable) -> list[tuple[float, float]]:
    """Predicted ``(CPU seconds, peak MB)`` of each task; its ``n_bootstrap`` refits count
    only when it scores ``coverage`` (the only metric that asks for intervals)."""
    costs = []
    for task in tasks:
        entry, _ = table.lookup(task.method)
        if entry is None:
            costs.append((UNKNOWN_TASK_SECONDS, math.nan))
            continue
        n = train_rows(task.design, task.sizes)
        replicates = int(dict(task.method.params).get("n_bootstrap", 0) or 0) \
            if "coverage" in task.metrics else 0
        costs.append((entry.task_seconds(n, replicates), entry.memory_mb(n)))
    return costs


def estimate_cost(study: Study, done: Collection[str] = (), table: CostTable | None = None
                  ) -> CostEstimate:
    """Task count, CPU seconds, peak memory and (through ``wall_seconds``) wall time of
    ``study`` predicted from a calibrated cost table (a prediction, not a measurement).

    Each task costs its cost key's laws (:class:`CostTable`) at the design's training rows:
    ``seconds(n) + n_bootstrap * replicate_seconds(n)`` (the refits only when the study
    scores ``coverage``). A method whose cost key is not in the table uses its registry
    method's default entry and is listed in ``uncalibrated``: calibrate it
    (``survhte study calibrate``) for a real figure.

    Parameters
    ----------
    study : Study
    done : collection of str, optional
        Ids of finished tasks (:func:`survhte.study.finished_tasks`), left out.
    table : CostTable, optional
        Default: the table shipped with survhte (:meth:`CostTable.load`).

    Returns
    -------
    CostEstimate
        Of the tasks not in ``done``.

    Examples
    --------
    >>> from survhte.study import estimate_cost, load_study
    >>> cost = estimate_cost(load_study("preset:survhte-bench").select(repeats=[0]))
    >>> cost.tasks, len(cost.by_method)
    (1560, 13)
    """
    table = CostTable.load() if table is None else table
    tasks = [task for task in expand(study) if task.id not in done]
    costs = task_costs(tasks, table)
    by_method: dict[str, tuple[int, float]] = {m.name: (0, 0.0) for m in study.methods}
    memory: dict[str, float] = {}
    for task, (seconds, megabytes) in zip(tasks, costs, strict=True):
        count, total = by_method[task.method.name]
        by_method[task.method.name] = (count + 1, total + seconds)
        known = memory.get(task.method.name, math.nan)
        memory[task.method.name] = known if megabytes != megabytes or known >= megabytes \
            else megabytes  # NaN (not in the table) only while nothing is known
    uncalibrated = tuple(m.name for m in study.methods if not table.lookup(m)[1])
    return CostEstimate(
        tasks=len(tasks),
        seconds=sum(seconds for seconds, _ in costs),
        by_method=by_method,
        memory_mb=memory,
        task_seconds=tuple(seconds for seconds, _ in costs),
        overhead_seconds=table.overhead_seconds,
        startup_seconds=table.startup_seconds,
        uncalibrated=uncalibrated,
    )


def longest_first(tasks: Sequence[Task], table: CostTable | None = None) -> list[Task]:
    """``tasks`` ordered by predicted seconds, longest first (ties keep their order): the
    order the runner submits them to Dask, so that the schedule is the one
    :meth:`CostEstimate.wall_seconds` simulates."""
    try:
        table = CostTable.load() if table is None else table
    except (OSError, ValueError):  # no usable table: submit in study order
        return list(tasks)
    costs = [seconds for seconds, _ in task_costs(tasks, table)]
    order = sorted(range(len(tasks)), key=lambda i: -costs[i])
    return [tasks[i] for i in order]
