"""The results store: one Parquet file per finished task, in one folder per design.

Layout: ``ROOT/results/<design>/<task id>.parquet``. A file is written under a temporary name
and renamed into place, so a killed study leaves only whole results; the ids of the files
present are the tasks a rerun skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

RESULT_COLUMNS: dict[str, pa.DataType] = {
    "task_id": pa.string(),
    "study": pa.string(),
    "design": pa.string(),
    "source": pa.string(),
    "config": pa.string(),
    "scenario": pa.string(),
    "repeat": pa.int64(),
    "method": pa.string(),
    "estimand": pa.string(),
    "target": pa.string(),
    "horizon_rule": pa.string(),
    "horizon_requested": pa.float64(),
    "horizon": pa.float64(),
    "n_train": pa.int64(),
    "n_test": pa.int64(),
    "data_seed": pa.int64(),
    "method_seed": pa.int64(),
    "alpha": pa.float64(),
    "error": pa.string(),
    "mse_row": pa.float64(),
    "mse_cond": pa.float64(),
    "ate": pa.float64(),
    "ate_row": pa.float64(),
    "ate_cond": pa.float64(),
    "ate_bias_row": pa.float64(),
    "ate_bias_cond": pa.float64(),
    "cate_coverage": pa.float64(),
    "cate_width": pa.float64(),
    "ate_lower": pa.float64(),
    "ate_upper": pa.float64(),
    "ate_coverage": pa.float64(),
    "ate_width": pa.float64(),
    "fit_seconds": pa.float64(),
    "predict_seconds": pa.float64(),
    "interval_seconds": pa.float64(),
    "peak_memory_mb": pa.float64(),
}
"""Columns of a result row and their Parquet types (absent scores are null)."""

SCHEMA = pa.schema(list(RESULT_COLUMNS.items()))
_RESULTS = "results"


def write_result(root: str | os.PathLike[str], row: Mapping[str, Any]) -> Path:
    """Write one task's result row to ``root/results/<design>/<task_id>.parquet``.

    Parameters
    ----------
    root : path-like
        The study's output folder.
    row : mapping
        A row from :func:`survhte.study.execute_task`; missing columns are stored as null.

    Returns
    -------
    Path
        The file written.
    """
    unknown = set(row) - set(RESULT_COLUMNS)
    if unknown:
        raise ValueError(f"result row has unknown columns {sorted(unknown)}")
    folder = Path(root) / _RESULTS / str(row["design"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{row['task_id']}.parquet"
    table = pa.Table.from_pylist([{name: row.get(name) for name in RESULT_COLUMNS}],
                                 schema=SCHEMA)
    partial = folder / f".{row['task_id']}.{uuid.uuid4().hex}.tmp"
    pq.write_table(table, partial)
    os.replace(partial, path)
    return path


def finished_tasks(root: str | os.PathLike[str]) -> set[str]:
    """Ids of the tasks with a result under ``root`` (nothing yet: empty set)."""
    return {path.stem for path in (Path(root) / _RESULTS).glob("*/*.parquet")}


def read_results(root: str | os.PathLike[str]) -> pd.DataFrame:
    """All result rows under ``root`` as a DataFrame (columns of :data:`RESULT_COLUMNS`).

    Raises
    ------
    FileNotFoundError
        If ``root`` holds no results.
    """
    paths = sorted((Path(root) / _RESULTS).glob("*/*.parquet"))
    if not paths:
        raise FileNotFoundError(f"no study results under {Path(root) / _RESULTS}")
    return pa.concat_tables([_conform(pq.read_table(path)) for path in paths]).to_pandas()


def _conform(table: pa.Table) -> pa.Table:
    """``table`` with the columns of :data:`SCHEMA` (null where a file predates a column)."""
    for name, kind in RESULT_COLUMNS.items():
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, kind))
    return table.select(list(RESULT_COLUMNS)).cast(SCHEMA)
