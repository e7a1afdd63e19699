"""``survhte estimate``: fit a CATE learner, print a report, write a figure and per-row CATEs."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._base import SurvivalCATEEstimator
from ._cli_input import CSV_DEFAULTS, EstimateInput, read_estimate_input
from ._cli_report import (
    cate_drivers,
    format_cate_quantiles,
    format_drivers,
    format_interval,
    km_contrast,
    number_format,
)
from ._validation import TARGETS, check_horizon, default_horizon
from .forest import CausalSurvivalForest
from .plotting import effect_summary_figure
from .survival import CoxPH
from .survival_model_learners import SurvivalTLearner

FIGURE_NAME = "summary.png"
CATE_NAME = "cate.csv"
DEFAULT_BOOTSTRAP = 100


@dataclass(frozen=True)
class Method:
    """A CATE method the CLI can run: its description and how to build it."""

    description: str
    #: ``build(target, horizon, n_bootstrap, seed)``: an unfitted estimator.
    build: Callable[[str, float, int, int | None], SurvivalCATEEstimator | Any]
    #: The ATE interval when the method has its own (not the percentile bootstrap).
    interval_note: str | None = None


#: The default ``--method``.
DEFAULT_METHOD = "csf"

#: ``--method`` choices; add an entry to offer another learner.
METHODS: dict[str, Method] = {
    "csf": Method(
        "causal survival forest (Cui et al. 2023; grf defaults, 2000 trees)",
        lambda target, horizon, n_bootstrap, seed: CausalSurvivalForest(
            target=target, horizon=horizon, random_state=seed,
        ),
        interval_note="doubly robust scores, as grf's average_treatment_effect",
    ),
    "t-learner-cox": Method(
        "T-learner, Cox proportional hazards model per arm",
        lambda target, horizon, n_bootstrap, seed: SurvivalTLearner(
            CoxPH(), target=target, horizon=horizon, n_bootstrap=n_bootstrap,
            random_state=seed,
        ),
    ),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``estimate`` subcommand."""
    parser = subparsers.add_parser(
        "estimate",
        help="estimate heterogeneous treatment effects on a survival outcome",
        description=(
            "Fit a CATE learner and report the average effect (learner bootstrap and "
            "model-free Kaplan-Meier), the CATE distribution and the covariates driving it. "
            "Without --data, runs on the Rossi recidivism trial (time 'week', event 'arrest', "
            "treatment 'fin')."
        ),
    )
    parser.add_argument("--data", metavar="CSV", help="CSV file, one row per subject")
    parser.add_argument(
        "--time", metavar="COL", help=f"observed-time column (default {CSV_DEFAULTS['time']!r})"
    )
    parser.add_argument(
        "--event", metavar="COL",
        help=f"event column, 1 = event, 0 = censored (default {CSV_DEFAULTS['event']!r})",
    )
    parser.add_argument(
        "--treatment", metavar="COL",
        help=f"treatment column, coded 0..K (0 the control) or labels with --control "
        f"(default {CSV_DEFAULTS['treatment']!r})",
    )
    parser.add_argument(
        "--control", metavar="LABEL",
        help="the control (reference) level of the treatment column; each other level is "
        "compared with it (default: 0 for a column coded 0..K, False for true/false; "
        "required for text labels)",
    )
    parser.add_argument(
        "--covariates", metavar="A,B,...",
        help="comma-separated covariate columns (default: every other column, less "
        "simulation ground-truth columns T0, T1, T, C, propensity, true_cate, p_surv_*); "
        "text columns are one-hot encoded (first sorted level the reference)",
    )
    parser.add_argument(
        "--horizon", type=float,
        help="RMST horizon / survival time point (default: the smallest arm's last observed "
        "time)",
    )
    parser.add_argument("--target", choices=TARGETS, default="rmst",
                        help="rmst: RMST difference; survival: S(horizon) difference")
    parser.add_argument(
        "--method", choices=sorted(METHODS), default=DEFAULT_METHOD,
        help="; ".join(f"{name}: {method.description}" for name, method in METHODS.items())
        + f" (default: {DEFAULT_METHOD})",
    )
    parser.add_argument("--out", default="survhte_out", metavar="DIR",
                        help="output directory (default survhte_out/)")
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_BOOTSTRAP, metavar="N",
                        help=f"bootstrap refits for the ATE interval of the meta-learners "
                        f"(default {DEFAULT_BOOTSTRAP}; 0 = none; csf has its own interval)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``survhte estimate``; input problems raise ValueError/OSError for ``main``."""
    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0; got {args.bootstrap}.")
    out = _check_output_directory(args.out)
    data = read_estimate_input(args.data, args.time, args.event, args.treatment, args.covariates,
                               args.control)
    if args.horizon is None:
        horizon, how = default_horizon(data.time, data.w_codes), "default: smallest arm's last time"
    else:
        horizon, how = check_horizon(args.horizon, data.time, name="--horizon"), "--horizon"
    method = METHODS[args.method]
    estimator = method.build(args.target, horizon, args.bootstrap, args.seed)
    if "control" in estimator.get_params(deep=False):
        estimator.set_params(control=data.classes[0])
        w = data.classes[data.w_codes]
    else:  # an estimator without control= reads codes 0..K with 0 the control
        w = data.w_codes
    with compile_notice():
        estimator.fit(data.X, (data.time, data.event), w)
        cate = estimator.predict(data.X)

    out.mkdir(parents=True, exist_ok=True)
    figure_path, cate_path = out / FIGURE_NAME, out / CATE_NAME
    _write_cate(cate_path, data, cate)
    effect_label = _effect_label(args.target, horizon, data.time_unit)
    effect_summary_figure(
        data.time, data.event, data.w_codes, data.arm_labels, cate,
        horizon=horizon, time_unit=data.time_unit, cate_label=f"predicted CATE: {effect_label}",
    ).savefig(figure_path, dpi=120)

    lines = _report(data, estimator, cate, args, horizon, how, effect_label)
    lines.append(f"wrote {figure_path} (KM curves by arm, CATE histogram) and {cate_path}")
    print("\n".join(lines))
    return 0


