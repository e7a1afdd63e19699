"""The one nuisance layer of every estimator family: propensity, folds, clipping, floors.

:mod:`survhte.imputed_learners`, :mod:`survhte.survival_model_learners`, :mod:`survhte.forest`
and :class:`survhte.inference.AIPCW` take their propensity specification
(:func:`fit_propensity`, :func:`propensity_matrix`), cross-fitting folds (:func:`make_folds`),
clipping rule (:func:`clip_propensity`) and censoring floor (:data:`CENSORING_FLOOR`) from
here, so a change of default or of the overlap warning reaches every estimator at once.
Fits over folds that are worth distributing go through :func:`map_folds` (joblib, so a Dask
backend sends them to its workers).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from array_api_compat import array_namespace
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import SplineTransformer

from ._params import HasMethods, Interval, Options
from ._warnings import user_stacklevel

__all__ = [
    "CENSORING_FLOOR",
    "MIN_ARM_EVENTS",
    "NUISANCE_CONSTRAINTS",
    "N_JOBS_CONSTRAINT",
    "PROPENSITY_CLIP",
    "check_arm_events",
    "check_clip",
    "check_level_probabilities",
    "check_n_folds",
    "clip_propensity",
    "default_propensity_model",
    "fit_propensity",
    "make_folds",
    "map_folds",
    "predict_propensity",
    "propensity_matrix",
    "seeded_clone",
]

#: Censoring probabilities are floored here before inversion (grf warns below 0.05 too): a few
#: rows with G near 0 would otherwise carry most of the weight.
CENSORING_FLOOR = 0.05
#: Estimated propensities are clipped to [PROPENSITY_CLIP, 1 - PROPENSITY_CLIP] by default,
#: with the overlap warning of :func:`clip_propensity`.
PROPENSITY_CLIP = 0.01
#: Declarative forms (:mod:`survhte._params`) of the nuisance parameters, for the
#: ``_parameter_constraints`` of every estimator that takes them: the propensity
#: specification of :func:`fit_propensity`, the clip of :func:`check_clip`, the folds of
#: :func:`check_n_folds`.
NUISANCE_CONSTRAINTS = {
    "propensity_model": [None, Options({"constant"}), Interval(float, 0, 1, closed="neither"),
                         "array-like", HasMethods(("fit", "predict_proba"))],
    "propensity_clip": [Interval(float, 0, 0.5, closed="left")],
    "n_folds": [Interval(int, 1, None)],
}
#: ``n_jobs`` of :func:`map_folds` (scikit-learn's: None, -1 or a positive count).
N_JOBS_CONSTRAINT: list[Any] = [None, Options({-1}), Interval(int, 1, None)]
#: Fewest events up to the horizon that a treatment arm should have for its outcome and
#: censoring models (AIPCW refuses fewer; the imputed-outcome learners warn).
MIN_ARM_EVENTS = 10


def default_propensity_model() -> Pipeline:
    """Additive logistic regression for ``P(W = k | x)``: a cubic B-spline basis (5 knots) of
    each covariate, L2-penalised (``C=1``); multinomial for more than two levels.

    The propensity enters through ``1 / e(x)``, so calibration matters more than ranking: a
    logistic regression fitted on the log-loss is calibrated by construction, the splines
    capture smooth non-monotone shapes (OBS-CPS's Beta-density propensity), and the ridge
    penalty (on basis functions bounded by 1) keeps the fit away from the near-0/1
    probabilities that deep trees give in small folds. Smooth, fast and single-threaded.
    """
    return make_pipeline(SplineTransformer(n_knots=5, degree=3),
                         LogisticRegression(C=1.0, max_iter=1000))


def check_clip(clip: Any) -> float:
    """Validate ``propensity_clip``: a number in ``[0, 0.5)``."""
    if isinstance(clip, bool) or not isinstance(clip, Real) or not 0 <= clip < 0.5:
        raise ValueError(f"propensity_clip must be a number in [0, 0.5); got {clip!r}.")
    return float(clip)


def clip_propensity(probs: np.ndarray, clip: float, *,
                    consequence: str = "effects there lean on extrapolation",
                    stacklevel: int | None = None) -> np.ndarray:
    """Clip propensities to ``[clip, 1 - clip]``; warn with the share of rows clipped.

    Parameters
    ----------
    probs : ndarray of shape (n,) or (n, K + 1)
        ``e(X_i) = P(W = 1 | X_i)``, or each level's ``P(W = k | X_i)`` (rows are renormalised
        to sum to 1 after clipping).
    clip : float
        In ``[0, 0.5)`` (see :func:`check_clip`).
    consequence : str
        Ends the warning: what the estimate leans on where overlap is poor.
    stacklevel : int, optional
        Passed to :func:`warnings.warn`; default: the user's line (the first frame outside
        survhte, :func:`survhte._warnings.user_stacklevel`).

    Returns
    -------
    ndarray of the shape of ``probs``
    """
    outside = (probs < clip) | (probs > 1 - clip)
    clipped = outside if probs.ndim == 1 else np.any(outside, axis=1)
    if not clipped.any():
        return probs
    warnings.warn(
        f"propensity clipped to [{clip:g}, {1 - clip:g}] for {clipped.mean():.1%} of the rows "
        f"({int(clipped.sum())}): poor overlap; {consequence}.",
        UserWarning,
        stacklevel=user_stacklevel() if stacklevel is None else stacklevel,
    )
    probs = np.clip(probs, clip, 1 - clip)
    if probs.ndim == 1:
        return probs
    return probs / probs.sum(axis=1, keepdims=True)


def seeded_clone(model: Any, seed: int) -> Any:
    """Unfitted clone of ``model``, seeded with ``seed`` if it has a ``random_state`` of None."""
    fresh = clone(model)
    if fresh.get_params(deep=False).get("random_state", 0) is None:
        fresh.set_params(random_state=seed)
    return fresh


def check_n_folds(n_folds: Any) -> int:
    """Validate the number of cross-fitting folds (an integer >= 1; 1: no cross-fitting)."""
    if isinstance(n_folds, bool) or not isinstance(n_folds, Integral) or n_folds < 1:
        raise ValueError(f"n_folds must be an integer >= 1; got {n_folds!r}.")
    return int(n_folds)


def make_folds(codes: np.ndarray, n_folds: int, seed: Any, classes: Any = None,
               strata: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, held-out) index pairs, stratified by treatment arm (or by ``strata``, finer
    groups within the arms such as ``2 * codes + event``).

    Every arm must have at least ``n_folds`` rows (each fold then trains on rows of every
    arm); otherwise ``ValueError`` names the arm (its label in ``classes``, if given) and its
    size. ``seed``: an int (or a ``RandomState``) for the shuffle. ``n_folds == 1`` means no
    cross-fitting: one pair, every row both ways (nuisances fitted and evaluated on the same
    rows; for exact checks against closed forms, not for inference).
    """
    if n_folds == 1:
        rows = np.arange(codes.shape[0])
        return [(rows, rows)]
    counts = np.bincount(codes)
    if counts.min() < n_folds:
        code = int(np.argmin(counts))
        label = code if classes is None else np.asarray(classes).tolist()[code]
        raise ValueError(
            f"treatment arm {label!r} has {int(counts[code])} row(s), fewer than n_folds="
            f"{n_folds} cross-fitting folds; lower n_folds (>= 2) or collect more rows of that "
            "arm."
        )
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    labels = codes if strata is None else strata
    return list(splitter.split(np.zeros((codes.size, 1)), labels))


