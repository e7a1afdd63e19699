"""Margin imputation: a censored time becomes its Kaplan-Meier conditional mean."""

from __future__ import annotations

import numpy as np

from .. import _kernels as kernels
from ..survival import KaplanMeier
from ._base import TimeImputer


class Margin(TimeImputer):
    r"""Replace a censored time ``c`` by the Kaplan-Meier "best guess" ``E[T | T > c]``.

    .. math::

        T^* = c + \frac{\int_c^\infty \hat S(t)\,dt}{\hat S(c)}

    with :math:`\hat S` the Kaplan-Meier curve of the training rows (Haider et al. 2020, the
    "margin" of the L1-margin loss; used as an imputation in SurvivalEVAL, Qi et al. 2023, and
    SurvHTE-Bench). Event rows keep their time.

    Tail. When the last training time :math:`t_m` is censored, :math:`\hat S(t_m) = s_m > 0`
    and the integral is undefined. As SurvivalEVAL (``KaplanMeierArea``) does, the curve is
    extended beyond :math:`t_m` by the straight line through :math:`(0, 1)` and
    :math:`(t_m, s_m)`, which reaches 0 at :math:`z = t_m / (1 - s_m)`: the tail adds the
    triangle :math:`s_m (z - t_m) / 2`, and a censoring time :math:`c \ge t_m` (a new row) gets
    :math:`T^* = c + (z - c)_+ / 2`. Up to :math:`t_m` the exact step curve is integrated
    (SurvivalEVAL interpolates linearly between the Kaplan-Meier points; the two differ by
    O(1/n)).

    :math:`\hat S(c) = 0`. Possible only when the last training time is an event that empties
    the risk set and :math:`c \ge t_m`: the curve puts no mass after :math:`c`, so the best
    guess is :math:`T^* = c` (SurvivalEVAL's limit: its floor of :math:`10^{-10}` on
    :math:`\hat S(c)` over an area of 0).

    Parameters
    ----------
    target : {"rmst", "survival"}, default "rmst"
        Scale of :meth:`transform`: ``min(T*, h)`` or ``1{T* > h}``.
    horizon : float, default None
        ``h``, at most the last training time. ``None`` (``"rmst"`` only): the untruncated
        imputed time.

    Attributes
    ----------
    km_ : KaplanMeier
        Curve of the training rows.
    tail_end_ : float
        ``z``, where the extrapolated curve reaches 0 (``t_m`` when ``s_m = 0``).
    horizon_ : float or None
    n_train_ : int

    References
    ----------
    Haider, H., Hoehn, B., Davis, S. & Greiner, R. (2020). Effective ways to build and evaluate
    individual survival distributions. *JMLR*, 21(85), 1-63.
    Qi, S.-a., Kumar, N., Farrokh, M., Sun, W., Kuan, L.-H., Ranganath, R., Henao, R. &
    Greiner, R. (2023). An effective meta-evaluation of survival models (SurvivalEVAL).
    arXiv:2306.01196.

    Examples
    --------
    >>> from survhte.imputation import Margin
    >>> imputer = Margin().fit(([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1]))
    >>> imputer.impute_time(([2.0], [0])).tolist()
    [3.5]
    """

    def __init__(self, target: str = "rmst", horizon: float | None = None) -> None:
        self.target = target
        self.horizon = horizon

    def _fit(self, time: np.ndarray, event: np.ndarray) -> None:
        km = KaplanMeier().fit(time, event)
        last, s_last = float(km.timeline_[-1]), float(km.survival_[-1])
        self.km_ = km
        self.tail_end_ = last / (1.0 - s_last) if s_last > 0 else last
        self._tail_area = 0.5 * s_last * (self.tail_end_ - last)
        self._area_to_last = float(
            kernels.restricted_mean(km.timeline_, km.survival_, np.array([last]))[0]
        )

    def _impute_censored(self, censor_time: np.ndarray) -> np.ndarray:
        km, last = self.km_, float(self.km_.timeline_[-1])
        inside = censor_time < last
        c = np.minimum(censor_time, last)
        survival = kernels.step_values(km.timeline_, km.survival_, c, 1.0)
        area = self._area_to_last - kernels.restricted_mean(km.timeline_, km.survival_, c)
        positive = survival > 0
        within = c + np.where(positive, area + self._tail_area, 0.0) / np.where(
            positive, survival, 1.0
        )
        beyond = censor_time + 0.5 * np.maximum(self.tail_end_ - censor_time, 0.0)
        return np.where(inside, within, beyond)
