"""Forest strategies: what a forest splits on and what it estimates from its weights.

A generalized random forest (Athey, Tibshirani & Wager 2019) is one tree engine plus a
strategy, which here is a pair:

- a :class:`GrowthRule` for the tree builder: a relabeling (``RELABEL_*``: the pseudo-outcomes
  computed at each parent from the node's ``responses``), a splitting rule (``SPLIT_*``, with
  its admissibility constraints) and the ``responses`` matrix both read;
- an :class:`Estimand` for prediction: per-row ``statistics`` ``s_i`` whose forest-weighted
  means ``sbar(x) = sum_i alpha_i(x) s_i`` determine the estimate ``theta(x) =
  estimate(sbar)``, and the linearisation ``influence(sbar)`` (the gradient of ``estimate``)
  that turns per-tree leaf means into the little-bag variance.

Every estimand here is a ratio ``theta(x) = sum alpha_i num_i / sum alpha_i den_i``, the
solution of the local moment equation ``sum_i alpha_i(x) (num_i - theta den_i) = 0``:

============================  ====================  ===========================  ===========
forest                        relabel / split       num_i                        den_i
============================  ====================  ===========================  ===========
regression                    CENTER / VARIANCE     w_i Y_i                      w_i
causal (Y~ = Y - m, W~ = W-e) CAUSAL / CAUSAL       w_i W~_i Y~_i                w_i W~_i^2
causal survival               CAUSAL_SURVIVAL (x2)  w_i psi_i                    w_i W~_i^2
============================  ====================  ===========================  ===========

The causal survival forest (Cui et al. 2023) is the same ratio with ``num_i`` its doubly robust
score ``psi_i`` and ``den_i = w_i W~_i^2``, and a relabeling ``(psi_i - tau_P den_i) / mean den``
with an events-per-child constraint: one new ``RELABEL_*``/``SPLIT_*`` pair in
``survhte._kernels.forest_split`` and one constructor here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels.forest_multi import (
    RELABEL_MULTI_CAUSAL,
    RELABEL_MULTI_CAUSAL_SURVIVAL,
    SPLIT_MULTI_CAUSAL,
    SPLIT_MULTI_CAUSAL_SURVIVAL,
    SPLIT_MULTI_VARIANCE,
)
from .._kernels.forest_split import (
    RELABEL_CAUSAL,
    RELABEL_CAUSAL_SURVIVAL,
    RELABEL_CENTER,
    RELABEL_NONE,
    SPLIT_CAUSAL,
    SPLIT_CAUSAL_SURVIVAL,
    SPLIT_LOGRANK,
    SPLIT_VARIANCE,
)


@dataclass(frozen=True)
class GrowthRule:
    """How trees split: kernel codes plus the data the kernels read.

    Attributes
    ----------
    relabel_kind, split_kind : int
        ``RELABEL_*`` and ``SPLIT_*`` codes of ``survhte._kernels.forest_split``.
    responses : ndarray of float64, shape (n, k_r)
        Columns read by the relabeling (and by the split constraints).
    weights : ndarray of float64, shape (n,)
        Case weights of the split criterion.
    treatment_col : int
        Column of ``responses`` balanced by ``SPLIT_CAUSAL`` (unused otherwise).
    """

    relabel_kind: int
    split_kind: int
    responses: np.ndarray
    weights: np.ndarray
    treatment_col: int = 0


@dataclass(frozen=True)
class Estimand:
    """A ratio estimand ``theta(x) = sbar_num(x) / sbar_den(x)`` of forest-weighted means.

    Attributes
    ----------
    statistics : ndarray of float64, shape (n, 2)
        Columns ``num_i`` and ``den_i``.
    """

    statistics: np.ndarray

    @staticmethod
    def estimate(means: np.ndarray) -> np.ndarray:
        """``theta = sbar_num / sbar_den`` for forest-weighted means of shape (m, 2)."""
        return means[:, 0] / means[:, 1]

    @staticmethod
    def influence(means: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Gradient of ``theta`` in the means: ``(1, -theta) / sbar_den``, shape (m, 2).

        A tree's linearised estimate is ``(leaf_num - theta leaf_den) / sbar_den``, the
        per-tree term whose across-group variance grf's little-bag estimator uses.
        """
        return np.column_stack([np.ones_like(theta), -theta]) / means[:, 1:2]


def regression_strategy(y: np.ndarray, weights: np.ndarray) -> tuple[GrowthRule, Estimand]:
    """Regression forest: ``mu(x) = E[Y | X = x]``, weighted mean of ``y`` in the leaves."""
    rule = GrowthRule(RELABEL_CENTER, SPLIT_VARIANCE, y[:, None].copy(), weights)
    return rule, Estimand(np.column_stack([weights * y, weights]))


