"""``survhte estimate``: fit a CATE learner, print a report, write a figure and per-row CATEs."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
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
    format_blp,
    format_cate_quantiles,
    format_heterogeneity,
    format_interval,
    km_contrast,
    number_format,
)
from ._device import DEVICES
from ._validation import TARGETS, check_horizon, default_horizon
from .config import config_context
from .forest import CausalSurvivalForest
from .heterogeneity import (
    RankAverageTreatmentEffect,
    best_linear_projection,
    cate_group_effects,
    cross_fitted_cate,
    get_scores,
    rank_average_treatment_effect,
    test_calibration,
)
from .plotting import calibration_plot, effect_summary_figure, toc_plot
from .survival import CoxPH
from .survival_model_learners import SurvivalTLearner

FIGURE_NAME = "summary.png"
HETEROGENEITY_FIGURE_NAME = "heterogeneity.png"
CATE_NAME = "cate.csv"
DEFAULT_BOOTSTRAP = 100
#: Folds of the cross-fitted learner predictions and of the doubly robust scores.
CHECK_FOLDS = 5


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
            "model-free Kaplan-Meier), the CATE distribution, whether its heterogeneity is "
            "real (grf's calibration test and RATE on held-out predictions) and the best "
            "linear projection of the CATE on covariates. "
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
    parser.add_argument(
        "--blp-covariates", metavar="A,B,...",
        help="covariates of the best linear projection of the CATE (default: every "
        "covariate)",
    )
    parser.add_argument("--out", default="survhte_out", metavar="DIR",
                        help="output directory (default survhte_out/)")
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_BOOTSTRAP, metavar="N",
                        help=f"bootstrap refits for the ATE interval of the meta-learners "
                        f"(default {DEFAULT_BOOTSTRAP}; 0 = none; csf has its own interval)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--device", choices=DEVICES, default="auto",
        help="where the forest's predictions run: auto (a CUDA GPU when numba finds one, "
        "else the CPU), cpu, or gpu (without a GPU: a warning and the CPU, same results); "
        "trees are grown on the CPU; methods other than csf run on the CPU (default auto)",
    )
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
    if "device" in estimator.get_params(deep=False):
        estimator.set_params(device=args.device)
    if "control" in estimator.get_params(deep=False):
        estimator.set_params(control=data.classes[0])
        w = data.classes[data.w_codes]
    else:  # an estimator without control= reads codes 0..K with 0 the control
        w = data.w_codes
    blp_columns = _blp_columns(args.blp_covariates, data)
    # Long forest fits report trees grown and the time left on stderr (off in library use).
    with compile_notice(), config_context(progress=True):
        estimator.fit(data.X, (data.time, data.event), w)
        cate = estimator.predict(data.X)
        checks = heterogeneity_checks(estimator, method, data, w, args, horizon, blp_columns)

    out.mkdir(parents=True, exist_ok=True)
    figure_path, cate_path = out / FIGURE_NAME, out / CATE_NAME
    checks_path = out / HETEROGENEITY_FIGURE_NAME
    _write_cate(cate_path, data, cate, checks)
    effect_label = _effect_label(args.target, horizon, data.time_unit)
    effect_summary_figure(
        data.time, data.event, data.w_codes, data.arm_labels, cate,
        horizon=horizon, time_unit=data.time_unit, cate_label=f"predicted CATE: {effect_label}",
    ).savefig(figure_path, dpi=120)
    _heterogeneity_figure(checks).savefig(checks_path, dpi=120)

    lines = _report(data, estimator, cate, args, horizon, how, effect_label, checks)
    lines.append(f"wrote {figure_path} (KM curves by arm, CATE histogram), {checks_path} (TOC "
                 f"curve, calibration by predicted-CATE group) and {cate_path}")
    print("\n".join(lines))
    return 0


@dataclass
class HeterogeneityChecks:
    """Held-out predictions, doubly robust scores and the tests run on them (one column or
    list entry per treated level)."""

    held_out: np.ndarray
    held_out_how: str
    scores: np.ndarray
    calibration: list[pd.DataFrame]
    rate: RankAverageTreatmentEffect
    blp: list[pd.DataFrame]
    groups: pd.DataFrame
    interval: tuple[np.ndarray, np.ndarray] | None
    notes: list[str]


def heterogeneity_checks(estimator: Any, method: Method, data: EstimateInput, w: np.ndarray,
                         args: argparse.Namespace, horizon: float,
                         blp_columns: list[str]) -> HeterogeneityChecks:
    """Honest checks of the fitted CATE: held-out predictions (``CHECK_FOLDS``-fold
    cross-fitted refits, forests included), the AIPCW scores of every row, grf's
    calibration test, the RATE (AUTOC) and the BLP on standardized covariates."""
    y = (data.time, data.event)
    notes: list[str] = []
    # Forests too are cross-fitted: their out-of-bag predictions lean against the rows' own
    # scores (RATE interval below 0 in 22% of draws without any effect; cross_fitted_cate).
    learner = method.build(args.target, horizon, 0, args.seed)
    if "control" in learner.get_params(deep=False):
        learner.set_params(control=data.classes[0])
    how = (f"{CHECK_FOLDS}-fold cross-fitted predictions (each row from a refit without "
           "its fold)")
    try:
        held_out = cross_fitted_cate(learner, data.X, y, w, n_folds=CHECK_FOLDS,
                                     random_state=args.seed, oob=False)
    except ValueError as exc:  # a fold's arm ends before the horizon
        if not hasattr(type(estimator), "oob_prediction_"):
            raise
        oob = np.asarray(estimator.oob_prediction_, dtype=np.float64)
        held_out = np.where(np.isfinite(oob), oob, np.nanmean(oob, axis=0))
        how = "out-of-bag predictions of the forest (each row from the trees that left it out)"
        notes.append(f"cross-fitting failed ({exc}); out-of-bag predictions lean against the "
                     "rows' own scores, so the RATE may lean negative: a smaller --horizon "
                     "allows cross-fitting")
    scores = get_scores(estimator, data.X, y, w, n_folds=CHECK_FOLDS, random_state=args.seed)
    n_levels = len(data.classes) - 1
    held_out = held_out.reshape(-1, n_levels)
    scores = scores.reshape(-1, n_levels)
    labels = [str(label) for label in data.arm_labels[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constant predictions: reported as such
        calibration = [test_calibration(held_out[:, k], scores=scores[:, k])
                       for k in range(n_levels)]
    rate = rank_average_treatment_effect(held_out, scores=scores, random_state=args.seed)
    rate.levels = labels
    if "level" in rate.toc.columns:
        rate.toc["level"] = np.repeat(labels, len(rate.toc) // n_levels)
    Z = data.X[blp_columns].astype(np.float64)
    spread = Z.std(axis=0)
    constant = [str(c) for c in spread.index[spread <= 0]]
    if constant:
        notes.append(f"left out of the projection as constant: {', '.join(constant)}")
    Z = (Z.loc[:, spread > 0] - Z.loc[:, spread > 0].mean()) / spread[spread > 0]
    blp = [best_linear_projection(scores[:, k], Z) for k in range(n_levels)]
    groups = [cate_group_effects(held_out[:, k], scores=scores[:, k], n_groups=5)
              for k in range(n_levels)]
    grouped = groups[0] if n_levels == 1 else pd.concat(groups, keys=labels,
                                                         names=["level", "group"])
    try:
        interval = tuple(np.asarray(b, dtype=np.float64).reshape(-1, n_levels)
                         for b in estimator.predict_interval(data.X))
    except (ValueError, NotImplementedError) as exc:
        interval = None
        notes.append(f"no per-row CATE intervals: {exc}")
    return HeterogeneityChecks(held_out, how, scores, calibration, rate, blp, grouped,
                               interval, notes)


def _blp_columns(spec: str | None, data: EstimateInput) -> list[str]:
    """``--blp-covariates`` as columns of ``data.X`` (a one-hot encoded text column names
    all its indicators)."""
    columns = [str(c) for c in data.X.columns]
    if spec is None:
        return columns
    chosen: list[str] = []
    for name in (part.strip() for part in spec.split(",") if part.strip()):
        if name in columns:
            chosen.append(name)
            continue
        indicators = [c for c in columns if c.startswith(f"{name}_")]
        if not indicators:
            raise ValueError(f"--blp-covariates: {name!r} is not a covariate; the covariates "
                             f"are {', '.join(columns)}.")
        chosen += indicators
    if not chosen:
        raise ValueError("--blp-covariates names no covariate.")
    return list(dict.fromkeys(chosen))


def _heterogeneity_figure(checks: HeterogeneityChecks) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    toc_plot(checks.rate, ax=left)
    calibration_plot(checks.groups, ax=right)
    return fig


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


def _write_cate(path: Path, data: EstimateInput, cate: np.ndarray,
                checks: HeterogeneityChecks) -> None:
    """Per row: the covariates, then for each treated level the CATE, its 95% interval (when
    the method has one), the held-out CATE of the checks and the doubly robust score."""
    table = data.X.copy()
    matrix = cate.reshape(len(cate), -1)
    for k, label in enumerate(data.classes[1:]):
        suffix = "" if matrix.shape[1] == 1 else f"_{label}"
        table[f"cate{suffix}"] = matrix[:, k]
        if checks.interval is not None:
            table[f"cate_lower{suffix}"] = checks.interval[0][:, k]
            table[f"cate_upper{suffix}"] = checks.interval[1][:, k]
        table[f"cate_held_out{suffix}"] = checks.held_out[:, k]
        table[f"dr_score{suffix}"] = checks.scores[:, k]
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
    checks: HeterogeneityChecks,
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
    lower_rate, upper_rate = (np.atleast_1d(b) for b in checks.rate.confidence_interval())
    estimates = np.atleast_1d(checks.rate.estimate)
    for k in range(1, len(data.classes)):
        column = cate_matrix[:, k - 1]
        contrast = f"{data.arm_labels[k]} vs {data.arm_labels[0]}"
        lines += ["", f"CATE distribution, {contrast} (n={n}):",
                  f"  {format_cate_quantiles(column, num)}"]
        if checks.interval is not None:
            low, high = checks.interval[0][:, k - 1], checks.interval[1][:, k - 1]
            excluding = int(np.sum((low > 0) | (high < 0)))
            lines.append(f"  per-row 95% intervals: {excluding} of {n} exclude 0; median "
                         f"width {num(float(np.median(high - low)))}")
        lines += [
            "",
            f"Is the heterogeneity real? {contrast}",
            f"  on {checks.held_out_how}, against doubly robust (AIPCW, {CHECK_FOLDS}-fold "
            "cross-fitted) scores of every row:",
            *format_heterogeneity(checks.calibration[k - 1],
                                  (estimates[k - 1], lower_rate[k - 1], upper_rate[k - 1]),
                                  num),
            "  Best linear projection of the CATE on standardized covariates (OLS of the "
            "doubly robust scores, HC3 SE; effect change per SD; intercept = the average "
            "effect):",
            *format_blp(checks.blp[k - 1], num),
        ]
    lines += [f"  note: {note}" for note in checks.notes]
    return lines
