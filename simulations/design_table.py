"""Print the 40 SurvHTE-Bench designs as survhte generates them, with their ground truth.

For each config x scenario (n rows, seed 2025, the benchmark's legacy draw order): censoring
rate, treatment rate, the row-wise ATE mean(T1 - T0), and the RMST and survival ATEs at the
median of the factual T computed from the exact conditional truth (mean of ``true_cate``).
This is the starting point of a simulation study; the Dask runner comes with its own issue.

Usage: ``python simulations/design_table.py [--n 50000] [--seed 2025] [--no-legacy]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from survhte.simulate import CONFIGS, SCENARIOS, survhte_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-legacy", action="store_true", help="use numpy's default_rng")
    args = parser.parse_args()

    header = (
        f"{'config':<14}{'scen':>4}{'censored':>10}{'treated':>9}{'ATE T1-T0':>11}"
        f"{'h=med(T)':>10}{'RMST ATE':>10}{'S(h) ATE':>10}"
    )
    print(header)
    print("-" * len(header))
    start = time.perf_counter()
    for config in CONFIGS:
        for scenario in SCENARIOS:
            d = survhte_bench(config, scenario, n=args.n, random_state=args.seed,
                              legacy=not args.no_legacy)
            horizon = float(np.median(d.T))
            print(
                f"{config:<14}{scenario:>4}{1 - d.event.mean():>10.4f}{d.w.mean():>9.4f}"
                f"{np.mean(d.T1 - d.T0):>11.4f}{horizon:>10.4f}"
                f"{d.true_cate('rmst', horizon).mean():>10.4f}"
                f"{d.true_cate('survival', horizon).mean():>10.4f}"
            )
    print(f"\n40 designs, n={args.n}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
