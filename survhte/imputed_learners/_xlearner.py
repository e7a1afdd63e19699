"""X-learner on an imputed censored outcome (Kuenzel et al. 2019); for K arms the all-units or
the naive (pairwise) version of Acharki et al. (2023)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace

from .._nuisance import (
    NUISANCE_CONSTRAINTS,
    PROPENSITY_CLIP,
    clip_propensity,
    fit_propensity,
    predict_propensity,
)
from .._params import Options
from .._validation import to_namespace, to_numpy
from ._base import REGRESSOR, ImputedMetaLearner, predict_columns
from ._defaults import default_outcome_regressor


class XLearner(ImputedMetaLearner):
    r"""X-learner: regress imputed individual effects, then blend by the propensity.

    Stage 1 fits :math:`\hat\mu_k` per level as :class:`TLearner` does, on the target-scale
    outcome :math:`\tilde Y`. Stage 2, binary treatment (Kuenzel et al. 2019): regress
    :math:`D^1 = \tilde Y - \hat\mu_0(X)` on the treated rows (:math:`\hat\tau^{(1)}`) and
    :math:`D^0 = \hat\mu_1(X) - \tilde Y` on the controls (:math:`\hat\tau^{(0)}`), and blend

    .. math:: \hat\tau(x) = \hat e(x)\,\hat\tau^{(0)}(x) + (1 - \hat e(x))\,\hat\tau^{(1)}(x),

    which leans on the arm whose imputed effects use the better-estimated
    :math:`\hat\mu` (the larger arm's). With ``K > 1`` treated levels (Acharki et al. 2023):

    - ``multi_arm="all_units"`` (default): for each ``k``, one regression on every row of

      .. math::

          Z_k = 1\{W = k\}(\tilde Y - \hat\mu_0) + \sum_{j \ne k} 1\{W = j\}
                \big[(\hat\mu_k - \tilde Y) + (\hat\mu_j - \hat\mu_0)\big],

      used as is (no blend): every row's outcome informs every effect;
    - ``multi_arm="naive"``: the binary X-learner on the rows of levels 0 and ``k`` only
      (:math:`\hat\tau_k^{(0)}` on the controls, :math:`\hat\tau_k^{(k)}` on level ``k``),
      blended with the pair share of the generalised propensity,
      :math:`\hat\tau_k = g_k \hat\tau_k^{(0)} + (1 - g_k) \hat\tau_k^{(k)}`,
      :math:`g_k = \hat r_k / (\hat r_0 + \hat r_k)` (the clipped
      :math:`\hat r` of all levels, from one multi-class ``propensity_model``).

    With one treated level both are the binary X-learner, bit for bit.

    Estimand :math:`\tau_k(x) = E[f(T(k)) - f(T(0)) \mid X = x]`, ``f`` as in
    :class:`TLearner`.

    Parameters
    ----------
    base_learner : regressor, default None
        Stage-1 regressor of the outcome (cloned). ``None``:
        :func:`~survhte.imputed_learners.default_outcome_regressor` (3-fold CV choice). When
        both regressors are the defaults, the CATE is calibrated toward its mean as in
        :class:`TLearner`, the slope taken from two half-sample fits (each row's CATE and level
        means from the half that did not see it: the stage-2 targets reuse every row's
        outcome, so in-sample or fold-wise predictions would be optimistic); this doubles the
        fit time.
    effect_learner : regressor, default None
        Stage-2 regressor of the imputed effects (cloned); ``None``: same as ``base_learner``'s
        default (unshrunk: the learner calibrates the blended CATE).
        Its targets are differences of noisy quantities: regularise it at least as
        much as ``base_learner``.
    propensity_model : classifier, "constant", float, array or None, default None
        ``e(x)`` of the binary blend, or the generalised propensity :math:`\hat r_k(x)` of the
        naive blend (unused by ``multi_arm="all_units"`` with ``K > 1``). ``None``: cubic
        B-splines + ridge logistic regression (calibrated and smooth; multinomial for
        ``K > 1``); ``"constant"``: the arms' shares (an RCT); a float: a known
        ``P(W = classes_[1])``; an array: each level's known probability.
    propensity_clip : float, default 0.01
        ``e`` (every :math:`\hat r_k`) is clipped to ``[clip, 1 - clip]`` and renormalised; a
        warning reports the share of rows clipped.
    multi_arm : {"all_units", "naive"}, default "all_units"
        The ``K > 1`` form (above); ignored for a binary treatment. Measured
        (``benchmarks/multi_arm_learners.py``: 5 designs with 3 or 5 treated levels x 3
        seeds, n = 3000), all units had the lower mPEHE in 6 of 15 draws (exponential K = 5:
        0.101 vs 0.123; trial_4arm: 1.124 vs 1.141; exponential K = 3: 0.121 vs 0.099):
        neither dominates, the default is unchanged.
    imputation : {"pseudo", "pseudo-cox", "margin", "ipcwt", "ipcw"} or imputer, default "pseudo"
        See :class:`TLearner`.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    models_ : list of fitted regressors
        Stage 1, :math:`\hat\mu_k`.
    effect_models_ : list of fitted regressors
        Binary: :math:`[\hat\tau^{(0)}, \hat\tau^{(1)}]`; ``K > 1``, all units: one per
        treated level; ``K > 1``, naive: one pair :math:`[\hat\tau_k^{(0)}, \hat\tau_k^{(k)}]`
        per treated level.
    propensity_ : fitted classifier or ndarray of level probabilities (binary and naive only)
    calibration_slope_, calibration_center_ : ndarray of shape (K,) or None
        See ``base_learner``.
    classes_, horizon_, n_features_in_, feature_names_in_

    Notes
    -----
    Array-API inputs keep their namespace (as scikit-learn's Array API support does): with
    ``X``, ``y``'s arrays and ``w`` of a non-NumPy array-API library (CuPy on a GPU,
    ``array_api_strict``, ...), regressors that support scikit-learn's array API dispatch (e.g.
    ``Ridge(solver="svd")`` for ``base_learner`` and ``effect_learner``) and
    ``imputation="pseudo"`` or ``"ipcw"``, the fit (validation, imputation, regressions, both
    stages and the propensity blend) and :meth:`predict` / :meth:`effect` / :meth:`ate` run in
    that namespace, on that device, and return arrays of it. Call them inside
    ``sklearn.config_context(array_api_dispatch=True)``, with the environment variable
    ``SCIPY_ARRAY_API=1`` set before SciPy is imported (scikit-learn's requirement). The
    propensity model is fitted and evaluated on host NumPy copies (the package's default is a
    spline basis, which has no array API support) and its probabilities are moved to the input's
    device; treatment labels are encoded on the host. The default regressors (splines and
    gradient boosting) have no array API support.

    References
    ----------
    Kuenzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating
    heterogeneous treatment effects using machine learning. *PNAS*, 116(10), 4156-4165.
    Acharki, N., Lugo, R., Bertoncello, A. & Garnier, J. (2023). Comparison of meta-learners for
    estimating multi-valued treatment heterogeneous effects. *ICML*.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> from survhte.imputed_learners import XLearner
    >>> d = survhte_bench("OBS-CPS", "A", n=1000, random_state=0)
    >>> est = XLearner(imputation="margin", horizon=1.0, n_bootstrap=0, random_state=0)
    >>> est.fit(d.X, d.y, d.w).predict(d.X[:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **ImputedMetaLearner._parameter_constraints,
        "effect_learner": REGRESSOR,
        "propensity_model": NUISANCE_CONSTRAINTS["propensity_model"],
        "propensity_clip": NUISANCE_CONSTRAINTS["propensity_clip"],
        "multi_arm": [Options({"all_units", "naive"})],
    }

    def __init__(
        self,
        base_learner: Any = None,
        *,
        effect_learner: Any = None,
        propensity_model: Any = None,
        propensity_clip: float = PROPENSITY_CLIP,
        multi_arm: str = "all_units",
        imputation: Any = "pseudo",
        target: str = "rmst",
        horizon: float | None = None,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_learner = base_learner
        self.effect_learner = effect_learner
        self.propensity_model = propensity_model
        self.propensity_clip = propensity_clip
        self.multi_arm = multi_arm
        self.imputation = imputation
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control

    _default_regressors: ClassVar[dict] = {"base_learner": default_outcome_regressor,
                                           "effect_learner": default_outcome_regressor}

    _keeps_namespace: ClassVar[bool] = True

    def _fit_learner(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                     codes: np.ndarray) -> None:
        self._fit_stages(X, outcome, weight, codes)
        fitted = self._blend(X)
        if self.base_learner is None and self.effect_learner is None:
            honest_tau, means = self._half_sample_cate(X, outcome, weight, codes)
        else:
            honest_tau = means = None
        self._calibrate(honest_tau, means, outcome, weight, codes, fitted)

    def _level_means(self, X: np.ndarray) -> np.ndarray:
        return predict_columns(self.models_, X)

    def _fit_stages(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                    codes: np.ndarray) -> None:
        """Stage 1 and stage 2 on the given rows (no calibration)."""
        self.models_ = self._arm_means(self.base_learner, X, outcome, weight, codes)
        means = predict_columns(self.models_, X)
        xp = array_namespace(means)
        n_levels = len(self.classes_)
        if self._pairwise():
            pairs = []
            for k in range(1, n_levels):
                treated, pair = codes == k, (codes == 0) | (codes == k)
                imputed = xp.where(treated, outcome - means[:, 0], means[:, k] - outcome)
                pairs.append([
                    self._fit_weighted(self.effect_learner, "effect_learner", X[rows],
                                       imputed[rows], weight[rows])
                    for rows in (pair & ~treated, treated)
                ])
            self.effect_models_ = pairs[0] if n_levels == 2 else pairs
            # The propensity model runs on the host (the documented boundary).
            self.propensity_ = fit_propensity(self.propensity_model, to_numpy(X, "X"),
                                              to_numpy(codes, "w"), n_levels, self._seed())
        else:
            own = xp.take_along_axis(means, xp.expand_dims(codes, axis=1), axis=1)[:, 0]
            self.effect_models_ = []
            for k in range(1, n_levels):
                imputed = xp.where(codes == k, outcome - means[:, 0],
                                   means[:, k] - outcome + own - means[:, 0])
                self.effect_models_.append(
                    self._fit_weighted(self.effect_learner, "effect_learner", X, imputed, weight)
                )

    def _pairwise(self) -> bool:
        """Whether the effects are binary X-learners on levels {0, k} (binary, or naive)."""
        return len(self.classes_) == 2 or self.multi_arm == "naive"

    def _blend(self, X: np.ndarray) -> np.ndarray:
        """The stage-2 fits as the CATE, shape (n, K): each level's pair blended by the pair
        share of the clipped propensity (binary, naive), or as is (all units)."""
        n_levels = len(self.classes_)
        if not self._pairwise():
            return predict_columns(self.effect_models_, X)
        r = clip_propensity(predict_propensity(self.propensity_, to_numpy(X, "X"), n_levels),
                            self.propensity_clip)
        r = to_namespace(r, X)
        xp = array_namespace(X)
        if n_levels == 2:
            tau0, tau1 = self.effect_models_
            e = r[:, 1]
            return xp.expand_dims(e * tau0.predict(X) + (1 - e) * tau1.predict(X), axis=1)
        columns = []
        for k, (tau0, tau1) in enumerate(self.effect_models_, start=1):
            g = r[:, k] / (r[:, 0] + r[:, k])
            columns.append(g * tau0.predict(X) + (1 - g) * tau1.predict(X))
        return xp.stack(columns, axis=1)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return self._calibrated(self._blend(X))
