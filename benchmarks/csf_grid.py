"""What a coarse time grid costs the causal survival forest (issue 21): accuracy and score time.

Run: ``python benchmarks/csf_grid.py [--n 5000 20000] [--seeds 0 1 2] [--grids 0 500 1000 2000]
[--designs heavy_censoring nonlinear confounded] [--trees 500] [--target rmst]``

The forest's nuisance curves live on a time grid (grf's ``failure.times``); observed times are
rounded down to it. With every distinct observed time (``--grids 0``, grf's default) the grid has
~n points and the score step is superlinear in n (each row's out-of-bag curves read its leaves'
distinct failure indices: up to one per grid time, and the leaves of event-poor regions grow
with n). A grid of ``G`` times taken at evenly spaced order statistics of the observed times
(``failure_times=G``; the default caps at 2,000) bounds that work per row. Each configuration fits
:class:`~survhte.forest.CausalSurvivalForest` (``--trees`` trees, so 125 per nuisance survival
forest; the data's design horizon) on ``n`` rows of a stress design of
:func:`survhte.simulate.stress_design` and predicts 5,000 new rows; ``rmse`` is against the exact
conditional effect, ``ratio`` the RMSE over the exact grid's on the same data and seed, ``ate``
the forest's doubly robust average effect minus the true sample average. Seconds are CPU seconds
of the score step and of the whole fit (this process, ``--threads`` numba threads).
"""

from __future__ import annotations

import argparse
import time as clock
import warnings

import numpy as np

from survhte.forest import CausalSurvivalForest, _causal_survival
from survhte.simulate import stress_design

N_TEST = 5000


def run(design: str, n: int, seed: int, grid_size: int, trees: int, target: str,
        threads: int) -> dict:
    data = stress_design(design, n=n + N_TEST, random_state=seed)
    train, test = slice(0, n), slice(n, n + N_TEST)
    horizon = data.horizon
    model = CausalSurvivalForest(n_estimators=trees, target=target, horizon=horizon,
                                 failure_times=grid_size or "all", n_jobs=threads,
                                 random_state=seed)
    score_cpu = [0.0]
    original = _causal_survival.causal_survival_scores

    def timed(*args, **kwargs):
        start = clock.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            score_cpu[0] += clock.process_time() - start

    _causal_survival.causal_survival_scores = timed
    try:
        start = clock.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data.X[train], (data.time[train], data.event[train]), data.w[train])
        fit_cpu = clock.process_time() - start
    finally:
        _causal_survival.causal_survival_scores = original
    truth = data.true_cate(target)
    estimate = model.predict(data.X[test])
    ate = float(model.ate()) - float(np.mean(truth[train]))
    return {"rmse": float(np.sqrt(np.mean((estimate - truth[test]) ** 2))), "ate": ate,
            "grid": model.failure_times_.size, "score_cpu": score_cpu[0], "fit_cpu": fit_cpu,
            "sd_truth": float(np.std(truth[test]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--grids", type=int, nargs="+", default=[0, 250, 500, 1000, 2000])
    parser.add_argument("--designs", nargs="+",
                        default=["heavy_censoring", "nonlinear", "confounded"])
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--target", default="rmst")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    # warm-up: numba compilation outside the timings
    run(args.designs[0], 1000, 0, 100, 8, args.target, args.threads)
    print(f"target {args.target}, {args.trees} trees; mean over seeds {args.seeds} "
          "(ratio: RMSE / the exact grid's, same seed; min-max in brackets)")
    print(f"{'design':16} {'n':>6} {'G':>5} {'grid':>6} {'rmse':>7} {'ratio':>18} "
          f"{'|ate err|':>9} {'score s':>8} {'fit s':>7}")
    for design in args.designs:
        for n in args.n:
            exact = {}
            for grid_size in args.grids:
                rows = [run(design, n, seed, grid_size, args.trees, args.target, args.threads)
                        for seed in args.seeds]
                if grid_size == 0:
                    exact = {seed: row["rmse"] for seed, row in zip(args.seeds, rows, strict=True)}
                ratios = [row["rmse"] / exact[seed]
                          for seed, row in zip(args.seeds, rows, strict=True) if seed in exact]
                ratio = (f"{np.mean(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}]"
                         if ratios else "")
                print(f"{design:16} {n:>6} {grid_size or 'all':>5} "
                      f"{np.mean([r['grid'] for r in rows]):>6.0f} "
                      f"{np.mean([r['rmse'] for r in rows]):>7.4f} {ratio:>18} "
                      f"{np.mean([abs(r['ate']) for r in rows]):>9.4f} "
                      f"{np.mean([r['score_cpu'] for r in rows]):>8.2f} "
                      f"{np.mean([r['fit_cpu'] for r in rows]):>7.2f}", flush=True)


if __name__ == "__main__":
    main()
