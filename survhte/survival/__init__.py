"""Survival curves: nonparametric estimators, survival models, and summaries of their curves.

Nonparametric primitives
------------------------
:class:`KaplanMeier`, :class:`NelsonAalen`, :func:`rmst_difference`,
:func:`kaplan_meier_by_group`.

Survival models
---------------
:class:`CoxPH` (Efron ties), :class:`WeibullAFT`, :class:`KaplanMeierSurvival`,
:class:`TransformedSurvivalModel`, :class:`LifelinesSurvivalModel`,
:class:`SelectedSurvivalModel` (chosen among candidates by a cross-validated IPCW Brier
score up to a horizon), and the interface any such
model follows (:class:`SurvivalModel`: ``fit(X, time, event, sample_weight=None)``,
``predict_survival(X, times)``, and ``unique_times_`` or ``restricted_mean(X, horizon)``).
The survival meta-learners (:mod:`survhte.survival_model_learners`), the censoring models of
:mod:`survhte.imputation` and :class:`survhte.AIPCW` fit them; so does the causal survival
forest for user-given nuisances.

Curve summaries
---------------
:func:`rmst`, :func:`survival_at`, :func:`arm_summary` (either target) and
:func:`survival_at_rows` (each row's curve at its own time) of any fitted model;
:func:`model_curves` (any model's curves in the namespace and on the device of ``X``).
"""

from ._checks import wald_interval
from ._cox import CoxPH
from ._curves import (
    MAX_CHUNK_VALUES,
    arm_summary,
    model_curves,
    rmst,
    survival_at,
    survival_at_rows,
)
from ._groups import RMSTDifference, kaplan_meier_by_group, rmst_difference
from ._lifelines_adapter import LifelinesSurvivalModel
from ._marginal import KaplanMeierSurvival
from ._models import (
    SURVIVAL_MODEL,
    SurvivalModel,
    check_fitted_curves,
    check_model_data,
    check_survival_model,
)
from ._nonparametric import KaplanMeier, NelsonAalen
from ._selected import (
    CANDIDATE_SETS,
    SELECTION_LOSSES,
    SelectedSurvivalModel,
    default_candidates,
    linear_candidates,
    quadratic_candidates,
)
from ._transformed import TransformedSurvivalModel
from ._weibull import WeibullAFT

__all__ = [
    "CANDIDATE_SETS",
    "MAX_CHUNK_VALUES",
    "SELECTION_LOSSES",
    "SURVIVAL_MODEL",
    "CoxPH",
    "KaplanMeier",
    "KaplanMeierSurvival",
    "LifelinesSurvivalModel",
    "NelsonAalen",
    "RMSTDifference",
    "SelectedSurvivalModel",
    "SurvivalModel",
    "TransformedSurvivalModel",
    "WeibullAFT",
    "arm_summary",
    "check_fitted_curves",
    "check_model_data",
    "check_survival_model",
    "default_candidates",
    "kaplan_meier_by_group",
    "linear_candidates",
    "model_curves",
    "quadratic_candidates",
    "rmst",
    "rmst_difference",
    "survival_at",
    "survival_at_rows",
    "wald_interval",
]
