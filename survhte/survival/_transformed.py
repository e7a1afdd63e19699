"""A base survival model on transformed covariates (splines, interactions, scaling)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .._params import HasMethods, validate_params
from .._validation import check_covariates
from ._curves import rmst
from ._models import SURVIVAL_MODEL


class TransformedSurvivalModel(BaseEstimator):
    """Fit a base survival model on ``transformer.fit_transform(X)``.

    Turns a linear-predictor model into a flexible one, e.g. ``CoxPH`` on a B-spline basis of
    each covariate (an additive Cox model, Gray 1992) with a ridge penalty on the basis
    coefficients.

    Parameters
    ----------
    transformer : scikit-learn transformer
        Cloned and fitted on the training covariates.
    model : base survival model
        Cloned and fitted on the transformed covariates.

    Attributes
    ----------
    transformer_ : fitted transformer
    model_ : fitted base model
    unique_times_ : ndarray
        The fitted model's, when it has them.
    n_features_in_ : int

    References
    ----------
    Gray, R. J. (1992). Flexible methods for analyzing survival data using splines, with
    applications to breast cancer prognosis. *JASA*, 87(420), 942-951.

    Examples
    --------
    >>> from sklearn.preprocessing import SplineTransformer
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import CoxPH, TransformedSurvivalModel
    >>> data = load_rossi()
    >>> additive_cox = TransformedSurvivalModel(SplineTransformer(n_knots=4), CoxPH(penalizer=0.1))
    >>> additive_cox.fit(data.X, data.time, data.event).predict_survival(data.X[:3], [52.0]).shape
    (3, 1)
    """

    _parameter_constraints: ClassVar[dict] = {
        "transformer": [HasMethods(("fit", "transform"))],
        "model": [SURVIVAL_MODEL],
    }

    def __init__(self, transformer: Any, model: Any) -> None:
        self.transformer = transformer
        self.model = model

    def fit(self, X: Any, time: Any, event: Any, sample_weight: Any = None
            ) -> TransformedSurvivalModel:
        """Fit the transformer on ``X``, then the model on the transformed covariates."""
        validate_params(self)
        X, _ = check_covariates(X)
        self.transformer_ = clone(self.transformer).fit(X)
        features = self.transformer_.transform(X)
        model = clone(self.model)
        self.model_ = (model.fit(features, time, event) if sample_weight is None
                       else model.fit(features, time, event, sample_weight=sample_weight))
        if hasattr(self.model_, "unique_times_"):
            self.unique_times_ = self.model_.unique_times_
        self.n_features_in_ = X.shape[1]
        return self

    def _features(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        return self.transformer_.transform(X)

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """The base model's ``S(t | x)`` at ``times``, shape (n, len(times))."""
        features = self._features(X)
        return self.model_.predict_survival(features, times)

    def restricted_mean(self, X: Any, horizon: float) -> np.ndarray:
        """The base model's exact ``integral_0^horizon S(t | x) dt``, shape (n,)."""
        features = self._features(X)
        return rmst(self.model_, features, horizon)
