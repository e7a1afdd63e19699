"""Matching learner (SurvHTE-Bench): counterfactual outcomes from nearest neighbours in the
other arm, read off one pooled survival model."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.neighbors import NearestNeighbors

from .._base import SurvivalCATEEstimator, _squeeze
from .._params import Interval, Options
from ..survival import SURVIVAL_MODEL, SurvivalModel, arm_summary
from ._defaults import default_base_model
from ._fitting import fit_curves, prepare_base_model
from ._slearner import with_treatment


class MatchingLearner(SurvivalCATEEstimator):
    """Nearest-neighbour matching on a pooled survival model, as SurvHTE-Bench's matching learner.

    One ``base_model`` is fitted on ``[X, 1{W = 1}, ..., 1{W = K}]`` (as
    :class:`SurvivalSLearner`) and gives each training row's outcome under its own arm,
    ``mu(x_j, w_j) = E[f(T) | x_j, w_j]`` with ``f(T) = min(T, h)`` (``target="rmst"``) or
    ``1{T > h}`` (``"survival"``). A row's outcome under arm ``a`` is estimated by the mean of
    ``mu(x_j, a)`` over its ``n_neighbors`` nearest training rows in arm ``a``, by Euclidean
    distance on ``match_on``: the covariates ``X`` (SurvHTE-Bench) or the model's predicted
    outcomes under every arm, ``(mu(x, 0), ..., mu(x, K))``, each scaled by its standard
    deviation over the training rows (matching on prognostic scores, Hansen 2008; on
    outcome-model predictions, Antonelli, Cefalu, Palmer & Agniel 2018). For each treated
    level ``k``, a row is matched in arm ``k`` and in the control arm:

    - ``predict(X)``: both arms matched,
      ``mean_{j in NN_k(x)} mu(x_j, k) - mean_{j in NN_0(x)} mu(x_j, 0)``; :meth:`ate` and its
      bootstrap average this over the training rows;
    - ``predict(X, w)`` (SurvHTE-Bench's definition, for rows with observed treatment ``w``):
      the row's own arm from the model, the other arm of the pair ``{0, k}`` matched, i.e.
      ``mu(x, k) - mean_{NN_0(x)} mu(x_j, 0)`` for a row of level ``k`` and
      ``mean_{NN_k(x)} mu(x_j, k) - mu(x, 0)`` for a control (a row of another level has both
      arms matched).

    Parameters
    ----------
    base_model : survival model, default None
        Pooled model on ``[X, W]`` (``None``: :func:`default_base_model`).
    n_neighbors : int, default 5
        Matches per row (SurvHTE-Bench's ``num_matches``).
    match_on : {"outcomes", "covariates"}, default "outcomes"
        The matching space (above). ``"covariates"`` is SurvHTE-Bench's learner; in many
        dimensions its neighbours are far apart and their outcomes differ by more than the
        effect: on ``stress_design`` (seed 0, CATE RMSE / sd(tau)) it gave 0.93 (nonlinear,
        15 covariates) and 1.39 (trial_4arm) against 0.58 and 0.91 on the outcomes (issue 18).
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
    match_scale_ : ndarray of shape (K + 1,)
        With ``match_on="outcomes"``: the standard deviations dividing the matched outcomes.
    neighbors_ : list of K + 1 fitted ``NearestNeighbors``, one per arm
    arm_values_ : list of K + 1 ndarrays
        ``mu(x_j, a)`` of the training rows of arm ``a``.
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Noroozizadeh, S. et al. (2026). SurvHTE-Bench: a benchmark for heterogeneous treatment
    effect estimation in survival analysis. ICLR. arXiv:2603.05483.
    Stuart, E. A. (2010). Matching methods for causal inference: a review and a look forward.
    *Statistical Science*, 25(1), 1-21.
    Hansen, B. B. (2008). The prognostic analogue of the propensity score. *Biometrika*,
    95(2), 481-488.
    Antonelli, J., Cefalu, M., Palmer, N. & Agniel, D. (2018). Doubly robust matching
    estimators for high dimensional confounding adjustment. *Biometrics*, 74(4), 1171-1179.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival_model_learners import MatchingLearner
    >>> data = load_rossi()
    >>> est = MatchingLearner(horizon=52, n_bootstrap=0).fit(data.X, data.y, data.w)
    >>> est.predict(data.X, data.w).shape
    (432,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **SurvivalCATEEstimator._parameter_constraints,
        "base_model": [None, SURVIVAL_MODEL],
        "n_neighbors": [Interval(int, 1, None)],
        "match_on": [Options({"outcomes", "covariates"})],
    }

    def __init__(
        self,
        base_model: SurvivalModel | None = None,
        *,
        n_neighbors: int = 5,
        match_on: str = "outcomes",
        target: str = "rmst",
        horizon: float | None = None,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_model = base_model
        self.n_neighbors = n_neighbors
        self.match_on = match_on
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control

    def _fit_core(
        self, X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray
    ) -> None:
        base = prepare_base_model(self.base_model, time, event, codes, self.classes_,
                                  self.horizon_, self.random_state, default_base_model)
        n_levels = self.classes_.size
        self.model_ = fit_curves(base, with_treatment(X, codes, n_levels), time, event)
        if self.match_on == "outcomes":
            outcomes = self._all_outcomes(X)
            scale = outcomes.std(axis=0)
            self.match_scale_ = np.where(scale > 0, scale, 1.0)
            space = outcomes / self.match_scale_
            values = [outcomes[codes == code, code] for code in range(n_levels)]
        else:
            space = X
            values = [self._outcome(X[codes == code], code) for code in range(n_levels)]
        self.neighbors_, self.arm_values_ = [], values
        for code in range(n_levels):
            rows = space[codes == code]
            self.neighbors_.append(
                NearestNeighbors(n_neighbors=min(self.n_neighbors, rows.shape[0])).fit(rows))

    def _outcome(self, X: np.ndarray, code: int) -> np.ndarray:
        """``mu(x, code)`` of every row of ``X`` from the pooled model."""
        return arm_summary(self.model_, with_treatment(X, code, self.classes_.size),
                           self.target, self.horizon_)

    def _all_outcomes(self, X: np.ndarray) -> np.ndarray:
        """``mu(x, a)`` for every arm ``a``, shape (n, K + 1)."""
        return np.column_stack([self._outcome(X, code) for code in range(self.classes_.size)])

    def _space(self, X: np.ndarray, outcomes: np.ndarray | None = None) -> np.ndarray:
        """The rows of ``X`` in the matching space (``outcomes``: their ``mu``, if known)."""
        if self.match_on == "covariates":
            return X
        return (self._all_outcomes(X) if outcomes is None else outcomes) / self.match_scale_

    def _matched(self, space: np.ndarray, code: int) -> np.ndarray:
        """Mean of ``mu(x_j, code)`` over each row's nearest neighbours in arm ``code``
        (rows given in the matching space)."""
        index = self.neighbors_[code].kneighbors(space, return_distance=False)
        return self.arm_values_[code][index].mean(axis=1)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        space = self._space(X)
        control = self._matched(space, 0)
        return np.column_stack([self._matched(space, code) - control
                                for code in range(1, self.classes_.size)])

    def predict(self, X: Any, w: Any = None) -> np.ndarray:
        """CATE estimate of each row; with ``w``, SurvHTE-Bench's factual-arm version.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        w : array-like of shape (n,), optional
            Observed treatment labels (from ``classes_``) of the rows of ``X``.

        Returns
        -------
        ndarray of shape (n,) for a binary treatment, (n, K) for K treated levels
        """
        if w is None:
            return super().predict(X)
        X = self._check_X(X)
        labels = np.asarray(w)
        if labels.shape != (X.shape[0],):
            raise ValueError(f"w must have shape ({X.shape[0]},) like X; got {labels.shape}.")
        unknown = ~np.isin(labels, self.classes_)
        if unknown.any():
            raise ValueError(
                f"w contains level(s) {np.unique(labels[unknown]).tolist()} not seen in fit; "
                f"levels are {self.classes_.tolist()}."
            )
        n_levels = self.classes_.size
        codes = np.zeros(X.shape[0], dtype=np.int64)
        for code in range(1, n_levels):
            codes[labels == self.classes_[code]] = code
        outcomes = self._all_outcomes(X)
        own = outcomes[np.arange(X.shape[0]), codes]
        space = self._space(X, outcomes)
        control = self._matched(space, 0)
        effects = []
        for code in range(1, n_levels):
            matched = self._matched(space, code)
            effects.append(np.where(codes == code, own - control,
                                    np.where(codes == 0, matched - own, matched - control)))
        return _squeeze(np.column_stack(effects))