#: Printed (stderr) when numba starts compiling survhte's kernels: a cold cache.
COMPILE_NOTICE = ("survhte: compiling numerical kernels (first run only, about half a minute; "
                  "later runs reuse numba's cache)...")


@contextmanager
def compile_notice(stream: object = None) -> Iterator[None]:
    """Say on ``stream`` (default stderr) when numba compiles survhte's kernels, and how long.

    numba compiles a kernel on its first call and caches it on disk (``cache=True``); only a
    cold cache (a fresh install, an upgrade, a deleted cache) compiles, for half a minute of
    silence otherwise. numba's ``"numba:compile"`` event fires on a cache miss only, so a warm
    run prints nothing.
    """
    from numba.core import event

    stream = sys.stderr if stream is None else stream

    class _Notice(event.Listener):
        depth, seconds, started, announced = 0, 0.0, 0.0, False

        def on_start(self, ev: event.Event) -> None:
            function = getattr(ev.data.get("dispatcher"), "py_func", None)
            if not self.announced and getattr(function, "__module__", "").startswith(
                    "survhte._kernels"):
                self.announced = True
                print(COMPILE_NOTICE, file=stream, flush=True)
            if self.depth == 0:
                self.started = time.perf_counter()
            self.depth += 1

        def on_end(self, ev: event.Event) -> None:
            self.depth -= 1
            if self.depth == 0:
                self.seconds += time.perf_counter() - self.started

    notice = _Notice()
    event.register("numba:compile", notice)
    try:
        yield
    finally:
        event.unregister("numba:compile", notice)
    if notice.announced:
        print(f"survhte: compiled in {notice.seconds:.0f} s.", file=stream, flush=True)


