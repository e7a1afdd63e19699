"""Shared by the SurvHTE-Bench meta-learner benchmarks: split file, scores, summary table."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

#: Datasets the benchmarks run by default.
CONFIGS = ["RCT-50", "OBS-CPS", "OBS-UConf", "OBS-CPS-IC"]
#: Columns of the printed summary.
COLUMNS = ["horizon", "mse_individual", "mse_conditional", "ratio_to_constant", "ate_bias",
           "fit_seconds"]


def parser(description: str, learners: list[str]) -> argparse.ArgumentParser:
    """The options both benchmarks take: datasets, repeats, learners, target, files."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--configs", nargs="+", default=CONFIGS)
    parser.add_argument("--scenarios", nargs="+", default=list("ABCDE"))
    parser.add_argument("--repeats", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--learners", nargs="+", default=learners, choices=learners)
    parser.add_argument("--target", default="rmst", choices=["rmst", "survival"])
    parser.add_argument("--split-file", default=None)
    parser.add_argument("--out", default=None, help="CSV of the per-repeat rows")
    return parser


def run_tasks(run_one: Callable[..., list[dict]], args: argparse.Namespace) -> pd.DataFrame:
    """``run_one(config, scenario, repeat, args)`` over every dataset and repeat of ``args``
    (``--jobs`` in parallel), as one frame of rows; written to ``--out`` when given."""
    tasks = [(c, s, r) for c in args.configs for s in args.scenarios for r in args.repeats]
    results = Parallel(n_jobs=args.jobs)(delayed(run_one)(c, s, r, args) for c, s, r in tasks)
    frame = pd.DataFrame([row for rows in results for row in rows])
    if args.out:
        frame.to_csv(args.out, index=False)
    return frame


def split_file(path: str | None) -> Path:
    """``path``, else ``synthetic/idx_split.csv`` under ``$SURVHTE_DATA`` or the shared data."""
    if path:
        return Path(path)
    root = os.environ.get("SURVHTE_DATA")
    repo = Path(__file__).resolve().parents[1]
    base = Path(root) if root else repo / ".." / "shared" / "data" / "survhte_bench"
    return base / "synthetic" / "idx_split.csv"


def scores(tau: np.ndarray, per_row: np.ndarray, truth: np.ndarray,
           seconds: float) -> dict[str, float]:
    """CATE MSE vs the per-row effect and the conditional truth, the best constant's MSE, ATE
    bias (mean prediction minus mean per-row effect) and fit seconds."""
    return {
        "mse_individual": float(np.mean((tau - per_row) ** 2)),
        "mse_conditional": float(np.mean((tau - truth) ** 2)),
        "mse_constant": float(np.var(truth)),
        "ate_bias": float(tau.mean() - per_row.mean()),
        "fit_seconds": seconds,
    }


def summary(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Means over repeats by ``keys``, with the CATE MSE ratio to the best constant's."""
    table = frame.groupby(keys, sort=False).mean(numeric_only=True)
    table["ratio_to_constant"] = table["mse_conditional"] / table["mse_constant"]
    return table
