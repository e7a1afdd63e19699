"""A survival model chosen among candidates by a held-out, horizon-aligned loss."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._nuisance import CENSORING_FLOOR, seeded_clone
from .._params import InstanceOf, Interval, Options, validate_params
from .._validation import check_covariates
from ._cox import CoxPH
from ._curves import rmst
from ._models import check_fitted_curves, check_model_data, check_survival_model
from ._nonparametric import KaplanMeier
from ._transformed import TransformedSurvivalModel
from ._weibull import WeibullAFT

#: Losses :class:`SelectedSurvivalModel` can select by.
SELECTION_LOSSES = ("integrated_brier", "rmst", "brier")
#: Times at which the integrated Brier score is evaluated (quantiles of the event times up to
#: the horizon, the horizon included).
_BRIER_GRID = 20


#: Ridge penalties of the linear Cox candidates (:class:`CoxPH`'s ``penalizer``).
LINEAR_PENALTIES = (0.01, 0.1, 1.0)
#: Ridge penalties of the quadratic Cox candidates. A second, larger penalty (0.5) was dropped:
#: chosen for the S-learner's pooled model on 4 of 15 SurvHTE-Bench draws (RCT-50 A, OBS-CPS
#: B; n = 2000), it made the CATE worse every time (RMSE / sd(tau) 0.68 -> 0.88, 0.59 ->
#: 0.87, 0.74 -> 0.91, 0.95 -> 0.99), and it was never chosen on the stress designs.
QUADRATIC_PENALTIES = (0.05,)
#: The quadratic candidates are left out above this many covariates (their fit costs
#: O(n p^4)) or with fewer than 2 events per feature of the expansion.
QUADRATIC_MAX_FEATURES = 25


def linear_candidates() -> list[tuple[str, Any]]:
    """Linear-predictor candidates: :class:`CoxPH` at the :data:`LINEAR_PENALTIES` and
    :class:`WeibullAFT`."""
    return [*((f"cox_{penalty:g}", CoxPH(penalizer=penalty)) for penalty in LINEAR_PENALTIES),
            ("weibull", WeibullAFT(penalizer=0.01))]


def quadratic_candidates() -> list[tuple[str, Any]]:
    """Quadratic Cox candidates (all squares and pairwise products of the covariates) at the
    :data:`QUADRATIC_PENALTIES` (0.05: the learners' fixed default before issue 18)."""
    return [(f"quadratic_cox_{penalty:g}", TransformedSurvivalModel(
        PolynomialFeatures(degree=2, include_bias=False), CoxPH(penalizer=penalty)))
        for penalty in QUADRATIC_PENALTIES]


#: Named candidate sets of :class:`SelectedSurvivalModel`'s ``candidates``.
CANDIDATE_SETS = ("all", "linear", "quadratic")


def quadratic_affordable(n_features: int, n_events: int) -> bool:
    """Whether the quadratic candidates are fitted: at most :data:`QUADRATIC_MAX_FEATURES`
    covariates and at least 2 events per feature of the expansion."""
    return (n_features <= QUADRATIC_MAX_FEATURES
            and n_events >= n_features * (n_features + 3))


def default_candidates(n_rows: int, n_features: int, n_events: int, kind: str = "all"
                       ) -> list[tuple[str, Any]]:
    """The candidates of a named set (``n_rows`` rows, ``n_features`` covariates,
    ``n_events`` events): ``"all"``, :func:`linear_candidates` then
    :func:`quadratic_candidates` when :func:`quadratic_affordable`; ``"linear"``, the
    former; ``"quadratic"``, the latter when affordable, else the linear ones."""
    quadratic = quadratic_candidates() if quadratic_affordable(n_features, n_events) else []
    if kind == "linear":
        return linear_candidates()
    if kind == "quadratic":
        return quadratic or linear_candidates()
    return linear_candidates() + quadratic


def _censoring_left(time: np.ndarray, event: np.ndarray, weight: np.ndarray | None,
                    at: np.ndarray) -> np.ndarray:
    """Kaplan-Meier ``G(t-)`` of the censoring (covariate-free) at ``at``, floored at
    :data:`survhte._nuisance.CENSORING_FLOOR`."""
    if event.all():
        return np.ones(at.shape)
    km = KaplanMeier().fit(time, ~event, weight)
    values = np.asarray(km.predict(np.nextafter(at, -np.inf).clip(0.0)), dtype=np.float64)
    return np.maximum(values.reshape(at.shape), CENSORING_FLOOR)


def _brier_grid(time: np.ndarray, event: np.ndarray, horizon: float) -> np.ndarray:
    """Evaluation times of the integrated Brier score: event-time quantiles and ``horizon``."""
    events = time[event & (time <= horizon)]
    if events.size == 0:
        return np.array([horizon])
    levels = np.arange(1, _BRIER_GRID) / _BRIER_GRID
    return np.unique(np.append(np.quantile(events, levels), horizon))


class _HeldOut:
    """IPCW losses of held-out predictions (Graf, Schmoor, Sauerbrei & Schumacher 1999)."""

    def __init__(self, time: np.ndarray, event: np.ndarray, weight: np.ndarray | None,
                 horizon: float, loss: str) -> None:
        self.time, self.event, self.horizon, self.loss = time, event, horizon, loss
        self.case = np.ones(time.size) if weight is None else weight
        self.grid = (_brier_grid(time, event, horizon) if loss == "integrated_brier"
                     else np.array([horizon]))
        # 1 / G at the row's own time (events before the grid time) and at each grid time
        own = _censoring_left(time, event, weight, np.minimum(time, horizon))
        at_grid = _censoring_left(time, event, weight, self.grid)
        self.dead = event[:, None] & (time[:, None] <= self.grid[None, :])
        alive = time[:, None] > self.grid[None, :]
        self.weight = np.where(self.dead, 1.0 / own[:, None], 0.0) + np.where(
            alive, 1.0 / at_grid[None, :], 0.0)
        self.widths = np.diff(np.concatenate(([0.0], self.grid))) / self.grid[-1]
        known = event | (time >= horizon)
        self.rmst_weight = np.where(known, 1.0 / own, 0.0)

    def row_losses(self, rows: np.ndarray, model: Any, X: np.ndarray) -> np.ndarray:
        """Each held-out row's loss under fitted ``model`` (``X``: those rows' covariates)."""
        if self.loss == "rmst":
            pred = rmst(model, X, self.horizon)
            outcome = np.minimum(self.time[rows], self.horizon)
            return self.rmst_weight[rows] * (outcome - pred) ** 2
        survival = model.predict_survival(X, self.grid)
        return self._brier(rows, survival)

    def oob_losses(self, model: Any) -> np.ndarray:
        """Out-of-bag losses of every training row of a fitted forest."""
        rows = np.arange(self.time.size)
        if self.loss == "rmst":
            pred = model.predict_rmst(None, self.horizon)
            outcome = np.minimum(self.time, self.horizon)
            return self.rmst_weight * (outcome - pred) ** 2
        return self._brier(rows, model.predict_survival(None, self.grid))

    def _brier(self, rows: np.ndarray, survival: np.ndarray) -> np.ndarray:
        residual = np.where(self.dead[rows], survival, 1.0 - survival)
        return (self.weight[rows] * residual**2) @ self.widths


class SelectedSurvivalModel(BaseEstimator):
    """The candidate survival model with the smallest cross-validated loss up to a horizon.

    Each candidate is fitted on ``n_folds - 1`` folds (folds stratified by the event
    indicator) and scored on the held-out fold; a candidate with out-of-bag predictions (a
    survival forest of :mod:`survhte.forest`: ``predict_survival_oob``) is fitted once and
    scored out of bag instead. The candidate with the smallest mean held-out loss is refitted
    on all rows and predicts. Losses, with ``G`` the Kaplan-Meier curve of the censoring
    (inverse probability of censoring weights; Graf et al. 1999):

    - ``"integrated_brier"`` (default): the IPCW Brier score ``(1{T > t} - S(t | x))^2``
      averaged over ``[0, h]`` (20 event-time quantiles up to ``h``, and ``h``), which
      scores the whole curve that an RMST up to ``h`` integrates;
    - ``"rmst"``: the IPCW squared error ``(min(T, h) - RMST_h(x))^2`` of the rows whose
      ``min(T, h)`` is observed;
    - ``"brier"``: the IPCW Brier score at ``h`` alone (the survival probability target).

    The selection compares any survival models, which partial likelihood (Cox models only)
    does not. It follows the base-model interface of :mod:`survhte.survival`, so it plugs
    in wherever a survival model does (the learners of
    :mod:`survhte.survival_model_learners` use it as their default base model).

    Parameters
    ----------
    candidates : list of (str, survival model), {"all", "linear", "quadratic"} or None
        Named unfitted candidates (cloned), or a named set of :func:`default_candidates` for
        the data's size: ``"linear"`` (Cox at three ridge penalties, Weibull AFT),
        ``"quadratic"`` (Cox on all squares and pairwise products, penalty 0.05, when
        there are at least 2 events per feature and at most 25 covariates; else the linear
        set), ``"all"`` or ``None`` (both).
    horizon : float, default None
        ``h`` above (the learners set their own); beyond the last observed time, that time.
        ``None``: the 90% quantile of the observed times.
    loss : {"integrated_brier", "rmst", "brier"}, default "integrated_brier"
    n_folds : int, default 3
        Cross-validation folds (>= 2).
    random_state : int, RandomState or None, default None
        Seeds the folds and candidates whose ``random_state`` is None.

    Attributes
    ----------
    best_name_ : str
        The chosen candidate.
    best_model_ : fitted survival model
        It, refitted on all rows (a forest scored out of bag is not refitted).
    cv_losses_ : dict of str to float
        Each candidate's mean held-out loss (NaN for a single candidate: nothing is
        cross-validated).
    cv_errors_ : dict of str to float
        Their standard errors (over rows).
    cv_failures_ : dict of str to str
        Candidates left out because fitting them raised (e.g. ``WeibullAFT`` on zero
        times), with the error.
    candidates_ : dict of str to survival model
        The unfitted candidates compared (after the default's pruning), by name.
    horizon_ : float
    unique_times_ : ndarray
        The chosen model's, when it has them.
    n_features_in_ : int

    References
    ----------
    Graf, E., Schmoor, C., Sauerbrei, W. & Schumacher, M. (1999). Assessment and comparison
    of prognostic classification schemes for survival data. *Statistics in Medicine*, 18,
    2529-2545.
    van der Laan, M. J., Polley, E. C. & Hubbard, A. E. (2007). Super learner. *Statistical
    Applications in Genetics and Molecular Biology*, 6(1) (selection by cross-validated
    risk: the discrete super learner).

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import SelectedSurvivalModel
    >>> data = load_rossi()
    >>> model = SelectedSurvivalModel(horizon=52, random_state=0)
    >>> model.fit(data.X, data.time, data.event).best_name_ in model.cv_losses_
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "candidates": [None, Options(set(CANDIDATE_SETS)), InstanceOf((list, tuple))],
        "horizon": [None, Interval(float, 0, None, closed="neither")],
        "loss": [Options(SELECTION_LOSSES)],
        "n_folds": [Interval(int, 2, None)],
        "random_state": ["random_state"],
    }

    def __init__(self, candidates: list[tuple[str, Any]] | None = None, *,
                 horizon: float | None = None, loss: str = "integrated_brier",
                 n_folds: int = 3, random_state: Any = None) -> None:
        self.candidates = candidates
        self.horizon = horizon
        self.loss = loss
        self.n_folds = n_folds
        self.random_state = random_state

    def _candidates(self, n_rows: int, n_features: int, n_events: int
                    ) -> list[tuple[str, Any]]:
        if self.candidates is None or isinstance(self.candidates, str):
            return default_candidates(n_rows, n_features, n_events, self.candidates or "all")
        if len(self.candidates) == 0:
            raise ValueError("candidates must name at least one survival model; got [].")
        names = []
        for entry in self.candidates:
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)):
                raise TypeError(
                    "candidates must be a list of (name, survival model) pairs; got "
                    f"{entry!r}.")
            check_survival_model(entry[1], f"candidate {entry[0]!r}")
            names.append(entry[0])
        if len(set(names)) < len(names):
            raise ValueError(f"candidate names must be unique; got {names}.")
        return list(self.candidates)

    def fit(self, X: Any, time: Any, event: Any, sample_weight: Any = None
            ) -> SelectedSurvivalModel:
        """Score every candidate on held-out rows and refit the best on all rows.

        Parameters
        ----------
        X : array-like of shape (n, p)
        time : array-like of shape (n,)
        event : array-like of shape (n,)
        sample_weight : array-like of shape (n,), optional
            Case weights, passed to each candidate's ``fit`` and weighting the losses.

        Returns
        -------
        self
        """
        validate_params(self)
        X, time, event, weight = check_model_data(X, time, event, sample_weight)
        n_events = int(event.sum())
        if n_events < self.n_folds:
            raise ValueError(
                f"SelectedSurvivalModel needs at least n_folds={self.n_folds} events to "
                f"cross-validate; got {n_events} among {time.size} rows.")
        horizon = (float(np.quantile(time, 0.9)) if self.horizon is None
                   else min(float(self.horizon), float(time.max())))
        candidates = self._candidates(time.size, X.shape[1], n_events)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        candidates = [(name, seeded_clone(model, seed)) for name, model in candidates]
        scorer = _HeldOut(time, event, weight, horizon, self.loss)
        folds = list(StratifiedKFold(self.n_folds, shuffle=True, random_state=seed)
                     .split(X, event))
        losses, fitted, self.cv_failures_ = {}, {}, {}
        if len(candidates) == 1:  # nothing to choose: no cross-validation
            losses[candidates[0][0]] = np.full(time.size, np.nan)
            candidates_to_score: list = []
        else:
            candidates_to_score = candidates
        for name, model in candidates_to_score:
            try:
                row_loss, final = self._score(model, X, time, event, weight, folds, scorer)
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as error:
                self.cv_failures_[name] = f"{type(error).__name__}: {error}"
                continue
            losses[name] = row_loss
            if final is not None:
                fitted[name] = final
        if not losses:
            raise ValueError("every candidate failed to fit: " + "; ".join(
                f"{name}: {message}" for name, message in self.cv_failures_.items()))
        means = {name: _mean(values) for name, values in losses.items()}
        self.cv_losses_ = means
        self.cv_errors_ = {name: _mean(values, error=True) for name, values in losses.items()}
        self.candidates_ = {name: model for name, model in candidates if name in losses}
        best = min(means, key=lambda name: np.inf if np.isnan(means[name]) else means[name]
                   ) if len(means) > 1 else next(iter(means))
        self._use(best, fitted.get(best), X, time, event, weight)
        self.horizon_ = horizon
        return self

    def refit_candidate(self, name: str, X: Any, time: Any, event: Any,
                        sample_weight: Any = None) -> SelectedSurvivalModel:
        """Make candidate ``name`` the fitted model (refitted on the data given), keeping
        :attr:`cv_losses_`: for a choice made jointly over several fits (one candidate for
        every treatment arm of a T-learner)."""
        check_is_fitted(self)
        if name not in self.candidates_:
            raise ValueError(f"name must be one of the candidates {list(self.candidates_)}; "
                             f"got {name!r}.")
        X, time, event, weight = check_model_data(X, time, event, sample_weight)
        self._use(name, None, X, time, event, weight)
        return self

    def _use(self, name: str, fitted: Any, X: np.ndarray, time: np.ndarray,
             event: np.ndarray, weight: np.ndarray | None) -> None:
        """Store candidate ``name`` (``fitted``, or fitted here on all rows) as the model."""
        best = fitted if fitted is not None else _fit(self.candidates_[name], X, time, event,
                                                        weight)
        check_fitted_curves(best, f"candidate {name!r}")
        self.best_name_ = name
        self.best_model_ = best
        if hasattr(best, "unique_times_"):
            self.unique_times_ = best.unique_times_
        elif hasattr(self, "unique_times_"):
            del self.unique_times_
        self.n_features_in_ = X.shape[1]

    def _score(self, model: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
               weight: np.ndarray | None, folds: list, scorer: _HeldOut
               ) -> tuple[np.ndarray, Any]:
        """Per-row held-out losses of ``model``, and its fit on all rows when scored out of
        bag."""
        if hasattr(model, "predict_survival_oob"):
            final = _fit(model, X, time, event, weight)
            return scorer.oob_losses(final), final
        out = np.full(time.size, np.nan)
        for train, test in folds:
            fitted = _fit(model, X[train], time[train], event[train],
                          None if weight is None else weight[train])
            out[test] = scorer.row_losses(test, fitted, X[test])
        return out, None

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """The chosen model's ``S(t | x)`` at ``times``, shape (n, len(times))."""
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        return self.best_model_.predict_survival(X, times)

    def restricted_mean(self, X: Any, horizon: float) -> np.ndarray:
        """The chosen model's ``integral_0^horizon S(t | x) dt``, shape (n,)."""
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        return rmst(self.best_model_, X, horizon)


def _mean(values: np.ndarray, error: bool = False) -> float:
    """Mean (or its standard error) of the finite losses; NaN when there are none."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan")
    return float(finite.std() / np.sqrt(finite.size)) if error else float(finite.mean())


def _fit(model: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
         weight: np.ndarray | None) -> Any:
    model = clone(model)
    if weight is None:
        return model.fit(X, time, event)
    return model.fit(X, time, event, sample_weight=weight)
