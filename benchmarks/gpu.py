"""Forest prediction on the GPU (``device="gpu"``) vs the numba CPU path on all cores.

Run on a machine with a CUDA GPU: ``python benchmarks/gpu.py [--sizes 100000 1000000
10000000] [--train 20000] [--trees 500]``. Without one the script stops, except under numba's
CUDA simulator (``NUMBA_ENABLE_CUDASIM=1 python benchmarks/gpu.py --sizes 200 --trees 10``,
a smoke test of the script: simulator timings mean nothing).

What runs on the GPU today is prediction (issue 22): a causal forest is grown once on the CPU
(``--train`` rows, p = 10, ``--trees`` trees in little bags of 2), then the estimates
(``predict``: ``forest_means``) and their little-bag variances (``predict_variance``:
``little_bag_sums``) of m new rows are timed with ``device="cpu"`` (numba, every core) and
``device="gpu"`` (the numba.cuda twins, forest copied to the device at each call, inputs
NumPy). Each kernel is launched once on small data first, so compilation is not timed.
Then a survival forest grown on the same rows (Weibull-Cox times, ~30% censored): its curves
at the 200 default prediction times (``predict_survival``: ``forest_survival``, the CUDA twin
``forest_survival_cuda``) and RMSTs at the median time (``predict_rmst``) of
``--survival-sizes`` new rows. Reported: seconds per call, the speed-up, the GPU memory in use
after the call (free memory lost, from the CUDA context), and whether the two devices' results
are equal (they must be: same additions in the same order).

Last, growth (``--growth-sizes`` training rows, p = 10, ``--trees`` trees): a causal forest with
the histogram split search (``split_search="hist"``, 256 bins) grown with ``device="cpu"``
(``forest_hist``, every core) and ``device="gpu"`` (``forest_hist_cuda``, level by level),
and the exact CPU search for reference; the two histogram forests must be the same trees.
"""

from __future__ import annotations

import argparse
import copy
import os
import time as clock

import numpy as np

from survhte._device import gpu_available
from survhte.forest import CausalForest, SurvivalForest


def _design(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, p))
    w = rng.integers(0, 2, n)
    y = X[:, 0] + w * (X[:, 1] - 0.5) + rng.normal(scale=0.5, size=n)
    return X, y, w


def _gpu_bytes_in_use() -> int:
    from numba import cuda

    free, total = cuda.current_context().get_memory_info()
    return int(total - free)


def _timed(call, *args):
    start = clock.perf_counter()
    out = call(*args)
    return clock.perf_counter() - start, out


def _compare(cpu, gpu, sizes: list[int], calls: tuple, simulator: bool) -> None:
    """Time each call of ``calls`` (``(method, label, extra args)``) on m new rows for each m
    of ``sizes``, device="cpu" then device="gpu", and check the results are equal."""
    used = _gpu_bytes_in_use() if not simulator else 0
    print(f"{'m':>10} {'call':>10} {'cpu s':>8} {'gpu s':>8} {'speed-up':>9} "
          f"{'gpu MB':>8} {'equal':>6}")
    for m in sizes:
        X_new = _design(m, 10, 1)[0]
        for call, label, extra in calls:
            t_cpu, out_cpu = _timed(getattr(cpu, call), X_new, *extra)
            t_gpu, out_gpu = _timed(getattr(gpu, call), X_new, *extra)
            memory = (_gpu_bytes_in_use() - used) / 2**20 if not simulator else float("nan")
            equal = bool(np.array_equal(out_cpu, out_gpu, equal_nan=True))
            print(f"{m:>10} {label:>10} {t_cpu:>8.3f} {t_gpu:>8.3f} "
                  f"{t_cpu / t_gpu:>9.2f} {memory:>8.0f} {equal!s:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--survival-sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="rows of the survival forest's curves (m x 200 floats each)")
    parser.add_argument("--growth-sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="training rows of the growth comparison")
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--trees", type=int, default=500)
    args = parser.parse_args()
    simulator = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    if not gpu_available():
        raise SystemExit("no CUDA device (numba.cuda.is_available() is False): nothing to "
                         "compare; run on a GPU machine or under NUMBA_ENABLE_CUDASIM=1.")
    X, y, w = _design(args.train, 10, 0)
    start = clock.perf_counter()
    cpu = CausalForest(args.trees, device="cpu", n_jobs=-1, random_state=0).fit(X, y, w)
    print(f"causal forest grown on the CPU: n = {args.train}, {args.trees} trees, "
          f"{clock.perf_counter() - start:.1f} s")
    gpu = copy.copy(cpu).set_params(device="gpu")  # the same trees
    for forest in (cpu, gpu):  # compile the kernels before timing
        forest.predict_variance(X[:64])
    _compare(cpu, gpu, args.sizes, (("predict", "estimate", ()),
                                    ("predict_variance", "variance", ())), simulator)

    time, event = _survival_outcome(X, 0)
    start = clock.perf_counter()
    cpu = SurvivalForest(args.trees, device="cpu", n_jobs=-1, random_state=0).fit(
        X, (time, event))
    print(f"\nsurvival forest grown on the CPU: n = {args.train}, {args.trees} trees, "
          f"{event.sum()} events, {clock.perf_counter() - start:.1f} s")
    gpu = copy.copy(cpu).set_params(device="gpu")
    horizon = float(np.median(time))
    for forest in (cpu, gpu):
        forest.predict_survival(X[:64])
        forest.predict_rmst(X[:64], horizon)
    _compare(cpu, gpu, args.survival_sizes, (("predict_survival", "curves", ()),
                                             ("predict_rmst", "rmst", (horizon,))), simulator)
    _growth(args.growth_sizes, args.trees)


def _growth(sizes: list[int], trees: int) -> None:
    """Fit seconds of the exact CPU search and of the histogram search on each device."""
    X, y, w = _design(400, 10, 2)
    for device in ("cpu", "gpu"):  # compile before timing
        CausalForest(4, split_search="hist", device=device, random_state=0).fit(X, y, w)
    print(f"\n{'n':>10} {'exact cpu s':>12} {'hist cpu s':>11} {'hist gpu s':>11} "
          f"{'speed-up':>9} {'same trees':>11}")
    for n in sizes:
        X, y, w = _design(n, 10, 2)
        seconds, forests = {}, {}
        for label, search, device in (("exact", "exact", "cpu"), ("cpu", "hist", "cpu"),
                                      ("gpu", "hist", "gpu")):
            model = CausalForest(trees, split_search=search, device=device, n_jobs=-1,
                                 random_state=0)
            seconds[label], forests[label] = _timed(model.fit, X, y, w)
        a, b = forests["cpu"].forest_, forests["gpu"].forest_
        same = all(np.array_equal(getattr(a, name), getattr(b, name))
                   for name in ("feature", "threshold", "left", "leaf_size", "node_offset"))
        print(f"{n:>10} {seconds['exact']:>12.2f} {seconds['cpu']:>11.2f} "
              f"{seconds['gpu']:>11.2f} {seconds['cpu'] / seconds['gpu']:>9.2f} {same!s:>11}")


def _survival_outcome(X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Weibull-Cox event times with risk on two covariates, exponential censoring (~30%)."""
    rng = np.random.default_rng(seed)
    event_time = (rng.exponential(size=X.shape[0]) / np.exp(X[:, 0] - X[:, 1])) ** 0.7
    censor = rng.exponential(2.5, size=X.shape[0])
    return np.minimum(event_time, censor), event_time <= censor


if __name__ == "__main__":
    main()
