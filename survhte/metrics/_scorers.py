"""scikit-learn scorers of the CATE losses (``scoring=`` of ``GridSearchCV``, ``cross_val_score``).

A scorer is called as ``scorer(estimator, X_test, y_test, w=w_test)``: the treatment of the
test rows reaches it only through scikit-learn's metadata routing
(``sklearn.set_config(enable_metadata_routing=True)``), since without routing scikit-learn
passes a scorer nothing but ``X`` and ``y``. The scorers request ``w`` by default.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest

from .._base import NO_TREATMENT
from ._losses import (
    _predictions,
    _settings,
    dr_losses,
    held_out_residuals,
    held_out_scores,
    r_losses,
)


class CATEScorer:
    """A scikit-learn scorer of a CATE loss on held-out rows (higher is better).

    Made by :func:`make_dr_scorer` and :func:`make_r_scorer`; returns minus the loss, or
    with ``improvement=True`` the improvement over the best constant (the constant's loss
    minus the estimator's: 0 for predicting the held-out ATE for everyone).
    """

    def __init__(self, loss: str, improvement: bool, settings: dict[str, Any]) -> None:
        if loss not in ("dr", "r"):
            raise ValueError(f"loss must be 'dr' or 'r'; got {loss!r}.")
        if not isinstance(improvement, (bool, np.bool_)):
            raise TypeError(f"improvement must be a bool; got {improvement!r}.")
        self.loss = loss
        self.improvement = bool(improvement)
        self.settings = dict(settings)

    def __call__(self, estimator: Any, X: Any, y: Any, w: Any = None) -> float:
        if w is None:
            raise TypeError(f"{self!r} {NO_TREATMENT}")
        if self.loss == "dr":
            scores = held_out_scores(estimator, X, y, w, self.settings)
            tau = _predictions(estimator, X, scores.shape[1])
            model, constant = dr_losses(scores, tau)
        else:
            residuals = held_out_residuals(estimator, X, y, w, self.settings)
            tau = _predictions(estimator, X, residuals.treatment.shape[1])
            model, constant = r_losses(residuals, tau)
        if self.improvement:
            return float(np.mean(constant - model))
        return -float(np.mean(model))

    def get_metadata_routing(self) -> MetadataRequest:
        """The scorer requests ``w`` (scikit-learn's metadata routing)."""
        request = MetadataRequest(owner=self)
        request.score.add_request(param="w", alias=True)
        return request

    def __repr__(self) -> str:
        kind = "improvement" if self.improvement else "neg_loss"
        return f"make_{self.loss}_scorer({kind})"


def make_dr_scorer(
    *,
    improvement: bool = False,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = 0,
) -> CATEScorer:
    """A scikit-learn scorer of the doubly robust CATE loss (:func:`dr_loss`).

    ``scorer(estimator, X, y, w=w)`` returns ``-dr_loss(estimator, X, y, w)`` (higher is
    better, scikit-learn's convention; the same value as every survhte estimator's
    ``score``), or with ``improvement=True`` the DR loss of the best constant minus the
    estimator's (positive: better than predicting the held-out ATE for everyone). Within a
    fold every candidate is scored against the same cross-fitted scores.

    Needs scikit-learn's metadata routing to receive ``w`` (``sklearn.set_config(
    enable_metadata_routing=True)``); the scorer requests it.

    Parameters
    ----------
    improvement : bool, default False
    outcome_model, censoring_model, propensity_model, n_folds, random_state
        The nuisances of the held-out scores, as :func:`dr_loss`.

    Returns
    -------
    CATEScorer

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.model_selection import cross_val_score
    >>> from survhte import TLearner
    >>> from survhte.metrics import make_dr_scorer
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=1200, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     values = cross_val_score(TLearner(horizon=1.0, random_state=0), d.X, d.y,
    ...                              params={"w": d.w}, cv=2,
    ...                              scoring=make_dr_scorer(improvement=True))
    >>> values.shape
    (2,)
    """
    return CATEScorer("dr", improvement, _settings(outcome_model, censoring_model,
                                                   propensity_model, n_folds, random_state))


def make_r_scorer(
    *,
    improvement: bool = False,
    outcome_model: Any = None,
    censoring_model: Any = "km",
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.RandomState | None = 0,
) -> CATEScorer:
    """A scikit-learn scorer of the censored-outcome R-loss (:func:`r_loss`).

    ``scorer(estimator, X, y, w=w)`` returns ``-r_loss(estimator, X, y, w)``, or with
    ``improvement=True`` the R-loss of the best constant minus the estimator's. As
    :func:`make_dr_scorer` otherwise.

    Parameters
    ----------
    improvement : bool, default False
    outcome_model, censoring_model, propensity_model, n_folds, random_state
        As :func:`r_loss`.

    Returns
    -------
    CATEScorer

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.model_selection import GridSearchCV
    >>> from survhte import SurvivalSLearner
    >>> from survhte.metrics import make_r_scorer
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=1200, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = GridSearchCV(SurvivalSLearner(horizon=1.0, n_bootstrap=0),
    ...                           {"target": ["rmst"]}, cv=2, scoring=make_r_scorer())
    ...     search = search.fit(d.X, d.y, w=d.w)
    """
    return CATEScorer("r", improvement, _settings(outcome_model, censoring_model,
                                                  propensity_model, n_folds, random_state))
