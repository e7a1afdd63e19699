"""Forest fits on a Dask cluster through joblib: wall time and bytes moved, 1 vs 2 workers.

Run: ``python benchmarks/forest_dask.py [--n 20000] [--p 10] [--trees 200] [--reps 3]
[--workers 1 2] [--bytes-n 100000]``

Each worker count gets a fresh ``LocalCluster(n_workers=W, threads_per_worker=1,
processes=True)`` (separate processes, data pickled over TCP as on a real cluster); a warm-up
fit loads the numba kernels in the workers first. The timed fit is a ``SurvivalForest`` (log-rank
splits, grf defaults) on SurvHTE-Bench-like data (``p`` standard normal covariates, exponential
event and censoring times), ``with joblib.parallel_backend("dask"): forest.fit(X, y)``, against
the same fit in this process on 1 and 2 numba threads (no Dask), reps alternating. Every Dask
forest is checked equal, array by array, to the local one.

Bytes moved, per fit: ``scattered`` = the arrays the trees are grown from (transposed X,
feature ranks, responses, weights), sent once from the client to one worker;
``peer`` = what the workers fetched from each other (the scattered data, once per other
worker; from the workers' transfer logs); ``results`` = the chunks of grown trees sent back
(node arrays, each tree's leaf rows and in-bag bits). ``--bytes-n`` repeats the byte count for
a larger n on 2 workers with 8 trees (results are per tree).
"""

from __future__ import annotations

import argparse
import time

import joblib
import numpy as np
from distributed import Client, LocalCluster

import survhte.forest._engine as engine
from survhte.forest import SurvivalForest


def make_data(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    t_event = rng.exponential(np.exp(-0.5 * X[:, 0] + 0.3 * X[:, 1]))
    t_censor = rng.exponential(1.5, size=n)
    return X, np.minimum(t_event, t_censor), t_event <= t_censor


class ByteCount:
    """Wraps ``_grow_on_dask``: bytes of the data each fit scatters and of the chunks back."""

    def __init__(self) -> None:
        self.scattered = self.results = 0
        self._inner = engine._grow_on_dask

    def __enter__(self) -> ByteCount:
        def counted(growth, backend, progress):
            self.scattered += sum(a.nbytes for a in (growth.Xt, growth.ranks,
                                                     growth.responses, growth.weights))
            chunks = self._inner(growth, backend, progress)
            self.results += sum(sum(c.nbytes for c in columns) + nodes.nbytes + leaf.nbytes
                                + bag.nbytes for columns, nodes, leaf, bag in chunks)
            return chunks
        engine._grow_on_dask = counted
        return self

    def __exit__(self, *exc: object) -> None:
        engine._grow_on_dask = self._inner


def peer_bytes(client: Client) -> int:
    """Bytes the workers have fetched from each other so far."""
    logs = client.run(lambda dask_worker: sum(entry["total"] for entry in
                                              dask_worker.transfer_incoming_log))
    return int(sum(logs.values()))


def fit(X, time_, event, trees: int, n_jobs: int | None = None) -> SurvivalForest:
    return SurvivalForest(trees, n_jobs=n_jobs, random_state=0).fit(X, time_, event)


def same(a: SurvivalForest, b: SurvivalForest) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.forest_.kernel_arrays(),
                                                   b.forest_.kernel_arrays(), strict=True))


def mb(count: float) -> str:
    return f"{count / 2**20:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--bytes-n", type=int, default=100000)
    args = parser.parse_args()

    X, time_, event = make_data(args.n, args.p)
    fit(X[:500], time_[:500], event[:500], 4)  # numba kernels loaded here
    reference = fit(X, time_, event, args.trees)
    print(f"SurvivalForest, n={args.n}, p={args.p}, {args.trees} trees; "
          f"wall seconds of fit, {args.reps} reps")
    print("| run | wall s (each) | median | scattered MB | peer MB | results MB | equal |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for workers in args.workers:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            with joblib.parallel_backend("dask"):
                fit(X[:500], time_[:500], event[:500], 4 * workers)  # kernels in the workers
            local_times, dask_times = [], []
            counts, peers, equal = [], [], True
            for _ in range(args.reps):
                start = time.perf_counter()
                fit(X, time_, event, args.trees, n_jobs=workers)
                local_times.append(time.perf_counter() - start)
                before = peer_bytes(client)
                with ByteCount() as count, joblib.parallel_backend("dask"):
                    start = time.perf_counter()
                    remote = fit(X, time_, event, args.trees)
                    dask_times.append(time.perf_counter() - start)
                peers.append(peer_bytes(client) - before)
                counts.append(count)
                equal &= same(remote, reference)
            for label, times in ((f"local, {workers} numba thread(s)", local_times),
                                 (f"Dask, {workers} worker(s) x 1 thread", dask_times)):
                moved = ("", "", "", "")
                if label.startswith("Dask"):
                    moved = (mb(counts[-1].scattered), mb(np.median(peers)),
                             mb(counts[-1].results), str(equal))
                print(f"| {label} | {' '.join(f'{t:.2f}' for t in times)} | "
                      f"{np.median(times):.2f} | {' | '.join(moved)} |")

    if args.bytes_n:
        Xb, tb, eb = make_data(args.bytes_n, args.p, seed=1)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            with ByteCount() as count, joblib.parallel_backend("dask"):
                fit(Xb, tb, eb, 8)
            peer = peer_bytes(client)
        print(f"\nn={args.bytes_n}, p={args.p}, 2 workers, 8 trees: scattered "
              f"{mb(count.scattered)} MB (each worker holds it once; peer transfers "
              f"{mb(peer)} MB), results {count.results / 8 / 2**10:.0f} kB per tree")


if __name__ == "__main__":
    main()
