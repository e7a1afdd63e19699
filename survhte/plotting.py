"""Figures for treatment-effect reports (matplotlib, no pyplot state: safe in scripts and CLIs).

Survival by arm (:func:`plot_survival_by_arm`: Kaplan-Meier curves with pointwise bands and
a numbers-at-risk table), counterfactual curves of a fitted model
(:func:`plot_counterfactual_curves`), per-patient CATE intervals
(:func:`plot_cate_intervals`), subgroup forest plots (:func:`subgroup_effects`,
:func:`subgroup_forest_plot`), propensity overlap (:func:`overlap_plot`), the TOC curve
(:func:`toc_plot`) and the calibration plot (:func:`calibration_plot`). Every function draws
on a given Axes or makes its own :class:`~matplotlib.figure.Figure` (save it with
``fig.savefig(path)``; no display needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from mpl_toolkits.axes_grid1 import make_axes_locatable

from ._nuisance import PROPENSITY_CLIP
from ._validation import check_time_event, check_treatment
from .survival import KaplanMeier

__all__ = [
    "calibration_plot",
    "effect_summary_figure",
    "overlap_plot",
    "plot_cate_histogram",
    "plot_cate_intervals",
    "plot_counterfactual_curves",
    "plot_km_by_arm",
    "plot_survival_by_arm",
    "subgroup_effects",
    "subgroup_forest_plot",
    "toc_plot",
]

#: Legend outside the axes, to the right: it never covers curves or bars.
_OUTSIDE_RIGHT = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0,
                  "frameon": False, "fontsize": "small"}

#: Legend under the axes (below the x label), in columns.
_BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.13), "ncol": 3, "frameon": False,
          "fontsize": "small"}


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1); got {alpha!r}.")
    return float(alpha)


def _new_axes(figsize: tuple[float, float]) -> Axes:
    return Figure(figsize=figsize, layout="constrained").subplots()


def _km_steps(km: KaplanMeier, alpha: float | None
              ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The curve from time 0 (where it is 1) and its log-log band, ready for ``where="post"``."""
    t = np.concatenate(([0.0], km.timeline_))
    s = np.concatenate(([1.0], km.survival_))
    if alpha is None:
        return t, s, None
    lower, upper = km.confidence_interval(alpha)
    return t, s, (np.concatenate(([1.0], lower)), np.concatenate(([1.0], upper)))


def plot_km_by_arm(
    ax: Axes,
    time: np.ndarray,
    event: np.ndarray,
    w: np.ndarray,
    labels: Sequence[str],
    *,
    horizon: float | None = None,
    time_unit: str = "",
    alpha: float | None = 0.05,
) -> Axes:
    """Kaplan-Meier survival curve of each treatment arm, with the horizon marked.

    The compact panel of :func:`effect_summary_figure`; :func:`plot_survival_by_arm` adds
    the numbers at risk.

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
    alpha : float or None, default 0.05
        Shade each curve's pointwise ``1 - alpha`` log-log band
        (:meth:`survhte.survival.KaplanMeier.confidence_interval`); ``None``: no band.

    Returns
    -------
    ax
    """
    alpha = None if alpha is None else _check_alpha(alpha)
    for code, label in enumerate(labels):
        rows = w == code
        t, s, band = _km_steps(KaplanMeier().fit(time[rows], event[rows]), alpha)
        line = ax.step(t, s, where="post", label=f"{label} (n={int(rows.sum())})")[0]
        if band is not None:
            ax.fill_between(t, *band, step="post", color=line.get_color(), alpha=0.15,
                            linewidth=0)
    if horizon is not None:
        ax.axvline(horizon, color="grey", linestyle="--", linewidth=1, label=f"horizon {horizon:g}")
    ax.set_xlabel(f"time ({time_unit})" if time_unit else "time")
    ax.set_ylabel("survival probability (Kaplan-Meier)")
    ax.set_ylim(0, 1.02)
    ax.set_title("Kaplan-Meier survival by arm"
                 + (f" ({1 - alpha:.0%} bands)" if alpha is not None else ""))
    ax.legend(**_BELOW)
    return ax


