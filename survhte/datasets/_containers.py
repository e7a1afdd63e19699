"""Containers returned by the dataset loaders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..simulate import split_from_permutation

#: Fractions of the SurvHTE-Bench train / validation / test splits.
SPLIT_FRACTIONS = (0.5, 0.25, 0.25)


class Split(NamedTuple):
    """Row positions (into ``X``, ``time``, ...) of one train/validation/test split."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass(frozen=True, eq=False, repr=False)
class SurvivalDataset:
    """A survival data set with a treatment, ready for ``est.fit(X, y, w)``.

    Attributes
    ----------
    X : DataFrame of shape (n, p)
        Numeric covariates.
    time : ndarray of float64, shape (n,)
        Observed time ``min(T, C)``.
    event : ndarray of bool, shape (n,)
        ``True`` when the event was observed (``T <= C``).
    w : ndarray of int64, shape (n,)
        Treatment code, 0 = control.
    feature_names : tuple of str
        The columns of ``X``.
    frame : DataFrame
        The whole table as loaded (outcome, treatment, covariates and any other columns).
    description : str
        Where the data come from, what the columns mean, caveats.
    time_col, event_col, treatment_col : str
        The columns of ``frame`` holding time, event and treatment.
    treatment_labels : Mapping[int, str]
        What each treatment code means.
    time_unit : str
        Unit of ``time``.
    """

    X: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    w: np.ndarray
    feature_names: tuple[str, ...]
    frame: pd.DataFrame
    description: str
    time_col: str
    event_col: str
    treatment_col: str
    treatment_labels: Mapping[int, str]
    time_unit: str

    @property
    def y(self) -> tuple[np.ndarray, np.ndarray]:
        """The outcome as the ``(time, event)`` tuple every estimator's ``fit`` accepts."""
        return self.time, self.event

    def __repr__(self) -> str:
        arms = ", ".join(
            f"{code}={label!r}: {int(np.sum(self.w == code))}"
            for code, label in self.treatment_labels.items()
        )
        return (
            f"{type(self).__name__}(n={self.X.shape[0]}, p={self.X.shape[1]}, "
            f"events={int(self.event.sum())}, arms=[{arms}], time_unit={self.time_unit!r})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class _BenchmarkSplits:
    """Mixin fields and ``split`` for data sets shipped with SurvHTE-Bench permutation files."""

    ids: np.ndarray = field(kw_only=True)
    permutations: pd.DataFrame = field(kw_only=True)

    @property
    def n_repeats(self) -> int:
        """Number of repeat permutations available to :meth:`split`."""
        return self.permutations.shape[1]

    def split(self, repeat: int) -> Split:
        """Train / validation / test rows of one benchmark repeat.

        Follows SurvHTE-Bench (``data.py``, ``prepare_data_split``): permutation column
        ``random_idx{repeat}`` lists row *ids*; its first ``int(0.5 n)`` entries are the training
        ids, the next ``int(0.25 n)`` the validation ids and the rest the test ids. Each part is
        returned as sorted row positions of the rows whose id is listed (the benchmark selects rows
        with ``isin``, so ids absent from the data select nothing).

        Parameters
        ----------
        repeat : int
            Repeat number, ``0 <= repeat < n_repeats``.

        Returns
        -------
        Split
            Named tuple ``(train, val, test)`` of int64 row-position arrays.
        """
        if isinstance(repeat, bool) or not isinstance(repeat, (int, np.integer)):
            raise TypeError(f"repeat must be an integer; got {type(repeat).__name__}.")
        if not 0 <= repeat < self.n_repeats:
            raise ValueError(f"repeat must be in 0..{self.n_repeats - 1}; got {repeat}.")
        order = self.permutations.iloc[:, int(repeat)].to_numpy()
        parts = split_from_permutation(order, fractions=SPLIT_FRACTIONS)
        return Split(*(np.flatnonzero(np.isin(self.ids, part)) for part in parts))


@dataclass(frozen=True, eq=False, repr=False)
class ACTG175Dataset(_BenchmarkSplits, SurvivalDataset):
    """ACTG 175 as prepared by SurvHTE-Bench; see :func:`survhte.datasets.load_actg175`.

    Attributes
    ----------
    cate_base : ndarray of float64, shape (n,)
        The benchmark's reference CATE (RMST difference, months, horizon 30).
    comparison : str
        ``"HIV1"``, ``"HIV2"`` or ``"HIV3"``.
    censoring : str
        ``"low"`` (original follow-up) or ``"high"`` (injected censoring).
    version : int or None
        Which injected-censoring version (0-9) when ``censoring="high"``.
    ids, permutations
        Row ids and the repeat permutations used by :meth:`split`.
    """

    cate_base: np.ndarray = field(kw_only=True)
    comparison: str = field(kw_only=True)
    censoring: str = field(kw_only=True)
    version: int | None = field(kw_only=True)


@dataclass(frozen=True, eq=False, repr=False)
class ACTGSyntheticDataset(_BenchmarkSplits, SurvivalDataset):
    """The SurvHTE-Bench ACTG semi-synthetic set; see :func:`load_actg_synthetic`.

    Attributes
    ----------
    truth : DataFrame
        Simulated ground truth per row: ``T0``, ``T1`` (potential event times), ``T`` (factual),
        ``C`` (censoring time), ``true_cate`` (``T1 - T0``, untruncated) and
        ``p_surv_t{25,50,75}_w{0,1}`` (true survival probabilities at the 25/50/75% quantiles
        of ``T``).
    ids, permutations
        Row ids and the repeat permutations used by :meth:`split`.
    """

    truth: pd.DataFrame = field(kw_only=True)


def base_fields(
    frame: pd.DataFrame,
    *,
    time_col: str,
    event_col: str,
    treatment_col: str,
    covariates: list[str],
    treatment_labels: Mapping[int, str],
    description: str,
    time_unit: str,
) -> dict:
    """The :class:`SurvivalDataset` fields of ``frame``, with dtypes normalised.

    ``treatment_col`` must already hold the integer codes of ``treatment_labels``.
    """
    return {
        "X": frame[covariates].astype(np.float64),
        "time": frame[time_col].to_numpy(dtype=np.float64),
        "event": frame[event_col].to_numpy() == 1,
        "w": frame[treatment_col].to_numpy().astype(np.int64),
        "feature_names": tuple(covariates),
        "frame": frame,
        "description": description,
        "time_col": time_col,
        "event_col": event_col,
        "treatment_col": treatment_col,
        "treatment_labels": dict(treatment_labels),
        "time_unit": time_unit,
    }
