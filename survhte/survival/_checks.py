"""Validation of the arguments that only the survival primitives take."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .._validation import check_time


def check_query_times(times: Any) -> tuple[np.ndarray, tuple[int, ...]]:
    """Flatten query times (a scalar or an array of any shape) after checking them.

    Returns
    -------
    flat : ndarray of float64, finite and non-negative
    shape : tuple
        The shape of ``times``, to restore on the result.
    """
    shape = np.shape(times)
    return check_time(np.reshape(np.asarray(times), -1), name="times"), shape


def check_alpha(alpha: Any) -> float:
    """A significance level strictly between 0 and 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a number; got {type(alpha).__name__}.")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    return float(alpha)


def check_groups(groups: Any, n_samples: int) -> np.ndarray:
    """Group labels: one-dimensional, one per row, no missing values."""
    labels = np.asarray(groups)
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
