"""CATE meta-learners on an imputed (or IPCW-weighted) censored outcome.

The censored outcome becomes a target-scale outcome, ``min(T, h)`` (``target="rmst"``) or
``1{T > h}`` (``target="survival"``), by an imputation of :mod:`survhte.imputation` fitted on the
training rows within each arm (pseudo-observations by default) or by IPCW complete cases, and
any scikit-learn regressor learns the effect:

- :class:`TLearner`, :class:`SLearner`, :class:`XLearner` (Kuenzel et al. 2019);
- :class:`DRLearner` (Kennedy 2023; cross-fitted AIPW pseudo-outcome, influence-function ATE);
- :class:`RLearner` (Nie & Wager 2021; cross-fitted Robinson residuals, IPCW complete cases);
- :class:`MLearner` (modified outcome: inverse-propensity weighted, no outcome model).

Every learner handles a binary or multi-valued treatment (levels ``0..K``, effects of each level
vs control; Acharki et al. 2023's learner set: T, S, naive and all-units X
(``XLearner(multi_arm=...)``), M, DR, and R on the joint R-loss or pairwise
(``RLearner(multi_arm=...)``)). Defaults adapt to the data (issue 18): outcome regressions
by cross-validated choice among a ridge on splines and early-stopped boosters
(:class:`CrossValidatedRegressor`; :func:`default_outcome_regressor`, :func:`default_s_regressor`),
second stages of the DR- and R-learners calibrated toward the average effect by a held-out slope
(:func:`default_effect_regressor`), and the T-, S- and X-learners' CATE calibrated the same way
from honest AIPW pseudo-outcomes; nuisance regressions :func:`default_regressor`
(:func:`default_weighted_regressor` with weights) and :func:`default_propensity_model`.
:data:`LEARNERS` maps each learner's short name to its class; :data:`IMPUTATIONS` lists the
``imputation`` names.
"""

from ._cv import BinnedBoosting, CrossValidatedRegressor, SplineRidge
from ._defaults import (
    default_effect_regressor,
    default_outcome_regressor,
    default_propensity_model,
    default_regressor,
    default_s_regressor,
    default_weighted_regressor,
    previous_s_regressor,
)
from ._drlearner import DRLearner
from ._mlearner import MLearner
from ._outcome import IMPUTATIONS
from ._rlearner import RLearner
from ._slearner import SLearner
from ._tlearner import TLearner
from ._xlearner import XLearner

#: Every imputation meta-learner by its short name.
LEARNERS = {
    "T": TLearner,
    "S": SLearner,
    "X": XLearner,
    "DR": DRLearner,
    "R": RLearner,
    "M": MLearner,
}

__all__ = [
    "IMPUTATIONS",
    "LEARNERS",
    "BinnedBoosting",
    "CrossValidatedRegressor",
    "DRLearner",
    "MLearner",
    "RLearner",
    "SLearner",
    "SplineRidge",
    "TLearner",
    "XLearner",
    "default_effect_regressor",
    "default_outcome_regressor",
    "default_propensity_model",
    "default_regressor",
    "default_s_regressor",
    "default_weighted_regressor",
    "previous_s_regressor",
]