def causal_strategy(
    y_centered: np.ndarray, w_centered: np.ndarray, weights: np.ndarray
) -> tuple[GrowthRule, Estimand]:
    """Causal forest on Robinson-centred data ``Y - m(X)``, ``W - e(X)``.

    ``tau(x) = sum alpha_i W~_i Y~_i / sum alpha_i W~_i^2``: the local solution of the
    partially linear moment ``E[W~ (Y~ - tau(x) W~) | X = x] = 0`` (Athey, Tibshirani & Wager
    2019, sec. 6.2).
    """
    rule = GrowthRule(
        RELABEL_CAUSAL,
        SPLIT_CAUSAL,
        np.column_stack([y_centered, w_centered]),
        weights,
        treatment_col=1,
    )
    statistics = np.column_stack(
        [weights * w_centered * y_centered, weights * w_centered * w_centered]
    )
    return rule, Estimand(statistics)


def survival_strategy(time_index: np.ndarray, event: np.ndarray) -> GrowthRule:
    """Survival forest growth: log-rank splits on ``(failure-time index, event)``.

    The survival forest (Ishwaran et al. 2008; grf's ``survival_forest``) estimates a curve,
    not a ratio: its prediction reads the forest weights (``survhte._kernels.forest_survival``),
    so it has no :class:`Estimand`. The log-rank rule is unweighted, as grf's.
    """
    responses = np.column_stack([time_index, event]).astype(np.float64)
    return GrowthRule(RELABEL_NONE, SPLIT_LOGRANK, responses, np.ones(time_index.shape[0]))


def causal_survival_strategy(
    numerator: np.ndarray,
    w_centered: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray,
    *,
    stabilize_splits: bool = True,
) -> tuple[GrowthRule, Estimand]:
    """Causal survival forest (Cui, Kosorok, Sverdrup, Wager & Zhu 2023, JRSS-B).

    ``tau(x) = sum alpha_i w_i psi_i / sum alpha_i w_i W~_i^2``: the local solution of the
    doubly robust estimating equation ``E[psi - tau(x) W~^2 | X = x] = 0`` with ``psi_i`` the
    censoring-augmented score ``numerator`` and ``W~ = W - e(X)``. Growth relabels with
    ``RELABEL_CAUSAL_SURVIVAL``; splits with ``SPLIT_CAUSAL_SURVIVAL`` (treated/control and
    events-per-child constraints; ``stabilize_splits``) or, without stabilisation, the plain
    variance rule (grf's ``stabilize.splits = FALSE``). ``event`` is the (horizon-truncated)
    event indicator counted by the split constraint.
    """
    den = w_centered * w_centered
    split = SPLIT_CAUSAL_SURVIVAL if stabilize_splits else SPLIT_VARIANCE
    rule = GrowthRule(
        RELABEL_CAUSAL_SURVIVAL,
        split,
        np.column_stack([numerator, den, w_centered, event.astype(np.float64)]),
        weights,
        treatment_col=2,
    )
    return rule, Estimand(np.column_stack([weights * numerator, weights * den]))


