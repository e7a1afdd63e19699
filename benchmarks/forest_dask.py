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

``--sections csf predict chunks`` (issue 21, cluster part; each section on its own):

- ``csf``: a ``CausalSurvivalForest`` fit (``--csf-n``, ``--csf-trees``), 1 vs 2 workers
  against the same fit here on 1 and 2 numba threads: wall time and bytes per worker (the four
  forests' scattered arrays, each worker holds them once; row blocks of the out-of-bag
  propensity when n >= ``DASK_PREDICT_MIN_ROWS``).
- ``predict``: ``predict`` of ``--predict-m`` new rows by a CSF of ``--csf-trees`` trees on
  ``--csf-n`` rows, in row blocks on 1 and 2 workers against this process (1 and 2 threads):
  wall time and bytes per worker (forest arrays once + its share of X).
- ``chunks``: per-tree costs of the four forests of a CSF fit at ``--chunk-n`` (two sizes)
  on 1 worker (each chunk's seconds on the worker), the serial
  parts in the client (score step; the rest: leaf values, histograms, validation), the data
  each worker receives and the trees sent back; their growth with n from the two sizes; then
  the projected wall time of ``--project-n`` rows, ``--project-trees`` trees on 16 and 64
  worker threads (``--bandwidth`` GB/s links), Amdahl's serial part named.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import joblib
import numpy as np
from distributed import Client, LocalCluster

import survhte.forest._causal_survival as csf_module
import survhte.forest._engine as engine
from survhte.forest import CausalSurvivalForest, SurvivalForest


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


def survival_section(args: argparse.Namespace) -> None:
    """The SurvivalForest fit, 1 vs 2 workers (the first table of the guide)."""

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



# Causal survival forest: 1 vs 2 workers, large predictions, per-chunk costs, projection ------

HORIZON = 1.0
# Forests of a CSF fit, by splitting rule (``GrowthRule.split_kind``, ``growth.settings[12]``).
FOREST_NAMES = {engine.SPLIT_VARIANCE: "propensity (regression)",
                engine.SPLIT_LOGRANK: "event / censoring (survival)",
                engine.SPLIT_CAUSAL_SURVIVAL: "causal survival"}


def csf_data(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, tuple, np.ndarray]:
    """Randomised treatment, exponential event times whose hazard the treatment changes with
    ``x3``, exponential censoring (about 30% censored before the horizon)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    w = rng.integers(0, 2, n)
    rate = np.exp(-0.5 * X[:, 0] + 0.3 * X[:, 1] + w * (0.5 * X[:, 2] - 0.25))
    t_event = rng.exponential(1 / rate)
    t_censor = rng.exponential(2.0, size=n)
    return X, (np.minimum(t_event, t_censor), t_event <= t_censor), w


def fit_csf(X, y, w, trees: int, n_jobs: int | None = None) -> CausalSurvivalForest:
    return CausalSurvivalForest(trees, horizon=HORIZON, n_jobs=n_jobs, random_state=0).fit(
        X, y, w)


def nuisance_trees(trees: int) -> tuple[int, int]:
    """Trees of the CSF's propensity forest and of each survival forest (grf's sizes)."""
    return max(50, trees // 4), max(50, min(trees // 4, 500))


class Blocks:
    """Counts what predictions in row blocks send (``engine._Scattered`` instances)."""

    def __init__(self) -> None:
        self.made: list = []
        self._inner = engine._Scattered

    def __enter__(self) -> Blocks:
        made, inner = self.made, self._inner

        class Counted(inner):  # type: ignore[misc, valid-type]
            def __init__(self, client) -> None:
                super().__init__(client)
                made.append(self)

        engine._Scattered = Counted
        return self

    def __exit__(self, *exc: object) -> None:
        engine._Scattered = self._inner

    @property
    def shared(self) -> int:
        return sum(s.bytes for s in self.made)

    @property
    def rows(self) -> int:
        return sum(s.row_bytes for s in self.made)


def cluster(workers: int) -> tuple[LocalCluster, Client]:
    c = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                     dashboard_address=":0")
    return c, Client(c)


def load_line() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def csf_section(args: argparse.Namespace) -> None:
    X, y, w = csf_data(args.csf_n, args.p)
    small = (X[:800], (y[0][:800], y[1][:800]), w[:800])
    fit_csf(*small, 8)  # kernels loaded here
    reference = fit_csf(X, y, w, args.csf_trees)
    print(f"\nCausalSurvivalForest fit, n={args.csf_n}, p={args.p}, {args.csf_trees} trees "
          f"(+ {sum(nuisance_trees(args.csf_trees)) + nuisance_trees(args.csf_trees)[1]} "
          f"nuisance trees), {args.reps} reps; {load_line()}")
    print("| run | wall s (each) | median | MB to each worker | peer MB | trees back MB "
          "| equal |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for workers in args.workers:
        c, client = cluster(workers)
        with c, client:
            with joblib.parallel_backend("dask"):
                fit_csf(*small, 8 * workers)  # kernels in the workers
            local_times, dask_times, equal = [], [], True
            for _ in range(args.reps):
                start = time.perf_counter()
                fit_csf(X, y, w, args.csf_trees, n_jobs=workers)
                local_times.append(time.perf_counter() - start)
                before = peer_bytes(client)
                with ByteCount() as count, Blocks() as blocks, joblib.parallel_backend("dask"):
                    start = time.perf_counter()
                    remote = fit_csf(X, y, w, args.csf_trees)
                    dask_times.append(time.perf_counter() - start)
                peer = peer_bytes(client) - before
                equal &= bool(np.array_equal(remote.predict(X[:2000]),
                                             reference.predict(X[:2000])))
            to_worker = count.scattered + blocks.shared + blocks.rows / workers
            for label, times, moved in (
                    (f"local, {workers} numba thread(s)", local_times, ("", "", "", "")),
                    (f"Dask, {workers} worker(s) x 1 thread", dask_times,
                     (mb(to_worker), mb(peer), mb(count.results), str(equal)))):
                print(f"| {label} | {' '.join(f'{t:.2f}' for t in times)} | "
                      f"{np.median(times):.2f} | {' | '.join(moved)} |")
    print(load_line())


def predict_section(args: argparse.Namespace) -> None:
    X, y, w = csf_data(args.csf_n, args.p)
    forest = fit_csf(X, y, w, args.csf_trees)
    X_new = csf_data(args.predict_m, args.p, seed=1)[0]
    reference = forest.predict(X_new)
    print(f"\npredict of m={args.predict_m} rows, CSF of {args.csf_trees} trees on "
          f"n={args.csf_n}; {args.reps} reps; {load_line()}")
    print("| run | wall s (each) | median | forest MB to each worker | X MB per worker | "
          "equal |")
    print("| --- | --- | --- | --- | --- | --- |")
    for workers in args.workers:
        c, client = cluster(workers)
        with c, client:
            with joblib.parallel_backend("dask"):
                forest.predict(X_new[:engine.DASK_PREDICT_MIN_ROWS])  # kernels in the workers
            local_times, dask_times, equal = [], [], True
            for _ in range(args.reps):
                forest.set_params(n_jobs=workers)
                start = time.perf_counter()
                forest.predict(X_new)
                local_times.append(time.perf_counter() - start)
                forest.set_params(n_jobs=None)
                with Blocks() as blocks, joblib.parallel_backend("dask"):
                    start = time.perf_counter()
                    remote = forest.predict(X_new)
                    dask_times.append(time.perf_counter() - start)
                equal &= bool(np.array_equal(remote, reference))
            for label, times, moved in (
                    (f"local, {workers} numba thread(s)", local_times, ("", "", "")),
                    (f"Dask, {workers} worker(s) x 1 thread", dask_times,
                     (mb(blocks.shared), mb(blocks.rows / workers), str(equal)))):
                print(f"| {label} | {' '.join(f'{t:.2f}' for t in times)} | "
                      f"{np.median(times):.2f} | {' | '.join(moved)} |")
    print(load_line())


_GROW_CHUNK = engine._grow_chunk


def timed_chunk(*args):
    """``_grow_chunk`` that also returns its seconds on the worker (a fifth element, which
    ``grow_forest`` does not read)."""
    start = time.perf_counter()
    chunk = _GROW_CHUNK(*args)
    return (*chunk, time.perf_counter() - start)


class Phases:
    """Per forest of a fit on Dask: its rule, trees, time window in the client, the bytes
    scattered and sent back; and the time of the score step."""

    def __init__(self) -> None:
        self.forests: list[dict] = []
        self.score = 0.0
        self._grow, self._score = engine._grow_on_dask, csf_module.causal_survival_scores

    def __enter__(self) -> Phases:
        def grow(growth, backend, progress):
            start = time.time()
            chunks = self._grow(growth, backend, progress)
            self.forests.append(dict(
                kind=growth.settings[12], trees=growth.n_trees, start=start, stop=time.time(),
                compute=sum(chunk[4] for chunk in chunks),
                scattered=sum(a.nbytes for a in (growth.Xt, growth.ranks, growth.responses,
                                                 growth.weights)),
                results=sum(sum(c.nbytes for c in cols) + nodes.nbytes + leaf.nbytes
                            + bag.nbytes for cols, nodes, leaf, bag, _ in chunks)))
            return chunks

        def score(*a, **k):
            start = time.perf_counter()
            out = self._score(*a, **k)
            self.score += time.perf_counter() - start
            return out

        engine._grow_on_dask, csf_module.causal_survival_scores = grow, score
        engine._grow_chunk = timed_chunk
        return self

    def __exit__(self, *exc: object) -> None:
        engine._grow_on_dask, csf_module.causal_survival_scores = self._grow, self._score
        engine._grow_chunk = _GROW_CHUNK


def median_run(runs: list[dict]) -> dict:
    """The median over repeated :func:`chunk_costs` runs (seconds; bytes are the same)."""
    out = dict(runs[0], kinds={kind: dict(k) for kind, k in runs[0]["kinds"].items()})
    for key in ("wall", "score", "other"):
        out[key] = float(np.median([run[key] for run in runs]))
    for kind, k in out["kinds"].items():
        k["seconds"] = float(np.median([run["kinds"][kind]["seconds"] for run in runs]))
    out["each"] = [run["kinds"] for run in runs]
    return out


def chunk_costs(n: int, args: argparse.Namespace, client: Client, seed: int = 2) -> dict:
    """One CSF fit on 1 worker at ``n`` rows: per-tree compute seconds of each forest kind,
    bytes per forest, score step and other client seconds."""
    X, y, w = csf_data(n, args.p, seed=seed)
    with Phases() as phases, joblib.parallel_backend("dask"):
        start = time.perf_counter()
        fit_csf(X, y, w, args.chunk_trees)
        wall = time.perf_counter() - start
    out: dict = {"n": n, "wall": wall, "score": phases.score, "kinds": {}}
    for forest in phases.forests:
        seconds = forest["compute"]
        kind = out["kinds"].setdefault(forest["kind"], dict(trees=0, seconds=0.0, window=0.0,
                                                            scattered=[], results=0))
        kind["trees"] += forest["trees"]
        kind["seconds"] += seconds
        kind["window"] += forest["stop"] - forest["start"]
        kind["scattered"].append(forest["scattered"])
        kind["results"] += forest["results"]
    out["other"] = wall - phases.score - sum(k["window"] for k in out["kinds"].values())
    return out


def chunks_section(args: argparse.Namespace) -> None:
    if args.load_runs:
        with open(args.load_runs) as file:
            runs = json.load(file)
        for run in runs:  # JSON keys are strings
            run["kinds"] = {int(kind): k for kind, k in run["kinds"].items()}
        project(runs, args)
        return
    print(f"\nPer-chunk costs: CSF fits of {args.chunk_trees} trees on 1 worker x 1 thread, "
          f"p={args.p}; {load_line()}")
    c, client = cluster(1)
    with c, client:
        with joblib.parallel_backend("dask"):
            fit_csf(*csf_data(800, args.p), 8)  # kernels in the worker
        runs = [median_run([chunk_costs(n, args, client, seed=2 + rep)
                            for rep in range(args.chunk_reps)]) for n in args.chunk_n]
    print(f"{args.chunk_reps} fits per size (data seeds differ); s per tree: median "
          "(each fit)")
    print("| n | forest | trees | s per tree | MB to each worker (per forest) | "
          "kB back per tree |")
    print("| --- | --- | --- | --- | --- | --- |")
    for run in runs:
        for kind, k in run["kinds"].items():
            each = " ".join(f"{e[kind]['seconds'] / k['trees']:.4f}" for e in run["each"])
            print(f"| {run['n']} | {FOREST_NAMES[kind]} | {k['trees']} | "
                  f"{k['seconds'] / k['trees']:.4f} ({each}) | "
                  f"{mb(np.mean(k['scattered']))} | "
                  f"{k['results'] / k['trees'] / 2**10:.0f} |")
        print(f"| {run['n']} | client: score step / other | | {run['score']:.2f} s / "
              f"{run['other']:.2f} s | | |")
    print(load_line())
    if args.save_runs:
        with open(args.save_runs, "w") as file:
            json.dump([dict(run, each=None) for run in runs], file)
    project(runs, args)


def project(runs: list[dict], args: argparse.Namespace) -> None:
    """Wall time of the ``--project-n``, ``--project-trees`` CSF fit from the two runs."""
    small, large = runs[0], runs[-1]
    N, B = args.project_n, args.project_trees
    growth = lambda n0, v0, n1, v1: math.log(v1 / v0) / math.log(n1 / n0)  # noqa: E731
    bandwidth = args.bandwidth * 2**30
    props, survs = nuisance_trees(B)
    trees = {engine.SPLIT_VARIANCE: props, engine.SPLIT_LOGRANK: 2 * survs,
             engine.SPLIT_CAUSAL_SURVIVAL: B}
    scale = N / large["n"]
    print(f"\nGrowth with n ({small['n']} -> {large['n']}): exponent a in cost ~ n^a")
    per_tree, data, back = {}, 0.0, 0.0
    for kind, k in large["kinds"].items():
        k0 = small["kinds"][kind]
        a = growth(small["n"], k0["seconds"] / k0["trees"], large["n"],
                   k["seconds"] / k["trees"])
        per_tree[kind] = k["seconds"] / k["trees"] * scale ** a
        data += sum(k["scattered"]) / len(k["scattered"]) * scale * (
            2 if kind == engine.SPLIT_LOGRANK else 1)  # event and censoring forests
        back += k["results"] / k["trees"] * scale * trees[kind]
        print(f"- {FOREST_NAMES[kind]}: a = {a:.2f}; {per_tree[kind]:.2f} s per tree at "
              f"n = {N:.0e} ({trees[kind]} trees)")
    b = growth(small["n"], small["score"], large["n"], large["score"])
    score = large["score"] * scale ** b
    other = max(large["other"], 0.0) * scale
    print(f"- score step: b = {b:.2f}; {score:.0f} s at n = {N:.0e} (client, 1 thread); "
          f"other client work (leaf values, histograms, validation, waits) ~ n: {other:.0f} s")
    total = sum(per_tree[kind] * trees[kind] for kind in per_tree)
    print(f"- each worker receives {data / 2**30:.2f} GB (the four forests' arrays, once "
          f"each); the client receives {back / 2**30:.1f} GB of trees; links "
          f"{args.bandwidth:g} GB/s")
    print(f"\nProjected wall time, CSF n = {N:.0e}, p = {args.p}, {B} trees "
          f"(+ {props + 2 * survs} nuisance trees); tree growth {total:.0f} s on one thread")
    c = args.client_threads
    print(f"| worker threads | shape | growth s | data to workers s | trees back s | "
          f"serial s, client 1 / {c} threads | total s, client 1 / {c} threads | "
          "speed-up vs 1 thread |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    serial = score + other
    serial_c = score / c + other  # the score step runs on the client's numba threads
    one = total + serial
    for threads in (16, 64):
        for shape, copies in ((f"{threads} workers x 1 thread", threads),
                              (f"{threads // 16} machine(s) x 16 threads", threads // 16)):
            grow = total / threads
            send = copies * data / bandwidth  # every copy through one link (the worst case)
            receive = back / bandwidth
            wall = grow + send + receive
            print(f"| {threads} | {shape} | {grow:.0f} | {send:.0f} | {receive:.0f} | "
                  f"{serial:.0f} / {serial_c:.0f} | {wall + serial:.0f} / "
                  f"{wall + serial_c:.0f} | {one / (wall + serial):.1f} / "
                  f"{one / (wall + serial_c):.1f} |")
    print(f"Amdahl: serial in the client at 1 thread: {serial / one:.1%} of the one-thread "
          f"fit (score step {score:.0f} s + other {other:.0f} s), so no number of workers "
          f"beats {one / serial:.0f}x with a one-thread client, {one / serial_c:.0f}x with "
          f"{c} client threads (score step divided by {c}, taken as linear).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", nargs="+", default=["survival"],
                        choices=["survival", "csf", "predict", "chunks"])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--bytes-n", type=int, default=100000)
    parser.add_argument("--csf-n", type=int, default=20000)
    parser.add_argument("--csf-trees", type=int, default=200)
    parser.add_argument("--predict-m", type=int, default=200000)
    parser.add_argument("--chunk-n", type=int, nargs=2, default=[25000, 100000])
    parser.add_argument("--chunk-trees", type=int, default=40)
    parser.add_argument("--chunk-reps", type=int, default=2)
    parser.add_argument("--project-n", type=int, default=10**6)
    parser.add_argument("--project-trees", type=int, default=2000)
    parser.add_argument("--bandwidth", type=float, default=1.0, help="GB/s per link")
    parser.add_argument("--client-threads", type=int, default=16)
    parser.add_argument("--save-runs", help="write the chunk runs to this JSON file")
    parser.add_argument("--load-runs", help="project from these saved chunk runs")
    args = parser.parse_args()
    sections = {"survival": survival_section, "csf": csf_section,
                "predict": predict_section, "chunks": chunks_section}
    for name in args.sections:
        sections[name](args)


if __name__ == "__main__":
    main()
