"""Counter-based random numbers for the forest kernels (numba).

Every random draw of a tree comes from a SplitMix64 stream (Steele, Lea & Flood 2014, "Fast
splittable pseudorandom number generators", OOPSLA) whose seed is a hash of the forest's master
seed, a stream label and the tree (or tree-group) index. A tree's randomness therefore never
depends on which thread grows it or on how many threads there are: the same ``random_state``
gives the same forest with 1 or 16 threads.

A stream is a ``uint64`` array of length 1 holding the generator state.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit import numba_only

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

# Stream labels: the half-sample of a little-bag group, and a tree's own draws.
STREAM_GROUP = 1
STREAM_TREE = 2


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba_only()
def new_stream(master_seed, label, index):
    """A fresh stream for ``(master_seed, label, index)``: three rounds of hashing."""
    state = np.empty(1, dtype=np.uint64)
    z = _mix(np.uint64(master_seed) + _GOLDEN)
    z = _mix(z ^ (np.uint64(label) * _GOLDEN))
    state[0] = _mix(z ^ (np.uint64(index + 1) * _MIX1))
    return state


@numba_only()
def next_uint64(state):
    """Next 64 random bits of the stream (SplitMix64 step)."""
    state[0] += _GOLDEN
    return _mix(state[0])


@numba_only()
def uniform(state):
    """Uniform double in ``[0, 1)`` from the top 53 bits."""
    return float(next_uint64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba_only()
def randbelow(state, n):
    """Integer uniform on ``0 .. n - 1`` (bias below 2**-53 for any array-sized ``n``)."""
    value = np.int64(uniform(state) * n)
    return min(value, n - 1)


@numba_only()
def poisson(state, lam):
    """Poisson(``lam``) draw by Knuth's product of uniforms (``lam`` is an mtry: small)."""
    limit = np.exp(-lam)
    k = 0
    product = uniform(state)
    while product > limit:
        k += 1
        product *= uniform(state)
    return k


@numba_only()
def shuffle_prefix(values, k, state):
    """Partial Fisher-Yates: make ``values[:k]`` a uniform random ``k``-subset, in random order."""
    n = values.shape[0]
    for i in range(k):
        j = i + randbelow(state, n - i)
        tmp = values[i]
        values[i] = values[j]
        values[j] = tmp
