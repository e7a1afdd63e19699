"""The forests at registry scale: time per phase and peak memory at n = 10^4 .. 10^6 (issue 21).

Run: ``python benchmarks/forest_scale.py [--sizes 10000 100000] [--trees 2000]
[--forests csf sf cf rf] [--threads 2] [--grid default|all|G] [--grf] [--grf-timeout 900]``
(``--trees 0``: each forest's default, 2,000 trees; the survival forest's is 1,000).

Data: the stress design ``heavy_censoring`` of :func:`survhte.simulate.stress_design`
(p = 10: 6 correlated Gaussian and 4 binary covariates, nonlinear prognosis and effect,
randomised 1:1, ~75% censored, horizon 15) with exact truth; fit on ``n`` rows, predict 10,000
new rows. The truncated times are continuous: ~0.6 n distinct times up to the horizon, all of
them in the causal survival forest's grid with ``--grid all`` (grf's default; the worst case
for its score step), 2,000 of them with its default cap. Forests and their phases:

- ``csf``: :class:`~survhte.forest.CausalSurvivalForest`, RMST at 15 months: propensity
  forest, event and censoring survival forests, score step, main forest; predict;
- ``sf``: :class:`~survhte.forest.SurvivalForest` of ``(X, W)``: fit; predict (curves at 100
  times and the RMST of the new rows);
- ``cf``: :class:`~survhte.forest.CausalForest` on ``min(Y, 15)`` (a speed check: the outcome
  is censored): propensity forest, outcome forest, main forest; predict;
- ``rf``: :class:`~survhte.forest.RegressionForest` of ``min(Y, 15)``: the per-tree baseline.

The main forests' per-tree CPU time is compared with the regression forest's (``/rf``; CPU
seconds because the 2-core machine these were measured on is shared, and wall time there
says as much about the other jobs as about the forest). Phases are
timed by wrapping the estimators' own steps (no copy of their code). Each configuration runs in
a fresh subprocess after a warm-up fit on small data (numba compilation excluded); ``peak MB``
is the process's peak resident memory (data included) and ``+MB`` its growth during fit +
predict. The load average of the machine is printed with every row (the 1-minute one before
and after). ``--grf`` runs grf's ``causal_survival_forest``, ``survival_forest``,
``causal_forest`` and ``regression_forest`` (R, built from source; ``GRF_LIB`` is its library
folder, default ``/tmp/Rlib``) on the same data, trees and threads right after survhte's, each
time-boxed by ``--grf-timeout`` seconds; its peak memory is the R process's maximum RSS.
grf is never a dependency of survhte. How it was built here: ``apt-get install r-base-core
r-base-dev r-cran-rcpp r-cran-rcppeigen r-cran-lmtest r-cran-matrix r-cran-sandwich``, then
``R CMD INSTALL -l /tmp/Rlib r-package/grf`` from grf's source tree (2.6.1) with
``DiceKriging`` removed from its DESCRIPTION's Imports (only its parameter tuning uses it; it
is not packaged by Debian and CRAN was out of reach).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time as clock
from pathlib import Path

import numpy as np

N_TEST = 10_000
DESIGN = "heavy_censoring"
FORESTS = ("csf", "sf", "cf", "rf")


def simulate(n: int, seed: int = 0):
    """Training and test parts of the design: ``(X, time, event, w, X_test, truth)``."""
    from survhte.simulate import stress_design

    data = stress_design(DESIGN, n=n + N_TEST, random_state=seed)
    train = slice(0, n)
    test = slice(n, n + N_TEST)
    return (data.X[train], data.time[train], data.event[train], data.w[train],
            data.X[test], data.true_cate("rmst")[test], data.horizon)


class Phases:
    """Seconds of named phases: ``wrap(owner, name, label)`` times every call of
    ``owner.name`` (``label`` may be a list: the i-th call gets the i-th label)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._undo: list = []

    def wrap(self, owner, name: str, label) -> None:
        original = getattr(owner, name)
        calls = [0]

        def timed(*args, **kwargs):
            tag = label[min(calls[0], len(label) - 1)] if isinstance(label, list) else label
            calls[0] += 1
            start, cpu = clock.perf_counter(), clock.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[tag] = self.seconds.get(tag, 0.0) + clock.perf_counter() - start
                self.cpu[tag] = self.cpu.get(tag, 0.0) + clock.process_time() - cpu

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


