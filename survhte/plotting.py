"""Figures for treatment-effect reports (matplotlib, no pyplot state: safe in scripts and CLIs)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .survival import KaplanMeier


def plot_km_by_arm(
    ax: Axes,
    time: np.ndarray,
    event: np.ndarray,
    w: np.ndarray,
    labels: Sequence[str],
    *,
    horizon: float | None = None,
    time_unit: str = "",
) -> Axes:
    """Kaplan-Meier survival curve of each treatment arm, with the horizon marked.

    Parameters
    ----------
    ax : matplotlib Axes
    time, event : ndarray of shape (n,)
        Observed times and event indicators.
    w : ndarray of int, shape (n,)
        Treatment codes ``0..K``.
    labels : sequence of str
        Legend label of each code.
    horizon : float, optional
        Drawn as a dashed vertical line.
    time_unit : str, optional
        Appended to the x-axis label.

    Returns
    -------
    ax
    """
    for code, label in enumerate(labels):
        rows = w == code
        km = KaplanMeier().fit(time[rows], event[rows])
        steps_t = np.concatenate(([0.0], km.timeline_))
        steps_s = np.concatenate(([1.0], km.survival_))
        ax.step(steps_t, steps_s, where="post", label=f"{label} (n={int(rows.sum())})")
    if horizon is not None:
        ax.axvline(horizon, color="grey", linestyle="--", linewidth=1, label=f"horizon {horizon:g}")
    ax.set_xlabel(f"time ({time_unit})" if time_unit else "time")
    ax.set_ylabel("survival probability (Kaplan-Meier)")
    ax.set_ylim(0, 1.02)
    ax.set_title("Kaplan-Meier survival by arm")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_cate_histogram(
    ax: Axes,
    cate: np.ndarray,
    labels: Sequence[str],
    *,
    xlabel: str = "predicted CATE",
) -> Axes:
    """Histogram of predicted CATEs, one layer per treated level, with each mean marked.

    Parameters
    ----------
    ax : matplotlib Axes
    cate : ndarray of shape (n,) or (n, K)
    labels : sequence of str
        One label per column of ``cate``.
    xlabel : str
        x-axis label (say which estimand and unit).

    Returns
    -------
    ax
    """
    cate = cate.reshape(cate.shape[0], -1)
    bins = np.histogram_bin_edges(cate, bins="auto")
    for column, label in zip(cate.T, labels, strict=True):
        patches = ax.hist(column, bins=bins, alpha=0.6, label=label)[2]
        ax.axvline(column.mean(), color=patches[0].get_facecolor(), linewidth=2)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rows")
    ax.set_title("Predicted CATE")
    ax.legend(loc="upper right", fontsize="small", title="vs control; line = mean")
    return ax


def effect_summary_figure(
    time: np.ndarray,
    event: np.ndarray,
    w: np.ndarray,
    arm_labels: Sequence[str],
    cate: np.ndarray,
    *,
    horizon: float,
    time_unit: str = "",
    cate_label: str = "predicted CATE",
) -> Figure:
    """Two panels: Kaplan-Meier curves by arm (left) and the predicted CATE histogram (right).

    Parameters
    ----------
    time, event, w
        Outcome and treatment codes, as in :func:`plot_km_by_arm`.
    arm_labels : sequence of str
        Label of each treatment code; codes ``1..K`` label the CATE columns.
    cate : ndarray of shape (n,) or (n, K)
    horizon : float
    time_unit : str, optional
    cate_label : str
        x-axis label of the histogram.

    Returns
    -------
    matplotlib.figure.Figure
        Save with ``fig.savefig(path)`` (the Agg canvas; no display needed).
    """
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_km_by_arm(left, time, event, w, arm_labels, horizon=horizon, time_unit=time_unit)
    plot_cate_histogram(right, cate, list(arm_labels[1:]), xlabel=cate_label)
    return fig


def toc_plot(rate: Any, ax: Axes | None = None, *, alpha: float = 0.05,
             level: str | None = None) -> Axes:
    """TOC curve of a :func:`survhte.rank_average_treatment_effect` result with its pointwise
    ``1 - alpha`` band (estimate -+ z std_error on the grid ``q``).

    Parameters
    ----------
    rate : RankAverageTreatmentEffect
    ax : matplotlib Axes, optional
        Default: a new figure's (no pyplot state).
    alpha : float, default 0.05
    level : str, optional
        With K treated levels, draw only this one (default: every level).

    Returns
    -------
    ax
    """
    if ax is None:
        ax = Figure(figsize=(5.5, 4), layout="constrained").subplots()
    toc = rate.toc
    z = NormalDist().inv_cdf(1 - alpha / 2)
    groups = ([(None, toc)] if "level" not in toc.columns
              else [(name, part) for name, part in toc.groupby("level", sort=False)
                    if level is None or name == str(level)])
    for name, part in groups:
        est = part["estimate"].to_numpy()
        se = part["std_error"].to_numpy()
        line = ax.plot(part["q"], est, marker="o", markersize=3,
                       label=f"level {name}" if name is not None else None)[0]
        ax.fill_between(part["q"], est - z * se, est + z * se, color=line.get_color(),
                        alpha=0.2, linewidth=0)
    ax.set_xlim(0, 1.02)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("share treated first, by priority (q)")
    ax.set_ylabel("TOC(q): effect in the top q minus the ATE")
    estimates = np.atleast_1d(rate.estimate)
    ax.set_title(f"TOC curve ({rate.target} " + ", ".join(f"{e:.3g}" for e in estimates) + ")")
    if len(groups) > 1:
        ax.legend(fontsize="small")
    return ax


def calibration_plot(groups: Any, ax: Axes | None = None, *, level: str | None = None) -> Axes:
    """Predicted vs doubly robust estimated effect per CATE-quantile group
    (:func:`survhte.cate_group_effects`), with the estimate's interval and the diagonal.

    Parameters
    ----------
    groups : DataFrame
        :func:`survhte.cate_group_effects`'s result (columns ``mean_prediction``,
        ``estimate``, ``ci_lower``, ``ci_upper``; a ``level`` index level with K levels).
    ax : matplotlib Axes, optional
    level : str, optional
        With K treated levels, draw only this one.

    Returns
    -------
    ax
    """
    if ax is None:
        ax = Figure(figsize=(5, 4.5), layout="constrained").subplots()
    parts = ([(None, groups)] if "level" not in (groups.index.names or [])
             else [(name, part) for name, part in groups.groupby(level="level", sort=False)
                   if level is None or name == str(level)])
    for name, part in parts:
        x, y = part["mean_prediction"].to_numpy(), part["estimate"].to_numpy()
        err = np.vstack([y - part["ci_lower"].to_numpy(), part["ci_upper"].to_numpy() - y])
        ax.errorbar(x, y, yerr=err, fmt="o", capsize=3,
                    label=f"level {name}" if name is not None else None)
    lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
    hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1,
            label="perfect calibration")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("mean predicted CATE in the group")
    ax.set_ylabel("doubly robust effect in the group")
    ax.set_title("Calibration by predicted-CATE group")
    ax.legend(fontsize="small")
    return ax
