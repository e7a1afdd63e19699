r"""The joint multi-arm R-loss (Acharki et al. 2023), minimised for any regressor.

Levels ``0..K``; with the residual :math:`R_i = Y_i - \hat m(X_i)`, the exposures
:math:`A_{ik} = 1\{W_i = k\} - \hat r_k(X_i)` (``k >= 1``) and row weights :math:`\omega_i`,
the effects :math:`\tau_1, \dots, \tau_K` minimise

.. math:: \sum_i \omega_i \Big(R_i - \sum_{k \ge 1} A_{ik}\,\tau_k(X_i)\Big)^2

jointly (every row informs every effect), not as ``K`` binary problems on the rows of
levels ``{0, k}``. Two solvers, shared by the imputed-outcome and survival-model R-learners:

- :func:`fit_stacked`: an effect regressor linear in a fixed basis (a regressor of
  ``sklearn.linear_model``, alone or last in a ``Pipeline`` of unsupervised transformers;
  :func:`linear_parts`). With :math:`\tau_k = \phi^\top \beta_k`, :math:`\phi = [1,
  \text{basis}(x)]`, the loss is one weighted least-squares problem on the stacked design
  :math:`[A_1 \phi, \dots, A_K \phi]` (:func:`stacked_design`): the linear model is fitted
  once on it with its own intercept off, and split into one :class:`LevelEffect` per level.
- :func:`backfit`: any other regressor, by block coordinate descent over the levels, each
  step the weighted regression of :math:`(R - \sum_{j \ne k} A_j \hat\tau_j) / A_k` with
  weights :math:`\omega A_k^2` (which minimises the loss in block ``k`` exactly for a
  least-squares regressor: the sweeps then converge to the stacked solution, Gauss-Seidel),
  :data:`BACKFIT_SWEEPS` sweeps started from the stacked least-squares solve on the linear
  basis :math:`[1, X]` (:func:`stacked_solve`), so that they refine a joint solution.

Measured (``benchmarks/multi_arm_learners.py``, imputed R-learner, 5 designs with 3 and 5
treated levels x 3 seeds, n = 3000):

- Start. From zero effects, 3 sweeps of the default (cross-validated, shrunk) regressor left
  the average effects biased on a 4-arm exponential design (``tests/test_multi_arm_learners``,
  seeds 0-2: mean absolute ATE error 0.038 against 0.014 from the linear start; the bias
  vanished with 50 sweeps of a least-squares regressor, so it is unconverged sweeps). The
  linear start lowered the mPEHE in 9 of 15 draws (exponential K = 3: 0.171 -> 0.160,
  K = 5: 0.125 -> 0.122, trial_4arm: 1.082 -> 1.080; SurvHTE-Bench K-arm RCT-50 A: +2% at
  K = 3, +0.3% at K = 5, effects of ~0.01).
- Solver. With the same ridge-on-splines model the exact stacked solve had a lower mPEHE than
  backfitting in 12 of 15 draws (exponential K = 3: 0.103 vs 0.149).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.pipeline import Pipeline

__all__ = ["BACKFIT_SWEEPS", "LevelEffect", "backfit", "design_basis", "fit_stacked",
           "linear_parts", "stacked_design", "stacked_solve"]


#: Backfitting sweeps over the treated levels (one pass is exact for a single level).
BACKFIT_SWEEPS = 3


def linear_parts(spec: Any) -> tuple[Any, Any] | None:
    """``(transformer or None, linear model)`` when ``spec`` is linear in a fixed basis: a
    regressor of ``sklearn.linear_model``, alone or as the last step of a ``Pipeline`` (whose
    earlier steps, fitted on ``X`` alone, make the basis); ``None`` otherwise."""
    final = spec.steps[-1][1] if isinstance(spec, Pipeline) else spec
    if not (is_regressor(final) and type(final).__module__.startswith("sklearn.linear_model")):
        return None
    basis = Pipeline(spec.steps[:-1]) if isinstance(spec, Pipeline) and len(spec.steps) > 1 \
        else None
    return basis, final


def design_basis(basis: Any, X: np.ndarray) -> np.ndarray:
    """``[1, basis(X)]`` (``basis`` a fitted transformer, or ``None`` for ``X`` itself)."""
    features = X if basis is None else np.asarray(basis.transform(X), dtype=np.float64)
    return np.column_stack([np.ones(X.shape[0]), features])


def stacked_design(phi: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """``[A_1 phi, ..., A_K phi]``, shape (n, K p): ``sum_k A_k tau_k`` with
    ``tau_k = phi @ beta_k`` is this design times the stacked coefficients."""
    return (exposure[:, :, None] * phi[:, None, :]).reshape(phi.shape[0], -1)


def stacked_solve(phi: np.ndarray, residual: np.ndarray, exposure: np.ndarray,
                  weight: np.ndarray) -> np.ndarray:
    """Weighted least-squares minimiser of the joint R-loss over ``tau_k = phi @ beta_k``,
    shape (K, p): one ``lstsq`` (minimum-norm where the design is rank deficient)."""
    root = np.sqrt(weight)
    design = stacked_design(phi, exposure) * root[:, None]
    beta = np.linalg.lstsq(design, residual * root, rcond=None)[0]
    return beta.reshape(exposure.shape[1], phi.shape[1])


class LevelEffect:
    """One level's effect from :func:`fit_stacked`: ``[1, basis(x)] @ coef``."""

    def __init__(self, basis: Any, coef: np.ndarray) -> None:
        self.basis = basis
        self.coef = coef

    def predict(self, X: np.ndarray) -> np.ndarray:
        return design_basis(self.basis, X) @ self.coef


