"""What every heterogeneity tool starts from: predictions, doubly robust scores, level names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_covariates, check_treatment
from ._scores import doubly_robust_scores, estimand_of

#: Keyword options of the doubly robust scores (:func:`doubly_robust_scores`) that every tool
#: passes through.
SCORE_OPTIONS = ("target", "horizon", "control", "outcome_model", "censoring_model",
                 "propensity_model", "n_folds", "random_state")


@dataclass
class Inputs:
    """Columns are treated levels: ``predictions`` and ``scores`` are (n, K)."""

    predictions: np.ndarray | None
    scores: np.ndarray
    levels: list[str]
    X: np.ndarray | None
    feature_names: list[str] | None


def _columns(values: Any, name: str, n: int | None = None) -> np.ndarray:
    """``values`` as a finite float (n, K) array."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be of shape (n,) or (n, K); got {np.shape(values)}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains {int(np.sum(~np.isfinite(array)))} NaN or infinite "
                         "value(s).")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} rows but X has {n}.")
    return array


def is_estimator(value: Any) -> bool:
    return hasattr(value, "predict") and hasattr(value, "fit")


def resolve(first: Any, X: Any, y: Any, w: Any, scores: Any, options: dict[str, Any],
            *, first_name: str, first_is: str) -> Inputs:
    """Predictions (from a fitted estimator on ``X`` or given), scores (given or the AIPCW
    scores of ``X, y, w`` for the estimator's estimand) and the treated levels' names.

    ``first_is``: ``"predictions"`` (an array is CATE predictions or priorities) or
    ``"scores"`` (an array is the doubly robust scores themselves).
    """
    X_array, names = (None, None) if X is None else check_covariates(X)
    n = None if X_array is None else X_array.shape[0]
    predictions = None
    levels = None
    given = None
    if is_estimator(first):
        target, horizon, classes = estimand_of(first)
        predictions = None if X is None else first.predict(X)
        if predictions is None:
            raise ValueError(f"{first_name}: a fitted estimator needs X (the rows to "
                             "predict).")
        predictions = _columns(predictions, "the estimator's predictions")
        levels = [str(c) for c in classes[1:]]
        options = {**options, "target": target, "horizon": horizon, "control": classes[0]}
    elif first is None and first_is == "scores":
        pass
    else:
        given = _columns(first, first_name, n)
        if first_is == "predictions":
            predictions = given
        elif scores is not None:
            raise ValueError(f"{first_name} is an array of scores; do not pass scores= too.")
        else:
            scores = given
    if scores is not None:
        score_array = _columns(scores, "scores", n)
    else:
        if X is None or y is None or w is None:
            raise ValueError("the doubly robust scores need X, y and w (or pass scores=).")
        score_array = _columns(doubly_robust_scores(X, y, w, **options), "scores")
    if predictions is not None and predictions.shape != score_array.shape:
        raise ValueError(
            f"predictions of shape {predictions.shape} do not match the scores' "
            f"{score_array.shape} (one column per treated level)."
        )
    if levels is None:
        levels = _level_names(w, options.get("control"), score_array.shape[0],
                              score_array.shape[1])
    return Inputs(predictions, score_array, levels, X_array, names)


def _level_names(w: Any, control: Any, n: int, k: int) -> list[str]:
    """Names of the treated levels: from ``w`` when it has ``k + 1`` levels, else 1..K."""
    if w is not None:
        try:
            _, classes = check_treatment(w, n_samples=n, control=control)
        except (TypeError, ValueError):
            classes = None
        if classes is not None and classes.size == k + 1:
            return [str(c) for c in classes[1:]]
    return [str(j) for j in range(1, k + 1)]


def score_options(target: str, horizon: Any, control: Any, outcome_model: Any,
                  censoring_model: Any, propensity_model: Any, n_folds: int,
                  random_state: Any) -> dict[str, Any]:
    return dict(zip(SCORE_OPTIONS, (target, horizon, control, outcome_model, censoring_model,
                                    propensity_model, n_folds, random_state), strict=True))


def stack_levels(frames: list[pd.DataFrame], levels: list[str]) -> pd.DataFrame:
    """One frame per treated level: itself for one level, else a (level, term) MultiIndex."""
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, keys=levels, names=["level", "term"])
