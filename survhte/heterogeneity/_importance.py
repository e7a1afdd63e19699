"""Which covariates does an estimator's CATE depend on?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._validation import check_covariates
from ._scores import estimand_of


def variable_importance(
    estimator: Any,
    X: Any = None,
    *,
    decay_exponent: float = 2.0,
    max_depth: int = 4,
    n_repeats: int = 5,
    random_state: int | np.random.RandomState | None = None,
) -> pd.Series | pd.DataFrame:
    r"""Importance of each covariate to a fitted estimator's CATE.

    **Forests** (anything with grf-style trees: ``forest_``, or ``arm_forests_`` with K
    treated levels): grf's ``variable_importance``, a depth-weighted split frequency. With
    :math:`c_{dj}` the number of splits on covariate ``j`` at depth ``d = 1..max_depth`` over
    all trees, :math:`f_{dj} = c_{dj} / \max(1, \sum_j c_{dj})` and weights
    :math:`d^{-\text{decay\_exponent}}`, the importance is
    :math:`\sum_d d^{-e} f_{dj} / \sum_d d^{-e}` (sums to 1 when every depth splits). ``X``
    is not needed.

    **Any other estimator**: permutation importance of the predictions, chosen because it
    asks the same question as the split frequency (how much does the fitted CATE function
    use covariate ``j``?) of any model, captures nonlinear use and interactions, needs no
    outcome (so it can use the training rows) and no refit: with :math:`\hat\tau` the
    predictions on ``X`` and :math:`\hat\tau^{(j)}` those with column ``j`` permuted,
    :math:`I_j = \overline{(\hat\tau - \hat\tau^{(j)})^2}` averaged over ``n_repeats``
    permutations, normalised to sum to 1 (Breiman 2001; Fisher, Rudin & Dominici 2019's model
    reliance on the prediction rather than the loss). A BLP-based ranking
    (:func:`best_linear_projection`) was not chosen: it sees only the linear part of the
    CATE and mixes the estimator's fit with the scores' noise. Neither measure says the
    effect truly varies with ``j``: use :func:`test_calibration`,
    :func:`rank_average_treatment_effect` or :func:`best_linear_projection` for that.

    Parameters
    ----------
    estimator : fitted CATE estimator
    X : array-like or DataFrame of shape (n, p), optional
        Rows for the permutation importance (not used for forests).
    decay_exponent : float, default 2.0
        grf's ``decay.exponent``.
    max_depth : int, default 4
        grf's ``max.depth``.
    n_repeats : int, default 5
        Permutations per covariate (non-forest estimators).
    random_state : int, RandomState or None
        Seeds the permutations.

    Returns
    -------
    Series indexed by feature name (in the estimator's column order), or a DataFrame with
    one column per treated level (K > 1)

    References
    ----------
    Athey, S., Tibshirani, J. & Wager, S. (2019). Generalized random forests. *Annals of
    Statistics* 47(2) (grf's ``variable_importance``).
    Fisher, A., Rudin, C. & Dominici, F. (2019). All models are wrong, but many are useful.
    *JMLR* 20(177).

    Examples
    --------
    >>> from survhte import CausalSurvivalForest, variable_importance
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> csf = CausalSurvivalForest(50, horizon=1.0, random_state=0).fit(d.X, d.y, d.w)
    >>> round(float(variable_importance(csf).sum()), 6)
    1.0
    """
    _, _, classes = estimand_of(estimator)
    if isinstance(max_depth, bool) or not isinstance(max_depth, int | np.integer) \
            or max_depth < 1:
        raise ValueError(f"max_depth must be an integer >= 1; got {max_depth!r}.")
    names = [str(name) for name in getattr(estimator, "feature_names_in_",
                                          [f"x{j}" for j in range(estimator.n_features_in_)])]
    levels = [str(c) for c in classes[1:]]
    forests = _forests(estimator)
    if forests is not None:
        columns = [split_importance(forest, len(names), decay_exponent, max_depth)
                   for forest in forests]
    else:
        if X is None:
            raise ValueError(
                f"{type(estimator).__name__} is not a forest: its variable importance permutes "
                "the columns of X, so pass X (training or held-out rows)."
            )
        columns = permutation_importance(estimator, X, n_repeats, random_state)
    if len(columns) == 1:
        return pd.Series(columns[0], index=pd.Index(names, name="feature"), name="importance")
    return pd.DataFrame(np.column_stack(columns), index=pd.Index(names, name="feature"),
                        columns=pd.Index(levels, name="level"))


def _forests(estimator: Any) -> list[Any] | None:
    """The grown forest of each treated level, or ``None`` for a non-forest."""
    arms = getattr(estimator, "arm_forests_", None)
    if arms:
        return [arm.forest_ for arm in arms]
    forest = getattr(estimator, "forest_", None)
    if forest is not None and hasattr(forest, "node_offset"):
        return [forest]
    return None


def split_frequencies(forest: Any, n_features: int, max_depth: int) -> np.ndarray:
    """``(max_depth, p)`` counts of splits on each covariate at each depth over all trees
    (grf's ``split_frequencies``)."""
    counts = np.zeros((max_depth, n_features), dtype=np.int64)
    for b in range(forest.n_trees):
        start = forest.node_offset[b]
        feature = forest.feature[start:forest.node_offset[b + 1]]
        left = forest.left[start:forest.node_offset[b + 1]]
        level = np.array([0])
        for depth in range(max_depth):
            level = level[feature[level] >= 0]
            if level.size == 0:
                break
            np.add.at(counts[depth], feature[level], 1)
            level = np.concatenate([left[level], left[level] + 1])
    return counts


def split_importance(forest: Any, n_features: int, decay_exponent: float,
                     max_depth: int) -> np.ndarray:
    """grf's ``variable_importance``: depth-weighted, per-depth normalised split counts."""
    counts = split_frequencies(forest, n_features, max_depth).astype(np.float64)
    shares = counts / np.maximum(1.0, counts.sum(axis=1, keepdims=True))
    weight = np.arange(1, max_depth + 1, dtype=np.float64) ** -float(decay_exponent)
    return shares.T @ weight / weight.sum()


def permutation_importance(estimator: Any, X: Any, n_repeats: int,
                           random_state: Any) -> list[np.ndarray]:
    """Mean squared change of each level's predictions when one column is permuted,
    normalised to sum to 1 per level."""
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int | np.integer) \
            or n_repeats < 1:
        raise ValueError(f"n_repeats must be an integer >= 1; got {n_repeats!r}.")
    frame = X if isinstance(X, pd.DataFrame) else None
    array, _ = check_covariates(X)
    base = np.asarray(estimator.predict(X), dtype=np.float64).reshape(array.shape[0], -1)
    rng = check_random_state(random_state)
    change = np.zeros((array.shape[1], base.shape[1]))
    for j in range(array.shape[1]):
        for _ in range(n_repeats):
            shuffled = array.copy()
            shuffled[:, j] = shuffled[rng.permutation(array.shape[0]), j]
            data = (pd.DataFrame(shuffled, columns=frame.columns, index=frame.index)
                    if frame is not None else shuffled)
            moved = np.asarray(estimator.predict(data), dtype=np.float64).reshape(base.shape)
            change[j] += np.mean((moved - base) ** 2, axis=0) / n_repeats
    total = change.sum(axis=0)
    return [change[:, k] / total[k] if total[k] > 0 else np.zeros(array.shape[1])
            for k in range(base.shape[1])]