@dataclass(frozen=True)
class LinearSystemEstimand:
    """A vector estimand ``theta(x) = D(x)^{-1} N(x)`` of forest-weighted means: the solution
    of the local K-dimensional moment equation ``sum_i alpha_i(x) (N_i - D_i theta) = 0``.

    Attributes
    ----------
    statistics : ndarray of float64, shape (n, K + K^2)
        Columns ``N_i`` (K) then ``D_i`` (K x K, row-major).
    n_levels : int
        K. With K = 1 this is :class:`Estimand` (the same columns and arithmetic).
    """

    statistics: np.ndarray
    n_levels: int

    def split(self, means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N (m, K), D (m, K, K))`` of forest-weighted means of shape (m, K + K^2)."""
        k = self.n_levels
        return means[:, :k], means[:, k:].reshape(-1, k, k)

    def estimate(self, means: np.ndarray) -> np.ndarray:
        """``theta = D^{-1} N`` per row, shape (m, K); NaN where ``D`` is singular or the
        means are missing (a row no tree reaches)."""
        num, den = self.split(means)
        if self.n_levels == 1:
            return num / den[:, 0]
        theta = np.full(num.shape, np.nan)
        ok = np.all(np.isfinite(means), axis=1)
        ok[ok] = np.abs(np.linalg.det(den[ok])) > 0
        theta[ok] = np.linalg.solve(den[ok], num[ok][..., None])[..., 0]
        return theta

    def influence(self, means: np.ndarray, theta: np.ndarray, contrast: np.ndarray
                  ) -> np.ndarray:
        """Gradient of ``c . theta`` in the means, shape (m, K + K^2), for the contrast ``c``
        (K,): with ``g = D^{-T} c``, ``g`` on ``N`` and ``-g theta^T`` on ``D``.

        A tree's linearised estimate is then ``g . (N_b - D_b theta)``, the vector version of
        :meth:`Estimand.influence` (grf's ``MultiCausalPredictionStrategy`` linearisation,
        without its intercept: the statistics here are centred by the nuisances).
        """
        num, den = self.split(means)
        m, k = num.shape
        if k == 1:
            scale = contrast[0]
            return np.column_stack([np.full(m, scale), -theta[:, 0] * scale]) / den[:, 0]
        g = np.full((m, k), np.nan)
        ok = np.all(np.isfinite(means), axis=1) & np.all(np.isfinite(theta), axis=1)
        den_t = np.swapaxes(den[ok], 1, 2)
        g[ok] = np.linalg.solve(den_t, np.broadcast_to(contrast, (int(ok.sum()), k))[..., None]
                                )[..., 0]
        return np.concatenate([g, -(g[:, :, None] * theta[:, None, :]).reshape(m, k * k)],
                              axis=1)


def _outer_columns(weights: np.ndarray, w_centered: np.ndarray) -> np.ndarray:
    """``weights_i W~_ij W~_il`` for all ``j, l``, shape (n, K^2), row-major."""
    n, k = w_centered.shape
    return ((weights[:, None] * w_centered)[:, :, None] * w_centered[:, None, :]).reshape(n, k * k)


def multi_causal_strategy(
    y_centered: np.ndarray, w_centered: np.ndarray, weights: np.ndarray
) -> tuple[GrowthRule, LinearSystemEstimand]:
    """Multi-arm causal forest (grf's ``multi_arm_causal_forest``) on Robinson-centred data.

    ``W~`` (n, K) holds the centred level indicators ``1{W = k} - e_k(X)``;
    ``tau(x) = (sum alpha_i w_i W~_i W~_i^T)^{-1} sum alpha_i w_i W~_i Y~_i``, the local
    solution of ``E[W~ (Y~ - W~^T tau(x)) | X = x] = 0``. Growth: ``RELABEL_MULTI_CAUSAL``
    and ``SPLIT_MULTI_CAUSAL`` (``survhte._kernels.forest_multi``). With K = 1 this is
    :func:`causal_strategy`, column for column.
    """
    rule = GrowthRule(RELABEL_MULTI_CAUSAL, SPLIT_MULTI_CAUSAL,
                      np.column_stack([y_centered, w_centered]), weights, treatment_col=1)
    statistics = np.column_stack([(weights[:, None] * w_centered) * y_centered[:, None],
                                  _outer_columns(weights, w_centered)])
    return rule, LinearSystemEstimand(statistics, w_centered.shape[1])


def multi_causal_survival_strategy(
    bracket: np.ndarray,
    w_centered: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray,
    *,
    stabilize_splits: bool = True,
) -> tuple[GrowthRule, LinearSystemEstimand]:
    """Multi-arm causal survival forest: :func:`causal_survival_strategy` with K levels.

    ``bracket`` is each row's censoring-adjusted outcome ``Gamma_i`` (``psi_i = W~_i Gamma_i``
    for two levels, Cui et al. 2023), ``W~`` (n, K) the centred level indicators. The forest
    solves ``sum_i alpha_i(x) w_i (W~_i Gamma_i - W~_i W~_i^T tau) = 0``. Growth:
    ``RELABEL_MULTI_CAUSAL_SURVIVAL`` with ``SPLIT_MULTI_CAUSAL_SURVIVAL`` (treated/control
    and events-per-child constraints) or, without ``stabilize_splits``,
    ``SPLIT_MULTI_VARIANCE``. With K = 1 this is :func:`causal_survival_strategy`.
    """
    split = SPLIT_MULTI_CAUSAL_SURVIVAL if stabilize_splits else SPLIT_MULTI_VARIANCE
    rule = GrowthRule(
        RELABEL_MULTI_CAUSAL_SURVIVAL, split,
        np.column_stack([bracket, w_centered, event.astype(np.float64)]), weights,
        treatment_col=1,
    )
    numerator = w_centered * bracket[:, None]
    statistics = np.column_stack([weights[:, None] * numerator,
                                  _outer_columns(np.ones_like(weights), w_centered)
                                  * weights[:, None]])
    return rule, LinearSystemEstimand(statistics, w_centered.shape[1])
