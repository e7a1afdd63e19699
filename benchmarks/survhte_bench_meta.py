"""Imputation meta-learners (survhte.imputed_learners) on the SurvHTE-Bench synthetic protocol.

Run: ``python benchmarks/survhte_bench_meta.py [--configs RCT-50 OBS-CPS] [--scenarios A B]
[--repeats 0 1] [--learners T S X DR R] [--imputations pseudo margin ipcwt]
[--bases ridge rf hgb] [--horizon median|max] [--target rmst] [--jobs 2] [--out rows.csv]``

Protocol (Noroozizadeh et al., ICLR 2026): each dataset is the published one (n = 50,000,
legacy seed 2025); repeat K trains on the first 5,000 rows of permutation ``random_idxK`` of
``synthetic/idx_split.csv`` (``--split-file``, default ``$SURVHTE_DATA`` or
``../shared/data/survhte_bench``) and tests on rows 7,500-10,000 of it.

Horizon. ``median`` (default): the median factual event time of the training rows, capped at
the smallest arm's last observed training time (as ``survhte_bench_survival_meta.py`` and the
grf reference runs); ``max``: that cap itself, the longest horizon every arm observes (the
benchmark's untruncated setting, as far as the data allow).

Bases: ``ridge`` (``Ridge(alpha=1)``), ``rf`` (random forest, 100 trees, leaves of >= 50 rows),
``hgb`` (each learner's default, regularised early-stopped gradient boosting); the base serves
every regression stage. Reported per dataset, learner, imputation and base, averaged over
repeats: CATE MSE against the per-row effect the benchmark scores (``individual_effect``) and
against the conditional truth (``true_cate``), the best constant's MSE (variance of the test
rows' conditional truth) and the ratio, ATE bias (mean test prediction minus the mean per-row
effect) and fit seconds.
"""

from __future__ import annotations

import argparse
import time as clock
import warnings

import numpy as np
import pandas as pd
from _survhte_bench import COLUMNS, parser, run_tasks, scores, split_file, summary
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge

from survhte._validation import default_horizon
from survhte.imputed_learners import IMPUTATIONS, LEARNERS
from survhte.simulate import benchmark_split, survhte_bench

BASES = {
    "ridge": lambda: Ridge(alpha=1.0),
    "rf": lambda: RandomForestRegressor(n_estimators=100, min_samples_leaf=50, max_features=0.6,
                                        random_state=0),
    "hgb": lambda: None,
}

def build(learner: str, imputation: str, base: str, target: str, horizon: float, seed: int):
    params = {"imputation": imputation, "target": target, "horizon": horizon,
              "random_state": seed, "base_learner": BASES[base]()}
    if learner in ("X", "DR", "R"):
        params["effect_learner"] = BASES[base]()
    params["n_bootstrap"] = 0
    return LEARNERS[learner](**params)


def run_one(config: str, scenario: str, repeat: int, args: argparse.Namespace) -> list[dict]:
    warnings.simplefilter("ignore")
    data = survhte_bench(config, scenario, n=50_000, random_state=2025, legacy=True)
    train, _, test = benchmark_split(repeat, split_file(args.split_file))
    cap = default_horizon(data.time[train], data.w[train])
    horizon = min(float(np.median(data.T[train])), cap) if args.horizon == "median" else cap
    per_row = data.individual_effect(horizon, target=args.target)[test]
    truth = data.true_cate(args.target, horizon)[test]
    rows = []
    for learner in args.learners:
        for imputation in args.imputations:
            for base in args.bases:
                est = build(learner, imputation, base, args.target, horizon, repeat)
                start = clock.perf_counter()
                est.fit(data.X[train], data.y[train], data.w[train])
                seconds = clock.perf_counter() - start
                tau = est.predict(data.X[test])
                rows.append({
                    "config": config, "scenario": scenario, "repeat": repeat,
                    "learner": learner, "imputation": imputation, "base": base,
                    "horizon": horizon, **scores(tau, per_row, truth, seconds),
                })
    return rows


def main() -> None:
    options = parser(__doc__.splitlines()[0], list(LEARNERS))
    options.add_argument("--imputations", nargs="+", default=["margin", "ipcwt", "pseudo"],
                         choices=list(IMPUTATIONS))
    options.add_argument("--bases", nargs="+", default=list(BASES), choices=list(BASES))
    options.add_argument("--horizon", default="median", choices=["median", "max"])
    options.add_argument("--jobs", type=int, default=1, help="datasets x repeats in parallel")
    args = options.parse_args()
    start = clock.perf_counter()
    frame = run_tasks(run_one, args)
    keys = ["config", "scenario", "learner", "imputation", "base"]
    table = summary(frame, keys)
    with pd.option_context("display.width", 160, "display.max_rows", None,
                           "display.float_format", "{:.4g}".format):
        print(table[COLUMNS].to_string())
        print("\nratio of CATE MSE to the constant's, mean over datasets:")
        print(table.groupby(["learner", "imputation", "base"], sort=False)["ratio_to_constant"]
              .agg(["mean", "median"]).to_string())
    print(f"\nwall time {clock.perf_counter() - start:.1f} s, repeats {args.repeats}, "
          f"horizon {args.horizon}")


if __name__ == "__main__":
    main()
