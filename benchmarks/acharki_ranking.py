"""Acharki et al. (2023)'s ranking of multi-arm meta-learners as K grows, on our generator.

Design: :func:`survhte.simulate.acharki_design` ``"hazard_rate"`` (X ~ N(0, I_5),
``T(w) = 1 + w + r exp(-w r) + N(0, 0.05^2)``, ``r = ||X||``, levels ``w_k = k / (K - 1)``),
with the paper's biased-sampling confounding (``confounding=True``; ``--randomised`` for
P(W = k) = 1/K), K = 3, 10, 50 levels (control included), uncensored and with
``censoring="uniform"`` (C ~ U(1, 6), about 27-30% censored).

Learners: the imputed learners of Acharki et al.'s set (``survhte.imputed_learners``,
defaults): T, S, naive X, X (all units), M, DR, R (joint R-loss) and R pairwise.

Estimand: every estimator refuses a horizon beyond an arm's last observed time, so the
target is the RMST effect at ``h`` = the smallest arm's last observed time of the uncensored
draw and of the censored draw (the smaller; the same ``h`` for both versions of a seed), and
the truth is the exact ``true_cate("rmst", h)``. This is the survival analogue of the paper's
untruncated ``tau_k`` (``h`` is about 2.4: the w = 0 arm's times, ``1 + r``, are truncated
for r > 1.4), not the paper's estimand itself; the table also reports the sd of the true
effects so the two can be told apart.

Metric: mPEHE on the training rows (as the paper: in-sample), its mean over seeds, and
each learner's rank within its (K, censoring) cell (1 = lowest mPEHE), averaged over seeds.

Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/acharki_ranking.py --out ranking.csv``;
``--tables ranking.csv`` prints the tables of a saved (or partial) run. The defaults (n 10,000,
K 3/10/50, 2 seeds) are the paper's size and take hours on 2 shared cores (K = 50: X all
units and R joint about 2 minutes per fit at n = 2,000); the runs below used smaller sizes.

Measured (2026-12-06, confounded; mPEHE on the training rows, mean over seeds, [mean rank in
the cell, 1 best]; sd(tau) the sd of the true effects, the constant's mPEHE):

n = 2,000, seeds 0-1 (K = 50: 40 rows per level)::

    learner     K=3 none      K=3 unif      K=10 none     K=10 unif     K=50 none     K=50 unif
    T           0.0827 [6.0]  0.0881 [6.5]  0.0688 [4.0]  0.0726 [4.5]  0.0722 [1.5]  0.0765 [1.0]
    S           0.0830 [7.0]  0.0888 [7.0]  0.0788 [7.0]  0.0822 [5.5]  0.0813 [5.5]  0.0839 [7.0]
    X-naive     0.0860 [7.0]  0.0899 [6.0]  0.0695 [4.0]  0.0711 [3.5]  0.0825 [7.0]  0.0844 [7.0]
    X-all       0.0729 [3.0]  0.0789 [2.0]  0.0644 [2.5]  0.0675 [3.0]  0.0770 [6.0]  0.0816 [6.5]
    M           0.0784 [5.0]  0.0872 [6.0]  0.0804 [7.0]  0.0778 [6.5]  0.0774 [5.5]  0.0789 [4.0]
    DR          0.0728 [3.0]  0.0867 [4.5]  0.0691 [3.0]  0.0707 [3.0]  0.0742 [3.0]  0.0773 [2.5]
    R-joint     0.0721 [3.0]  0.0775 [2.5]  0.0774 [7.0]  0.0768 [7.0]  0.0781 [5.5]  0.0829 [5.5]
    R-pairwise  0.0694 [2.0]  0.0753 [1.5]  0.0678 [1.5]  0.0722 [3.0]  0.0726 [2.0]  0.0774 [2.5]
    sd(tau)     0.1242        0.1242        0.0964        0.0964        0.0787        0.0787

n = 10,000, seed 0 only (K = 50 not run: too slow here)::

    learner     K=3 none      K=3 unif      K=10 none     K=10 unif
    T           0.0646 [3]    0.0675 [4]    0.0675 [4]    0.0675 [4]
    S           0.0669 [5]    0.0757 [7]    0.0810 [7]    0.0809 [6]
    X-naive     0.0662 [4]    0.0673 [3]    0.0657 [3]    0.0660 [3]
    X-all       0.0634 [1]    0.0647 [2]    0.0591 [2]    0.0591 [1]
    M           0.0884 [8]    0.0857 [8]    0.0778 [6]    0.0817 [7]
    DR          0.0708 [7]    0.0711 [6]    0.0719 [5]    0.0742 [5]
    R-joint     0.0681 [6]    0.0699 [5]    0.0811 [8]    0.0817 [8]
    R-pairwise  0.0635 [2]    0.0645 [1]    0.0579 [1]    0.0608 [2]
    sd(tau)     0.1424        0.1424        0.1005        0.1005

Censoring (uniform, 27-31%) changes the order little. Reading (order by mean mPEHE): R pairwise
is first or second in 8 of 10 cells and never below 4th; X all units is first or second at
K = 3 (n = 10,000) and K = 10 and falls to 4th-5th (mean rank 6-6.5) at K = 50; the joint
R-learner falls from 2nd (K = 3, n = 2,000) to 6th of 8 at K = 10 (last at n = 10,000); M is
last or near it at n = 10,000 (the spec's "M suffers when some r_k is small": r_k >= 1/(2K)
here) but mid-table at K = 50, n = 2,000, where every learner is within 8% of the constant
(ratios 0.92-1.07), so the K = 50 order is noise. Seed-to-seed differences (e.g. DR, K = 3:
0.066 vs 0.079) are as large as the gaps between learners: two seeds do not rank them reliably.

Acharki et al.'s published statement: the project's method notes (``spec/algorithms.md``
section 5, outside this repository) quote no ranking. They say only that their ranking of the
learners as K grows (appendix D5, hazard-rate design, K from 3 to 50) "is a result to
reproduce with our generators, not to assume", and that "M is known to suffer when some r_k is
small (inverse weights)". The paper's abstract (arXiv:2205.14714) says that the naive
extensions "do not always provide satisfactory results" and that they "introduce and discuss
meta-learners that perform well as the number of treatments increases"; its appendix D5 table
was not available here, so which learners those are, and whether the order above matches
theirs, is unchecked: compare with D5 before citing this as a reproduction.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survhte.imputed_learners import (
    DRLearner,
    MLearner,
    RLearner,
    SLearner,
    TLearner,
    XLearner,
)
from survhte.simulate import acharki_design

LEARNERS: dict[str, Callable[[], Any]] = {
    "T": TLearner,
    "S": SLearner,
    "X-naive": lambda: XLearner(multi_arm="naive"),
    "X-all": XLearner,
    "M": MLearner,
    "DR": DRLearner,
    "R-joint": RLearner,
    "R-pairwise": lambda: RLearner(multi_arm="pairwise"),
}


def _last_common(d: Any) -> float:
    """The smallest arm's last observed time."""
    return float(min(d.time[d.w == k].max() for k in range(d.n_levels)))


