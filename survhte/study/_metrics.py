"""Scores of one fit, and method ranks across designs as in SurvHTE-Bench."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def mean_squared_error(estimate: np.ndarray, truth: np.ndarray | None) -> float:
    """Mean of ``(estimate - truth)^2``; NaN when the truth is unknown (None)."""
    if truth is None:
        return math.nan
    return float(np.mean((estimate - truth) ** 2))


def interval_scores(
    lower: np.ndarray, upper: np.ndarray, truth: np.ndarray | None
) -> tuple[float, float]:
    """Coverage (fraction of ``truth`` inside ``[lower, upper]``) and mean width.

    Coverage is NaN when the truth is unknown.
    """
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    width = float(np.mean(upper - lower))
    if truth is None:
        return math.nan, width
    return float(np.mean((lower <= truth) & (truth <= upper))), width


def design_ranks(results: pd.DataFrame, metric: str = "mse_row") -> pd.DataFrame:
    """Rank the methods within each design and estimand by their mean ``metric`` over repeats.

    SurvHTE-Bench ranks methods by mean CATE MSE within each dataset (1 = best; ties share
    the average rank). Failed fits (``error`` set) and NaN scores are left out of the mean; a
    method with no score in a design gets no rank there.

    Parameters
    ----------
    results : DataFrame
        Result rows (:func:`survhte.study.read_results`).
    metric : str, default "mse_row"
        Column to average and rank (lower is better).

    Returns
    -------
    DataFrame
        Columns ``estimand``, ``design``, ``method``, ``mean`` and ``rank``.
    """
    scored = results[results["error"].isna()]
    means = (
        scored.groupby(["estimand", "design", "method"], observed=True)[metric]
        .mean()
        .dropna()
        .rename("mean")
        .reset_index()
    )
    means["rank"] = means.groupby(["estimand", "design"])["mean"].rank(method="average")
    return means


def average_ranks(results: pd.DataFrame, metric: str = "mse_row") -> pd.DataFrame:
    """Average over designs of :func:`design_ranks`, per estimand and method.

    Returns
    -------
    DataFrame
        Columns ``estimand``, ``method``, ``average_rank``, ``designs`` (how many designs it
        was ranked in), sorted by estimand then average rank.
    """
    ranks = design_ranks(results, metric)
    summary = ranks.groupby(["estimand", "method"])["rank"].agg(
        average_rank="mean", designs="count"
    )
    return summary.reset_index().sort_values(["estimand", "average_rank"], ignore_index=True)
