"""Survival forest fit + predict: time and peak memory at 50,000 x 27 (grf #763, sksurv #343).

Run: ``python benchmarks/survival_forest_speed.py [--n 50000] [--p 27] [--trees 500]
[--threads 2]``.

Data: ``X ~ U(0, 1)^p``; Weibull-Cox event times (shape 0.5) with linear predictor
``x1 + x2 - x3``, exponential censoring (about 30% censored): nearly every event time is
distinct, so the failure-time grid has ~0.7 n points (the case that made grf's and
scikit-survival's forests slow and memory hungry). Settings are grf's defaults
(``min_node_size=15``, ``mtry = min(ceil(sqrt(p) + 20), p)``, honesty, half-samples).
Fit on ``n`` rows; predict the survival curve of 10,000 new rows at 100 times and their RMST.
scikit-survival's ``RandomSurvivalForest`` is timed too when installed (not a dependency).
Each configuration runs in a fresh subprocess after a warm-up fit on small data (numba
compilation excluded); "peak MB" is the growth of the process's peak resident memory during
fit + predict.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time as clock

import numpy as np

N_TEST = 10_000


def simulate(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, p))
    lp = X[:, 0] + X[:, 1] - X[:, 2]
    T = (rng.exponential(size=n) / np.exp(lp)) ** 2
    C = rng.exponential(4.0, size=n)
    return X, np.minimum(T, C), T <= C


def worker(config: str, n: int, p: int, trees: int, threads: int) -> dict:
    X, time, event = simulate(n + N_TEST, p)
    X_train, X_test = X[:n], X[n:]
    times = np.quantile(time[:n][event[:n]], np.linspace(0.01, 0.9, 100))
    horizon = float(times[-1])
    if config == "sksurv":
        from sksurv.ensemble import RandomSurvivalForest
        from sksurv.util import Surv

        def model(k: int) -> RandomSurvivalForest:
            return RandomSurvivalForest(n_estimators=k, min_samples_leaf=15, max_samples=0.5,
                                        n_jobs=threads, random_state=0)

        def predict(fitted, rows):
            curves = fitted.predict_survival_function(rows, return_array=True)
            grid = fitted.unique_times_
            return curves[:, np.clip(np.searchsorted(grid, times, side="right") - 1, 0, None)]

        y = Surv.from_arrays(event[:n], time[:n])
        model(2).fit(X_train[:300], y[:300])
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = clock.perf_counter()
        fitted = model(trees).fit(X_train, y)
        fit_done = clock.perf_counter()
        predict(fitted, X_test)
    else:
        from survhte.forest import SurvivalForest

        def model(k: int) -> SurvivalForest:
            return SurvivalForest(n_estimators=k, n_jobs=threads, random_state=0)

        model(2).fit(X_train[:300], (time[:300], event[:300])).predict_survival(
            X_test[:5], times)
        model(2).fit(X_train[:300], (time[:300], event[:300])).predict_rmst(X_test[:5], 1.0)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = clock.perf_counter()
        fitted = model(trees).fit(X_train, (time[:n], event[:n]))
        fit_done = clock.perf_counter()
        fitted.predict_survival(X_test, times)
        fitted.predict_rmst(X_test, horizon)
    done = clock.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"fit": fit_done - start, "predict": done - fit_done,
            "peak_mb": (peak - base) / 1024, "grid": int(np.unique(time[:n][event[:n]]).size)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--p", type=int, default=27)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        config, n, p, trees, threads = args.worker
        print(json.dumps(worker(config, int(n), int(p), int(trees), int(threads))))
        return
    configs = ["survhte"]
    try:
        import sksurv  # noqa: F401

        configs.append("sksurv")
    except ImportError:
        print("scikit-survival is not installed: timing survhte only.")
    print(f"n={args.n} p={args.p} trees={args.trees} threads={args.threads}, "
          f"predict {N_TEST} rows x 100 times + RMST")
    print(f"{'forest':<10}{'fit s':>10}{'predict s':>12}{'peak MB':>10}{'grid':>8}")
    for config in configs:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", config, str(args.n), str(args.p),
             str(args.trees), str(args.threads)],
            capture_output=True, text=True, check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{config:<10}{row['fit']:>10.1f}{row['predict']:>12.1f}{row['peak_mb']:>10.0f}"
              f"{row['grid']:>8}")


if __name__ == "__main__":
    main()
