"""EnsembleCATE against its members and the constant ATE, on SurvHTE-Bench and stress designs.

Run (2 shared cores: under ``nice``, one BLAS/OpenMP thread)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/ensemble_survhte_bench.py --part survhte
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/ensemble_survhte_bench.py --part stress

``--part survhte``: configs ``RCT-50 OBS-CPS OBS-UConf OBS-CPS-IC`` (the other benchmarks'
four) x scenarios A-E; each repeat ``r`` draws ``survhte_bench(config, scenario, n=2 * n,
random_state=r)``, trains on the first ``n`` rows and scores on the rest against the exact
conditional truth ``true_cate("rmst", h)``; ``h`` is the median factual event time of the
training rows, capped at the smallest arm's last observed training time. ``--part stress``:
``survhte.simulate.stress_design`` (its horizon, RMST), ``n`` training rows (``trial_4arm``:
``--n-4arm``) and as many test rows from another seed.

One ensemble fit per dataset and repeat gives every number: the members' own predictions
(refitted on all training rows, as a user would fit them), and the combination rules, which are
recomputed from the stored out-of-fold predictions and scores (``_combine.combine_level``):
weights ``stack`` / ``convex`` / ``mean`` / ``select`` x calibration ``test`` (constant ATE
unless the one-sided BLP test rejects at 5%) / ``shrink`` (the slope times ``(1 - 1/t^2)_+``) /
``slope`` (always the clipped slope) / ``none``. Reported: CATE MSE /
var(true tau) (the constant true ATE scores 1), per design averaged over repeats; the ratio of
the ensemble's MSE to the best member's in hindsight (per design, of the repeat-averaged MSEs)
and to the constant DR-ATE predictor's; the coverage and width of ``predict_interval`` (95%)
against the true CATE; the share of fits where heterogeneity was detected; fit seconds.
``--dump DIR`` stores each fit's out-of-fold predictions, scores and members' test predictions,
so that other rules can be scored offline without refitting.

Measured 2026-12-06 04:00-04:10 UTC (members' defaults of that hour): identified SurvHTE
designs (RCT-50, OBS-CPS x A-E, ``--n 1500 --n-folds 3 --bootstrap 50``, 200 trees, 3 repeats;
307 s) and stress designs (``--n 1000 --n-4arm 2000 --repeats 0 1``, same; 219 s): the default
(mean/slope) has median MSE ratio to the best member in hindsight 1.28 and 1.08, at most 0.99x
and 1.00x the constant DR-ATE predictor's MSE; see ``EnsembleCATE``'s ``combine``.
"""

from __future__ import annotations

import argparse
import time as clock
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from survhte import CausalSurvivalForest
from survhte._validation import default_horizon
from survhte.ensemble import EnsembleCATE, default_members
from survhte.ensemble._combine import combine_level
from survhte.simulate import STRESS_DESIGNS, stress_design, survhte_bench

CONFIGS = ["RCT-50", "OBS-CPS", "OBS-UConf", "OBS-CPS-IC"]
#: Configurations whose CATE is identified from the observed data (randomised or measured
#: confounding, censoring independent of T given X and W).
IDENTIFIED = {"RCT-50", "OBS-CPS"}
RULES = [(c, k) for c in ("stack", "convex", "mean", "select")
         for k in ("test", "shrink", "slope", "none")]


def members(trees: int) -> list[tuple[str, object]]:
    """The default members, with ``trees`` trees in the forest."""
    return [(name, CausalSurvivalForest(n_estimators=trees)) if name == "causal_survival_forest"
            else (name, est) for name, est in default_members()]


def evaluate(name: str, X, y, w, X_test, truth, horizon, seed, args) -> dict:
    """One ensemble fit and every number of the tables, for one dataset."""
    est = EnsembleCATE(members(args.trees), horizon=horizon, n_bootstrap=args.bootstrap,
                       n_folds=args.n_folds, random_state=seed)
    start = clock.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y, w)
    seconds = clock.perf_counter() - start
    truth = np.asarray(truth, dtype=float).reshape(X_test.shape[0], -1)
    K = truth.shape[1]
    variance = truth.var(axis=0)
    scale = np.where(variance > 0, variance, 1.0)  # null design: plain MSE

    def ratio(tau: np.ndarray) -> float:  # mean over levels of MSE / var(tau)
        tau = np.asarray(tau, dtype=float).reshape(truth.shape)
        return float(np.mean(np.mean((tau - truth) ** 2, axis=0) / scale))

    row = {"design": name, "seed": seed, "horizon": horizon, "fit_seconds": seconds,
           "var_tau": float(variance.mean()), "K": K}
    taus = est._member_predictions(X_test)  # (J, n, K)
    for j, member in enumerate(est.members_):
        row[f"m:{member}"] = ratio(taus[j])
    ate = np.atleast_1d(est.ate_)
    row["constant"] = ratio(np.broadcast_to(ate, truth.shape))
    psi = np.asarray(est.scores_).reshape(-1, K)
    rows = est._fold_of >= 0
    for combine, calibration in RULES:
        predictions, detected = [], []
        for k in range(K):
            combo = combine_level(est._oof[:, rows, k].T, psi[rows, k], est._fold_of[rows],
                                  combine=combine, calibration=calibration)
            predictions.append(ate[k] + combo.factor * (taus[:, :, k] - est._centres[:, None, k]).T
                               @ combo.weights)
            detected.append(combo.p_value < 0.05)
        row[f"e:{combine}/{calibration}"] = ratio(np.column_stack(predictions))
    if args.dump:
        Path(args.dump).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            Path(args.dump) / f"{name.replace(' ', '_')}_{seed}.npz", oof=est._oof[:, rows],
            psi=psi[rows], fold=est._fold_of[rows], taus=taus, centres=est._centres, ate=ate,
            truth=truth, members=np.array(list(est.members_)))
    row["detected"] = float(np.mean(np.atleast_1d(est.heterogeneity_pvalue_) < 0.05))
    row["ensemble"] = ratio(est.predict(X_test))
    if args.bootstrap:
        lower, upper = est.predict_interval(X_test)
        lower, upper = (np.asarray(a).reshape(truth.shape) for a in (lower, upper))
        row["coverage"] = float(np.mean((lower <= truth) & (truth <= upper)))
        row["width_sd"] = float(np.mean((upper - lower).mean(axis=0) / np.sqrt(scale)))
    return row


