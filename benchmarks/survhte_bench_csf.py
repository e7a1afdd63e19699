"""Causal survival forest (survhte.forest) against the imputation meta-learners on SurvHTE-Bench.

Run: ``python benchmarks/survhte_bench_csf.py [--configs RCT-50 OBS-CPS OBS-CPS-IC]
[--scenarios A B] [--repeats 0 1] [--learners T S X DR R] [--imputations margin ipcwt pseudo]
[--n-estimators 2000] [--jobs 2] [--out rows.csv]``

Protocol (Noroozizadeh et al., ICLR 2026), as ``survhte_bench_meta.py``: each dataset is the
published one (n = 50,000, legacy seed 2025); repeat K trains on the first 5,000 rows of
permutation ``random_idxK`` of ``synthetic/idx_split.csv`` (``--split-file``, default
``$SURVHTE_DATA`` or ``../shared/data/survhte_bench``) and tests on rows 7,500-10,000 of it.
The RMST horizon is the median factual event time of the training rows, capped at the smallest
arm's last observed training time.

Per dataset and repeat: ``CausalSurvivalForest(horizon=h, random_state=K, n_jobs=2)`` (2,000
trees by default) is fitted on the training rows; on the test rows we score its CATE MSE
against the conditional truth (``true_cate``) and the per-row effect, the best constant's MSE
(variance of the test rows' conditional truth), the share of test rows whose pointwise 95%
interval (``predict_interval``) covers the conditional truth and the mean interval width. Its
doubly robust ATE (``ate``, ``ate_std_error``, ``ate_interval``) is compared with the population
ATE, the mean conditional truth over all 50,000 rows: ``z = (ate - true ATE) / SE``. Then the
imputation meta-learners (learners x imputations, each learner's default HGB base) are fitted
on the same rows; the reference is the median of their conditional-truth MSEs per repeat.

Printed per dataset, averaged over repeats: CSF MSE / constant MSE, meta median MSE / constant
MSE, CSF MSE / meta median MSE, coverage, mean width, mean and max |z| of the ATE, CSF fit
seconds; then on how many datasets CSF beats the constant and the meta median.
"""

from __future__ import annotations

import argparse
import time as clock
import warnings

import numpy as np
import pandas as pd
from _survhte_bench import parser, run_tasks, scores, split_file
from survhte_bench_meta import build

from survhte._validation import default_horizon
from survhte.forest import CausalSurvivalForest
from survhte.imputed_learners import IMPUTATIONS, LEARNERS
from survhte.simulate import benchmark_split, survhte_bench

#: Datasets run by default.
DEFAULT_CONFIGS = ["RCT-50", "OBS-CPS", "OBS-CPS-IC"]


def run_one(config: str, scenario: str, repeat: int, args: argparse.Namespace) -> list[dict]:
    """The CSF row and the meta-learner rows of one dataset and repeat."""
    warnings.simplefilter("ignore")
    data = survhte_bench(config, scenario, n=50_000, random_state=2025, legacy=True)
    train, _, test = benchmark_split(repeat, split_file(args.split_file))
    cap = default_horizon(data.time[train], data.w[train])
    horizon = min(float(np.median(data.T[train])), cap)
    per_row = data.individual_effect(horizon, target="rmst")[test]
    truth_all = data.true_cate("rmst", horizon)
    truth = truth_all[test]
    true_ate = float(truth_all.mean())
    key = {"config": config, "scenario": scenario, "repeat": repeat, "horizon": horizon}

    csf = CausalSurvivalForest(args.n_estimators, horizon=horizon, random_state=repeat,
                               n_jobs=2)
    start = clock.perf_counter()
    csf.fit(data.X[train], data.y[train], data.w[train])
    seconds = clock.perf_counter() - start
    tau = csf.predict(data.X[test])
    lower, upper = csf.predict_interval(data.X[test], alpha=0.05)
    ate, se = csf.ate(), csf.ate_std_error()
    ate_lower, ate_upper = csf.ate_interval(alpha=0.05)
    rows = [{
        **key, "model": "CSF", "learner": "CSF", "imputation": "",
        **scores(tau, per_row, truth, seconds),
        "coverage": float(np.mean((lower <= truth) & (truth <= upper))),
        "width": float(np.mean(upper - lower)),
        "ate": ate, "ate_se": se, "ate_lower": ate_lower, "ate_upper": ate_upper,
        "true_ate": true_ate, "ate_z": (ate - true_ate) / se,
        "ate_covered": float(ate_lower <= true_ate <= ate_upper),
    }]
    for learner in args.learners:
        for imputation in args.imputations:
            est = build(learner, imputation, "hgb", "rmst", horizon, repeat)
            start = clock.perf_counter()
            est.fit(data.X[train], data.y[train], data.w[train])
            seconds = clock.perf_counter() - start
            rows.append({**key, "model": "meta", "learner": learner, "imputation": imputation,
                         **scores(est.predict(data.X[test]), per_row, truth, seconds)})
    return rows


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, means over repeats of the CSF scores and the meta median's ratios."""
    keys = ["config", "scenario", "repeat"]
    csf = frame[frame["model"] == "CSF"].set_index(keys)
    meta = frame[frame["model"] == "meta"].groupby(keys)["mse_conditional"].median()
    per_repeat = pd.DataFrame({
        "csf_mse": csf["mse_conditional"],
        "meta_median_mse": meta.reindex(csf.index),
        "constant_mse": csf["mse_constant"],
        "coverage": csf["coverage"],
        "width": csf["width"],
        "abs_z": csf["ate_z"].abs(),
        "fit_s": csf["fit_seconds"],
    })
    grouped = per_repeat.groupby(["config", "scenario"], sort=False)
    out = grouped.mean()
    out["csf/const"] = out["csf_mse"] / out["constant_mse"]
    out["meta/const"] = out["meta_median_mse"] / out["constant_mse"]
    out["csf/meta"] = out["csf_mse"] / out["meta_median_mse"]
    out["max_abs_z"] = grouped["abs_z"].max()
    out = out.rename(columns={"abs_z": "mean_abs_z"})
    return out[["csf/const", "meta/const", "csf/meta", "coverage", "width", "mean_abs_z",
                "max_abs_z", "fit_s"]]


def main() -> None:
    options = parser(__doc__.splitlines()[0], list(LEARNERS))
    options.set_defaults(configs=DEFAULT_CONFIGS)
    options.add_argument("--imputations", nargs="+", default=["margin", "ipcwt", "pseudo"],
                         choices=list(IMPUTATIONS))
    options.add_argument("--n-estimators", type=int, default=2000)
    options.add_argument("--jobs", type=int, default=1, help="datasets x repeats in parallel")
    args = options.parse_args()
    start = clock.perf_counter()
    frame = run_tasks(run_one, args)
    result = table(frame)
    with pd.option_context("display.width", 160, "display.max_rows", None,
                           "display.float_format", "{:.4g}".format):
        print(result.to_string())
    beats_constant = int((result["csf/const"] < 1).sum())
    beats_meta = int((result["csf/meta"] < 1).sum())
    print(f"\nCSF beats the constant on {beats_constant}/{len(result)} datasets and the "
          f"meta-learner median on {beats_meta}/{len(result)}")
    print(f"wall time {clock.perf_counter() - start:.1f} s, repeats {args.repeats}, "
          f"{args.n_estimators} trees")


if __name__ == "__main__":
    main()
