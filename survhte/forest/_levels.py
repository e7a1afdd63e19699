"""More than two treatment levels: one two-level causal forest per treated level vs control.

With levels ``0..K`` (0 the control), level ``k``'s effect ``tau_k(x)`` is estimated by a
two-level forest fitted on the rows of levels 0 and ``k`` with the propensity
``e_k(x) / (e_0(x) + e_k(x))``, ``e`` the propensities of all levels. Under unconfoundedness
the effect at ``x`` is the same on those rows as on all rows, so each forest targets
``tau_k(x)``; their doubly robust corrections, divided by ``e_0 + e_k``, weight the rows of
level ``k`` by ``1 / e_k`` and give the multi-arm AIPW scores of the average effects
(Imbens 2000; grf's ``multi_arm_causal_forest`` scores).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted


class LevelForestsMixin:
    """Per-level forests for a two-level forest estimator (before ``BaseForest`` in the MRO).

    The estimator's ``fit`` calls :meth:`_fit_levels` when there are more than two levels;
    its two-level forests provide ``_correction(tau)``, the doubly robust correction of
    their rows' scores at effects ``tau`` (:func:`survhte.forest._average.level_scores`).
    Predictions then have one column per treated level.
    """

    @property
    def _arms(self) -> list[Any] | None:
        """The treated levels' forests of a fit with K > 1 treated levels, else None."""
        return vars(self).get("arm_forests_")

    def _check_fitted(self) -> None:
        check_is_fitted(self, ("forest_", "arm_forests_"), all_or_any=any)

    def _clear_fit(self) -> None:
        """Forget the last fit's learned state (a refit with other levels must not keep it)."""
        for name in [key for key in vars(self)
                     if key.endswith("_") or key in ("_arm_rows", "_codes")]:
            delattr(self, name)

    def _fit_levels(self, X: np.ndarray, names: list[str], codes: np.ndarray,
                    classes: np.ndarray, weight: np.ndarray, propensities: np.ndarray,
                    seeds: list[int],
                    fit_level: Callable[[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                                        None]) -> None:
        """Fit ``arm_forests_``: for level ``k``, a clone seeded ``seeds[k - 1]``, fitted by
        ``fit_level(forest, rows, codes01, classes01, share)`` on the rows of levels 0 and
        ``k`` with ``share = e_k / (e_0 + e_k)``; ``weight``: the case weights of the average
        effects."""
        self.classes_ = classes
        self._codes = codes
        self.w_hat_ = propensities
        self._weight = weight
        self.arm_forests_ = []
        self._arm_rows = []
        for level, seed in zip(range(1, classes.size), seeds, strict=True):
            rows = np.flatnonzero((codes == 0) | (codes == level))
            pair = propensities[rows][:, [0, level]]
            forest = clone(self).set_params(random_state=seed)
            fit_level(forest, rows, (codes[rows] == level).astype(codes.dtype),
                      classes[[0, level]], pair[:, 1] / pair.sum(axis=1))
            self.arm_forests_.append(forest)
            self._arm_rows.append(rows)
        self._set_training(X, names)

    def _predict(
        self, X: np.ndarray, *, oob: bool = False, variance: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``BaseForest._predict``; with K treated levels, (m, K) arrays, one column per
        level's forest (``oob``: out of bag on the rows that forest was fitted on, the whole
        forest on the others)."""
        arms = self._arms
        if arms is None:
            return super()._predict(X, oob=oob, variance=variance)
        theta, var = np.empty((X.shape[0], len(arms))), np.empty((X.shape[0], len(arms)))
        for k, (arm, rows) in enumerate(zip(arms, self._arm_rows, strict=True)):
            parts = [(slice(None), X, False)]
            if oob:
                others = np.setdiff1d(np.arange(X.shape[0]), rows)
                parts = [(rows, arm._X_train, True), (others, X[others], False)]
            for where, part, out_of_bag in parts:
                theta[where, k], part_var = arm._predict(part, oob=out_of_bag,
                                                         variance=variance)
                if variance:
                    var[where, k] = part_var
        return theta, var if variance else None

    def get_forest_weights(self, X: Any = None) -> Any:
        """Forest weights of a two-level fit (``BaseForest.get_forest_weights``); a fit with
        K > 1 treated levels has one forest per level and raises ``ValueError``."""
        if self._arms is not None:
            raise ValueError(
                "this fit has one forest per treated level; use "
                "arm_forests_[k - 1].get_forest_weights for level classes_[k] (its training "
                "rows are those of levels classes_[0] and classes_[k])."
            )
        return super().get_forest_weights(X)
