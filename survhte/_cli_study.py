"""``survhte study run`` and ``survhte study report``: simulation studies from a TOML file."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

from .study import (
    METHODS,
    SYNCHRONOUS,
    CostTable,
    RunSummary,
    Study,
    calibrate_costs,
    estimate_cost,
    finished_tasks,
    format_seconds,
    load_study,
    preset_names,
    read_results,
    run_study,
    write_report,
)

DEFAULT_OUT = "survhte_study"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``study`` subcommand and its ``run`` and ``report`` subcommands."""
    parser = subparsers.add_parser(
        "study",
        help="run a simulation study (designs x repeats x methods) and report it",
        description="Run a simulation study from a TOML study file or a preset, locally or on "
        "a Dask cluster, and write its report.",
    )
    commands = parser.add_subparsers(dest="study_command", required=True)
    run = commands.add_parser(
        "run",
        help="run the unfinished tasks of a study",
        description="Run every (design, repeat, method, estimand) task of a study that has no "
        "result in the output folder yet; each result is saved as it finishes, so an "
        "interrupted study resumes where it stopped. Presets: "
        + ", ".join(f"preset:{name}" for name in preset_names())
        + f". Registered methods: {', '.join(METHODS)}.",
    )
    run.add_argument("study", metavar="STUDY", help="study file (.toml) or preset:NAME")
    run.add_argument("--repeats", metavar="N|A,B,..", type=_repeats,
                     help="repeats 0..N-1, or a comma-separated list (default: the study's)")
    run.add_argument("--methods", metavar="A,B,..", type=_names,
                     help="run only these methods of the study (by name)")
    run.add_argument("--designs", metavar="A,B,..", type=_names,
                     help="run only these designs (names or glob patterns, e.g. 'OBS-CPS_*')")
    run.add_argument("--out", metavar="DIR",
                     help=f"results folder (default {DEFAULT_OUT}/<study name>)")
    run.add_argument("--workers", metavar="N", type=int,
                     help="worker processes of the local Dask cluster (default: CPU count)")
    run.add_argument("--scheduler", metavar="ADDR",
                     help=f"address of a running Dask scheduler, or '{SYNCHRONOUS}' to run in "
                     "this process (default: start a local cluster)")
    run.add_argument("--retry-failed", action="store_true",
                     help="also rerun tasks whose method raised (stored with an error); "
                     "the run exits with status 1 while any task of the study has failed")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    run.add_argument("--dry-run", action="store_true",
                     help="print the number of tasks, their predicted CPU time and peak memory "
                     "and the predicted wall time on --workers workers, and exit without "
                     "running anything")
    run.add_argument("--cost-table", metavar="PATH",
                     help="cost table of --dry-run (JSON from 'study calibrate'; default: the "
                     "table shipped with survhte)")
    run.set_defaults(run=run_command)
    calibrate = commands.add_parser(
        "calibrate",
        help="measure each method's cost and write the cost table --dry-run reads",
        description="Run each method of a study (each distinct cost key: registry method and "
        "non-default parameters) on a few small tasks at two training sizes, in this process "
        "on one thread, measuring CPU seconds and peak memory per task; fit a law a * n^b per "
        "method; measure the Dask scheduler's overhead per task; write a JSON cost table.",
    )
    calibrate.add_argument("study", metavar="STUDY", help="study file (.toml) or preset:NAME")
    calibrate.add_argument("--out", metavar="PATH", required=True,
                           help="cost table to write (JSON)")
    calibrate.add_argument("--rows", metavar="N1,N2", type=_sizes, default=[500, 1500],
                           help="the two training sizes (default 500,1500)")
    calibrate.add_argument("--tasks", metavar="K", type=int, default=3,
                           help="tasks per method and size (default 3)")
    calibrate.add_argument("--overhead-tasks", metavar="K", type=int, default=40,
                           help="empty tasks through a local Dask cluster to measure the "
                           "scheduler's overhead per task (default 40; 0: not measured)")
    calibrate.add_argument("--methods", metavar="A,B,..", type=_names,
                           help="calibrate only these methods of the study (by name)")
    calibrate.add_argument("--merge", metavar="PATH",
                           help="add the new entries to this cost table (its other entries "
                           "kept; the result goes to --out)")
    calibrate.add_argument("--quiet", action="store_true", help="no line per method")
    calibrate.set_defaults(run=calibrate_command)
    report = commands.add_parser(
        "report",
        help="write the Markdown/HTML report of a study's results",
        description="Read a study's results folder and write report.md, report.html and the "
        "figures (MSE box plots, average ranks, coverage).",
    )
    report.add_argument("results", metavar="RESULTS", help="results folder of 'study run'")
    report.add_argument("--out", metavar="DIR", help="report folder (default RESULTS/report)")
    report.set_defaults(run=report_command)


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one name")
    return names