def plot_survival_by_arm(
    time: Any,
    event: Any,
    w: Any,
    *,
    control: Any = None,
    labels: Sequence[str] | Mapping[Any, str] | None = None,
    ax: Axes | None = None,
    alpha: float = 0.05,
    at_risk_times: Sequence[float] | None = None,
    horizon: float | None = None,
    time_unit: str = "",
    ylim: tuple[float, float] = (0.0, 1.02),
) -> Axes:
    r"""Kaplan-Meier curve of each arm with its pointwise band and a numbers-at-risk table.

    Each arm's curve :math:`\hat S(t)` (:class:`survhte.survival.KaplanMeier`) is drawn with
    its pointwise ``1 - alpha`` band from the log-log transform of the Greenwood variance
    (Kalbfleisch & Prentice 1980; lifelines' ``KaplanMeierFitter.confidence_interval_``).
    Under the axes, a table gives each arm's number at risk, the rows whose observed time is
    ``>= t`` (R's ``summary.survfit`` and survminer), at the x-axis ticks (as lifelines'
    ``add_at_risk_counts``) or at ``at_risk_times``.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Observed times and event indicators.
    w : array-like of shape (n,)
        Treatment labels, two or more levels (coded as :func:`survhte.fit` codes them).
    control : label, optional
        The reference level (needed for string labels); it is drawn first.
    labels : sequence or mapping of str, optional
        Name of each level, in code order (control first) or as ``{level: name}``; default
        the labels themselves.
    ax : matplotlib Axes, optional
        Default: a new figure's. The at-risk table is a new Axes appended below it.
    alpha : float, default 0.05
    at_risk_times : sequence of float, optional
        Times of the at-risk table; default the x-axis ticks within the follow-up. The ticks
        are set to these times, so the table and the axis line up.
    horizon : float, optional
        Drawn as a dashed vertical line (the horizon of an RMST or survival estimand).
    time_unit : str, optional
        Appended to the x-axis label ("days").
    ylim : (float, float), default (0, 1.02)
        Narrow it (e.g. ``(0.5, 1.0)``) when every arm stays high.

    Returns
    -------
    ax : matplotlib Axes
        The curves' Axes; the at-risk table is ``ax.at_risk_ax``.

    Examples
    --------
    >>> from survhte.plotting import plot_survival_by_arm
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=400, random_state=0)
    >>> ax = plot_survival_by_arm(d.y["time"], d.y["event"], d.w)
    >>> ax.figure.savefig("km.png")  # doctest: +SKIP
    """
    time, event, _ = check_time_event(time, event)
    codes, classes = check_treatment(w, n_samples=time.shape[0], control=control)
    names = _level_names(labels, classes)
    alpha = _check_alpha(alpha)
    if horizon is not None and not (np.isfinite(horizon) and horizon > 0):
        raise ValueError(f"horizon must be a positive number; got {horizon!r}.")
    if ax is None:
        ax = _new_axes((8.0, 4.2 + 0.28 * classes.size))
        ax.figure.set_layout_engine("tight")
    colors = []
    for code, name in enumerate(names):
        rows = codes == code
        if not event[rows].any():
            raise ValueError(f"w: arm {classes[code]!r} has no event; its curve is flat at 1.")
        t, s, band = _km_steps(KaplanMeier().fit(time[rows], event[rows]), alpha)
        line = ax.step(t, s, where="post", linewidth=1.6,
                       label=f"{name} (n={int(rows.sum())})")[0]
        ax.fill_between(t, *band, step="post", color=line.get_color(), alpha=0.18,
                        linewidth=0)
        colors.append(line.get_color())
    if horizon is not None:
        ax.axvline(horizon, color="grey", linestyle="--", linewidth=1,
                   label=f"horizon {horizon:g}")
    ax.set_xlim(0, time.max() * 1.02)
    ax.set_ylim(*ylim)
    ax.set_ylabel("survival probability")
    ax.set_xlabel(f"time ({time_unit})" if time_unit else "time")
    ax.set_title(f"Kaplan-Meier survival by arm, pointwise {1 - alpha:.0%} bands", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(**_OUTSIDE_RIGHT)
    if at_risk_times is None:
        ticks = [t for t in ax.get_xticks() if 0 <= t <= time.max()]
    else:
        ticks = np.asarray(at_risk_times, dtype=np.float64).ravel().tolist()
        if not ticks or not all(np.isfinite(ticks)) or min(ticks) < 0:
            raise ValueError("at_risk_times must be finite non-negative times; got "
                             f"{at_risk_times!r}.")
    ax.set_xticks(ticks)
    ax.set_xlim(0, max(time.max(), max(ticks)) * 1.02)
    table = make_axes_locatable(ax).append_axes(
        "bottom", size=0.25 + 0.22 * classes.size, pad=0.55, sharex=ax)
    at_risk = [[int(np.sum(time[codes == code] >= t)) for t in ticks]
               for code in range(classes.size)]
    for row, (counts, color) in enumerate(zip(at_risk, colors, strict=True)):
        for t, count in zip(ticks, counts, strict=True):
            table.text(t, row, str(count), ha="center", va="center", color=color,
                       fontsize="small")
    table.set_ylim(classes.size - 0.5, -0.5)
    table.set_yticks(range(classes.size), names, fontsize="small")
    for tick, color in zip(table.get_yticklabels(), colors, strict=True):
        tick.set_color(color)
    # pad: the counts at t = 0 are centred on the axis and would touch the arm names
    table.tick_params(left=False, bottom=False, labelbottom=False, pad=22)
    for spine in table.spines.values():
        spine.set_visible(False)
    table.set_title("Number at risk", loc="left", fontsize="small")
    ax.at_risk_ax = table
    return ax


def _level_names(labels: Sequence[str] | Mapping[Any, str] | None,
                 classes: np.ndarray) -> list[str]:
    """Display name of each level, in code order."""
    if labels is None:
        return [str(c) for c in classes]
    if isinstance(labels, Mapping):
        missing = [c for c in classes.tolist() if c not in labels]
        if missing:
            raise ValueError(f"labels has no name for level(s) {missing}.")
        return [str(labels[c]) for c in classes.tolist()]
    names = [str(label) for label in labels]
    if len(names) != classes.size:
        raise ValueError(f"labels has {len(names)} names but w has {classes.size} levels "
                         f"({classes.tolist()}).")
    return names


def plot_counterfactual_curves(
    estimator: Any,
    X: Any,
    *,
    rows: Any = None,
    times: Any = None,
    labels: Sequence[str] | Mapping[Any, str] | None = None,
    ax: Axes | None = None,
    time_unit: str = "",
    title: str | None = None,
) -> Axes:
    r"""Average counterfactual survival curve under each treatment level.

    For each level ``w`` of a fitted model with per-level curves, the mean over the chosen
    rows of the predicted :math:`S_w(t \mid x_i)` (``estimator.predict_survival(X, w,
    times)``): the model's estimate of the survival curve of those patients had all of them
    received ``w``. Under ignorability and a correct model these are the standardized
    (g-formula) curves; compare them with the Kaplan-Meier curves by arm
    (:func:`plot_survival_by_arm`), which are not adjusted for confounding.

    Parameters
    ----------
    estimator : fitted estimator with ``predict_survival(X, w, times)`` and ``classes_``
        :class:`survhte.SurvivalSLearner`, :class:`survhte.SurvivalTLearner` or
        :class:`survhte.CausalSurvivalForest` (its event nuisance's curves).
    X : array-like of shape (n, p)
        The rows to average over (e.g. the training rows).
    rows : boolean mask of shape (n,) or integer indices, optional
        A subgroup of ``X`` (default all rows).
    times : array-like, optional
        Default 200 points up to the shortest arm's follow-up (``arm_last_time_``), or the
        estimator's ``horizon_``.
    labels : sequence or mapping of str, optional
        Name of each level, in ``classes_`` order or as ``{level: name}``.
    ax : matplotlib Axes, optional
    time_unit : str, optional
    title : str, optional

    Returns
    -------
    ax

    Examples
    --------
    >>> from survhte import SurvivalTLearner
    >>> from survhte.plotting import plot_counterfactual_curves
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=400, random_state=0)
    >>> model = SurvivalTLearner(horizon=1.0, n_bootstrap=0).fit(d.X, d.y, d.w)
    >>> ax = plot_counterfactual_curves(model, d.X, rows=d.X[:, 0] > 0)
    """
    if not (callable(getattr(estimator, "predict_survival", None))
            and hasattr(estimator, "classes_")):
        raise TypeError(
            "estimator must be a fitted model with per-level curves (predict_survival(X, w, "
            f"times) and classes_), e.g. SurvivalTLearner; got {type(estimator).__name__}.")
    X = np.asarray(X) if not isinstance(X, pd.DataFrame) else X
    n = X.shape[0]
    if rows is not None:
        index = np.asarray(rows)
        if index.dtype == bool:
            if index.shape != (n,):
                raise ValueError(f"rows is a mask of shape {index.shape}; X has {n} rows.")
            index = np.flatnonzero(index)
        elif index.size and (index.min() < -n or index.max() >= n):
            raise ValueError(f"rows has indices outside 0..{n - 1}.")
        if index.size == 0:
            raise ValueError("rows selects no row.")
        X = X.iloc[index] if isinstance(X, pd.DataFrame) else X[index]
    if times is None:
        if hasattr(estimator, "arm_last_time_"):
            end = float(np.min(estimator.arm_last_time_))
        elif hasattr(estimator, "horizon_"):
            end = float(estimator.horizon_)
        else:
            raise ValueError("times: the estimator has neither arm_last_time_ nor horizon_; "
                             "pass the times.")
        times = np.linspace(0.0, end, 200)
    times = np.asarray(times, dtype=np.float64).ravel()
    classes = np.asarray(estimator.classes_)
    names = _level_names(labels, classes)
    if ax is None:
        ax = _new_axes((7.5, 4.2))
    for level, name in zip(classes.tolist(), names, strict=True):
        curves = np.asarray(estimator.predict_survival(X, level, times))
        ax.plot(times, curves.mean(axis=0), linewidth=1.8, label=name)
    horizon = getattr(estimator, "horizon_", None)
    if horizon is not None and times.min() <= horizon <= times.max():
        ax.axvline(horizon, color="grey", linestyle="--", linewidth=1,
                   label=f"horizon {horizon:g}")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(times.min(), times.max())
    ax.set_xlabel(f"time ({time_unit})" if time_unit else "time")
    ax.set_ylabel("mean predicted survival")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"Counterfactual survival, mean over {X.shape[0]} patients "
                 f"({type(estimator).__name__})", fontsize=11)
    ax.legend(title="all patients given", title_fontsize="small", **_OUTSIDE_RIGHT)
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
    ax.legend(title="vs control; line = mean", title_fontsize="small", **_BELOW)
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
    ax.set_title(f"TOC curve ({rate.target} " + ", ".join(f"{e:.3g}" for e in estimates)
                 + f"), pointwise {1 - alpha:.0%} band", fontsize=11)
    ax.grid(alpha=0.3)
    if len(groups) > 1:
        ax.legend(**_OUTSIDE_RIGHT)
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
        ax = Figure(figsize=(5, 5), layout="constrained").subplots()
    parts = ([(None, groups)] if "level" not in (groups.index.names or [])
             else [(name, part) for name, part in groups.groupby(level="level", sort=False)
                   if level is None or name == str(level)])
    for name, part in parts:
        x, y = part["mean_prediction"].to_numpy(), part["estimate"].to_numpy()
        err = np.vstack([y - part["ci_lower"].to_numpy(), part["ci_upper"].to_numpy() - y])
        ax.errorbar(x, y, yerr=err, fmt="o", capsize=3,
                    label=f"level {name}" if name is not None else "group estimate, interval")
    lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
    hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1,
            label="perfect calibration")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("mean predicted CATE in the group")
    ax.set_ylabel("doubly robust effect in the group")
    ax.set_title("Calibration by predicted-CATE group", fontsize=11)
    ax.grid(alpha=0.3)
    # below the axes: a miscalibrated group can sit in any corner
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="small",
              frameon=False)
    return ax


