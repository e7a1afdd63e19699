"""Outcome imputation for censored survival data (scikit-learn style transformers).

``fit(y)`` learns from training rows only; ``transform(y)`` maps any rows to an outcome on the
target's scale (``min(T*, h)`` or ``1{T* > h}``) using training statistics only:

- :class:`Margin`: Kaplan-Meier conditional mean beyond the censoring time;
- :class:`IPCWT`: IPCW-weighted mean of the later event times;
- :class:`PseudoObservations`: jackknife pseudo-values of the Kaplan-Meier RMST or ``S(h)``;
- :class:`IPCWeights`: inverse-probability-of-censoring weights for complete-case analysis.

Helpers for other packages: :func:`fit_censoring_model` (a model of ``G(t | x)`` from
``"km"``, ``"cox"`` or a survival model) and :func:`to_target_scale`.
"""

from ._base import to_target_scale
from ._censoring import CensoringKaplanMeier, fit_censoring_model
from ._ipcwt import IPCWT
from ._margin import Margin
from ._pseudo import PseudoObservations
from ._weights import IPCWeights

__all__ = [
    "IPCWT",
    "CensoringKaplanMeier",
    "IPCWeights",
    "Margin",
    "PseudoObservations",
    "fit_censoring_model",
    "to_target_scale",
]
