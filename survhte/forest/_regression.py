"""Honest regression forest (grf's ``regression_forest``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin

from .._validation import _finite_float_vector, check_covariates, check_sample_weight
from ._base import BaseForest
from ._strategies import regression_strategy


class RegressionForest(RegressorMixin, BaseForest):
    """Honest regression forest estimating ``mu(x) = E[Y | X = x]``.

    ``mu(x) = sum_i alpha_i(x) w_i Y_i / sum_i alpha_i(x) w_i`` with the forest weights of
    trees grown by variance-reduction splits on subsamples, honestly (Wager & Athey 2018;
    Athey, Tibshirani & Wager 2019, "Generalized random forests", Ann. Statist. 47(2)).
    Pointwise confidence intervals by little bags. Parameters as in
    :class:`~survhte.forest._base.BaseForest` (grf's defaults).

    Attributes
    ----------
    forest_ : Forest
        The trees as flat arrays.
    oob_prediction_ : ndarray of shape (n,)
        Out-of-bag predictions of the training rows (computed on first access).
    oob_variance_ : ndarray of shape (n,)
        Their little-bag variance (needs ``ci_group_size >= 2``).

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.forest import RegressionForest
    >>> X = np.random.default_rng(0).uniform(size=(500, 3))
    >>> y = X[:, 0] + np.random.default_rng(1).normal(scale=0.1, size=500)
    >>> forest = RegressionForest(n_estimators=100, random_state=0).fit(X, y)
    >>> forest.predict(X[:2]).shape
    (2,)
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RegressionForest:
        """Grow the forest.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : array-like of shape (n,)
        sample_weight : array-like of shape (n,), optional
            Case weights, in the split criterion and the leaf means.

        Returns
        -------
        self
        """
        self._validate_params()
        frame = isinstance(X, pd.DataFrame)
        X, names = check_covariates(X)
        y = _finite_float_vector(y, "y")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} rows but X has {X.shape[0]}.")
        weight = check_sample_weight(sample_weight, X.shape[0])
        weight = np.ones(X.shape[0]) if weight is None else weight
        self._set_training(X, names, frame)
        self._grow(X, *regression_strategy(y, weight), self._seeds(1)[0])
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Conditional mean ``mu(x)`` at each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (m, p)

        Returns
        -------
        ndarray of shape (m,)
        """
        return self._estimate(X)