def _column(values: Any, name: str, column: int, n: int | None = None) -> np.ndarray:
    """Column ``column`` of an (n,) or (n, K) finite array."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be of shape (n,) or (n, K); got {np.shape(values)}.")
    if not 0 <= column < array.shape[1]:
        raise ValueError(f"column={column} but {name} has {array.shape[1]} column(s).")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} rows but cate has {n}.")
    out = array[:, column]
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} contains {int(np.sum(~np.isfinite(out)))} NaN or infinite "
                         "value(s).")
    return out


def plot_cate_intervals(
    cate: Any,
    lower: Any,
    upper: Any,
    *,
    ate: float | tuple[float, float, float] | None = None,
    column: int = 0,
    xlabel: str = "predicted CATE",
    alpha: float = 0.05,
    fig: Figure | None = None,
) -> Figure:
    """Each patient's predicted CATE with its interval, sorted, beside their distribution.

    Left: the patients ranked by predicted effect (the "caterpillar"), each one's interval
    ``[lower, upper]`` as a shaded ribbon around the sorted CATE, the zero line and the
    average effect. Right: the histogram of the predicted CATEs on the same scale. The title
    counts the patients whose interval lies wholly above or below zero (pointwise intervals:
    with many patients some exclude zero by chance).

    Parameters
    ----------
    cate, lower, upper : array-like of shape (n,) or (n, K)
        Predictions and interval bounds (``estimator.predict(X)`` and
        ``estimator.predict_interval(X, alpha)``).
    ate : float or (estimate, lower, upper), optional
        The average effect (``estimator.ate()`` or with ``ate_interval``): a line, and a band
        with its interval. Default: the mean predicted CATE.
    column : int, default 0
        With K treated levels, which column to draw.
    xlabel : str, default "predicted CATE"
        Name of the effect and its unit ("RMST difference at 24 months (months)").
    alpha : float, default 0.05
        The intervals' miscoverage, for the legend.
    fig : Figure, optional
        Draw on this (empty) figure; default a new one.

    Returns
    -------
    Figure
        Axes ``fig.axes[0]`` (sorted intervals) and ``fig.axes[1]`` (histogram).

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.plotting import plot_cate_intervals
    >>> tau = np.linspace(-1, 2, 50)
    >>> fig = plot_cate_intervals(tau, tau - 0.5, tau + 0.5, ate=0.5)
    >>> len(fig.axes)
    2
    """
    cate = _column(cate, "cate", column)
    lower = _column(lower, "lower", column, cate.size)
    upper = _column(upper, "upper", column, cate.size)
    if np.any(lower > upper):
        raise ValueError(f"lower exceeds upper on {int(np.sum(lower > upper))} row(s).")
    alpha = _check_alpha(alpha)
    if ate is None:
        ate_value, ate_band, ate_label = float(cate.mean()), None, "mean predicted CATE"
    elif np.ndim(ate) == 0:
        ate_value, ate_band, ate_label = float(ate), None, "ATE"
    elif np.shape(ate) == (3,):
        ate_value, ate_band, ate_label = float(ate[0]), (float(ate[1]), float(ate[2])), "ATE"
    else:
        raise ValueError(f"ate must be a number or (estimate, lower, upper); got {ate!r}.")
    order = np.argsort(cate, kind="stable")
    rank = np.arange(1, cate.size + 1)
    fig = fig if fig is not None else Figure(figsize=(9.5, 5.0), layout="constrained")
    main, side = fig.subplots(1, 2, sharey=True, width_ratios=(4, 1.1))
    main.fill_between(rank, lower[order], upper[order], step="mid", color="tab:blue",
                      alpha=0.25, linewidth=0, label=f"{1 - alpha:.0%} interval")
    main.plot(rank, cate[order], color="tab:blue", linewidth=1.6, label="predicted CATE")
    main.axhline(0.0, color="black", linewidth=0.9, label="no effect")
    main.axhline(ate_value, color="tab:red", linestyle="--", linewidth=1.4,
                 label=f"{ate_label} {ate_value:.3g}")
    if ate_band is not None:
        main.axhspan(*ate_band, color="tab:red", alpha=0.12, linewidth=0,
                     label=f"ATE interval [{ate_band[0]:.3g}, {ate_band[1]:.3g}]")
    main.set_xlim(0.5, cate.size + 0.5)
    main.set_xlabel("patients, ranked by predicted effect")
    main.set_ylabel(xlabel)
    main.grid(alpha=0.3)
    above, below = int(np.sum(lower > 0)), int(np.sum(upper < 0))
    main.set_title(f"Per-patient effects (n={cate.size}): interval above 0 for {above} "
                   f"({above / cate.size:.0%}), below 0 for {below} ({below / cate.size:.0%})",
                   fontsize=10, loc="left")
    # below the axes: wide intervals can reach any corner of the panel
    main.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize="small",
                frameon=False)
    side.hist(cate, bins=min(40, max(10, int(np.sqrt(cate.size)))), orientation="horizontal",
              color="tab:blue", alpha=0.6)
    side.axhline(0.0, color="black", linewidth=0.9)
    side.axhline(ate_value, color="tab:red", linestyle="--", linewidth=1.4)
    side.set_xlabel("patients")
    side.set_title("distribution", fontsize=10)
    side.tick_params(labelleft=False)
    return fig


def subgroup_effects(
    subgroups: Mapping[str, Any] | Any,
    scores: Any,
    *,
    column: int = 0,
    alpha: float = 0.05,
    overall_label: str = "All patients",
) -> pd.DataFrame:
    """Doubly robust average effect in each subgroup, with its Wald interval.

    The effect in subgroup ``G`` is the mean of the rows' doubly robust scores,
    :math:`E[\\tau(X) \\mid X \\in G]`, with the interval ``mean -+ z sd / sqrt(n_G)``:
    :func:`survhte.cate_group_effects` on the subgroup's scores (one group). The scores
    come from :func:`survhte.doubly_robust_scores` (or an estimator's :func:`get_scores`);
    cross-fitting keeps each subgroup estimate honest. Subgroups may overlap. Draw the
    result with :func:`subgroup_forest_plot`.

    Parameters
    ----------
    subgroups : mapping of str to boolean mask, or array-like of labels
        ``{"age < 40": age < 40, ...}``, or one label per row (e.g. ``df["sex"]``): one
        subgroup per distinct label, in sorted order.
    scores : array-like of shape (n,) or (n, K)
        Doubly robust scores of the same rows.
    column : int, default 0
        With K treated levels, which column (level ``column + 1`` vs the control).
    alpha : float, default 0.05
    overall_label : str, default "All patients"
        Label of the last row, the effect over every row.

    Returns
    -------
    DataFrame
        Columns ``label``, ``estimate``, ``lower``, ``upper``, ``std_error``, ``n`` and
        ``overall`` (True on the last row), one row per subgroup then the overall row.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.plotting import subgroup_effects
    >>> psi = np.random.default_rng(0).normal(1.0, 2.0, 400)
    >>> sex = np.repeat(["female", "male"], 200)
    >>> subgroup_effects(sex, psi)["label"].tolist()
    ['female', 'male', 'All patients']
    """
    from .heterogeneity import cate_group_effects

    psi = _column(scores, "scores", column)
    n = psi.size
    if isinstance(subgroups, Mapping):
        masks = {}
        for label, mask in subgroups.items():
            mask = np.asarray(mask)
            if mask.dtype != bool or mask.shape != (n,):
                raise ValueError(f"subgroups[{label!r}] must be a boolean mask of shape ({n},); "
                                 f"got dtype {mask.dtype}, shape {mask.shape}.")
            masks[str(label)] = mask
    else:
        values = np.asarray(subgroups)
        if values.shape != (n,):
            raise ValueError(f"subgroups must be a mapping of masks or one label per row "
                             f"({n}); got shape {values.shape}.")
        masks = {str(v): values == v for v in np.unique(values)}
    if not masks:
        raise ValueError("subgroups is empty.")
    masks[overall_label] = np.ones(n, dtype=bool)
    rows = []
    for label, mask in masks.items():
        if mask.sum() < 2:
            raise ValueError(f"subgroups: {label!r} has {int(mask.sum())} row(s); at least 2 "
                             "are needed for an interval.")
        group = cate_group_effects(np.zeros(int(mask.sum())), scores=psi[mask], n_groups=1,
                                   alpha=alpha).iloc[0]
        rows.append({"label": label, "estimate": group["estimate"],
                     "lower": group["ci_lower"], "upper": group["ci_upper"],
                     "std_error": group["std_error"], "n": int(group["n"]),
                     "overall": label == overall_label and mask.all()})
    return pd.DataFrame(rows)


def subgroup_forest_plot(
    effects: pd.DataFrame,
    *,
    ax: Axes | None = None,
    xlabel: str = "effect (treated - control)",
    title: str = "Effect by subgroup",
) -> Axes:
    """Forest plot: each subgroup's effect and interval, the overall effect as a diamond.

    Squares are sized by the subgroup's share of rows; the right margin prints
    ``estimate (lower, upper)`` and ``n`` of each row; the solid line is no effect and the
    dotted line the overall effect. Overlapping intervals across subgroups are not evidence
    of no interaction; subgroup effects are exploratory unless prespecified.

    Parameters
    ----------
    effects : DataFrame
        Columns ``label``, ``estimate``, ``lower``, ``upper`` and ``n``
        (:func:`subgroup_effects`); an optional boolean column ``overall`` marks the
        overall row(s), drawn last as diamonds.
    ax : matplotlib Axes, optional
    xlabel : str
        Name and unit of the effect.
    title : str

    Returns
    -------
    ax

    Examples
    --------
    >>> import pandas as pd
    >>> from survhte.plotting import subgroup_forest_plot
    >>> effects = pd.DataFrame({"label": ["men", "women"], "estimate": [0.1, 0.3],
    ...                         "lower": [-0.1, 0.1], "upper": [0.3, 0.5], "n": [120, 80]})
    >>> ax = subgroup_forest_plot(effects)
    """
    if not isinstance(effects, pd.DataFrame):
        raise TypeError(f"effects must be a DataFrame; got {type(effects).__name__}.")
    needed = ["label", "estimate", "lower", "upper", "n"]
    missing = [c for c in needed if c not in effects.columns]
    if missing:
        raise ValueError(f"effects lacks column(s) {missing}; it needs {needed}.")
    if effects.empty:
        raise ValueError("effects has no row.")
    values = effects[["estimate", "lower", "upper"]].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("effects has NaN or infinite estimate/lower/upper values.")
    if np.any(values[:, 1] > values[:, 0]) or np.any(values[:, 0] > values[:, 2]):
        raise ValueError("effects: every row needs lower <= estimate <= upper.")
    overall = (effects["overall"].astype(bool).to_numpy() if "overall" in effects.columns
               else np.zeros(len(effects), dtype=bool))
    table = pd.concat([effects[~overall], effects[overall]], ignore_index=True)
    is_overall = np.r_[np.zeros((~overall).sum(), bool), np.ones(overall.sum(), bool)]
    # one blank line between the subgroups and the overall row(s)
    y = np.arange(len(table), dtype=np.float64) + np.where(is_overall, 0.6, 0.0)
    if ax is None:
        ax = _new_axes((8.5, 1.2 + 0.42 * len(table)))
    n_total = float(table["n"].max())
    for yi, row, diamond in zip(y, table.itertuples(index=False), is_overall, strict=True):
        if diamond:
            half = 0.3
            ax.fill([row.lower, row.estimate, row.upper, row.estimate],
                    [yi, yi - half, yi, yi + half], color="black", zorder=3)
            ax.axvline(row.estimate, color="grey", linestyle=":", linewidth=1)
        else:
            ax.plot([row.lower, row.upper], [yi, yi], color="tab:blue", linewidth=1.6)
            ax.plot(row.estimate, yi, marker="s", color="tab:blue", linestyle="none",
                    markersize=4 + 8 * np.sqrt(row.n / n_total))
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set_yticks(y, [str(v) for v in table["label"]])
    for tick, diamond in zip(ax.get_yticklabels(), is_overall, strict=True):
        tick.set_fontweight("bold" if diamond else "normal")
    ax.set_ylim(y.max() + 0.8, -0.8)
    ax.tick_params(axis="y", length=0)
    # one number of decimals for the column: three significant digits of the largest value
    largest = float(np.abs(table[["estimate", "lower", "upper"]].to_numpy()).max())
    digits = max(0, 2 - int(np.floor(np.log10(largest)))) if largest > 0 else 2
    right = ax.secondary_yaxis("right")
    right.set_yticks(y, [f"{r.estimate:.{digits}f} ({r.lower:.{digits}f}, {r.upper:.{digits}f})"
                         f"   n={int(r.n)}" for r in table.itertuples(index=False)],
                     fontsize="small")
    right.tick_params(length=0)
    ax.annotate("estimate (interval)", xy=(1.0, 1.0), xycoords="axes fraction",
                xytext=(4, 4), textcoords="offset points", ha="left", va="bottom",
                fontsize="small", fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title, fontsize=11)
    return ax


def overlap_plot(
    propensity: Any,
    w: Any,
    *,
    control: Any = None,
    labels: Sequence[str] | Mapping[Any, str] | None = None,
    clip: float | None = PROPENSITY_CLIP,
    bins: int = 30,
    fig: Figure | None = None,
) -> Figure:
    """Propensity score distributions by arm: is every patient's arm a real possibility?

    One panel per treated level ``k``: mirrored histograms (densities) of :math:`e_k(X)`,
    the probability of level ``k``, among the patients who received ``k`` (above the axis)
    and among the controls (below). Where the controls' scores pile up near 0 (or the
    treated near 1) the two arms do not overlap and the weights ``1 / e`` explode; the
    estimators clip the scores to ``[clip, 1 - clip]`` (``PROPENSITY_CLIP`` = 0.01 by
    default), shaded here, and say how many rows they clipped.

    Parameters
    ----------
    propensity : array-like of shape (n,) or (n, K + 1)
        ``P(W = treated | X)`` for two levels, or one column per level in code order
        (control first, as ``predict_proba``).
    w : array-like of shape (n,)
        Treatment labels.
    control : label, optional
        The reference level (needed for string labels).
    labels : sequence or mapping of str, optional
        Name of each level.
    clip : float or None, default 0.01
        Clipping bound to mark; ``None``: none.
    bins : int, default 30
    fig : Figure, optional

    Returns
    -------
    Figure
        One Axes per treated level.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.plotting import overlap_plot
    >>> rng = np.random.default_rng(0)
    >>> e = rng.uniform(0.1, 0.9, 300)
    >>> fig = overlap_plot(e, rng.binomial(1, e))
    """
    probs = np.asarray(propensity, dtype=np.float64)
    n = probs.shape[0] if probs.ndim else 0
    codes, classes = check_treatment(w, n_samples=n, control=control)
    if probs.ndim == 1:
        if classes.size != 2:
            raise ValueError(f"propensity is one column but w has {classes.size} levels; pass "
                             f"one column per level, shape (n, {classes.size}).")
        probs = np.column_stack([1 - probs, probs])
    if probs.ndim != 2 or probs.shape != (n, classes.size):
        raise ValueError(f"propensity must be of shape ({n},) or ({n}, {classes.size}); got "
                         f"{np.shape(propensity)}.")
    if not np.all(np.isfinite(probs)) or np.any((probs < 0) | (probs > 1)):
        raise ValueError("propensity must hold probabilities in [0, 1].")
    if clip is not None and not 0 <= clip < 0.5:
        raise ValueError(f"clip must be in [0, 0.5) or None; got {clip!r}.")
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2; got {bins!r}.")
    names = _level_names(labels, classes)
    k = classes.size - 1
    fig = fig if fig is not None else Figure(figsize=(4.2 * k + 1.6, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, k, sharey=False, squeeze=False)[0])
    edges = np.linspace(0.0, 1.0, bins + 1)
    width = np.diff(edges)
    for level, ax in enumerate(axes, start=1):
        # mirrored histograms: the arm given level k above the axis, the controls below
        for code, sign, color in ((level, 1.0, "tab:orange"), (0, -1.0, "tab:blue")):
            values = probs[codes == code, level]
            density = np.histogram(values, bins=edges, density=True)[0]
            ax.bar(edges[:-1], sign * density, width=width, align="edge", color=color,
                   alpha=0.7, linewidth=0, label=f"received {names[code]} (n={values.size})")
        ax.axhline(0.0, color="black", linewidth=0.8)
        if clip:
            for low, high in ((0.0, clip), (1 - clip, 1.0)):
                ax.axvspan(low, high, color="grey", alpha=0.25, linewidth=0)
            ax.axvline(clip, color="grey", linestyle="--", linewidth=1,
                       label=f"clipped outside [{clip:g}, {1 - clip:g}]")
            ax.axvline(1 - clip, color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(0, 1)
        ax.yaxis.set_major_formatter(lambda value, _: f"{abs(value):g}")
        ax.set_xlabel(f"P({names[level]} | X)")
        ax.set_title(f"{names[level]} vs {names[0]}", fontsize=10)
        top = max(abs(v) for v in ax.get_ylim())
        ax.set_ylim(-top, top)
        handles, texts = ax.get_legend_handles_labels()
        order = sorted(range(len(texts)), key=lambda i: not texts[i].startswith("received"))
        ax.legend([handles[i] for i in order], [texts[i] for i in order], fontsize="x-small",
                  loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    axes[0].set_ylabel("density (level above, control below)")
    fig.suptitle("Propensity overlap by arm", fontsize=11)
    return fig