def _model(forest: str, trees: int, threads: int, horizon: float, grid: str = "default"):
    from survhte.forest import (
        CausalForest,
        CausalSurvivalForest,
        RegressionForest,
        SurvivalForest,
    )

    cls = {"csf": CausalSurvivalForest, "sf": SurvivalForest, "cf": CausalForest,
           "rf": RegressionForest}[forest]
    kwargs = {"n_jobs": threads, "random_state": 0}
    if trees > 0:
        kwargs["n_estimators"] = trees
    if forest == "csf":
        kwargs["horizon"] = horizon
        if grid != "default":
            kwargs["failure_times"] = grid if grid == "all" else int(grid)
    return cls(**kwargs)


def _instrument(forest: str, phases: Phases) -> None:
    """Time the steps of ``forest``'s fit (the main forest's growth, its nuisances)."""
    from survhte.forest import _causal, _causal_survival

    if forest == "csf":
        module = _causal_survival
        phases.wrap(module, "forest_propensities", "propensity")
        phases.wrap(module, "fit_survival_nuisance", ["event SF", "censoring SF"])
        phases.wrap(module, "causal_survival_scores", "scores")
        phases.wrap(module.CausalSurvivalForest, "_grow", "main forest")
    elif forest == "cf":
        phases.wrap(_causal, "forest_propensities", "propensity")
        phases.wrap(_causal.CausalForest, "_nuisance_forest", "outcome forest (setup)")
        phases.wrap(_causal.CausalForest, "_grow", "main forest")


def _fit_predict(model, forest: str, X, time, event, w, X_test, horizon):
    """Fit ``model`` and predict the test rows; returns (fitted, predict seconds, estimate)."""
    y_rmst = np.minimum(time, horizon)
    if forest == "csf":
        model.fit(X, (time, event), w)
    elif forest == "cf":
        model.fit(X, y_rmst, w)
    elif forest == "sf":
        model.fit(np.column_stack([X, w]), (time, event))
    else:
        model.fit(X, y_rmst)
    start, cpu = clock.perf_counter(), clock.process_time()
    if forest == "sf":
        X_new = np.column_stack([X_test, np.zeros(X_test.shape[0])])
        model.predict_survival(X_new, np.linspace(0.1, horizon, 100))
        estimate = model.predict_rmst(X_new, horizon)
    else:
        estimate = model.predict(X_test)
    return ((clock.perf_counter() - start, clock.process_time() - cpu),
            np.asarray(estimate, dtype=float).reshape(-1))


def worker(forest: str, n: int, trees: int, threads: int, grid: str = "default") -> dict:
    """Fit and predict ``forest`` in this process; seconds per phase and memory."""
    load_before = os.getloadavg()[0]
    X, time, event, w, X_test, truth, horizon = simulate(n)
    small = slice(0, 2000)
    _fit_predict(_model(forest, 8, threads, horizon), forest, X[small], time[small],
                 event[small], w[small], X_test[:50], horizon)  # warm-up / numba cache
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    phases = Phases()
    _instrument(forest, phases)
    model = _model(forest, trees, threads, horizon, grid)
    start, cpu = clock.perf_counter(), clock.process_time()
    with warnings_off():
        (predict_s, predict_cpu), estimate = _fit_predict(model, forest, X, time, event, w,
                                                          X_test, horizon)
    total = clock.perf_counter() - start
    cpu = clock.process_time() - cpu
    phases.restore()
    phases.cpu["fit"] = cpu - predict_cpu
    phases.cpu["predict"] = predict_cpu
    if forest in ("sf", "rf"):
        phases.cpu["main forest"] = cpu - predict_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = phases.seconds
    if forest == "cf":
        # The outcome forest is grown right after _nuisance_forest returns it: the rest of
        # the fit that is neither propensity nor main forest.
        seconds.pop("outcome forest (setup)", None)
        seconds["outcome forest"] = (total - predict_s - seconds["propensity"]
                                     - seconds["main forest"])
    elif forest in ("sf", "rf"):
        seconds["main forest"] = total - predict_s
    seconds["fit"] = total - predict_s
    seconds["predict"] = predict_s
    out = {"forest": forest, "n": n, "trees": model.n_estimators, "seconds": seconds,
           "cpu_seconds": {**phases.cpu, "total": cpu},  # CPU seconds of this process
           "peak_mb": peak / 1024, "growth_mb": (peak - base) / 1024,
           "load": [load_before, os.getloadavg()[0]], "kept_mb": _kept_mb(model)}
    if forest == "csf":
        out["rmse"] = float(np.sqrt(np.mean((estimate - truth) ** 2)))
        out["grid"] = int(model.failure_times_.size)
    return out