def fit_stacked(parts: tuple[Any, Any], X: np.ndarray, residual: np.ndarray,
                exposure: np.ndarray, weight: np.ndarray) -> tuple[Any, list[LevelEffect]]:
    """The exact joint solve for ``parts = linear_parts(spec)``: the basis transformer fitted
    on ``X``, a clone of the linear model (intercept off) fitted once on the stacked design of
    the rows with positive weight. Returns the fitted linear model and one
    :class:`LevelEffect` per treated level."""
    basis, final = parts
    basis = None if basis is None else clone(basis).fit(X)
    phi = design_basis(basis, X)
    model = clone(final)
    if "fit_intercept" in model.get_params(deep=False):
        model.set_params(fit_intercept=False)
    rows = weight > 0
    design = stacked_design(phi[rows], exposure[rows])
    if np.all(weight[rows] == 1):
        model.fit(design, residual[rows])
    else:
        model.fit(design, residual[rows], sample_weight=weight[rows])
    coef = np.asarray(model.coef_, dtype=np.float64).reshape(exposure.shape[1], phi.shape[1])
    return model, [LevelEffect(basis, beta) for beta in coef]


def backfit(fit_level: Callable[[np.ndarray, np.ndarray], Any], X: np.ndarray,
            residual: np.ndarray, exposure: np.ndarray, weight: np.ndarray,
            sweeps: int | None = None, linear_start: bool = True) -> list[Any]:
    """Block coordinate descent on the joint R-loss: ``sweeps`` passes over the levels
    (default :data:`BACKFIT_SWEEPS`), each
    step ``fit_level(target, sample_weight)`` (a fitted regressor on all rows of ``X``; rows of
    weight 0 left out by the caller) of the level's partial-residual ratio. Started from the
    weighted least-squares joint solve on ``[1, X]`` (``linear_start``) or from zero effects.
    Returns one fitted model per level."""
    sweeps = BACKFIT_SWEEPS if sweeps is None else sweeps
    fitted = np.zeros_like(exposure)
    if linear_start:
        rows = weight > 0
        phi = design_basis(None, X[rows])
        fitted[rows] = phi @ stacked_solve(phi, residual[rows], exposure[rows],
                                           weight[rows]).T
    models = [None] * exposure.shape[1]
    for _ in range(sweeps):
        for k in range(exposure.shape[1]):
            partial = residual - (exposure * fitted).sum(axis=1) + exposure[:, k] * fitted[:, k]
            a = exposure[:, k]
            safe = np.where(a != 0, a, 1.0)
            models[k] = fit_level(partial / safe, weight * a**2)
            fitted[:, k] = models[k].predict(X)
    return models
