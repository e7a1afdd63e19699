"""The method registry: study method name -> how to build the estimator from its parameters.

Adding an estimator to studies is one entry in :data:`METHODS`. A study gives each method its
registry key and a table of parameters; the runner builds the estimator with
``build(target=..., horizon=..., random_state=..., **params)``. A parameter whose value is a
string or a table with key ``model`` naming an entry of :data:`COMPONENTS` (``"cox"`` or
``{model = "cox", penalizer = 0.1}``) becomes that component (e.g. a base survival model).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge

from .. import imputed_learners, survival_model_learners
from ..forest import CausalSurvivalForest, MultiArmCausalSurvivalForest, SurvivalForest
from ..survival import CoxPH, KaplanMeierSurvival, WeibullAFT

#: Keys the runner sets itself; a study may not give them as method parameters. ``control``
#: is 0: every design codes its treatment 0 (control) / 1 (treated).
RESERVED_PARAMS = ("target", "horizon", "random_state", "control")


@dataclass(frozen=True)
class Method:
    """One registry entry.

    Attributes
    ----------
    estimator : type
        The estimator class; its ``__init__`` takes ``target``, ``horizon``, (if it is
        random) ``random_state`` and (if it has one) ``control`` besides the study's
        parameters.
    description : str
        One line for tables and ``--help``.
    defaults : Mapping[str, Any]
        Study defaults, overridden by the parameters a study gives (e.g. no bootstrap unless
        asked for, to keep studies cheap).
    """

    estimator: type
    description: str
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def parameter_names(self) -> tuple[str, ...]:
        """Names the estimator's ``__init__`` accepts, less :data:`RESERVED_PARAMS`."""
        names = inspect.signature(self.estimator).parameters
        return tuple(name for name in names if name not in RESERVED_PARAMS)

    def build(self, *, target: str, horizon: float, random_state: int, **params: Any) -> Any:
        """The unfitted estimator for one task (components in ``params`` resolved)."""
        accepted = inspect.signature(self.estimator).parameters
        kwargs = {name: resolve_component(value) for name, value in params.items()}
        kwargs |= {"target": target, "horizon": horizon}
        if "random_state" in accepted:
            kwargs["random_state"] = random_state
        if "control" in accepted:
            kwargs["control"] = 0
        return self.estimator(**kwargs)


#: Components a method parameter may name: ``name -> class`` built from the table's other keys.
#: Survival models (``base_model``, ``censoring_model``) and regressors (``base_learner``,
#: ``effect_learner``, ``effect_model``).
COMPONENTS: dict[str, Callable[..., Any]] = {
    "cox": CoxPH,
    "weibull": WeibullAFT,
    "km": KaplanMeierSurvival,
    "survival-forest": SurvivalForest,
    "ridge": Ridge,
    "random-forest": RandomForestRegressor,
    "hist-gradient-boosting": HistGradientBoostingRegressor,
}

#: Study defaults of the learners with a bootstrap: none unless a study asks for intervals.
_NO_BOOTSTRAP = {"n_bootstrap": 0}


def _registered(learners: Mapping[str, type], names: Mapping[str, tuple[str, str]]
                ) -> dict[str, Method]:
    """Registry entries of a learner family: ``short name -> (registry key, description)``."""
    entries = {}
    for short, (key, description) in names.items():
        estimator = learners[short]
        defaults = _NO_BOOTSTRAP if "n_bootstrap" in inspect.signature(estimator).parameters \
            else {}
        entries[key] = Method(estimator, description, defaults)
    return entries


#: Methods a study may use, one entry per estimator (keys are the names studies use). Only
#: CATE estimators (``fit(X, y, w)``, ``predict(X)``, ``ate()``) belong here. The imputation
#: meta-learners take ``imputation`` (one of :data:`survhte.imputed_learners.IMPUTATIONS`) as a
#: parameter.
METHODS: dict[str, Method] = {
    **_registered(survival_model_learners.LEARNERS, {
        "S": ("survival-s-learner", "S-learner, one survival model on (X, W)"),
        "T": ("survival-t-learner", "T-learner, one survival model per arm"),
        "X": ("survival-x-learner", "X-learner on IPCW-weighted imputed effects"),
        "M": ("survival-m-learner", "M-learner, IPCW-weighted modified outcome"),
        "R": ("survival-r-learner", "R-learner, IPCW-weighted Robinson loss"),
        "Matching": ("matching", "nearest-neighbour matching on an S-learner's outcomes"),
    }),
    **_registered(imputed_learners.LEARNERS, {
        "T": ("t-learner", "T-learner, one regression per arm of an imputed outcome"),
        "S": ("s-learner", "S-learner, one regression of an imputed outcome on (X, W)"),
        "X": ("x-learner", "X-learner on imputed outcomes"),
        "DR": ("dr-learner", "DR-learner, cross-fitted AIPW pseudo-outcome of an imputed outcome"),
        "R": ("r-learner", "R-learner, cross-fitted Robinson residuals (IPCW complete cases)"),
    }),
    "causal-survival-forest": Method(
        CausalSurvivalForest, "causal survival forest (Cui et al. 2023), grf defaults"),
    "multi-arm-causal-survival-forest": Method(
        MultiArmCausalSurvivalForest,
        "multi-arm causal survival forest: one forest for all treated levels, grf defaults"),
}


def resolve_component(value: Any) -> Any:
    """``"cox"`` or ``{model = "cox", ...}`` -> the component instance; other values unchanged."""
    if isinstance(value, str) and value in COMPONENTS:
        return COMPONENTS[value]()
    if isinstance(value, Mapping) and value.get("model") in COMPONENTS:
        options = {key: item for key, item in value.items() if key != "model"}
        return COMPONENTS[value["model"]](**options)
    return value


def check_method_params(method: str, params: Mapping[str, Any], where: str) -> None:
    """Raise ValueError naming ``where`` if ``params`` does not suit registry entry ``method``.

    Checks the parameter names against the estimator's signature and builds every component,
    so a typo fails when the study file is read, not inside a worker.
    """
    entry = METHODS[method]
    allowed = entry.parameter_names()
    for name, value in params.items():
        if name not in allowed:
            raise ValueError(
                f"{where}.{name}: not a parameter of {method} ({entry.estimator.__name__}); "
                f"parameters are {', '.join(allowed)}"
            )
        if isinstance(value, Mapping) and "model" in value:
            if value["model"] not in COMPONENTS:
                raise ValueError(
                    f"{where}.{name}.model: unknown component {value['model']!r}; "
                    f"components are {', '.join(COMPONENTS)}"
                )
            try:
                resolve_component(value)
            except TypeError as error:
                raise ValueError(f"{where}.{name}: {error}") from None