def _nbytes(value) -> int:
    """Bytes of the arrays held by ``value`` (an array, tuple/list, dataclass or forest)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(_nbytes(getattr(value, name)) for name in value.__dataclass_fields__)
    return 0


def _kept_mb(model) -> dict:
    """MB of the fitted trees kept by ``model``: its forest (and leaf histograms), and for
    the causal survival forest the event survival forest it keeps."""
    out = {"forest": (_nbytes(model.forest_) + _nbytes(getattr(model, "_hist", ()))) / 2**20}
    event = getattr(model, "event_model_", None)
    if event is not None and hasattr(event, "forest_"):
        out["event SF"] = (_nbytes(event.forest_) + _nbytes(getattr(event, "_hist", ()))) / 2**20
    return out


@contextlib.contextmanager
def warnings_off():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ------------------------------------------------------------------------------------- grf
_GRF_SCRIPT = r"""
args <- commandArgs(TRUE)
.libPaths(c(args[5], .libPaths()))
suppressMessages(library(grf))
forest <- args[1]; trees <- as.integer(args[2]); threads <- as.integer(args[3])
d <- read.csv(args[4]); h <- as.numeric(args[6])
X <- as.matrix(d[, grepl("^x", names(d))]); Xt <- as.matrix(read.csv(args[7]))
Y <- d$time; D <- d$event; W <- d$w
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]; c0 <- cpu()
if (forest == "csf") {
  f <- causal_survival_forest(X, Y, W, D, target = "RMST", horizon = h, num.trees = trees,
                              num.threads = threads, seed = 0)
} else if (forest == "sf") {
  f <- survival_forest(cbind(X, W), Y, D, num.trees = trees, num.threads = threads, seed = 0)
} else if (forest == "cf") {
  f <- causal_forest(X, pmin(Y, h), W, num.trees = trees, num.threads = threads, seed = 0)
} else {
  f <- regression_forest(X, pmin(Y, h), num.trees = trees, num.threads = threads, seed = 0)
}
t1 <- proc.time()[["elapsed"]]; c1 <- cpu()
if (forest == "sf") {
  p <- predict(f, cbind(Xt, 0), failure.times = seq(0.1, h, length.out = 100))
} else {
  p <- predict(f, Xt)
}
t2 <- proc.time()[["elapsed"]]; c2 <- cpu()
cat(sprintf("GRFTIME %f %f %f %f\n", t1 - t0, t2 - t1, c1 - c0, c2 - c1))
"""


def grf_run(forest: str, n: int, trees: int, threads: int, timeout: float) -> dict:
    """grf's forest on the same data (R subprocess, time-boxed): seconds and peak RSS."""
    X, time, event, w, X_test, _, horizon = simulate(n)
    if trees <= 0:
        trees = 1000 if forest == "sf" else 2000
    lib = os.environ.get("GRF_LIB", "/tmp/Rlib")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        names = [f"x{j}" for j in range(X.shape[1])]
        header = ",".join([*names, "time", "event", "w"])
        np.savetxt(folder / "train.csv", np.column_stack([X, time, event, w]), delimiter=",",
                   header=header, comments="", fmt="%.17g")
        np.savetxt(folder / "test.csv", X_test, delimiter=",", header=",".join(names),
                   comments="", fmt="%.17g")
        (folder / "run.R").write_text(_GRF_SCRIPT)
        command = ["Rscript", str(folder / "run.R"), forest, str(trees), str(threads),
                   str(folder / "train.csv"), lib, repr(horizon), str(folder / "test.csv")]
        started = clock.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"forest": f"grf {forest}", "n": n, "trees": trees, "timeout": timeout,
                    "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                    "load": [load_before, os.getloadavg()[0]]}
    line = [x for x in done.stdout.splitlines() if x.startswith("GRFTIME")]
    if not line and done.returncode < 0:
        # killed by a signal: SIGKILL here is the kernel's out-of-memory killer (n = 10^5
        # causal survival forest: killed after 820 s at 24.3 GB on a 24 GB machine)
        return {"forest": f"grf {forest}", "n": n, "trees": trees,
                "killed": {"signal": -done.returncode,
                           "after_seconds": clock.perf_counter() - started},
                "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "load": [load_before, os.getloadavg()[0]]}
    if not line:
        raise RuntimeError(f"grf failed: {done.stderr[-2000:]}")
    fit, predict, fit_cpu, predict_cpu = map(float, line[0].split()[1:])
    return {"forest": f"grf {forest}", "n": n, "trees": trees,
            "seconds": {"fit": fit, "predict": predict},
            "cpu_seconds": {"fit": fit_cpu, "predict": predict_cpu},
            "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "load": [load_before, os.getloadavg()[0]]}


# ----------------------------------------------------------------------------------- table
def _run(*arguments: str) -> dict:
    output = subprocess.run([sys.executable, __file__, *arguments], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _format(row: dict, rf_per_tree: float | None) -> str:
    seconds = row.get("seconds", {})
    phases = ", ".join(f"{k} {v:.1f}" for k, v in seconds.items() if k not in ("fit", "predict"))
    if "timeout" in row:
        timing = f"{'> ' + format(row['timeout'], '.0f'):>9}{'':>9}"
    elif "killed" in row:
        killed = row["killed"]
        timing = f"{'killed':>9}{'@' + format(killed['after_seconds'], '.0f'):>9}"
    else:
        timing = f"{seconds['fit']:>9.1f}{seconds['predict']:>9.1f}"
    cpu = row.get("cpu_seconds", {})
    ratio = ""
    if rf_per_tree and "main forest" in cpu:
        ratio = f"{cpu['main forest'] / row['trees'] / rf_per_tree:.2f}"
    for part in ("fit", "predict"):
        timing += f"{cpu[part]:>9.1f}" if part in cpu else f"{'':>9}"
    extra = f"  rmse {row['rmse']:.3f} grid {row['grid']}" if "rmse" in row else ""
    growth = f"{row['growth_mb']:>8.0f}" if "growth_mb" in row else f"{'':>8}"
    return (f"{row['n']:>9} {row['forest']:<8}{row['trees']:>6}{timing}{row['peak_mb']:>9.0f}"
            f"{growth}{ratio:>6} {row['load'][0]:>4.1f}/{row['load'][1]:<4.1f} [{phases}]"
            f"{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--trees", type=int, default=0, help="0: each forest's default")
    parser.add_argument("--forests", nargs="+", choices=FORESTS, default=list(FORESTS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--grf", action="store_true", help="grf side by side (R)")
    parser.add_argument("--grf-timeout", type=float, default=900.0)
    parser.add_argument("--json", help="append each row to this file (JSON lines)")
    parser.add_argument("--grid", default="default",
                        help='csf failure_times: "default" (a cap of 2,000), "all" or a cap')
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--grf-worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        forest, n, trees, threads, grid = args.worker
        print(json.dumps(worker(forest, int(n), int(trees), int(threads), grid)))
        return
    if args.grf_worker:
        forest, n, trees, threads, timeout = args.grf_worker
        print(json.dumps(grf_run(forest, int(n), int(trees), int(threads), float(timeout))))
        return
    print(f"design {DESIGN} (p = 10), threads={args.threads}, predict {N_TEST} new rows; "
          "wall seconds and CPU seconds (grf: R's user + system); /rf: main forest CPU per "
          "tree over the regression forest's; load: 1-min load average before/after")
    print(f"{'n':>9} {'forest':<8}{'trees':>6}{'fit s':>9}{'pred s':>9}{'fit cpu':>9}"
          f"{'pred cpu':>9}{'peak MB':>9}{'+MB':>8}{'/rf':>6} {'load':<9} [phases]")
    order = sorted(args.forests, key=lambda f: f != "rf")  # the baseline first
    for n in args.sizes:
        rf_per_tree = None
        for forest in order:
            sides = [("--worker", forest)]
            if args.grf:
                sides.append(("--grf-worker", forest))
            for flag, name in sides:
                extra = [str(args.grf_timeout) if flag == "--grf-worker" else args.grid]
                row = _run(flag, name, str(n), str(args.trees), str(args.threads), *extra)
                if flag == "--worker" and forest == "rf":
                    rf_per_tree = row["cpu_seconds"]["main forest"] / row["trees"]
                print(_format(row, rf_per_tree), flush=True)
                if args.json:
                    with open(args.json, "a") as handle:
                        handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
