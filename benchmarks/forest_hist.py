"""Histogram vs exact split search: accuracy against the truth and fit time (issue 22).

Run: ``python benchmarks/forest_hist.py [--seeds 0 1 2] [--bins 32 64 256] [--trees 500]
[--designs RCT-50_A OBS-CPS_B ...] [--n-jobs 1] [--data DIR]``

Three forests, each fitted with ``split_search="exact"`` and ``"hist"`` at each ``n_bins``
(same seeds, so the forests differ only in their candidate thresholds), scored by the RMSE of
their test predictions to the exact truth:

- ``RegressionForest`` on Friedman #1 (n = 5,000, p = 10, uniform features, noise sd 1;
  truth ``10 sin(pi x1 x2) + 20 (x3 - 1/2)^2 + 10 x4 + 5 x5``);
- ``CausalForest`` on Wager & Athey's (2018) design 2 (n = 5,000, p = 10, uniform features,
  e = 1/2, ``tau(x) = s(x1) s(x2)``, ``s(u) = 1 + 1 / (1 + exp(-20 (u - 1/3)))``, noise sd 1);
- ``CausalSurvivalForest`` (RMST at the design's horizon) on the grf reference designs
  (``$SURVHTE_DATA/grf_reference``, else ``../shared/data/grf_reference``: 5,000 training and
  2,000 test rows with the exact conditional effect).

Every feature is continuous, so the bins lose candidates (with at most ``n_bins`` values per
feature the histogram forest is the exact forest). Times are the fit on this machine's CPU
with ``--n-jobs`` numba threads (a warm-up fit compiles first). The table prints the mean
[min, max] over seeds of the RMSE and of its ratio to the exact forest's, and the mean fit
seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import time as clock
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from survhte.forest import CausalForest, CausalSurvivalForest, RegressionForest

FEATURES = [f"X{j}" for j in range(1, 6)]


def default_root() -> Path:
    base = os.environ.get("SURVHTE_DATA")
    if base:
        return Path(base) / "grf_reference"
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grf_reference"


def friedman(seed: int, n: int = 5000, n_test: int = 2000) -> tuple:
    rng = np.random.default_rng(seed)

    def mu(X: np.ndarray) -> np.ndarray:
        return (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2
                + 10 * X[:, 3] + 5 * X[:, 4])

    X, X_test = rng.uniform(size=(n, 10)), rng.uniform(size=(n_test, 10))
    return (X, mu(X) + rng.normal(size=n)), X_test, mu(X_test)


def wager_athey(seed: int, n: int = 5000, n_test: int = 2000) -> tuple:
    rng = np.random.default_rng(seed)

    def tau(X: np.ndarray) -> np.ndarray:
        s1 = 1 + 1 / (1 + np.exp(-20 * (X[:, 0] - 1 / 3)))
        s2 = 1 + 1 / (1 + np.exp(-20 * (X[:, 1] - 1 / 3)))
        return s1 * s2

    X, X_test = rng.uniform(size=(n, 10)), rng.uniform(size=(n_test, 10))
    w = rng.integers(0, 2, n)
    y = (w - 0.5) * tau(X) + rng.normal(size=n)
    return (X, y, w), X_test, tau(X_test)


def grf_design(folder: Path) -> tuple:
    train = pd.read_csv(folder / "train.csv")
    test = pd.read_csv(folder / "test.csv")
    horizon = json.loads((folder / "meta.json").read_text())["horizon"]
    data = (train[FEATURES].to_numpy(), (train["time"].to_numpy(), train["event"].to_numpy()),
            train["W"].to_numpy())
    return data, test[FEATURES].to_numpy(), test["tau_rmst"].to_numpy(), horizon


def fit_time(est: object, data: tuple, X_test: np.ndarray) -> tuple[np.ndarray, float]:
    start = clock.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(*data)
    seconds = clock.perf_counter() - start
    return np.asarray(est.predict(X_test)).reshape(-1), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--bins", type=int, nargs="+", default=[32, 64, 256])
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--designs", nargs="+", default=["RCT-50_A", "OBS-CPS_B",
                                                         "OBS-CPS-IC_C"])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    root = args.data or default_root()
    searches = [("exact", 256)] + [("hist", b) for b in args.bins]
    cases: list[tuple[str, Callable, Callable]] = [
        ("regression / Friedman #1", lambda s: friedman(s),
         lambda search, b, s, extra: RegressionForest(
             args.trees, split_search=search, n_bins=b, n_jobs=args.n_jobs, random_state=s)),
        ("causal / Wager-Athey 2", lambda s: wager_athey(s),
         lambda search, b, s, extra: CausalForest(
             args.trees, split_search=search, n_bins=b, n_jobs=args.n_jobs, random_state=s)),
    ]
    for design in args.designs:
        cases.append((f"causal survival / {design}",
                      lambda s, d=design: grf_design(root / d),
                      lambda search, b, s, horizon: CausalSurvivalForest(
                          args.trees, horizon=horizon, split_search=search, n_bins=b,
                          n_jobs=args.n_jobs, random_state=s)))
    warm = friedman(0, 500, 10)
    for search in ("exact", "hist"):  # compile both searches before timing
        fit_time(RegressionForest(50, split_search=search), warm[0], warm[1])
    rows = []
    for name, load, make in cases:
        for seed in args.seeds:
            loaded = load(seed)
            data, X_test, truth = loaded[:3]
            extra = loaded[3] if len(loaded) > 3 else None
            exact_rmse = None
            for search, b in searches:
                pred, seconds = fit_time(make(search, b, seed, extra), data, X_test)
                rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
                exact_rmse = rmse if search == "exact" else exact_rmse
                rows.append({"forest / design": name,
                             "search": search if search == "exact" else f"hist {b}",
                             "seed": seed, "rmse": rmse, "ratio": rmse / exact_rmse,
                             "fit_s": seconds})
                print(f"{name:34s} {rows[-1]['search']:9s} seed {seed}: RMSE {rmse:.4f} "
                      f"({rmse / exact_rmse:.3f} x exact), fit {seconds:.1f} s", flush=True)
    frame = pd.DataFrame(rows)

    def spread(x: pd.Series, fmt: str) -> str:
        return f"{x.mean():{fmt}} [{x.min():{fmt}}, {x.max():{fmt}}]"

    order = {s if s == "exact" else f"hist {b}": k for k, (s, b) in enumerate(searches)}
    table = (frame.groupby(["forest / design", "search"], sort=False)
             .agg(rmse=("rmse", lambda x: spread(x, ".4f")),
                  ratio=("ratio", lambda x: spread(x, ".3f")),
                  fit_s=("fit_s", "mean"))
             .reset_index())
    table["k"] = table["search"].map(order)
    table = table.sort_values(["forest / design", "k"], kind="stable").drop(columns="k")
    print(f"\n{args.trees} trees, seeds {args.seeds}, {args.n_jobs} numba thread(s); "
          "mean [min, max] over seeds")
    print("| forest / design | search | RMSE | RMSE / exact | fit s |")
    print("|---|---|---|---|---|")
    for row in table.itertuples(index=False):
        print(f"| {row[0]} | {row.search} | {row.rmse} | {row.ratio} | {row.fit_s:.1f} |")


if __name__ == "__main__":
    main()