def run_survhte(args: argparse.Namespace) -> list[dict]:
    rows = []
    for config in args.configs:
        for scenario in args.scenarios:
            for repeat in args.repeats:
                d = survhte_bench(config, scenario, n=2 * args.n, random_state=repeat)
                train, test = slice(0, args.n), slice(args.n, 2 * args.n)
                time = d.y["time"][train]
                cap = default_horizon(time, d.w[train])
                horizon = min(float(np.median(d.T[train])), cap)
                row = evaluate(f"{config} {scenario}", d.X[train], d.y[train], d.w[train],
                               d.X[test], d.true_cate("rmst", horizon)[test], horizon,
                               repeat, args)
                row["identified"] = config in IDENTIFIED
                rows.append(row)
                print(f"  {config} {scenario} r{repeat}: ensemble {row['ensemble']:.3f} "
                      f"best member {min(v for k, v in row.items() if k.startswith('m:')):.3f} "
                      f"constant {row['constant']:.3f} ({row['fit_seconds']:.0f} s)", flush=True)
    return rows


def run_stress(args: argparse.Namespace) -> list[dict]:
    rows = []
    for name in args.designs:
        for repeat in args.repeats:
            n = args.n_4arm if name == "trial_4arm" else args.n
            d = stress_design(name, n=n, random_state=repeat)
            t = stress_design(name, n=n, random_state=1000 + repeat)
            row = evaluate(name, d.X, d.y, d.w, t.X, t.true_cate("rmst"), d.horizon, repeat,
                           args)
            row["identified"] = True
            rows.append(row)
            print(f"  {name} r{repeat}: ensemble {row['ensemble']:.3f} constant "
                  f"{row['constant']:.3f} ({row['fit_seconds']:.0f} s)", flush=True)
    return rows


def report(frame: pd.DataFrame) -> None:
    members_ = [c for c in frame if c.startswith("m:")]
    rules = [c for c in frame if c.startswith("e:")]
    table = frame.groupby("design", sort=False).mean(numeric_only=True)
    table["best_member"] = table[members_].min(axis=1)
    table["best_name"] = table[members_].idxmin(axis=1).str[2:]
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", None)
    print("\nCATE MSE / var(true tau), mean over repeats (null design: plain MSE)")
    print(table[[*members_, "constant", "ensemble"]].rename(columns=lambda c: c[2:8] if
          c.startswith("m:") else c).round(3).to_string())
    ratios = pd.DataFrame({
        rule[2:]: table[rule] / table["best_member"] for rule in rules})
    print("\nEnsemble rule MSE / best member's MSE in hindsight (per design)")
    print(ratios.round(3).to_string())
    to_constant = pd.DataFrame({
        rule[2:]: table[rule] / table["constant"] for rule in rules})
    print("\nEnsemble rule MSE / constant DR-ATE predictor's MSE (per design)")
    print(to_constant.round(3).to_string())
    identified = frame.groupby("design", sort=False)["identified"].first()
    summary = pd.DataFrame({
        "median_vs_best": ratios.median(),
        "median_vs_best_identified": ratios[identified].median(),
        "max_vs_constant_identified": to_constant[identified].max(),
        "designs_over_1.05x_constant": (to_constant[identified] > 1.05).sum(),
    })
    print("\nSummary over designs")
    print(summary.round(3).to_string())
    extra = table[["best_name", "detected"] + [c for c in ("coverage", "width_sd")
                                                 if c in table] + ["fit_seconds"]]
    print("\nBest member, share of fits with heterogeneity detected, predict_interval coverage "
          "of the true CATE and mean width / sd(tau), fit seconds")
    print(extra.round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["survhte", "stress"], default="survhte")
    parser.add_argument("--configs", nargs="+", default=CONFIGS)
    parser.add_argument("--scenarios", nargs="+", default=list("ABCDE"))
    parser.add_argument("--designs", nargs="+", default=list(STRESS_DESIGNS))
    parser.add_argument("--repeats", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--n-4arm", type=int, default=4000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument("--n-folds", type=int, default=5)
    parser.add_argument("--out", default=None, help="CSV of the per-fit rows")
    parser.add_argument("--dump", default=None,
                        help="folder for one .npz per fit (out-of-fold predictions, scores, "
                             "members' test predictions, truth) to study combination rules")
    args = parser.parse_args()
    start = clock.perf_counter()
    with threadpool_limits(limits=1):
        rows = run_survhte(args) if args.part == "survhte" else run_stress(args)
    frame = pd.DataFrame(rows)
    if args.out:
        frame.to_csv(args.out, index=False)
    report(frame)
    print(f"\nwall time {clock.perf_counter() - start:.0f} s; n={args.n}, trees={args.trees}, "
          f"n_folds={args.n_folds}, repeats {args.repeats}")


if __name__ == "__main__":
    main()
