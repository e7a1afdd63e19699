"""CausalSurvivalForest vs grf's ``causal_survival_forest`` on the 15 reference designs.

Run: ``python benchmarks/grf_reference.py [--targets rmst survival] [--designs RCT-50_A ...]
[--trees 2000] [--data /work/shared/data/grf_reference] [--n-jobs 2]``

Each design folder (``$SURVHTE_DATA/grf_reference`` by default, see its README) holds
``train.csv`` (5,000 rows), ``test.csv`` (2,000 rows with the exact conditional effects
``tau_rmst``/``tau_survival``), ``meta.json`` (the horizon), grf's test predictions and variances
(``grf_pred.csv``: defaults, seed 1, 2 threads) and grf's fit + predict seconds
(``grf_time.json``). Both estimators use grf's defaults (2000 trees, all distinct failure
times); survhte's time includes numba compilation only if its cache is cold (a warm-up fit runs
first). The bar: RMSE <= 1.05 x grf's and 95% coverage >= grf's on every design.
"""

from __future__ import annotations

import argparse
import json
import os
import time as clock
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from survhte.forest import CausalSurvivalForest

DESIGNS = [f"{c}_{s}" for c in ("RCT-50", "OBS-CPS", "OBS-CPS-IC") for s in "ABCDE"]
FEATURES = [f"X{j}" for j in range(1, 6)]
Z = 1.959963984540054


def default_root() -> Path:
    base = os.environ.get("SURVHTE_DATA")
    return Path(base) / "grf_reference" if base else Path("/work/shared/data/grf_reference")


def run_design(folder: Path, target: str, trees: int, n_jobs: int | None,
               seed: int = 0) -> dict:
    """Fit on train.csv, predict test.csv; RMSE and coverage for survhte and grf."""
    train = pd.read_csv(folder / "train.csv")
    test = pd.read_csv(folder / "test.csv")
    grf = pd.read_csv(folder / "grf_pred.csv")
    horizon = json.loads((folder / "meta.json").read_text())["horizon"]
    grf_time = json.loads((folder / "grf_time.json").read_text())[f"{target}_fit_predict_s"]
    truth = test[f"tau_{target}"].to_numpy()
    X, Xt = train[FEATURES].to_numpy(), test[FEATURES].to_numpy()
    y = (train["time"].to_numpy(), train["event"].to_numpy())
    start = clock.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = CausalSurvivalForest(trees, target=target, horizon=horizon, n_jobs=n_jobs,
                                   random_state=seed).fit(X, y, train["W"].to_numpy())
    pred = est.predict(Xt)
    lo, hi = est.predict_interval(Xt)
    seconds = clock.perf_counter() - start
    g_pred = grf[target].to_numpy()
    g_half = Z * np.sqrt(grf[f"{target}_var"].to_numpy())
    return {
        "design": folder.name,
        "target": target,
        "rmse": float(np.sqrt(np.mean((pred - truth) ** 2))),
        "grf_rmse": float(np.sqrt(np.mean((g_pred - truth) ** 2))),
        "cover": float(np.mean((lo <= truth) & (truth <= hi))),
        "grf_cover": float(np.mean(np.abs(g_pred - truth) <= g_half)),
        "const_rmse": float(np.std(truth)),
        "seconds": seconds,
        "grf_seconds": float(grf_time),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_root())
    parser.add_argument("--targets", nargs="+", default=["rmst", "survival"])
    parser.add_argument("--designs", nargs="+", default=DESIGNS)
    parser.add_argument("--trees", type=int, default=2000)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    # Warm the numba cache so that compilation is not timed.
    run_design(args.data / args.designs[0], args.targets[0], 50, args.n_jobs)
    rows = []
    header = (f"{'design':<14}{'target':<9}{'rmse':>8}{'grf':>8}{'ratio':>7}{'const':>8}"
              f"{'cover':>7}{'grf':>7}{'sec':>7}{'grf s':>7}  bar")
    print(header)
    for target in args.targets:
        for name in args.designs:
            row = run_design(args.data / name, target, args.trees, args.n_jobs, args.seed)
            ok = row["rmse"] <= 1.05 * row["grf_rmse"] and row["cover"] >= row["grf_cover"]
            row["bar"] = bool(ok)
            rows.append(row)
            print(f"{name:<14}{target:<9}{row['rmse']:8.4f}{row['grf_rmse']:8.4f}"
                  f"{row['rmse'] / row['grf_rmse']:7.3f}{row['const_rmse']:8.4f}"
                  f"{row['cover']:7.3f}{row['grf_cover']:7.3f}{row['seconds']:7.1f}"
                  f"{row['grf_seconds']:7.1f}  {'ok' if ok else 'MISS'}", flush=True)
    print(f"bar met on {sum(r['bar'] for r in rows)}/{len(rows)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
