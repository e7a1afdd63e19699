"""How the forest kernels run in parallel: numba ``nogil`` kernels on Python threads.

A parallel forest kernel is a plain ``@njit(nogil=True, cache=True)`` function of an item
range, ``kernel(first, last, *args)``, that processes items ``first <= i < last`` (trees,
blocks of target rows) and writes each item's results to its own slots of output arrays
allocated by the caller; :func:`parallel_range` runs it over ``range(n)`` in chunks on
``numba.get_num_threads()`` threads, which release the GIL while in the kernel. Every item's
results depend only on the item, so they are the same, bitwise, for any number of threads
and any chunking.

Why not ``@njit(parallel=True)`` with ``prange``: numba compiles a ``prange`` loop into a
gufunc of its own, with its own LLVM module, and the kernel that launches it into another;
each module links in (and LLVM optimizes and compiles again) the whole call tree below it,
and numba's parfor passes come on top. Measured with ``benchmarks/cold_compile.py`` (the
CLI's default causal survival forest on the Rossi data, fresh cache, 2 shared cores under
load 8-11, before/after back to back): cold ``survhte estimate`` 63.4 and 76.8 s of CPU with
the ``prange`` kernels, 34.8 and 43.7 s on threads (with ``numba_only`` helpers and no slice
copies in the tree builder); warm runs equal (5.7 vs 5.5 s CPU); results bitwise equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numba

# Chunks per thread: later chunks go to whichever thread is free (items differ in cost).
_CHUNKS_PER_THREAD = 4
# With a progress callback: at least this many chunks per call, so that progress moves in
# steps of at most 1/_PROGRESS_CHUNKS (chunking never changes the results).
_PROGRESS_CHUNKS = 64
_on_chunk: ContextVar[Callable[[int, int], None] | None] = ContextVar("_on_chunk", default=None)


@contextmanager
def chunk_callback(callback: Callable[[int, int], None] | None) -> Iterator[None]:
    """Call ``callback(items, n)`` in the calling thread each time a chunk of ``items`` of
    the ``n`` of an enclosed :func:`parallel_range` call finishes (None: no callback, the
    default).

    For progress reporting (``survhte._config.Progress.update``); the chunks are then at
    least ``_PROGRESS_CHUNKS`` per call, run in order on one thread too.
    """
    token = _on_chunk.set(callback)
    try:
        yield
    finally:
        _on_chunk.reset(token)


def parallel_range(kernel: Callable[..., Any], n: int, *args: Any) -> None:
    """Run ``kernel(first, last, *args)`` over ``range(n)`` in chunks, in parallel.

    ``kernel`` is a ``nogil`` numba function writing item ``i``'s results to slots that no
    other item writes. Threads: ``numba.get_num_threads()`` of the calling thread (as set by
    ``numba.set_num_threads``, e.g. ``survhte.forest._engine.numba_threads``), at most ``n``.
    On a first call the threads queue on numba's compiler lock: one compiles (or loads the
    cache), the others then find the compiled kernel.
    """
    n = int(n)
    if n <= 0:
        return
    threads = min(numba.get_num_threads(), n)
    callback = _on_chunk.get()
    if callback is not None:
        _reporting_range(kernel, n, threads, callback, args)
        return
    if threads == 1:
        kernel(0, n, *args)
        return
    n_chunks = min(n, _CHUNKS_PER_THREAD * threads)
    bounds = [(n * c // n_chunks, n * (c + 1) // n_chunks) for c in range(n_chunks)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(kernel, first, last, *args) for first, last in bounds]:
            future.result()


def _reporting_range(kernel: Callable[..., Any], n: int, threads: int,
                     callback: Callable[[int, int], None], args: tuple[Any, ...]) -> None:
    """:func:`parallel_range` calling ``callback(last - first, n)`` as each chunk finishes."""
    n_chunks = min(n, max(_CHUNKS_PER_THREAD * threads, _PROGRESS_CHUNKS))
    bounds = [(n * c // n_chunks, n * (c + 1) // n_chunks) for c in range(n_chunks)]
    if threads == 1:
        for first, last in bounds:
            kernel(first, last, *args)
            callback(last - first, n)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {pool.submit(kernel, first, last, *args): last - first
                   for first, last in bounds}
        for future in as_completed(futures):
            future.result()
            callback(futures[future], n)


def numba_only(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``@njit(cache=True, **options)`` for a kernel that only other numba code calls.

    Without the CPython and C wrappers (``no_cpython_wrapper``, ``no_cfunc_wrapper``) that
    let Python call a compiled function: numba builds and optimizes them in every compiled
    function's module, and a helper's are never used. A call from Python is not checked
    and crashes: give a kernel that Python (or a test) calls a plain ``@njit(cache=True)``.
    Measured on a fresh dispatcher (callees compiled, 2 shared cores): compiling
    ``causal_survival_score._forest_curve`` took 1.39 s of CPU with the wrappers, 0.87 s
    without; ``forest_survival.point_curve`` 0.66 s vs 0.45 s.
    """
    return numba.njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, **options)
