"""Survival-model learners' defaults, before and after issue 18, on the stress designs and
SurvHTE-Bench.

Run: ``nice -n 10 python benchmarks/defaults_survival_learners.py [--designs nonlinear ...]
[--bench RCT-50:C OBS-CPS:E ...] [--seeds 0 1 2] [--learners S T X Matching M R]
[--out rows.csv]``

For each design and seed (``survhte.simulate.stress_design(name, random_state=seed)`` at the
design's own ``n`` and horizon; ``survhte_bench(config, scenario, n=bench_n,
random_state=seed)`` with the horizon at the median observed time), every learner is fitted
twice, RMST target, ``n_bootstrap=0``:

- ``before``: the defaults before issue 18, passed explicitly: the quadratic Cox model
  (``legacy_base_model()``) and the unshrunk random forest second stage
  (``legacy_effect_model()``), matching on the covariates (``match_on="covariates"``); the
  M-learner's ``before`` is :class:`LegacyMLearner`, the uncentred modified outcome;
- ``after``: today's defaults (``SelectedSurvivalModel`` bases, ``ShrunkEffectRegressor``,
  matching on the predicted outcomes, the centred M-learner).

Printed: mean and sd over seeds of CATE RMSE / sd(tau) on the training rows (mean over the
treated levels of a multi-arm design), and the constant predictor (every row the true average
effect, 1 by construction; the estimated-ATE constant is slightly above 1), and fit seconds.
BLAS and OpenMP run on one thread (set before numpy is imported), as on a shared machine.
The full default run (5 stress designs, 5 SurvHTE-Bench draws at n = 2000, 3 seeds, 6
learners x 2 versions) took about 30 minutes on 2 cores shared with other jobs (load 6-9);
subset with ``--designs``, ``--bench``, ``--learners``, ``--versions``. Results of the
issue 18 run are summarised in :mod:`survhte.survival_model_learners._defaults`.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import time as clock  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from survhte._nuisance import check_arm_events  # noqa: E402
from survhte.simulate import stress_design, survhte_bench  # noqa: E402
from survhte.survival_model_learners import (  # noqa: E402
    LEARNERS,
    SurvivalMLearner,
    legacy_base_model,
    legacy_effect_model,
)
from survhte.survival_model_learners._nuisance import (  # noqa: E402
    censoring_weights,
    known_outcome,
)

STRESS = ["nonlinear", "confounded", "heavy_censoring", "small_arm", "trial_4arm"]
BENCH = ["RCT-50:A", "RCT-50:C", "RCT-50:E", "OBS-CPS:B", "OBS-CPS:D"]


class LegacyMLearner(SurvivalMLearner):
    """The M-learner before issue 18: modified outcome ``f(Y) (W / e - (1 - W) / (1 - e))``
    without centring ``f(Y)`` (its variance grows with the outcome's level)."""

    def _fit_core(self, X, time, event, codes) -> None:
        folds, seed = self._prepare(codes)
        check_arm_events(event, time, codes, self.classes_, self.horizon_)
        share = self._pair_propensities(X, codes, folds, seed)
        weight = censoring_weights(self._censoring_model(), X, codes, time, event,
                                   self.horizon_, folds)
        outcome, _ = known_outcome(time, event, self.target, self.horizon_)
        self.effect_models_ = []
        for k in range(share.shape[1]):
            e = share[:, k]
            treated = (codes == k + 1).astype(np.float64)
            modified = outcome * (treated / e - (1 - treated) / (1 - e))
            pair = (codes == 0) | (codes == k + 1)
            self.effect_models_.append(self._fit_effect(X, modified, np.where(pair, weight, 0.0)))


def draw(design: str, seed: int, bench_n: int = 4000) -> tuple:
    """``(X, y, w, horizon, truth (n, K))`` of a stress design or ``config:scenario``."""
    if ":" in design:
        config, scenario = design.split(":")
        data = survhte_bench(config, scenario, n=bench_n, random_state=seed)
        horizon = float(np.median(data.time))
        truth = data.true_cate("rmst", horizon)
    else:
        data = stress_design(design, random_state=seed)
        horizon = data.horizon
        truth = data.true_cate("rmst")
    return data.X, data.y, data.w, horizon, truth.reshape(truth.shape[0], -1)


def relative_rmse(tau: np.ndarray, truth: np.ndarray) -> float:
    """CATE RMSE / sd(tau), averaged over treated levels."""
    tau = np.asarray(tau).reshape(truth.shape)
    return float(np.mean(np.sqrt(np.mean((tau - truth) ** 2, axis=0)) / truth.std(axis=0)))


def fit_one(name: str, version: str, X, y, w, horizon: float, seed: int) -> tuple:
    cls = LegacyMLearner if (name, version) == ("M", "before") else LEARNERS[name]
    est = cls(horizon=horizon, n_bootstrap=0, random_state=seed)
    params = est.get_params()
    if version == "before":
        if "base_model" in params:
            est.set_params(base_model=legacy_base_model())
        if "effect_model" in params:
            est.set_params(effect_model=legacy_effect_model())
        if "match_on" in params:
            est.set_params(match_on="covariates")
    start = clock.perf_counter()
    est.fit(X, y, w)
    return est.predict(X), clock.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", nargs="*", default=STRESS)
    parser.add_argument("--bench", nargs="*", default=BENCH)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--learners", nargs="+", default=list(LEARNERS), choices=list(LEARNERS))
    parser.add_argument("--versions", nargs="+", default=["before", "after"])
    parser.add_argument("--bench-n", type=int, default=2000,
                        help="rows of each SurvHTE-Bench draw")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    start = clock.perf_counter()
    rows = []
    for design in [*args.designs, *args.bench]:
        for seed in args.seeds:
            X, y, w, horizon, truth = draw(design, seed, args.bench_n)
            ate = truth.mean(axis=0)
            rows.append({"design": design, "seed": seed, "learner": "constant",
                         "version": "truth ATE", "rel_rmse": relative_rmse(
                             np.broadcast_to(ate, truth.shape), truth), "seconds": 0.0})
            for name in args.learners:
                for version in args.versions:
                    tau, seconds = fit_one(name, version, X, y, w, horizon, seed)
                    rows.append({"design": design, "seed": seed, "learner": name,
                                 "version": version, "rel_rmse": relative_rmse(tau, truth),
                                 "seconds": seconds})
                    print(f"{design:16s} seed {seed} {name:9s} {version:7s} "
                          f"{rows[-1]['rel_rmse']:.3f} ({seconds:.1f} s)", flush=True)
    frame = pd.DataFrame(rows)
    if args.out:
        frame.to_csv(args.out, index=False)
    table = frame.groupby(["design", "learner", "version"], sort=False)["rel_rmse"].agg(
        ["mean", "std"]).unstack("version")
    table.columns = [f"{version} {stat}" for stat, version in table.columns]
    seconds = frame.groupby(["learner", "version"], sort=False)["seconds"].mean().unstack()
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format,
                           "display.max_rows", 200):
        print("\nCATE RMSE / sd(tau), mean and sd over seeds", args.seeds)
        print(table.to_string())
        print("\nmean fit seconds")
        print(seconds.to_string())
    print(f"\nwall time {clock.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
