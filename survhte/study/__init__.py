"""Simulation studies: designs x repeats x methods x estimands, run locally or on Dask.

A study is a TOML file (format in ``simulations/README.md``) or a preset
(``preset:survhte-bench``, ``preset:actg-syn``). :func:`load_study` reads and checks it,
:func:`expand` lists its tasks (one per design, repeat, method and estimand, each with a
stable id), :func:`run_study` runs the unfinished ones (data made inside each worker from its
seed; one Parquet file per finished task), :func:`read_results` loads the table and
:func:`write_report` writes a Markdown/HTML summary with figures. :func:`estimate_cost`
predicts a study's CPU seconds, memory and wall time on W workers from a cost table
(:class:`CostTable`) that :func:`calibrate_costs` measures. Methods come from the
registry :data:`METHODS` (one entry per estimator).
"""

from ._calibrate import calibrate_costs
from ._cost import (
    CostEstimate,
    CostTable,
    MethodCost,
    PowerLaw,
    cost_key,
    estimate_cost,
    list_schedule,
)
from ._execute import execute_task, resolve_horizon
from ._methods import COMPONENTS, METHODS, Method
from ._metrics import average_ranks, design_ranks
from ._presets import preset_names
from ._progress import format_seconds
from ._report import write_report
from ._run import SYNCHRONOUS, RunSummary, run_study
from ._spec import (
    DATASETS,
    GENERATORS,
    METRICS,
    Design,
    Estimand,
    MethodSpec,
    Study,
    StudyFileError,
    load_study,
    parse_study,
)
from ._store import (
    RESULT_COLUMNS,
    StoreCheck,
    check_store,
    finished_tasks,
    read_results,
    remove_partial_files,
    write_result,
)
from ._tasks import Task, expand, repeat_seeds

__all__ = [
    "COMPONENTS",
    "DATASETS",
    "GENERATORS",
    "METHODS",
    "METRICS",
    "RESULT_COLUMNS",
    "SYNCHRONOUS",
    "CostEstimate",
    "CostTable",
    "Design",
    "Estimand",
    "Method",
    "MethodCost",
    "MethodSpec",
    "PowerLaw",
    "RunSummary",
    "StoreCheck",
    "Study",
    "StudyFileError",
    "Task",
    "average_ranks",
    "calibrate_costs",
    "check_store",
    "cost_key",
    "design_ranks",
    "estimate_cost",
    "execute_task",
    "expand",
    "finished_tasks",
    "format_seconds",
    "list_schedule",
    "load_study",
    "parse_study",
    "preset_names",
    "read_results",
    "remove_partial_files",
    "repeat_seeds",
    "resolve_horizon",
    "run_study",
    "write_report",
    "write_result",
]
