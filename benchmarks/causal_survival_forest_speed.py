"""CausalSurvivalForest fit + predict time and peak memory by n (grf defaults, 2000 trees).

Run: ``python benchmarks/causal_survival_forest_speed.py [--sizes 5000 50000] [--trees 2000]
[--threads 2] [--grid 0]``

Data: SurvHTE-Bench RCT-50, scenario A (p = 5, Weibull-Cox), RMST up to the median factual
event time. The whole estimator is timed, nuisance forests included (propensity regression
forest, event and censoring survival forests with ``max(50, trees / 4)`` trees each, as grf),
then a prediction with intervals on 2,000 new rows. Each size runs in a fresh subprocess after a
warm-up fit on small data (numba compilation excluded, loaded from its cache); "peak MB" is
the growth of the process's peak resident memory during fit + predict. ``--grid G`` (G > 0)
passes ``failure_times``: G quantiles of the observed times from the first one (grf's advice
for large n; the default grid is every distinct time, ~n). For scale: grf's
``causal_survival_forest`` needed 22-50 s for 5,000 rows on 2 threads (the
``grf_time.json`` files of ``../shared/data/grf_reference``, another machine state).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time as clock

import numpy as np

N_TEST = 2000


def worker(n: int, trees: int, threads: int, grid: int) -> dict:
    from survhte.forest import CausalSurvivalForest
    from survhte.simulate import survhte_bench

    data = survhte_bench("RCT-50", "A", n=n + N_TEST, random_state=0)
    train, test = slice(0, n), slice(n, n + N_TEST)
    horizon = float(np.median(data.T[train]))
    X, y, w = data.X[train], (data.time[train], data.event[train]), data.w[train]

    times = np.quantile(y[0], np.linspace(0, 1, grid)) if grid > 0 else None

    def model(k: int, failure_times: np.ndarray | None) -> CausalSurvivalForest:
        return CausalSurvivalForest(k, horizon=horizon, failure_times=failure_times,
                                    n_jobs=threads, random_state=0)

    small = (y[0][:400], y[1][:400])
    model(4, None if times is None else np.unique(np.append(times, small[0].min()))).fit(
        X[:400], small, w[:400]).predict_interval(data.X[test][:5])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = clock.perf_counter()
    fitted = model(trees, None if times is None else np.unique(times)).fit(X, y, w)
    fit_done = clock.perf_counter()
    fitted.predict_interval(data.X[test])
    done = clock.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"fit": fit_done - start, "predict": done - fit_done, "peak_mb": (peak - base) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[5000, 50_000])
    parser.add_argument("--trees", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--grid", type=int, default=0, help="failure_times: G quantiles")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*map(int, args.worker))))
        return
    grid = f"grid of {args.grid} quantiles" if args.grid else "all distinct times"
    print(f"trees={args.trees} threads={args.threads}, {grid}, predict_interval on {N_TEST} "
          "rows")
    print(f"{'n':>8}{'fit s':>10}{'predict s':>12}{'peak MB':>10}")
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(n), str(args.trees), str(args.threads),
             str(args.grid)],
            capture_output=True, text=True, check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{n:>8}{row['fit']:>10.1f}{row['predict']:>12.1f}{row['peak_mb']:>10.0f}")


if __name__ == "__main__":
    main()
