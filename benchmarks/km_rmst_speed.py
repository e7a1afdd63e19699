"""Kaplan-Meier fit + RMST at a horizon: survhte vs lifelines, with an agreement check.

Run: ``python benchmarks/km_rmst_speed.py [--sizes 10000 100000 1000000] [--repeats 3]``

Data: exponential event times (mean 10) and censoring times (mean 23, about 30% censored),
rounded to 0.01 so that ties are common. Each timing is the best of ``--repeats`` runs of
"fit the curve, then compute the RMST up to the median observed time".
"""

from __future__ import annotations

import argparse
import time as clock
import warnings
from collections.abc import Callable

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from survhte.survival import KaplanMeier


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    event_time = rng.exponential(10.0, n)
    censor_time = rng.exponential(23.0, n)
    time = np.round(np.minimum(event_time, censor_time), 2)
    event = event_time <= censor_time
    return time, event, float(np.median(time))


def best_of(repeats: int, run: Callable[..., object], *args: object) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = clock.perf_counter()
        result = run(*args)
        best = min(best, clock.perf_counter() - start)
    return best, result


def run_survhte(time: np.ndarray, event: np.ndarray, horizon: float) -> tuple[KaplanMeier, float]:
    km = KaplanMeier().fit(time, event)
    return km, km.rmst(horizon)


def run_lifelines(
    time: np.ndarray, event: np.ndarray, horizon: float
) -> tuple[KaplanMeierFitter, float]:
    kmf = KaplanMeierFitter().fit(time, event)
    return kmf, restricted_mean_survival_time(kmf, t=horizon)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    header = (
        f"{'n':>9} {'unique t':>9} {'censored':>8} {'survhte s':>10} {'lifelines s':>12} "
        f"{'ratio':>7} {'max|dS|':>9} {'|dRMST|':>9}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        time, event, horizon = make_data(n)
        ours_s, (km, ours_rmst) = best_of(args.repeats, run_survhte, time, event, horizon)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_s, (kmf, theirs_rmst) = best_of(
                args.repeats, run_lifelines, time, event, horizon
            )
        survival_gap = float(
            np.max(np.abs(km.survival_ - kmf.survival_function_.loc[km.timeline_].to_numpy()[:, 0]))
        )
        rmst_gap = abs(ours_rmst - theirs_rmst)
        if survival_gap > 1e-10 or rmst_gap > 1e-10 * max(1.0, abs(theirs_rmst)):
            raise AssertionError(f"n={n}: survhte and lifelines disagree")
        print(
            f"{n:>9} {km.timeline_.size:>9} {1 - event.mean():>8.1%} {ours_s:>10.4f} "
            f"{theirs_s:>12.4f} {theirs_s / ours_s:>7.1f} {survival_gap:>9.1e} {rmst_gap:>9.1e}"
        )


if __name__ == "__main__":
    main()
