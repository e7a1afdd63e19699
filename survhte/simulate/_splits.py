"""Train / validation / test splits of the SurvHTE-Bench protocol.

The benchmark (Noroozizadeh et al., ICLR 2026) fixes 10 repeat permutations per
dataset in an ``idx_split*.csv`` file (column ``random_idxK`` = permutation of repeat
K). Repeat K trains on the first part of the permutation, validates on the next and
tests on the part after that: 5,000 / 2,500 / 2,500 rows of the 50,000-row synthetic
datasets, fractions 0.5 / 0.25 / 0.25 of the real and semi-synthetic ones.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from .._data_home import SOURCES, benchmark_file

SYNTHETIC_SIZES: tuple[int, int, int] = (5_000, 2_500, 2_500)
"""Train / validation / test sizes of the synthetic SurvHTE-Bench datasets."""


def split_from_permutation(
    perm: Sequence[int] | np.ndarray,
    *,
    sizes: Sequence[int] | None = None,
    fractions: Sequence[float] | None = None,
    sort: bool = True,
) -> tuple[np.ndarray, ...]:
    """Cut a permutation of row indices into consecutive parts.

    Parameters
    ----------
    perm : array-like of int
        Row indices in random order (one ``random_idxK`` column of a split file).
    sizes : sequence of int, optional
        Number of rows of each part, taken in order from the start of ``perm``;
        their sum may be less than ``len(perm)`` (the rest is unused).
    fractions : sequence of float, optional
        Fractions of ``len(perm)`` summing to 1, as in SurvHTE-Bench's real-data splits
        (0.5, 0.25, 0.25): every part but the last gets ``int(len(perm) * f)`` rows and
        the last gets the remainder. Give exactly one of ``sizes`` and ``fractions``.
    sort : bool, default True
        Return each part's indices in increasing order. SurvHTE-Bench selects rows with
        ``df[df.id.isin(part)]``, which keeps the data's row order, so sorted parts
        reproduce its row order exactly.

    Returns
    -------
    tuple of ndarray of int64
        One index array per part (train, validation, test for three parts).

    Raises
    ------
    ValueError
        If ``perm`` is not a 1-D array of distinct integers or the sizes or fractions
        are invalid.
    """
    perm = np.asarray(perm)
    if perm.ndim != 1 or not np.issubdtype(perm.dtype, np.integer):
        raise ValueError(f"perm must be a 1-D array of integers; got {perm.dtype} {perm.shape}")
    if np.unique(perm).size != perm.size:
        raise ValueError("perm must not repeat an index")
    counts = _part_sizes(perm.size, sizes, fractions)
    bounds = np.cumsum((0, *counts))
    parts = [perm[a:b].astype(np.int64) for a, b in itertools.pairwise(bounds)]
    return tuple(np.sort(p) if sort else p for p in parts)


def benchmark_split(
    repeat: int, split_file: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train / validation / test row indices of one repeat of the synthetic benchmark.

    Repeat K of SurvHTE-Bench (Noroozizadeh et al., ICLR 2026) reads column
    ``random_idxK`` of ``synthetic/idx_split.csv`` and takes its first 5,000 entries
    for training, the next 2,500 for validation and the 2,500 after those for testing
    (indices into the 50,000 rows of any of the 40 datasets of :func:`survhte_bench`).

    Parameters
    ----------
    repeat : int
        Repeat number K, 0 <= K < number of ``random_idx`` columns (10).
    split_file : path-like, optional
        Path of ``idx_split.csv``. By default ``$SURVHTE_DATA/synthetic/idx_split.csv``,
        where ``SURVHTE_DATA`` points at a copy of the SurvHTE-Bench ``data`` folder.

    Returns
    -------
    train_idx, val_idx, test_idx : ndarray of int64
        Sorted row indices (the benchmark's row order), of sizes 5,000, 2,500, 2,500.

    Raises
    ------
    FileNotFoundError
        If no split file is given or found.
    ValueError
        If ``repeat`` does not name a column of the file.

    Examples
    --------
    Needs a copy of the SurvHTE-Bench data (``$SURVHTE_DATA``):

    >>> from survhte.simulate import benchmark_split, survhte_bench
    >>> train, val, test = benchmark_split(0)
    >>> len(train), len(val), len(test)
    (5000, 2500, 2500)
    >>> d = survhte_bench("RCT-50", "A", legacy=True)
    >>> X_train = d.X[train]
    """
    path = _locate_split_file(split_file)
    table = pd.read_csv(path)
    columns = [c for c in table.columns if c.startswith("random_idx")]
    if isinstance(repeat, bool) or not isinstance(repeat, Integral):
        raise ValueError(f"repeat must be an integer in [0, {len(columns)}); got {repeat!r}")
    column = f"random_idx{repeat}"
    if column not in table.columns:
        raise ValueError(f"repeat must be an integer in [0, {len(columns)}); got {repeat!r}")
    train, val, test = split_from_permutation(table[column].to_numpy(), sizes=SYNTHETIC_SIZES)
    return train, val, test


def _locate_split_file(split_file: str | os.PathLike[str] | None) -> Path:
    if split_file is None:
        return benchmark_file("synthetic/idx_split.csv")
    path = Path(split_file)
    if not path.is_file():
        raise FileNotFoundError(
            f"split_file not found: {path}. Get synthetic/idx_split.csv from {SOURCES}."
        )
    return path


def _part_sizes(
    n: int, sizes: Sequence[int] | None, fractions: Sequence[float] | None
) -> tuple[int, ...]:
    if (sizes is None) == (fractions is None):
        raise ValueError("give exactly one of sizes and fractions")
    if sizes is not None:
        if not sizes or any(
            isinstance(s, bool) or not isinstance(s, Integral) or s < 0 for s in sizes
        ):
            raise ValueError(f"sizes must be non-negative integers; got {sizes!r}")
        if sum(sizes) > n:
            raise ValueError(f"sizes must sum to at most len(perm) = {n}; got {sum(sizes)}")
        return tuple(int(s) for s in sizes)
    if not fractions or any(
        isinstance(f, bool) or not isinstance(f, Real) or not 0 <= f <= 1 for f in fractions
    ):
        raise ValueError(f"fractions must be numbers in [0, 1]; got {fractions!r}")
    if not math.isclose(sum(fractions), 1.0, rel_tol=1e-9, abs_tol=1e-9):
        raise ValueError(f"fractions must sum to 1; got {sum(fractions)}")
    head = tuple(int(n * f) for f in fractions[:-1])
    return (*head, n - sum(head))
