"""Figures for treatment-effect reports (matplotlib, no pyplot state: safe in scripts and CLIs)."""

from __future__ import annotations

from collections.abc import Sequence

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
