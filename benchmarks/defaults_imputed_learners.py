"""Imputed-outcome meta-learners: previous vs current defaults on stress and SurvHTE designs.

Run: ``nice -n 10 python benchmarks/defaults_imputed_learners.py [--suite stress|bench]
[--seeds 3] [--learners T S X DR R] [--designs ...] [--out rows.csv]``

Each learner (``survhte.imputed_learners``, RMST at the design's horizon) is fitted with

- ``before``: the defaults up to issue 18, passed explicitly: early-stopped depth-2 boosting
  (leaves of 200 rows, ``default_regressor()``) for every regression, the S-learner's 8-leaf
  booster (``previous_s_regressor()``). The R-learner's regressions get the same booster on
  pre-binned covariates (``default_weighted_regressor()``): with IPCW weights scikit-learn's
  own weighted binning costs ~4 s per fit (one weighted percentile per bin edge), which made
  the R-learner alone take minutes; the model is the same up to bin edges at unweighted
  quantiles.
- ``after``: the current defaults (cross-validated candidates; CATE calibrated toward the ATE
  by the held-out slope; ``survhte/imputed_learners/_defaults.py``).

Designs. ``stress``: :func:`survhte.simulate.stress_design` (``nonlinear``, ``confounded``,
``heavy_censoring``, ``small_arm``, ``trial_4arm``, ``null``) at each design's own ``n`` and
horizon, seeds 0..S-1, scored on a fresh draw of 2,000 rows (seed 1000 + s). ``bench``:
SurvHTE-Bench ``survhte_bench(config, scenario, n=7500, random_state=2024 + s)``, RCT-50 and
OBS-CPS x scenarios A-E, first 5,000 rows train, last 2,500 test, horizon the median observed
training time (as ``tests/test_imputed_learners_accuracy.py``).

Score: CATE RMSE / sd(true tau) on the test rows, averaged over treated levels (4-arm: the
three levels), then mean and sd over seeds. The constant predictor that knows the true mean
effect scores exactly 1 (``const``); ``ate-const`` predicts the DR-learner's estimated ATE for
everyone (the feasible constant: above 1 by the ATE's error). ``null`` has tau = 0: its column
is the RMSE in months (the constants score 0 and the ATE error).

Measured 2026-12-06 (3 seeds; fit seconds are wall time on 2 shared cores at load 7-9, about
3x the CPU time). Before -> after, RMSE / sd(tau) (null: RMSE in months):

=========  =========  ==========  ===============  =========  ===========  ==========
learner    nonlinear  confounded  heavy_censoring  small_arm  null         trial_4arm
=========  =========  ==========  ===============  =========  ===========  ==========
T          .74 -> .71 .72 -> .73  .88 -> .75       1.77 -> .95 1.20 -> .29 1.49 -> 1.03
S          .67 -> .69 .72 -> .72  .78 -> .73       .87 -> .90  .27 -> .28  1.01 -> 1.02
X          .61 -> .59 .68 -> .65  .68 -> .68       1.07 -> .87 .59 -> .33  1.23 -> 1.01
DR         .64 -> .64 .78 -> .74  .80 -> .71       .94 -> .91  .51 -> .27  1.06 -> 1.02
R          .64 -> .66 .71 -> .69  .78 -> .73       .96 -> .88  .49 -> .26  1.06 -> .96
ate-const  1.00       1.00        1.01             1.01        .27         1.07
=========  =========  ==========  ===============  =========  ===========  ==========

SurvHTE-Bench (2 seeds, RCT-50 / OBS-CPS x A, D): A improves for every learner (e.g. S
.72 -> .52, .78 -> .57); D is mixed (T .57 -> .71, X .66 -> .83 on RCT-50 D; R .73 -> .94 on
OBS-CPS D, sd .34; S .92 -> .70), every learner still below the constant.

Threads: ``OMP_NUM_THREADS=1`` is set before scikit-learn loads; on shared, loaded cores the
boosters' OpenMP threads otherwise spin and a 4-arm DR fit took 219 s instead of 7 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time as clock
import warnings

import numpy as np
import pandas as pd

from survhte.imputed_learners import (
    LEARNERS,
    default_regressor,
    default_weighted_regressor,
    previous_s_regressor,
)
from survhte.simulate import stress_design, survhte_bench

STRESS = ["nonlinear", "confounded", "heavy_censoring", "small_arm", "trial_4arm", "null"]
BENCH = [f"{config}/{scenario}" for config in ("RCT-50", "OBS-CPS") for scenario in "ABCDE"]


def before_params(learner: str) -> dict:
    """The pre-issue-18 defaults, explicitly."""
    if learner == "S":
        return {"base_learner": previous_s_regressor()}
    if learner == "R":
        return {"base_learner": default_weighted_regressor(),
                "effect_learner": default_weighted_regressor()}
    params = {"base_learner": default_regressor()}
    if learner in ("X", "DR"):
        params["effect_learner"] = default_regressor()
    return params


def draw(design: str, seed: int):
    """(X, y, w train), (X test), true CATE on the test rows (n_test, K), horizon."""
    if "/" in design:
        config, scenario = design.split("/")
        d = survhte_bench(config, scenario, n=7500, random_state=2024 + seed)
        train, test = slice(0, 5000), slice(5000, 7500)
        horizon = float(np.median(d.time[train]))
        truth = np.asarray(d.true_cate("rmst", horizon))[test]
        return (d.X[train], d.y[train], d.w[train]), d.X[test], truth.reshape(len(truth), -1), \
            horizon
    d = stress_design(design, random_state=seed)
    fresh = stress_design(design, n=2000, random_state=1000 + seed)
    truth = np.asarray(fresh.true_cate("rmst", d.horizon))
    return (d.X, d.y, d.w), fresh.X, truth.reshape(len(truth), -1), d.horizon


def relative_rmse(tau: np.ndarray, truth: np.ndarray) -> float:
    """Mean over levels of RMSE / sd(truth); the RMSE itself where the truth is constant."""
    tau = np.asarray(tau).reshape(truth.shape)
    sd = truth.std(axis=0)
    rmse = np.sqrt(np.mean((tau - truth) ** 2, axis=0))
    return float(np.mean(rmse if np.all(sd == 0) else rmse / sd))


def run(designs: list[str], learners: list[str], seeds: int, out: str | None = None
        ) -> pd.DataFrame:
    """Score every (design, seed, learner, version); rows are appended to ``out`` (CSV) after
    each design and seed, so an interrupted run keeps what it measured."""
    warnings.simplefilter("ignore")
    rows = []
    for design in designs:
        for seed in range(seeds):
            (X, y, w), X_test, truth, horizon = draw(design, seed)
            const = np.broadcast_to(truth.mean(axis=0), truth.shape)
            rows.append({"design": design, "seed": seed, "learner": "const",
                         "version": "-", "score": relative_rmse(const, truth), "seconds": 0.0})
            for learner in learners:
                for version in ("before", "after"):
                    params = before_params(learner) if version == "before" else {}
                    est = LEARNERS[learner](horizon=horizon, random_state=seed, n_bootstrap=0,
                                            **params)
                    start = clock.perf_counter()
                    est.fit(X, y, w)
                    seconds = clock.perf_counter() - start
                    rows.append({"design": design, "seed": seed, "learner": learner,
                                 "version": version, "seconds": seconds,
                                 "score": relative_rmse(est.predict(X_test), truth)})
                    if learner == "DR" and version == "after":
                        ate = np.broadcast_to(np.atleast_1d(est.ate()), truth.shape)
                        rows.append({"design": design, "seed": seed, "learner": "ate-const",
                                     "version": "-", "seconds": 0.0,
                                     "score": relative_rmse(ate, truth)})
            if out:
                pd.DataFrame(rows).to_csv(out, index=False)
            print(f"  {design} seed {seed} done", flush=True)
    return pd.DataFrame(rows)


def table(rows: pd.DataFrame) -> pd.DataFrame:
    """learner x version rows, design columns: 'mean (sd)' over seeds; fit seconds last."""
    stats = rows.groupby(["learner", "version", "design"], sort=False)["score"].agg(["mean",
                                                                                     "std"])
    cells = stats.apply(lambda r: f"{r['mean']:.2f} ({r['std']:.2f})", axis=1).unstack("design")
    cells["fit s"] = rows.groupby(["learner", "version"], sort=False)["seconds"].mean().round(1)
    return cells[[*rows["design"].unique(), "fit s"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["stress", "bench"], default="stress")
    parser.add_argument("--designs", nargs="*")
    parser.add_argument("--learners", nargs="*", default=list(LEARNERS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out")
    parser.add_argument("--tables", nargs="*", help="print the table of saved --out files")
    args = parser.parse_args()
    designs = args.designs or (STRESS if args.suite == "stress" else BENCH)
    if args.tables:
        rows = pd.concat([pd.read_csv(path, keep_default_na=False) for path in args.tables])
        args.seeds = rows["seed"].nunique()
    else:
        rows = run(designs, args.learners, args.seeds, args.out)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(f"CATE RMSE / sd(true tau), mean (sd) over {args.seeds} seeds "
              "('null': RMSE in months)")
        print(table(rows).to_string())


if __name__ == "__main__":
    main()
