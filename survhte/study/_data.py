"""One repeat of one design, made inside the worker: training data, test rows and their truth."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .._data_home import benchmark_file
from ..datasets import ACTGSyntheticDataset, load_actg_synthetic
from ..simulate import (
    acharki_design,
    conditional_cate,
    multi_arm_bench,
    multi_arm_cate,
    split_from_permutation,
    survhte_bench,
)
from ._spec import BENCHMARK_SPLIT, Design

#: Quantiles of the factual time at which the semi-synthetic ACTG set stores true survival.
_ACTG_SURVIVAL_QUANTILES = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Realization:
    """Data of one (design, repeat) and its ground truth.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        Covariates of all rows of the design.
    time, event, w : ndarray of shape (n,)
        Observed outcome and treatment.
    T0, T1 : ndarray of shape (n,)
        Potential event times (levels 0 and 1).
    train, test : ndarray of int
        Row positions of the training and test parts.
    truth : callable or None
        ``truth(target, horizon, rows)`` -> conditional effect ``E[. | X]`` of ``rows``, or
        None where the design has no conditional truth for that estimand; shape (rows,) with
        one treated level, (rows, K) with K >= 2.
    potential_times : ndarray of shape (n, K + 1) or None
        Potential event times of every level (multi-level designs; None: ``T0``, ``T1``).
    """

    X: np.ndarray
    time: np.ndarray
    event: np.ndarray
    w: np.ndarray
    T0: np.ndarray
    T1: np.ndarray
    train: np.ndarray
    test: np.ndarray
    truth: Callable[[str, float, np.ndarray], np.ndarray | None]
    potential_times: np.ndarray | None = None

    @property
    def n_treated(self) -> int:
        """K, the number of treated levels."""
        return 1 if self.potential_times is None else self.potential_times.shape[1] - 1

    @property
    def factual_time(self) -> np.ndarray:
        """Factual event time T = T(W) of every row."""
        if self.potential_times is not None:
            return np.take_along_axis(self.potential_times, self.w[:, None], axis=1)[:, 0]
        return np.where(self.w == 1, self.T1, self.T0)

    def individual_effect(self, target: str, horizon: float, rows: np.ndarray) -> np.ndarray:
        """Per-row realized effect of ``rows``: ``min(T(k), h) - min(T(0), h)`` (RMST) or
        ``1{T(k) > h} - 1{T(0) > h}`` (survival); shape (rows,) for one treated level,
        (rows, K) for K >= 2, as the estimators' ``predict``."""
        times = (np.column_stack([self.T0, self.T1]) if self.potential_times is None
                 else self.potential_times)[rows]
        if target == "survival":
            outcome = (times > horizon).astype(np.float64)
        else:
            outcome = np.minimum(times, horizon)
        effect = outcome[:, 1:] - outcome[:, :1]
        return effect[:, 0] if effect.shape[1] == 1 else effect

    def conditional_effect(
        self, target: str, horizon: float, rows: np.ndarray
    ) -> np.ndarray | None:
        """Conditional effect of ``rows`` at ``horizon``, or None where it is unknown."""
        return self.truth(target, horizon, rows)


def realize(
    design: Design, repeat: int, sizes: tuple[int, int, int], data_seed: int
) -> Realization:
    """Make the data of ``design`` for ``repeat`` (deterministic in its arguments).

    Parameters
    ----------
    design : Design
    repeat : int
        Repeat number; selects the split file's column ``random_idx{repeat}``.
    sizes : (train, val, test)
        Rows of each part for generator designs (the leading parts of the permutation).
    data_seed : int
        Seed of the generator when the design has no fixed ``random_state``.

    Returns
    -------
    Realization
    """
    if design.source == "survhte_bench":
        return _survhte_bench(design, repeat, sizes, data_seed)
    if design.source in ("multi_arm_bench", "acharki"):
        return _multi_level(design, sizes, data_seed)
    return _actg_synthetic(design, repeat)