def _check_output_directory(path: str) -> Path:
    """Check ``--out`` before the fit, so that a bad path fails before minutes of work.

    Nothing is created here: a run that fails on its input leaves no empty directory.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(
            f"--out {out} is an existing file, not a directory; name a directory (it is "
            f"created) for {FIGURE_NAME} and {CATE_NAME}."
        )
    ancestor = out.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"--out {out}: {ancestor} is a file, so the directory cannot be "
                         "created.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: no permission to write in {ancestor}.")
    return out


def _effect_label(target: str, horizon: float, unit: str) -> str:
    if target == "rmst":
        return f"RMST difference up to {horizon:g} {unit}, in {unit}"
    return f"difference in P(event-free at {horizon:g} {unit})"


def _write_cate(path: Path, data: EstimateInput, cate: np.ndarray) -> None:
    columns = ["cate"] if cate.ndim == 1 else [f"cate_{label}" for label in data.classes[1:]]
    table = pd.DataFrame(cate.reshape(len(cate), -1), columns=columns, index=data.X.index)
    table.index.name = "row"
    table.to_csv(path)


def _report(
    data: EstimateInput,
    estimator: SurvivalCATEEstimator,
    cate: np.ndarray,
    args: argparse.Namespace,
    horizon: float,
    how: str,
    effect_label: str,
) -> list[str]:
    n, events = data.time.size, int(data.event.sum())
    num = number_format(horizon if args.target == "rmst" else 1.0)
    lines = [
        f"survhte estimate - {METHODS[args.method].description} ({args.method})",
        f"data: {data.source}: n={n}, events={events} ({events / n:.0%}); time {data.time_col!r}, "
        f"event {data.event_col!r}, treatment {data.treatment_col!r}",
    ]
    for code, label in enumerate(data.arm_labels):
        rows = data.w_codes == code
        role = "control" if code == 0 else "treated"
        lines.append(f"  arm {code} ({role}) {label}: n={int(rows.sum())}, "
                     f"events={int(data.event[rows].sum())}")
    lines.append(f"covariates ({data.X.shape[1]}): {', '.join(map(str, data.X.columns))}")
    if data.encoded:
        lines.append("  one-hot encoded text columns (scikit-learn OneHotEncoder; indicator = 1 "
                     "for that level, all 0 for the reference):")
        lines += [f"    {mapping}" for mapping in data.encoded]
    lines += [f"  note: {note}" for note in data.notes]
    lines += [
        f"horizon: {horizon:g} {data.time_unit} ({how})",
        "",
        f"Average effect ({effect_label}; > 0: treatment delays the event):",
    ]
    ates = np.atleast_1d(estimator.ate())
    interval_note = METHODS[args.method].interval_note
    if interval_note is None and args.bootstrap > 0:
        interval_note = f"percentile bootstrap, {args.bootstrap} refits"
    if interval_note is not None:
        lower, upper = (np.atleast_1d(b) for b in estimator.ate_interval(alpha=0.05))
    km_name = "RMST" if args.target == "rmst" else f"S({horizon:g})"
    for k in range(1, len(data.classes)):
        lines.append(f"  {data.arm_labels[k]} vs {data.arm_labels[0]}:")
        learner = f"    learner ATE {num(ates[k - 1])}"
        if interval_note is not None:
            learner += (f"  95% CI {format_interval(lower[k - 1], upper[k - 1], num)} "
                        f"({interval_note})")
        lines.append(learner)
        km = km_contrast(data.time, data.event, data.w_codes, k, horizon, args.target)
        lines.append(
            f"    Kaplan-Meier    {num(km.difference)}  95% CI "
            f"{format_interval(km.lower, km.upper, num)} ({km_name} {num(km.treated)} vs "
            f"{num(km.control)}; Greenwood; model-free, an ATE when treatment is randomized)"
        )

    cate_matrix = cate.reshape(n, -1)
    X = data.X.to_numpy(dtype=np.float64)
    names = list(map(str, data.X.columns))
    for k in range(1, len(data.classes)):
        column = cate_matrix[:, k - 1]
        lines += [
            "",
            f"CATE distribution, {data.arm_labels[k]} vs {data.arm_labels[0]} (n={n}):",
            f"  {format_cate_quantiles(column, num)}",
            "Top covariates driving heterogeneity (OLS of predicted CATE on standardized "
            "covariates; descriptive):",
            *format_drivers(*cate_drivers(column, X, names), num),
        ]
    return lines