def map_folds(function: Any, tasks: Any, *data: Any, n_jobs: int | None = None) -> list:
    """``[function(*data, *task) for task in tasks]`` through :class:`joblib.Parallel`.

    ``n_jobs`` as scikit-learn's: ``None`` runs the tasks one after another in this process
    unless a joblib backend is active; within ``joblib.parallel_backend("dask")`` (a
    ``dask.distributed.Client`` open) they run on the Dask workers, the ``data`` arrays sent
    once per call (joblib's Dask backend scatters every argument over 1 kB once). ``-1``: all
    local cores. The results come back in task order and are the sequential ones: a task is a
    function of its arguments (seeded estimators), wherever it runs. Put the large arrays in
    ``data`` and the per-task pieces (a fold's indices, a template) in ``tasks``.
    """
    return Parallel(n_jobs=n_jobs)(delayed(function)(*data, *task) for task in tasks)


def check_level_probabilities(values: Any, n: int, levels: int, name: str) -> np.ndarray:
    """Known ``P(W = level | X_i)``: shape (levels,) or (n, levels), inside (0, 1), rows
    summing to 1; returned as (n, levels)."""
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of probabilities; got "
                        f"{type(values).__name__}.") from None
    if values.shape == (levels,):
        values = np.broadcast_to(values, (n, levels))
    if values.shape != (n, levels):
        raise ValueError(f"{name} must have shape ({levels},) or (n, {levels}) for n={n} rows "
                         f"and {levels} treatment levels; got shape {values.shape}.")
    if not np.all((values > 0) & (values < 1)):
        raise ValueError(f"{name} must lie strictly between 0 and 1.")
    if not np.allclose(values.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError(f"{name} rows must sum to 1 over the treatment levels.")
    return values


def _known(spec: Any, codes: np.ndarray, n_levels: int) -> np.ndarray | None:
    """Per-level probabilities of a known design, shape (K + 1,); ``None`` for a model."""
    if isinstance(spec, str):
        if spec != "constant":
            raise ValueError(f"propensity_model as a string must be 'constant'; got {spec!r}.")
        return np.bincount(codes, minlength=n_levels) / codes.size
    if isinstance(spec, Real) and not isinstance(spec, bool):
        if n_levels != 2 or not 0 < spec < 1:
            raise ValueError(
                "propensity_model as a number is P(W = classes_[1]) of a binary treatment, in "
                f"(0, 1); got {spec!r} with {n_levels} levels."
            )
        return np.array([1 - float(spec), float(spec)])
    if isinstance(spec, (list, tuple, np.ndarray)):
        probs = np.asarray(spec, dtype=np.float64)
        if probs.shape != (n_levels,) or np.any(probs <= 0) or not np.isclose(probs.sum(), 1):
            raise ValueError(
                f"propensity_model as an array must hold {n_levels} positive probabilities "
                f"summing to 1 (one per level of classes_); got {probs.tolist()}."
            )
        return probs
    return None


def fit_propensity(spec: Any, X: np.ndarray, codes: np.ndarray, n_levels: int,
                   seed: int) -> Any:
    """A known level-probability vector of shape (K + 1,), or a classifier fitted on ``codes``.

    ``spec``: ``None`` (:func:`default_propensity_model`), a classifier with ``predict_proba``
    (cloned; seeded with ``seed`` if its ``random_state`` is ``None``), ``"constant"`` (the
    arms' shares of the rows: a randomised trial), a float (``P(W = classes_[1])`` of a binary
    trial) or an array of each level's probability.
    """
    known = _known(spec, codes, n_levels)
    if known is not None:
        return known
    model = default_propensity_model() if spec is None else spec
    if isinstance(model, type) or not hasattr(model, "predict_proba"):
        raise TypeError(
            "propensity_model must be None, a classifier with predict_proba, 'constant', a "
            f"probability or an array of level probabilities; got {model!r}."
        )
    return seeded_clone(model, seed).fit(X, codes)


def predict_propensity(fitted: Any, X: np.ndarray, n_levels: int) -> np.ndarray:
    """``r_k(x)`` of the rows of ``X`` from :func:`fit_propensity`'s result, shape (n, K + 1)."""
    if isinstance(fitted, np.ndarray):
        return np.tile(fitted, (X.shape[0], 1))
    columns = [list(fitted.classes_).index(level) for level in range(n_levels)]
    return fitted.predict_proba(X)[:, columns]


def propensity_matrix(spec: Any, X: np.ndarray, codes: np.ndarray, n_levels: int,
                      folds: list[tuple[np.ndarray, np.ndarray]], clip: float,
                      seed: int, consequence: str | None = None) -> np.ndarray:
    """Cross-fitted ``r_k(X_i)``, shape (n, K + 1): each fold's rows from the other folds.

    A known design (see :func:`fit_propensity`) is used as is; estimated probabilities are
    clipped by :func:`clip_propensity` (its warning ends with ``consequence`` when given).
    """
    known = _known(spec, codes, n_levels)
    if known is not None:
        return predict_propensity(known, X, n_levels)
    probs = np.empty((codes.size, n_levels))
    for train, test in folds:
        fitted = fit_propensity(spec, X[train], codes[train], n_levels, seed)
        probs[test] = predict_propensity(fitted, X[test], n_levels)
    if consequence is None:
        return clip_propensity(probs, clip)
    return clip_propensity(probs, clip, consequence=consequence)


def check_arm_events(event: np.ndarray, time: np.ndarray, codes: np.ndarray,
                     classes: np.ndarray, horizon: float, *, min_rows: int = 1,
                     model: str = "its outcome model") -> None:
    """Each treatment arm's rows and events up to ``horizon``, checked alike in every family:
    fewer than ``min_rows`` rows or no event up to the horizon is a ``ValueError``, fewer than
    :data:`MIN_ARM_EVENTS` events a warning at the user's line; each names the arm, its rows
    and events. ``model`` says what rests on the arm's events (in the warning)."""
    for code, label in enumerate(np.asarray(classes).tolist()):
        rows = codes == code
        xp = array_namespace(event)
        n_rows, n_events = int(xp.count_nonzero(rows)), int(xp.count_nonzero(event[rows]))
        early = int(xp.count_nonzero(event[rows] & (time[rows] <= horizon)))
        if n_rows < min_rows:
            raise ValueError(
                f"treatment arm {label!r} has {n_rows} row(s) ({early} event(s) up to "
                f"horizon={horizon:g}): {model} cannot be fitted on fewer than {min_rows} rows; "
                "collect more rows of that arm or leave the level out."
            )
        if early == 0:
            after = (f", all after it (first at {float(xp.min(time[rows & event])):g})"
                     if n_events else "")
            raise ValueError(
                f"treatment arm {label!r} has no event up to horizon={horizon:g} "
                f"({n_rows} row(s), {n_events} event(s){after}): its survival curve before the "
                "horizon cannot be estimated; choose a later horizon or collect more events in "
                "that arm."
            )
        if early < MIN_ARM_EVENTS:
            warnings.warn(
                f"treatment arm {label!r} has only {early} event(s) up to horizon={horizon:g} "
                f"among {n_rows} row(s) (fewer than {MIN_ARM_EVENTS}): {model}, and every "
                "effect against it, rest on very few events.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