def _multi_level(design: Design, sizes: tuple[int, int, int], data_seed: int) -> Realization:
    """A K-arm SurvHTE-Bench design or an Acharki et al. design: one seed per repeat, the
    leading rows split into train / validation / test, exact truth for every level."""
    n = design.option("n") or sum(sizes)
    if design.source == "multi_arm_bench":
        config, scenario = design.option("config"), design.option("scenario")
        k, effects = design.option("n_treated"), design.option("effects")
        sim = multi_arm_bench(config, scenario, n=n, n_treated=k, effects=effects,
                              random_state=data_seed)

        def cate(target: str, horizon: float, rows: np.ndarray) -> np.ndarray:
            return multi_arm_cate(config, scenario, sim.X[rows], k, target, horizon,
                                  effects=effects)
    else:
        sim = acharki_design(
            design.option("design"), n=n, n_levels=design.option("n_levels"),
            censoring=design.option("censoring"), confounding=design.option("confounding"),
            random_state=data_seed,
        )

        def cate(target: str, horizon: float, rows: np.ndarray) -> np.ndarray:
            return sim.true_cate(target, horizon)[rows]

    def truth(target: str, horizon: float, rows: np.ndarray) -> np.ndarray:
        effect = cate(target, horizon, rows)
        return effect[:, 0] if effect.shape[1] == 1 else effect

    train, _, test = split_from_permutation(np.arange(n), sizes=sizes)
    times = sim.potential_times
    return Realization(sim.X, sim.time, sim.event, sim.w, times[:, 0], times[:, 1], train, test,
                       truth, potential_times=times)


def _survhte_bench(
    design: Design, repeat: int, sizes: tuple[int, int, int], data_seed: int
) -> Realization:
    config, scenario = design.option("config"), design.option("scenario")
    fixed_seed = design.option("random_state")
    n = design.option("n") or sum(sizes)
    sim = survhte_bench(
        config, scenario, n=n, legacy=design.option("legacy"),
        random_state=data_seed if fixed_seed is None else fixed_seed,
    )
    split_file = design.option("split_file")
    if split_file is None:
        order = np.arange(n)
    else:
        permutations = _permutations(split_file, design.option("data_home"))
        column = f"random_idx{repeat}"
        if column not in permutations:
            raise ValueError(f"repeat {repeat}: the split file has no column {column}")
        order = permutations[column].to_numpy()
        if order.size != n:
            raise ValueError(
                f"design {design.name}: the split file permutes {order.size} rows but n = {n}"
            )
    train, _, test = split_from_permutation(order, sizes=sizes)

    def truth(target: str, horizon: float, rows: np.ndarray) -> np.ndarray:
        return conditional_cate(config, scenario, sim.X[rows], target=target, horizon=horizon)

    return Realization(sim.X, sim.time, sim.event, sim.w, sim.T0, sim.T1, train, test, truth)


def _actg_synthetic(design: Design, repeat: int) -> Realization:
    data = _load_actg_synthetic(design.option("data_home"))
    split = data.split(repeat)
    truth_table = data.truth
    factual_quantiles = np.quantile(truth_table["T"].to_numpy(), _ACTG_SURVIVAL_QUANTILES)

    def truth(target: str, horizon: float, rows: np.ndarray) -> np.ndarray | None:
        if target != "survival":
            return None
        for q, value in zip(_ACTG_SURVIVAL_QUANTILES, factual_quantiles, strict=True):
            if math.isclose(horizon, value, rel_tol=1e-12):
                column = f"p_surv_t{round(100 * q)}"
                treated = truth_table[f"{column}_w1"].to_numpy()
                control = truth_table[f"{column}_w0"].to_numpy()
                return (treated - control)[rows]
        return None

    return Realization(
        data.X.to_numpy(), data.time, data.event, data.w, truth_table["T0"].to_numpy(),
        truth_table["T1"].to_numpy(), split.train, split.test, truth,
    )


def check_data(design: Design) -> None:
    """Raise FileNotFoundError now if a file ``design`` reads is missing (not in every worker)."""
    if design.source == "survhte_bench":
        if design.option("split_file") is not None:
            resolve_split_file(design.option("split_file"), design.option("data_home"))
    elif design.source == "actg-synthetic":
        _load_actg_synthetic(design.option("data_home"))


@lru_cache(maxsize=4)
def _permutations(split_file: str, data_home: str | None) -> pd.DataFrame:
    """The ``random_idx*`` columns of a split file (read once per worker process)."""
    path = resolve_split_file(split_file, data_home)
    return pd.read_csv(path).filter(like="random_idx")


@lru_cache(maxsize=2)
def _load_actg_synthetic(data_home: str | None) -> ACTGSyntheticDataset:
    """The semi-synthetic ACTG set (read once per worker process)."""
    return load_actg_synthetic(data_home=data_home)


def resolve_split_file(split_file: str, data_home: str | None) -> Path:
    """Path of a design's ``split_file``: :data:`BENCHMARK_SPLIT` or a path (``~``, ``$VAR``).

    Raises
    ------
    FileNotFoundError
        If the file is not there (for the benchmark file, saying where it was looked for).
    """
    if split_file == BENCHMARK_SPLIT:
        return benchmark_file("synthetic/idx_split.csv", data_home)
    path = Path(os.path.expanduser(os.path.expandvars(split_file)))
    if not path.is_file():
        raise FileNotFoundError(f"split_file not found: {path}")
    return path