def _sizes(text: str) -> list[int]:
    try:
        values = [int(value) for value in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N1,N2; got {text!r}") from None
    if len(values) != 2 or not 0 < values[0] < values[1]:
        raise argparse.ArgumentTypeError(f"expected two sizes N1 < N2; got {text!r}")
    return values


def _repeats(text: str) -> list[int]:
    try:
        values = [int(value) for value in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count or comma-separated repeat numbers; got {text!r}"
        ) from None
    if len(values) == 1:
        if values[0] < 1:
            raise argparse.ArgumentTypeError(f"the number of repeats must be >= 1; got {text}")
        return list(range(values[0]))
    return values


def run_command(args: argparse.Namespace) -> int:
    """Run ``survhte study run``; bad input raises ValueError or OSError for ``main``."""
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1; got {args.workers}")
    study = load_study(args.study).select(
        repeats=args.repeats, methods=args.methods, designs=args.designs
    )
    out = Path(args.out) if args.out else Path(DEFAULT_OUT) / study.name
    if args.dry_run:
        table = CostTable.load(args.cost_table)
        _dry_run(study, out, args.workers, table, args.cost_table)
        return 0
    summary = run_study(
        study, out, scheduler=args.scheduler, workers=args.workers,
        retry_failed=args.retry_failed, progress=None if args.quiet else sys.stderr,
    )
    print(
        f"study {study.name}: {summary.total} tasks, {len(summary.executed)} run now "
        f"({len(summary.failed)} with a method error), {len(summary.skipped)} already done"
        + (f" ({len(summary.failed_before)} with a method error)"
           if summary.failed_before else "")
        + f", {len(summary.lost)} lost; {format_seconds(summary.seconds)}; results in {out}"
    )
    if summary.recomputed:
        print(f"recomputed {len(summary.recomputed)} unreadable result files", file=sys.stderr)
    if summary.removed:
        print(f"removed {len(summary.removed)} temporary files of interrupted writes",
              file=sys.stderr)
    for task_id, reason in summary.lost.items():
        print(f"lost {task_id}: {reason}", file=sys.stderr)
    if summary.n_failed:
        _report_failures(summary, out)
        return 1
    return 0


def _dry_run(study: Study, out: Path, workers: int | None, table: CostTable,
             table_path: str | None) -> None:
    """Print the study's task count, predicted CPU time, memory and wall time; run nothing."""
    done = finished_tasks(out)
    todo = estimate_cost(study, done, table)
    workers = workers or os.cpu_count() or 1
    total = len(study.designs) * len(study.repeats) * len(study.methods) * len(study.estimands)
    print(
        f"study {study.name}: {len(study.designs)} designs x {len(study.repeats)} repeats x "
        f"{len(study.methods)} methods x {len(study.estimands)} estimands = {total} tasks"
        + (f"; {total - todo.tasks} already finished in {out}, {todo.tasks} to run"
           if done else "")
    )
    info = table.info
    print(f"cost table: {table_path or 'shipped with survhte'} (calibrated "
          f"{info.get('calibrated', '?')} on {info.get('machine', '?')}, training rows "
          f"{'/'.join(str(n) for n in info.get('rows', ())) or '?'}"
          + (f"; {len(info['merged'])} more calibrations merged in" if info.get("merged")
             else "") + ")")
    print(f"predicted: {format_seconds(todo.seconds)} of CPU; peak memory per task "
          f"{todo.peak_memory_mb:.0f} MB; wall time on {workers} workers "
          f"{format_seconds(todo.wall_seconds(workers))} (list schedule, longest first, + "
          f"{todo.overhead_seconds:.3f} s scheduler overhead per task + "
          f"{todo.startup_seconds:.1f} s cluster start)")
    width = max(len(name) for name in todo.by_method)
    print(f"  {'method':<{width}}  {'tasks':>6}  {'CPU':>10}  {'s/task':>8}  {'peak MB':>8}")
    for name, (count, seconds) in todo.by_method.items():
        per_task = seconds / count if count else float("nan")
        print(f"  {name:<{width}}  {count:>6}  {format_seconds(seconds):>10}  "
              f"{per_task:>8.2f}  {todo.memory_mb.get(name, float('nan')):>8.0f}")
    if todo.uncalibrated:
        print(f"  not in the cost table (their method's default entry stands in): "
              f"{', '.join(todo.uncalibrated)}; 'survhte study calibrate' measures them")
    print("  (a prediction from the cost table's per-task laws a * n^b; nothing was run; drop "
          "--dry-run to run)")


def calibrate_command(args: argparse.Namespace) -> int:
    """Run ``survhte study calibrate``: measure, fit, write the cost table."""
    study = load_study(args.study).select(methods=args.methods)
    table = calibrate_costs(study, rows=args.rows, tasks_per_size=args.tasks,
                            overhead_tasks=args.overhead_tasks,
                            progress=None if args.quiet else sys.stderr)
    failed = table.info.get("failed", {})
    if args.merge:
        table = CostTable.load(args.merge).merged(table)
    path = table.save(args.out)
    print(f"wrote the cost table of {len(table.methods)} cost keys to {path} (scheduler "
          f"overhead {table.overhead_seconds:.3f} s per task, cluster start "
          f"{table.startup_seconds:.1f} s)")
    for key, error in failed.items():
        print(f"survhte: not calibrated: {key}: {error}", file=sys.stderr)
    return 1 if failed else 0


def _report_failures(summary: RunSummary, out: Path, shown: int = 5) -> None:
    """Say on stderr how many tasks failed, with which errors, and where the errors are."""
    parts = [f"{len(summary.failed)} in this run"] if summary.failed else []
    if summary.failed_before:
        parts.append(f"{len(summary.failed_before)} in an earlier run (rerun them with "
                     "--retry-failed)")
    if summary.lost:
        parts.append(f"{len(summary.lost)} lost (no result; a rerun retries them)")
    print(
        f"survhte: {summary.n_failed} of {summary.total} tasks failed: {', '.join(parts)}",
        file=sys.stderr,
    )
    if summary.errors:
        print(
            f"errors: column 'error' of {out / 'results'}/<design>/<task id>.parquet; "
            f"'survhte study report {out}' tabulates them",
            file=sys.stderr,
        )
    counts = Counter(summary.errors.values())
    for error, count in counts.most_common(shown):
        print(f"  {count} x {error}", file=sys.stderr)
    if len(counts) > shown:
        print(f"  and {len(counts) - shown} other errors", file=sys.stderr)


def report_command(args: argparse.Namespace) -> int:
    """Run ``survhte study report``."""
    results = read_results(args.results)
    out = Path(args.out) if args.out else Path(args.results) / "report"
    written = write_report(results, out)
    print(f"wrote {len(written)} files to {out}: {', '.join(p.name for p in written)}")
    return 0
