"""Survival meta-learners on the SurvHTE-Bench synthetic protocol.

Run: ``python benchmarks/survhte_bench_survival_meta.py [--configs RCT-50 OBS-CPS]
[--scenarios A B] [--repeats 0 1] [--learners T S X Matching M R] [--target rmst]
[--base default|forest|grf-forest] [--interactions]``

Protocol (Noroozizadeh et al., ICLR 2026): each dataset is the published one (n = 50,000,
legacy seed 2025); repeat K trains on the first 5,000 rows of permutation ``random_idxK`` of
``synthetic/idx_split.csv`` (``--split-file``, default ``$SURVHTE_DATA`` or
``../shared/data/survhte_bench``) and tests on rows 7,500-10,000. Horizon ``h``: the median
factual event time of the training rows, as the grf reference runs, capped at the smallest
arm's last observed training time (scenario D's follow-up is shorter). Reported per learner and
dataset, averaged over repeats: CATE MSE against the per-row effect the benchmark scores
(``individual_effect``) and against the conditional truth ``true_cate``, the MSE of the best
constant (the test rows' true ATE) as a yardstick, ATE bias (mean prediction on the test rows
minus the mean per-row effect) and fit seconds. Default learners; ``--base forest`` swaps the
outcome model of every learner that has one for ``censored_forest_model(200)`` (alpha = 0,
leaves of 100 rows), ``--base grf-forest`` for ``SurvivalForest(n_estimators=200)`` (grf's
defaults).
"""

from __future__ import annotations

import time as clock
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _survhte_bench import COLUMNS, parser, scores, split_file, summary

from survhte._validation import default_horizon
from survhte.forest import SurvivalForest
from survhte.simulate import benchmark_split, survhte_bench
from survhte.survival_model_learners import LEARNERS, censored_forest_model

#: ``--base`` choices that swap each learner's outcome model for a survival forest.
FOREST_BASES = {
    "forest": lambda seed: censored_forest_model(200, random_state=seed),
    "grf-forest": lambda seed: SurvivalForest(n_estimators=200, random_state=seed),
}


def run_one(config: str, scenario: str, repeat: int, learners: list[str], target: str,
            splits: Path, base: str, interactions: bool) -> list[dict]:
    data = survhte_bench(config, scenario, n=50_000, random_state=2025, legacy=True)
    train, _, test = benchmark_split(repeat, splits)
    horizon = min(float(np.median(data.T[train])),
                  default_horizon(data.time[train], data.w[train]))
    per_row = data.individual_effect(horizon, target=target)[test]
    truth = data.true_cate(target, horizon)[test]
    rows = []
    for name in learners:
        est = LEARNERS[name](target=target, horizon=horizon, n_bootstrap=0, random_state=repeat)
        if base in FOREST_BASES and "base_model" in est.get_params():
            est.set_params(base_model=FOREST_BASES[base](repeat))
        if interactions and "treatment_interactions" in est.get_params():
            est.set_params(treatment_interactions=True)
        start = clock.perf_counter()
        est.fit(data.X[train], data.y[train], data.w[train])
        seconds = clock.perf_counter() - start
        tau = est.predict(data.X[test])
        rows.append({
            "config": config, "scenario": scenario, "repeat": repeat, "learner": name,
            "base": base, "interactions": interactions, "horizon": horizon,
            **scores(tau, per_row, truth, seconds),
        })
    return rows


def main() -> None:
    options = parser(__doc__.splitlines()[0], list(LEARNERS))
    options.add_argument("--base", default="default", choices=["default", *FOREST_BASES])
    options.add_argument("--interactions", action="store_true",
                         help="S-learner with treatment_interactions=True")
    args = options.parse_args()
    warnings.simplefilter("ignore")
    splits = split_file(args.split_file)
    start = clock.perf_counter()
    rows = [row for config in args.configs for scenario in args.scenarios
            for repeat in args.repeats
            for row in run_one(config, scenario, repeat, args.learners, args.target, splits,
                               args.base, args.interactions)]
    frame = pd.DataFrame(rows)
    if args.out:
        frame.to_csv(args.out, index=False)
    table = summary(frame, ["config", "scenario", "learner"])
    with pd.option_context("display.width", 160, "display.float_format", "{:.4g}".format):
        print(table[COLUMNS].to_string())
    print(f"\nwall time {clock.perf_counter() - start:.1f} s, repeats {args.repeats}")


if __name__ == "__main__":
    main()
