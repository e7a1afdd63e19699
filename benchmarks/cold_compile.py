"""Cold and warm ``survhte estimate``: wall and CPU time, and what numba compiles.

A fresh install has an empty numba cache: the first ``survhte estimate`` compiles the kernels
its method needs (``cache=True`` then stores them). Each cold run here gets a fresh
``NUMBA_CACHE_DIR``; each warm run reuses the cache of the cold run before it. Every run is
a subprocess (``survhte estimate`` on the bundled Rossi data, default options), timed for
wall clock and CPU (user + system, all threads: the fairer number on a shared machine).
Per kernel: seconds from numba's ``"numba:compile"`` event of each top-level dispatcher
(what its first call cost, callees included), averaged over the cold runs.

Usage::

    python benchmarks/cold_compile.py                  # csf (the default) and t-learner-cox
    python benchmarks/cold_compile.py --repeat 3 --method csf

Measured (Rossi, 2 cores shared with other work, load 8-12; before = c1a05b8 with prange
kernels, after = the thread-run kernels of survhte/_kernels/_jit.py; pairs run back to back):

=============  =====  ==================  ==================
method         cache  before wall / CPU   after wall / CPU
=============  =====  ==================  ==================
csf            cold   190.3 / 63.4 s      100.6 / 34.8 s
csf            warm    16.6 /  5.7 s       17.7 /  5.9 s
csf            cold   205.1 / 76.8 s      129.7 / 43.7 s
csf            warm    20.9 /  6.9 s       21.2 /  7.1 s
t-learner-cox  cold    18.6 /  6.1 s       15.1 /  5.0 s
t-learner-cox  warm    15.0 /  4.9 s       18.0 /  6.0 s
=============  =====  ==================  ==================

t-learner-cox compiles nothing (no numba kernel on its path). Compile CPU of csf by kernel,
before -> after (first pair): tree growing 30.4 -> 16.1 s, causal survival scores 19.6 ->
9.9 s, the four others 6.9 -> 2.9 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import survhte

# Runs the CLI in the subprocess with a listener on numba's compile events.
_RUNNER = r"""
import json, os, sys, time
from numba.core import event

records = []
depth = [0]

class Listener(event.Listener):
    def on_start(self, ev):
        if depth[0] == 0:
            self.started = (time.perf_counter(), time.thread_time())
        depth[0] += 1

    def on_end(self, ev):
        depth[0] -= 1
        if depth[0] == 0:
            function = getattr(ev.data.get("dispatcher"), "py_func", None)
            name = (f"{getattr(function, '__module__', '?')}."
                    f"{getattr(function, '__qualname__', '?')}")
            records.append((name, time.perf_counter() - self.started[0],
                            time.thread_time() - self.started[1]))

event.register("numba:compile", Listener())
from survhte.cli import main
code = main(sys.argv[1:])
with open(os.environ["COLD_COMPILE_RECORD"], "w") as handle:
    json.dump(records, handle)
sys.exit(code)
"""


def run_once(method: str, cache_dir: Path, work: Path) -> dict:
    """One ``survhte estimate --method method`` in a subprocess with ``cache_dir``."""
    record = work / "record.json"
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(cache_dir)
    env["COLD_COMPILE_RECORD"] = str(record)
    package_root = str(Path(survhte.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    command = [sys.executable, "-c", _RUNNER, "estimate", "--method", method,
               "--out", str(work / "out")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"survhte estimate --method {method} failed:\n{completed.stderr}")
    records = json.loads(record.read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": wall,
        "cpu": cpu,
        "compile_wall": sum(r[1] for r in records),
        "compile_cpu": sum(r[2] for r in records),
        "kernels": records,
        "report": completed.stdout,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", action="append",
                        help="CLI --method (repeatable; default: csf and t-learner-cox)")
    parser.add_argument("--repeat", type=int, default=2, help="cold/warm pairs per method")
    args = parser.parse_args(argv)
    methods = args.method or ["csf", "t-learner-cox"]
    print(f"survhte {survhte.__file__}; {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'method':<15} {'cache':<5} {'run':>3} {'wall s':>7} {'CPU s':>7} "
          f"{'compile s':>9} {'kernels':>7}")
    per_kernel: dict[str, dict[str, list[float]]] = {}
    for method in methods:
        per_kernel[method] = {}
        for repeat in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="survhte-cold-") as tmp:
                work = Path(tmp)
                cache = work / "numba_cache"
                for cache_state in ("cold", "warm"):
                    result = run_once(method, cache, work)
                    print(f"{method:<15} {cache_state:<5} {repeat + 1:>3} {result['wall']:>7.1f} "
                          f"{result['cpu']:>7.1f} {result['compile_cpu']:>9.1f} "
                          f"{len(result['kernels']):>7}", flush=True)
                    if cache_state == "cold":
                        for name, _, cpu in result["kernels"]:
                            per_kernel[method].setdefault(name, []).append(cpu)
    print("\ncompile CPU seconds per top-level kernel, mean over the cold runs (callees included)")
    for method, kernels in per_kernel.items():
        print(f"{method}: {len(kernels)} kernels"
              + ("" if kernels else " (nothing compiled)"))
        for name, seconds in sorted(kernels.items(), key=lambda item: -sum(item[1])):
            print(f"  {sum(seconds) / len(seconds):7.1f}  {name}")


if __name__ == "__main__":
    main()
