"""Measured against predicted: a finished study slice and the cost table's prediction for
exactly its tasks (issue 21).

    python benchmarks/study_cost_check.py RESULTS --workers 2 [--cost-table PATH]
        [--wall SECONDS] [--designs A,B]

Reads the results folder of ``survhte study run`` (columns ``task_cpu_seconds``,
``task_seconds``, ``peak_memory_mb``, ``peak_rss_mb``), rebuilds each result's task from the
preset or study file it names (``--study``, default ``preset:survhte-bench``) and prints, per
method, the predicted and measured CPU seconds per task (median and mean) and peak memory; then
the predicted wall time on W workers for these tasks, the list schedule of their *measured*
CPU seconds on W workers (what dedicated cores would have taken) and, with ``--wall``, the
measured wall time of the run.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from survhte.study import (
    CostTable,
    expand,
    list_schedule,
    load_study,
    read_results,
)
from survhte.study._cost import task_costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--study", default="preset:survhte-bench")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cost-table")
    parser.add_argument("--wall", type=float, help="measured wall seconds of the run")
    parser.add_argument("--designs", help="only these designs (comma-separated)")
    args = parser.parse_args()
    table = CostTable.load(args.cost_table)
    results = read_results(args.results)
    if args.designs:
        results = results[results["design"].isin(args.designs.split(","))]
    tasks = {task.id: task for task in expand(load_study(args.study))}
    missing = set(results["task_id"]) - set(tasks)
    if missing:
        raise SystemExit(f"{len(missing)} results are not tasks of {args.study}")
    results = results.set_index("task_id")
    ids = list(results.index)
    predicted = task_costs([tasks[i] for i in ids], table)
    results["predicted_seconds"] = [seconds for seconds, _ in predicted]
    results["predicted_mb"] = [megabytes for _, megabytes in predicted]
    results["memory_mb"] = results[["peak_memory_mb", "peak_rss_mb"]].max(axis=1)
    failures = int(results["error"].notna().sum())
    print(f"{len(results)} tasks, {failures} failures, designs "
          f"{', '.join(sorted(results['design'].unique()))}")
    print(f"{'method':<34} {'tasks':>5} {'pred s':>7} {'meas s med':>10} {'meas s mean':>11} "
          f"{'ratio':>6} {'wall s med':>10} {'pred MB':>8} {'meas MB max':>11}")
    for method, part in results.groupby("method", sort=False):
        pred = part["predicted_seconds"].mean()
        meas = part["task_cpu_seconds"]
        print(f"{method:<34} {len(part):>5} {pred:>7.2f} {meas.median():>10.2f} "
              f"{meas.mean():>11.2f} {meas.mean() / pred:>6.2f} "
              f"{part['task_seconds'].median():>10.1f} {part['predicted_mb'].max():>8.0f} "
              f"{part['memory_mb'].max():>11.0f}")
    total_pred, total_cpu = results["predicted_seconds"].sum(), results["task_cpu_seconds"].sum()
    task_wall = results["task_seconds"].sum()
    print(f"CPU: predicted {total_pred:.0f} s, measured {total_cpu:.0f} s "
          f"(ratio {total_cpu / total_pred:.2f}); wall of the tasks themselves "
          f"{task_wall:.0f} s (CPU / wall {total_cpu / task_wall:.2f})")
    overhead = [table.overhead_seconds] * len(results)
    wall_pred = table.startup_seconds + list_schedule(
        np.add(results["predicted_seconds"], overhead), args.workers)
    wall_cpu = table.startup_seconds + list_schedule(
        np.add(results["task_cpu_seconds"], overhead), args.workers)
    print(f"wall on {args.workers} workers: predicted {wall_pred:.0f} s; list schedule of the "
          f"measured CPU seconds {wall_cpu:.0f} s"
          + (f"; measured wall {args.wall:.0f} s (x{args.wall / wall_pred:.2f} the prediction)"
             if args.wall and not math.isnan(args.wall) else ""))


if __name__ == "__main__":
    main()
