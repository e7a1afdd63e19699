"""Matching learner (SurvHTE-Bench): counterfactual outcomes from nearest neighbours in the
other arm, read off one pooled survival model."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from .._base import SurvivalCATEEstimator
from .._validation import check_covariates
from ..survival import SurvivalModel, arm_summary
from ._fitting import fit_curves, prepare_base_model
from ._nuisance import check_binary
from ._slearner import with_treatment


class MatchingLearner(SurvivalCATEEstimator):
    """Nearest-neighbour matching on a pooled survival model, as SurvHTE-Bench's matching learner.

    One ``base_model`` is fitted on ``[X, W]`` (as :class:`SurvivalSLearner`) and gives each
    training row's outcome under its own arm, ``mu(x_j, w_j) = E[f(T) | x_j, w_j]`` with
    ``f(T) = min(T, h)`` (``target="rmst"``) or ``1{T > h}`` (``"survival"``). A row's outcome
    under arm ``a`` is estimated by the mean of ``mu(x_j, a)`` over its ``n_neighbors`` nearest
    training rows (Euclidean distance on ``X``) in arm ``a``.

    - ``predict(X, w)`` (SurvHTE-Bench's definition, for rows with observed treatment ``w``):
      ``(2 w - 1) (mu(x, w) - mean_{j in NN_{1-w}(x)} mu(x_j, 1 - w))``;
    - ``predict(X)``: both arms matched,
      ``mean_{j in NN_1(x)} mu(x_j, 1) - mean_{j in NN_0(x)} mu(x_j, 0)``; :meth:`ate` and its
      bootstrap average this over the training rows.

    Parameters
    ----------
    base_model : survival model, default None
        Pooled model on ``[X, W]`` (``None``: :func:`default_base_model`).
    n_neighbors : int, default 5
        Matches per row (SurvHTE-Bench's ``num_matches``).
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    model_ : fitted base model on ``[X, W]``
    neighbors_ : list of two fitted ``NearestNeighbors`` (control rows, treated rows)
    arm_values_ : list of two ndarrays
        ``mu(x_j, a)`` of the training rows of arm ``a``.
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Noroozizadeh, S. et al. (2026). SurvHTE-Bench: a benchmark for heterogeneous treatment
    effect estimation in survival analysis. ICLR. arXiv:2603.05483.
    Stuart, E. A. (2010). Matching methods for causal inference: a review and a look forward.
    *Statistical Science*, 25(1), 1-21.
    """

    def __init__(
        self,
        base_model: SurvivalModel | None = None,
        *,
        n_neighbors: int = 5,
        target: str = "rmst",
        horizon: float | None = None,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_model = base_model
        self.n_neighbors = n_neighbors
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control

    def _fit_core(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        check_binary(self.classes_, "MatchingLearner")
        k = self.n_neighbors
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"n_neighbors must be a positive integer; got {k!r}.")
        base = prepare_base_model(self.base_model, event, codes, self.classes_,
                                  self.random_state)
        self.model_ = fit_curves(base, with_treatment(X, codes, 2), time, event)
        self.neighbors_, self.arm_values_ = [], []
        for code in (0, 1):
            rows = X[codes == code]
            self.neighbors_.append(NearestNeighbors(n_neighbors=min(k, rows.shape[0])).fit(rows))
            self.arm_values_.append(self._outcome(rows, code))

    def _outcome(self, X: np.ndarray, code: int) -> np.ndarray:
        return arm_summary(self.model_, with_treatment(X, code, 2), self.target, self.horizon_)

    def _matched(self, X: np.ndarray, code: int) -> np.ndarray:
        """Mean of ``mu(x_j, code)`` over each row's nearest neighbours in arm ``code``."""
        index = self.neighbors_[code].kneighbors(X, return_distance=False)
        return self.arm_values_[code][index].mean(axis=1)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return (self._matched(X, 1) - self._matched(X, 0))[:, None]

    def predict(self, X: Any, w: Any = None) -> np.ndarray:
        """CATE estimate of each row; with ``w``, SurvHTE-Bench's factual-arm version.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        w : array-like of shape (n,), optional
            Observed treatment labels (from ``classes_``) of the rows of ``X``.

        Returns
        -------
        ndarray of shape (n,)
        """
        if w is None:
            return super().predict(X)
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        labels = np.asarray(w)
        if labels.shape != (X.shape[0],):
            raise ValueError(f"w must have shape ({X.shape[0]},) like X; got {labels.shape}.")
        unknown = ~np.isin(labels, self.classes_)
        if unknown.any():
            raise ValueError(
                f"w contains level(s) {np.unique(labels[unknown]).tolist()} not seen in fit; "
                f"levels are {self.classes_.tolist()}."
            )
        codes = (labels == self.classes_[1]).astype(np.int64)
        own = np.where(codes == 1, self._outcome(X, 1), self._outcome(X, 0))
        other = np.where(codes == 1, self._matched(X, 0), self._matched(X, 1))
        return (2 * codes - 1) * (own - other)