def run(args: argparse.Namespace) -> None:
    names = [m for m in LEARNERS if not args.methods or m in args.methods]
    for K in args.K:
        for seed in args.seeds:
            draws = {c: acharki_design("hazard_rate", n=args.n, n_levels=K, censoring=c,
                                       confounding=not args.randomised, random_state=seed)
                     for c in (None, "uniform")}
            h = min(_last_common(d) for d in draws.values())
            for censoring, d in draws.items():
                truth = d.true_cate("rmst", h)
                constant = float(np.sqrt(np.mean((truth - truth.mean(axis=0)) ** 2)))
                for name in names:
                    start = time.perf_counter()
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            est = LEARNERS[name]().set_params(horizon=h, random_state=seed,
                                                              n_bootstrap=0)
                            tau = np.asarray(est.fit(d.X, d.y, d.w).predict(d.X), float)
                    except Exception as exc:  # a failure is a result too: record it
                        print(f"K={K} {censoring} seed {seed} {name}: FAILED {exc!r}",
                              flush=True)
                        continue
                    tau = tau.reshape(len(d.X), -1)
                    mpehe = float(np.sqrt(np.mean((tau - truth) ** 2)))
                    row = dict(K=K, censoring=censoring or "none", seed=seed, learner=name,
                               mpehe=mpehe, ratio=mpehe / constant, sd_tau=constant,
                               censored=float(1 - d.event.mean()), horizon=h,
                               seconds=time.perf_counter() - start)
                    print(row, flush=True)
                    pd.DataFrame([row]).to_csv(args.out, mode="a",
                                               header=not args.out.exists(), index=False)


def tables(frame: pd.DataFrame) -> str:
    frame = frame.copy()
    frame["rank"] = frame.groupby(["K", "censoring", "seed"])["mpehe"].rank()
    cols = sorted(set(zip(frame["K"], frame["censoring"], strict=True)))
    g = frame.groupby(["learner", "K", "censoring"])
    mean, rank = g["mpehe"].mean(), g["rank"].mean()
    order = [m for m in LEARNERS if m in set(frame["learner"])]
    cells = frame.groupby(["K", "censoring"])
    lines = ["mPEHE (training rows, RMST at h), mean over seeds [mean rank within the cell]:",
             f"{'learner':<12}" + "".join(f"{f'K={k} {c}':>20}" for k, c in cols)]
    for m in order:
        lines.append(f"{m:<12}" + "".join(
            f"{mean[(m, k, c)]:>12.4f} [{rank[(m, k, c)]:.1f}]" if (m, k, c) in mean.index
            else f"{'-':>20}" for k, c in cols))
    lines.append(f"{'sd(tau)':<12}" + "".join(
        f"{cells['sd_tau'].mean()[(k, c)]:>20.4f}" for k, c in cols))
    lines.append(f"{'seeds':<12}" + "".join(
        f"{cells['seed'].nunique()[(k, c)]:>20d}" for k, c in cols))
    lines.append(f"{'censored':<12}" + "".join(
        f"{cells['censored'].mean()[(k, c)]:>20.2f}" for k, c in cols))
    lines.append(f"{'h':<12}" + "".join(
        f"{cells['horizon'].mean()[(k, c)]:>20.2f}" for k, c in cols))
    lines.append("")
    lines.append("order by mean mPEHE in each cell (best first):")
    for k, c in cols:
        sub = mean.xs((k, c), level=("K", "censoring")).sort_values()
        lines.append(f"K={k:<3} {c:<8}: " + " < ".join(sub.index))
    secs = frame.groupby(["learner", "K"])["seconds"].mean().unstack("K")
    lines.append("")
    lines.append("mean seconds per fit (shared loaded machine):")
    lines.append(secs.loc[order].to_string(float_format=lambda v: f"{v:.0f}"))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--K", type=int, nargs="+", default=[3, 10, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--methods", nargs="*", help="default: all")
    parser.add_argument("--randomised", action="store_true",
                        help="P(W = k) = 1/K instead of the biased-sampling confounding")
    parser.add_argument("--out", type=Path, default=Path("acharki_ranking.csv"))
    parser.add_argument("--tables", type=Path, help="print the tables of a saved run")
    args = parser.parse_args()
    if args.tables:
        print(tables(pd.read_csv(args.tables)))
        return
    run(args)
    print(tables(pd.read_csv(args.out)))


if __name__ == "__main__":
    main()
