"""CATE meta-learners on an imputed (or IPCW-weighted) censored outcome.

The censored outcome becomes a target-scale outcome, ``min(T, h)`` (``target="rmst"``) or
``1{T > h}`` (``target="survival"``), by an imputation of :mod:`survhte.imputation` fitted on the
training rows within each arm (pseudo-observations by default) or by IPCW complete cases, and
any scikit-learn regressor learns the effect:

- :class:`TLearner`, :class:`SLearner`, :class:`XLearner` (Kuenzel et al. 2019);
- :class:`DRLearner` (Kennedy 2023; cross-fitted AIPW pseudo-outcome, influence-function ATE);
- :class:`RLearner` (Nie & Wager 2021; cross-fitted Robinson residuals, IPCW complete cases).

Every learner handles a binary or multi-valued treatment (levels ``0..K``, effects of each level
vs control; Acharki et al. 2023). Defaults: :func:`default_regressor` (the S-learner's:
:func:`default_s_regressor`) and :func:`default_propensity_model`. :data:`LEARNERS` maps each
learner's short name to its class; :data:`IMPUTATIONS` lists the ``imputation`` names.
"""

from ._defaults import default_propensity_model, default_regressor, default_s_regressor
from ._drlearner import DRLearner
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
}

__all__ = [
    "IMPUTATIONS",
    "LEARNERS",
    "DRLearner",
    "RLearner",
    "SLearner",
    "TLearner",
    "XLearner",
    "default_propensity_model",
    "default_regressor",
    "default_s_regressor",
]
