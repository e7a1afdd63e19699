"""Regression forest fit + predict: survhte vs scikit-learn, time, peak memory, threads.

Run: ``python benchmarks/forest_speed.py [--sizes 10000 100000] [--large] [--trees 100]``
(``--large`` adds n = 1e6).

Data: ``make_friedman1`` with p = 10 (noise 1); fit on n rows, predict 10,000 new rows.
Settings made comparable: both forests grow ``--trees`` trees on half-samples (survhte:
``sample_fraction=0.5`` without replacement, ``honesty=False``, ``ci_group_size=1``;
scikit-learn: bootstrap ``max_samples=0.5``), split nodes down to the same size (survhte
``min_node_size=5``: nodes of <= 5 rows are leaves; scikit-learn ``min_samples_split=6``) and
consider all 10 features per split. The honest survhte forest (grf defaults: honesty, little
bags of 2) is timed too. Each configuration runs in a fresh subprocess after a warm-up fit on
small data (numba compilation excluded, loaded from its cache); "peak MB" is the growth of the
process's peak resident memory during fit + predict.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time as clock

import numpy as np
from sklearn.datasets import make_friedman1

CONFIGS = ("sklearn", "survhte", "survhte-honest")


def _model(config: str, trees: int, threads: int):
    if config == "sklearn":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=trees, max_samples=0.5, min_samples_split=6,
                                     max_features=1.0, n_jobs=threads, random_state=0)
    from survhte.forest import RegressionForest

    if config == "survhte":
        return RegressionForest(n_estimators=trees, honesty=False, ci_group_size=1,
                                n_jobs=threads, random_state=0)
    return RegressionForest(n_estimators=trees, n_jobs=threads, random_state=0)


def worker(config: str, n: int, trees: int, threads: int) -> dict:
    """Time one configuration in this process; report seconds, peak-memory growth, MSE."""
    X, y = make_friedman1(n + 10_000, n_features=10, noise=1.0, random_state=0)
    X_train, y_train, X_test, y_test = X[:n], y[:n], X[n:], y[n:]
    _model(config, 4, threads).fit(X[:200], y[:200]).predict(X[:10])  # warm-up / compile
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = clock.perf_counter()
    model = _model(config, trees, threads).fit(X_train, y_train)
    fitted = clock.perf_counter()
    prediction = model.predict(X_test)
    done = clock.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"fit": fitted - start, "predict": done - fitted, "peak_mb": (peak - base) / 1024,
            "mse": float(np.mean((prediction - y_test) ** 2))}


def run(config: str, n: int, trees: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--worker", config, str(n), str(trees), str(threads)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--large", action="store_true", help="add n = 1,000,000")
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        config, n, trees, threads = args.worker
        print(json.dumps(worker(config, int(n), int(trees), int(threads))))
        return
    sizes = [*args.sizes, *([1_000_000] if args.large else [])]
    print(f"{'n':>9} {'forest':<15} {'thr':>3} {'fit s':>8} {'pred s':>7} {'total':>8} "
          f"{'vs sk':>6} {'2thr x':>6} {'peak MB':>8} {'test MSE':>8}")
    for n in sizes:
        results = {(c, t): run(c, n, args.trees, t) for c in CONFIGS for t in (1, 2)}
        for (config, threads), r in results.items():
            total = r["fit"] + r["predict"]
            sk = results[("sklearn", threads)]
            ratio = total / (sk["fit"] + sk["predict"])
            one = results[(config, 1)]
            speedup = (one["fit"] + one["predict"]) / total
            print(f"{n:>9} {config:<15} {threads:>3} {r['fit']:>8.2f} {r['predict']:>7.2f} "
                  f"{total:>8.2f} {ratio:>6.2f} {speedup:>6.2f} {r['peak_mb']:>8.1f} "
                  f"{r['mse']:>8.3f}")


if __name__ == "__main__":
    main()
