"""Validation of the arguments that only the survival primitives take."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .._validation import check_time, foreign_namespace, to_namespace, to_numpy


def check_query_times(times: Any, like: Any = None) -> tuple[Any, tuple[int, ...]]:
    """Flatten query times (a scalar or an array of any shape) after checking them.

    ``like``: an array (a fitted curve) whose namespace and device the times are moved to, so
    a curve fitted on array-API arrays is queried in its own namespace.

    Returns
    -------
    flat : ndarray of float64, finite and non-negative
    shape : tuple
        The shape of ``times``, to restore on the result.
    """
    if foreign_namespace(times) is not None:
        xp = foreign_namespace(times)
        shape = tuple(times.shape)
        flat = check_time(xp.reshape(times, (-1,)), name="times", keep_namespace=True)
    else:
        shape = np.shape(times)
        flat = check_time(np.reshape(np.asarray(times), -1), name="times")
    return (flat if like is None else to_namespace(flat, like)), shape


def check_alpha(alpha: Any) -> float:
    """A significance level strictly between 0 and 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a number; got {type(alpha).__name__}.")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    return float(alpha)


def check_groups(groups: Any, n_samples: int) -> np.ndarray:
    """Group labels: one-dimensional, one per row, no missing values."""
    labels = np.asarray(to_numpy(groups, "groups"))  # labels are host metadata
    if labels.ndim != 1:
        raise ValueError(f"groups must be one-dimensional; got shape {labels.shape}.")
    if labels.shape[0] != n_samples:
        raise ValueError(f"groups has {labels.shape[0]} rows but time has {n_samples}.")
    if labels.dtype.kind in "fc" and not np.all(np.isfinite(labels)):
        raise ValueError("groups contains NaN or infinite values.")
    if labels.dtype == object and pd.isna(labels).any():
        raise ValueError("groups contains missing values.")
    return labels


def wald_interval(estimate: Any, std_error: Any, alpha: Any) -> tuple[Any, Any]:
    """Wald ``1 - alpha`` interval ``estimate -+ z_{1 - alpha/2} std_error`` (arrays broadcast)."""
    half = float(ndtri(1 - check_alpha(alpha) / 2)) * std_error
    return estimate - half, estimate + half
