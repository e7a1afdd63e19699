"""Jackknife pseudo-observations of the KM RMST: O(n log n) kernel vs the naive n refits.

Run: ``python benchmarks/pseudo_obs_speed.py [--sizes 10000 100000 1000000] [--naive-n 20000]``

Data: exponential event times (mean 10) and censoring times (mean 23, about 30% censored),
rounded to 0.01 so that ties are common; horizon = the median observed time. The fast timing
is the best of ``--repeats`` runs. The naive jackknife refits the Kaplan-Meier curve without
each row (survhte's own kernels: risk table, curve, exact area); when all ``n`` refits would
take more than ``--naive-budget`` seconds, a timed subset of refits is extrapolated to ``n``
(and the table says so). The first refits are also checked against the fast values.
"""

from __future__ import annotations

import argparse
import time as clock

import numpy as np

from survhte import _kernels as k


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    event_time = rng.exponential(10.0, n)
    censor_time = rng.exponential(23.0, n)
    time = np.round(np.minimum(event_time, censor_time), 2)
    return time, event_time <= censor_time, float(np.median(time))


def fast(time: np.ndarray, event: np.ndarray, horizon: float) -> np.ndarray:
    return k.jackknife_pseudo_values(time, event, horizon, "rmst")


def km_rmst(time: np.ndarray, event: np.ndarray, horizon: float) -> float:
    table = k.risk_table(time, event)
    curve = k.survival_curve(table)
    return float(k.restricted_mean(table.timeline, curve, np.array([horizon]))[0])


def naive(time: np.ndarray, event: np.ndarray, horizon: float, rows: np.ndarray) -> np.ndarray:
    n = time.size
    theta = km_rmst(time, event, horizon)
    keep = np.ones(n, dtype=bool)
    out = np.empty(rows.size)
    for j, i in enumerate(rows):
        keep[i] = False
        out[j] = n * theta - (n - 1) * km_rmst(time[keep], event[keep], horizon)
        keep[i] = True
    return out


def best_of(repeats: int, *args: object) -> tuple[float, np.ndarray]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = clock.perf_counter()
        result = fast(*args)
        best = min(best, clock.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-n", type=int, default=20_000)
    parser.add_argument("--naive-budget", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"{'n':>10} {'fast (s)':>10}")
    for n in args.sizes:
        seconds, _ = best_of(args.repeats, *make_data(n))
        print(f"{n:>10} {seconds:>10.4f}")

    n = args.naive_n
    time, event, horizon = make_data(n)
    fast_seconds, values = best_of(args.repeats, time, event, horizon)
    probe = np.arange(min(n, 200))
    start = clock.perf_counter()
    probe_values = naive(time, event, horizon, probe)
    per_refit = (clock.perf_counter() - start) / probe.size
    error = float(np.max(np.abs(probe_values - values[probe])))
    if per_refit * n <= args.naive_budget:
        start = clock.perf_counter()
        naive(time, event, horizon, np.arange(n))
        naive_seconds, how = clock.perf_counter() - start, "all refits timed"
    else:
        naive_seconds = per_refit * n
        how = f"extrapolated from {probe.size} timed refits"
    print(f"\nnaive jackknife at n = {n}: {naive_seconds:.1f} s ({how}); fast {fast_seconds:.4f} s;"
          f" naive/fast = {naive_seconds / fast_seconds:,.0f}x;"
          f" max |fast - naive| on {probe.size} rows = {error:.1e}")


if __name__ == "__main__":
    main()
