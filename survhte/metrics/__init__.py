"""Model selection without ground truth: CATE losses on held-out censored rows, scikit-learn
scorers, and prediction metrics of survival models.

CATE losses (:func:`dr_loss`, :func:`r_loss`, :func:`cate_losses`) compare a fitted
estimator's predictions with doubly robust quantities of held-out rows, cross-fitted within
them; their scorers (:func:`make_dr_scorer`, :func:`make_r_scorer`) plug into
``GridSearchCV`` / ``cross_val_score`` with scikit-learn's metadata routing, as does every
estimator's ``score`` (minus the DR loss). Survival-model metrics
(:func:`concordance_index_ipcw`, :func:`brier_score`, :func:`integrated_brier_score`) wrap
scikit-survival's for models with ``predict_survival(X, times)``.
"""

from ._losses import cate_losses, dr_loss, r_loss
from ._scorers import CATEScorer, make_dr_scorer, make_r_scorer
from ._survival_metrics import brier_score, concordance_index_ipcw, integrated_brier_score

__all__ = [
    "CATEScorer",
    "brier_score",
    "cate_losses",
    "concordance_index_ipcw",
    "dr_loss",
    "integrated_brier_score",
    "make_dr_scorer",
    "make_r_scorer",
    "r_loss",
]
