"""Study files: read a TOML study description and check it, naming the offending key.

See ``simulations/README.md`` for the format. :func:`load_study` returns a :class:`Study`:
designs (a generator of :mod:`survhte.simulate` or a benchmark dataset), repeats, sizes,
methods with parameters, estimands (target and horizon rule) and metrics.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from .._validation import TARGETS
from ..simulate import ACHARKI_DESIGNS, CONFIGS, SCENARIOS
from ._methods import METHODS, RESERVED_PARAMS, check_method_params
from ._presets import preset_text

GENERATORS = ("survhte_bench", "multi_arm_bench", "acharki")
"""Generators of :mod:`survhte.simulate` a design may name: the SurvHTE-Bench designs, their
K-arm extension (:func:`~survhte.simulate.multi_arm_bench`) and Acharki et al.'s designs
(:func:`~survhte.simulate.acharki_design`)."""

DATASETS = ("actg-synthetic",)
"""Benchmark datasets a design may name (their own split files and truth)."""

METRICS = ("cate_mse", "ate_bias", "coverage", "time", "memory")
"""Metric groups; see :func:`survhte.study.execute_task` for the columns each one fills."""

HORIZON_RULES = ("median_T", "max_train_time", "quantile_T:Q")
"""Horizon rules besides a number; Q in (0, 1] is a quantile of the factual event time."""

BENCHMARK_SPLIT = "survhte-bench"
"""``split_file`` value meaning SurvHTE-Bench's ``synthetic/idx_split.csv`` (via data_home)."""

REQUIRED = object()
"""Default marking a key that must be present."""

_QUANTILE_RULE = re.compile(r"quantile_T:(?P<q>[0-9.eE+-]+)")
_TOP_KEYS = ("name", "seed", "repeats", "alpha", "metrics", "sizes", "designs", "methods",
             "estimands")
_GENERATOR_KEYS = ("generator", "configs", "scenarios", "n", "legacy", "random_state",
                   "split_file", "data_home", "label")
_DATASET_KEYS = ("dataset", "data_home", "label")
_MULTI_ARM_KEYS = ("generator", "configs", "scenarios", "n_treated", "effects", "n", "label")
_ACHARKI_KEYS = ("generator", "designs", "n_levels", "censoring", "confounding", "n", "label")
#: Values of an ``acharki`` design's ``censoring`` list (TOML has no null: "none").
_ACHARKI_CENSORING = ("none", "uniform", "covariate")


class StudyFileError(ValueError):
    """A study file that cannot be run; the message starts with the offending key."""


@dataclass(frozen=True)
class Design:
    """One data-generating design.

    Attributes
    ----------
    name : str
        Unique name, e.g. ``"OBS-CPS_A"``; results are partitioned by it.
    source : str
        A generator (:data:`GENERATORS`) or a dataset (:data:`DATASETS`).
    options : tuple of (str, value)
        The source's options: for ``survhte_bench`` ``config``, ``scenario``, ``n``,
        ``legacy``, ``random_state`` (fixed data seed or None = one seed per repeat),
        ``split_file``, ``data_home``; for ``multi_arm_bench`` ``config``, ``scenario``,
        ``n_treated``, ``effects``, ``n``; for ``acharki`` ``design``, ``n_levels``,
        ``censoring`` (None = uncensored), ``confounding``, ``n``; for a dataset ``data_home``.
    """

    name: str
    source: str
    options: tuple[tuple[str, Any], ...]

    def option(self, key: str) -> Any:
        """Value of option ``key`` (None when absent)."""
        return dict(self.options).get(key)

    def spec(self) -> dict[str, Any]:
        """JSON-serialisable description (part of every task's id)."""
        return {"name": self.name, "source": self.source, **dict(self.options)}


@dataclass(frozen=True)
class MethodSpec:
    """A method of the study: its name in results, registry key and parameters."""

    name: str
    method: str
    params: tuple[tuple[str, Any], ...] = ()

    def spec(self) -> dict[str, Any]:
        """JSON-serialisable description (part of every task's id)."""
        return {"name": self.name, "method": self.method, "params": _plain(dict(self.params))}


@dataclass(frozen=True)
class Estimand:
    """Target (``"rmst"`` or ``"survival"``) and horizon (a number or a rule)."""

    target: str
    horizon: float | str

    @property
    def label(self) -> str:
        """Short name, e.g. ``"rmst@median_T"``."""
        horizon = f"{self.horizon:g}" if isinstance(self.horizon, float) else self.horizon
        return f"{self.target}@{horizon}"


@dataclass(frozen=True)
class Study:
    """A checked study description; expand it into tasks with :func:`survhte.study.expand`.

    Attributes
    ----------
    name : str
    seed : int
        Base seed: repeat ``r`` draws its data and method seeds from ``SeedSequence([seed, r])``.
    repeats : tuple of int
    sizes : tuple of int
        Train / validation / test rows of generator designs.
    alpha : float
        Miscoverage of intervals (``1 - alpha`` intervals).
    metrics : tuple of str
        Metric groups, a subset of :data:`METRICS`.
    designs : tuple of Design
    methods : tuple of MethodSpec
    estimands : tuple of Estimand
    """

    name: str
    seed: int
    repeats: tuple[int, ...]
    sizes: tuple[int, int, int]
    alpha: float
    metrics: tuple[str, ...]
    designs: tuple[Design, ...]
    methods: tuple[MethodSpec, ...]
    estimands: tuple[Estimand, ...]

    def select(
        self,
        *,
        repeats: Sequence[int] | None = None,
        methods: Sequence[str] | None = None,
        designs: Sequence[str] | None = None,
    ) -> Study:
        """A copy restricted to some repeats, methods (by name) and designs (glob patterns).

        Raises
        ------
        StudyFileError
            If a method name or design pattern matches nothing.
        """
        study = self
        if repeats is not None:
            study = replace(study, repeats=tuple(_repeats(list(repeats), "--repeats")))
        if methods is not None:
            known = {m.name: m for m in self.methods}
            unknown = [m for m in methods if m not in known]
            if unknown:
                raise StudyFileError(
                    f"--methods: {', '.join(unknown)} not in the study; methods are "
                    f"{', '.join(known)}"
                )
            study = replace(study, methods=tuple(known[m] for m in methods))
        if designs is not None:
            for pattern in designs:
                if not any(fnmatchcase(d.name, pattern) for d in self.designs):
                    raise StudyFileError(
                        f"--designs: {pattern!r} matches no design; designs are "
                        f"{', '.join(d.name for d in self.designs)}"
                    )
            study = replace(study, designs=tuple(
                d for d in self.designs if any(fnmatchcase(d.name, p) for p in designs)
            ))
        return study


def load_study(source: str | os.PathLike[str]) -> Study:
    """Read and check a study file, or a preset given as ``"preset:NAME"``.

    Parameters
    ----------
    source : str or path-like
        Path of a TOML study file, or ``preset:survhte-bench`` / ``preset:actg-syn``.

    Returns
    -------
    Study

    Raises
    ------
    StudyFileError
        If the file breaks a rule; the message names the key, e.g. ``designs[0].configs``.
    FileNotFoundError
        If the file (or a preset) does not exist.

    Examples
    --------
    >>> from survhte.study import load_study
    >>> study = load_study("preset:survhte-bench")     # or the path of a TOML study file
    >>> len(study.designs)
    40
    """
    text, label = _read_source(str(source))
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StudyFileError(f"{label}: not valid TOML: {error}") from None
    try:
        return parse_study(table, default_name=Path(label).stem)
    except StudyFileError as error:
        raise StudyFileError(f"{label}: {error}") from None


def _read_source(source: str) -> tuple[str, str]:
    """The TOML text of a study file or preset, and its label for error messages."""
    if source.startswith("preset:"):
        name = source.removeprefix("preset:")
        return preset_text(name), f"preset:{name}"
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"study file not found: {path}")
    return path.read_text(encoding="utf-8"), str(path)


def parse_study(table: Mapping[str, Any], default_name: str = "study") -> Study:
    """Check a parsed study table and return the :class:`Study` (see :func:`load_study`).

    Examples
    --------
    >>> from survhte.study import parse_study
    >>> study = parse_study({
    ...     "name": "tiny", "seed": 0, "repeats": 1,
    ...     "sizes": {"train": 300, "val": 0, "test": 300},
    ...     "designs": [{"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["A"]}],
    ...     "methods": [{"name": "t-cox", "method": "survival-t-learner",
    ...                  "params": {"base_model": "cox", "n_bootstrap": 0}}],
    ...     "estimands": [{"target": "rmst", "horizons": ["median_T"]}],
    ... })
    >>> [design.name for design in study.designs], [method.name for method in study.methods]
    (['RCT-50_A'], ['t-cox'])
    """
    _no_unknown(table, _TOP_KEYS, "")
    name = _get(table, "name", str, default_name, "name")
    seed = _get(table, "seed", int, 0, "seed")
    repeats_value = _get(table, "repeats", (int, list), 1, "repeats")
    repeats = (
        tuple(range(_positive(repeats_value, "repeats")))
        if isinstance(repeats_value, int) else tuple(_repeats(repeats_value, "repeats"))
    )
    alpha = _get(table, "alpha", float, 0.05, "alpha")
    if not 0 < alpha < 1:
        raise StudyFileError(f"alpha: must be in (0, 1); got {alpha!r}")
    metrics = tuple(_get(table, "metrics", list, list(METRICS), "metrics"))
    for i, metric in enumerate(metrics):
        if metric not in METRICS:
            raise StudyFileError(
                f"metrics[{i}]: unknown metric {metric!r}; metrics are {', '.join(METRICS)}"
            )
    sizes = _sizes(_get(table, "sizes", dict, {}, "sizes"))
    designs = _designs(table)
    for design in designs:
        n = design.option("n")
        if n is not None and sum(sizes) > n:
            raise StudyFileError(
                f"sizes: train + val + test = {sum(sizes)} is more than the n = {n} rows of "
                f"design {design.name}"
            )
    return Study(
        name=name,
        seed=seed,
        repeats=repeats,
        sizes=sizes,
        alpha=alpha,
        metrics=metrics,
        designs=designs,
        methods=_methods(table.get("methods", "all")),
        estimands=_estimands(table),
    )


def _sizes(table: Mapping[str, Any]) -> tuple[int, int, int]:
    _no_unknown(table, ("train", "val", "test"), "sizes.")
    train = _positive(_get(table, "train", int, 5_000, "sizes.train"), "sizes.train")
    val = _get(table, "val", int, 2_500, "sizes.val")
    if val < 0:
        raise StudyFileError(f"sizes.val: must be >= 0; got {val}")
    test = _positive(_get(table, "test", int, 2_500, "sizes.test"), "sizes.test")
    return train, val, test


def _designs(table: Mapping[str, Any]) -> tuple[Design, ...]:
    entries = _get(table, "designs", list, REQUIRED, "designs")
    if not entries:
        raise StudyFileError("designs: give at least one [[designs]] table")
    designs: list[Design] = []
    for i, entry in enumerate(entries):
        where = f"designs[{i}]"
        if not isinstance(entry, dict):
            raise StudyFileError(f"{where}: must be a table")
        if ("generator" in entry) == ("dataset" in entry):
            raise StudyFileError(f"{where}: give exactly one of 'generator' and 'dataset'")
        designs.extend(
            _generator_designs(entry, where) if "generator" in entry
            else [_dataset_design(entry, where)]
        )
    seen: set[str] = set()
    for design in designs:
        if design.name in seen:
            raise StudyFileError(
                f"designs: design {design.name!r} appears twice; give one of them a 'label'"
            )
        seen.add(design.name)
    return tuple(designs)


def _generator_designs(entry: Mapping[str, Any], where: str) -> list[Design]:
    generator = entry["generator"]
    if generator not in GENERATORS:
        raise StudyFileError(
            f"{where}.generator: unknown generator {generator!r}; generators are "
            f"{', '.join(GENERATORS)}"
        )
    if generator == "multi_arm_bench":
        return _multi_arm_designs(entry, where)
    if generator == "acharki":
        return _acharki_designs(entry, where)
    _no_unknown(entry, _GENERATOR_KEYS, f"{where}.")
    configs = _choices(entry, "configs", CONFIGS, where)
    scenarios = _choices(entry, "scenarios", SCENARIOS, where)
    n = _get(entry, "n", int, None, f"{where}.n")
    if n is not None:
        _positive(n, f"{where}.n")
    legacy = _get(entry, "legacy", bool, False, f"{where}.legacy")
    random_state = _get(entry, "random_state", int, None, f"{where}.random_state")
    split_file = _get(entry, "split_file", str, None, f"{where}.split_file")
    data_home = _get(entry, "data_home", str, None, f"{where}.data_home")
    if random_state is not None and split_file is None:
        raise StudyFileError(
            f"{where}.random_state: a fixed data seed gives every repeat the same rows; give "
            "split_file too (or drop random_state for one data seed per repeat)"
        )
    if n is None and split_file is not None:
        raise StudyFileError(f"{where}.n: give the rows to generate when a split_file is used")
    label = _get(entry, "label", str, "", f"{where}.label")
    options = {"n": n, "legacy": legacy, "random_state": random_state,
               "split_file": split_file, "data_home": data_home}
    return [
        Design(
            name=f"{label}{config}_{scenario}",
            source=generator,
            options=tuple({"config": config, "scenario": scenario, **options}.items()),
        )
        for config in configs
        for scenario in scenarios
    ]


def _multi_arm_designs(entry: Mapping[str, Any], where: str) -> list[Design]:
    """Designs of ``generator = "multi_arm_bench"``: configs x scenarios x n_treated x effects,
    named ``{label}{config}_{scenario}_K{K}`` (``_shared`` appended for shared effects)."""
    _no_unknown(entry, _MULTI_ARM_KEYS, f"{where}.")
    configs = _choices(entry, "configs", CONFIGS, where)
    scenarios = _choices(entry, "scenarios", SCENARIOS, where)
    levels = _integers(entry, "n_treated", [2], 1, 5, where)
    effects = _choices(entry, "effects", ("distinct", "shared"), where, default=["distinct"])
    n = _get(entry, "n", int, None, f"{where}.n")
    if n is not None:
        _positive(n, f"{where}.n")
    label = _get(entry, "label", str, "", f"{where}.label")
    return [
        Design(
            name=f"{label}{config}_{scenario}_K{k}" + ("_shared" if effect == "shared" else ""),
            source="multi_arm_bench",
            options=(("config", config), ("scenario", scenario), ("n_treated", k),
                     ("effects", effect), ("n", n)),
        )
        for config in configs
        for scenario in scenarios
        for k in levels
        for effect in effects
    ]


def _acharki_designs(entry: Mapping[str, Any], where: str) -> list[Design]:
    """Designs of ``generator = "acharki"``: designs x n_levels x censoring x confounding,
    named ``{label}acharki-{design}_K{K}_{censoring}_{confounded|randomised}``."""
    _no_unknown(entry, _ACHARKI_KEYS, f"{where}.")
    names = _choices(entry, "designs", ACHARKI_DESIGNS, where)
    levels = _integers(entry, "n_levels", [10], 2, 50, where)
    censorings = _choices(entry, "censoring", _ACHARKI_CENSORING, where, default=["none"])
    confounding = _get(entry, "confounding", list, [False], f"{where}.confounding")
    if not confounding or not all(isinstance(value, bool) for value in confounding):
        raise StudyFileError(f"{where}.confounding: give a list of true / false")
    n = _get(entry, "n", int, None, f"{where}.n")
    if n is not None:
        _positive(n, f"{where}.n")
    label = _get(entry, "label", str, "", f"{where}.label")
    return [
        Design(
            name=f"{label}acharki-{name}_K{k}_{censoring}_"
            + ("confounded" if confounded else "randomised"),
            source="acharki",
            options=(("design", name), ("n_levels", k),
                     ("censoring", None if censoring == "none" else censoring),
                     ("confounding", confounded), ("n", n)),
        )
        for name in names
        for k in levels
        for censoring in censorings
        for confounded in confounding
    ]


def _integers(
    entry: Mapping[str, Any], key: str, default: list[int], low: int, high: int, where: str
) -> list[int]:
    """A non-empty list of distinct integers in [low, high] (``default`` when absent)."""
    values = _get(entry, key, list, default, f"{where}.{key}")
    if not values:
        raise StudyFileError(f"{where}.{key}: give at least one")
    for j, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
            raise StudyFileError(
                f"{where}.{key}[{j}]: must be an integer {low}..{high}; got {value!r}"
            )
    if len(set(values)) != len(values):
        raise StudyFileError(f"{where}.{key}: a value appears twice")
    return [int(v) for v in values]


def _dataset_design(entry: Mapping[str, Any], where: str) -> Design:
    _no_unknown(entry, _DATASET_KEYS, f"{where}.")
    dataset = entry["dataset"]
    if dataset not in DATASETS:
        raise StudyFileError(
            f"{where}.dataset: unknown dataset {dataset!r}; datasets are {', '.join(DATASETS)}"
        )
    data_home = _get(entry, "data_home", str, None, f"{where}.data_home")
    label = _get(entry, "label", str, "", f"{where}.label")
    return Design(name=f"{label}{dataset}", source=dataset, options=(("data_home", data_home),))


def _methods(value: Any) -> tuple[MethodSpec, ...]:
    if value == "all":
        return tuple(
            MethodSpec(key, key, tuple(entry.defaults.items())) for key, entry in METHODS.items()
        )
    if not isinstance(value, list) or not value:
        raise StudyFileError(
            "methods: give \"all\" (every registered method with its defaults) or [[methods]] "
            "tables"
        )
    specs: list[MethodSpec] = []
    for i, entry in enumerate(value):
        where = f"methods[{i}]"
        if not isinstance(entry, dict):
            raise StudyFileError(f"{where}: must be a table")
        _no_unknown(entry, ("name", "method", "params"), f"{where}.")
        method = _get(entry, "method", str, REQUIRED, f"{where}.method")
        if method not in METHODS:
            raise StudyFileError(
                f"{where}.method: unknown method {method!r}; registered methods are "
                f"{', '.join(METHODS)}"
            )
        params = {**METHODS[method].defaults,
                  **_get(entry, "params", dict, {}, f"{where}.params")}
        for reserved in RESERVED_PARAMS:
            if reserved in params:
                raise StudyFileError(
                    f"{where}.params.{reserved}: set by the study (estimands and seed), not per "
                    "method"
                )
        try:
            check_method_params(method, params, f"{where}.params")
        except ValueError as error:
            raise StudyFileError(str(error)) from None
        specs.append(MethodSpec(_get(entry, "name", str, method, f"{where}.name"), method,
                                tuple(params.items())))
    names = [spec.name for spec in specs]
    for name in names:
        if names.count(name) > 1:
            raise StudyFileError(f"methods: name {name!r} appears twice; names must be unique")
    return tuple(specs)


def _estimands(table: Mapping[str, Any]) -> tuple[Estimand, ...]:
    entries = _get(table, "estimands", list, [{"target": "rmst", "horizons": ["median_T"]}],
                   "estimands")
    estimands: list[Estimand] = []
    for i, entry in enumerate(entries):
        where = f"estimands[{i}]"
        if not isinstance(entry, dict):
            raise StudyFileError(f"{where}: must be a table")
        _no_unknown(entry, ("target", "horizons"), f"{where}.")
        target = _get(entry, "target", str, REQUIRED, f"{where}.target")
        if target not in TARGETS:
            raise StudyFileError(
                f"{where}.target: unknown target {target!r}; targets are {', '.join(TARGETS)}"
            )
        horizons = _get(entry, "horizons", list, REQUIRED, f"{where}.horizons")
        if not horizons:
            raise StudyFileError(f"{where}.horizons: give at least one horizon")
        estimands.extend(
            Estimand(target, check_horizon_rule(h, f"{where}.horizons[{j}]"))
            for j, h in enumerate(horizons)
        )
    return tuple(estimands)


def check_horizon_rule(value: Any, where: str = "horizon") -> float | str:
    """A positive number (as float) or a rule of :data:`HORIZON_RULES`, else StudyFileError."""
    if isinstance(value, Real) and not isinstance(value, bool):
        if not (math.isfinite(value) and value > 0):
            raise StudyFileError(f"{where}: a horizon must be a positive finite number")
        return float(value)
    if value in ("median_T", "max_train_time"):
        return value
    match = _QUANTILE_RULE.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        q = float(match["q"])
        if 0 < q <= 1:
            return f"quantile_T:{q:g}"
    raise StudyFileError(
        f"{where}: {value!r} is not a horizon; give a positive number or one of "
        f"{', '.join(HORIZON_RULES)}"
    )


def _no_unknown(table: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise StudyFileError(f"{prefix}{key}: unknown key; keys are {', '.join(allowed)}")


def _get(table: Mapping[str, Any], key: str, kind: Any, default: Any, where: str) -> Any:
    """``table[key]`` checked against ``kind``; ``default`` if absent (``REQUIRED``: error)."""
    if key not in table:
        if default is REQUIRED:
            raise StudyFileError(f"{where}: required")
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, Integral) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) != (bool in kinds) or not isinstance(value, kinds):
        raise StudyFileError(f"{where}: expected {_kind_name(kinds)}; got {value!r}")
    return value


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             list: "an array", dict: "a table"}
    return " or ".join(names[k] for k in kinds)


def _positive(value: int, where: str) -> int:
    if value < 1:
        raise StudyFileError(f"{where}: must be a positive integer; got {value}")
    return value


def _repeats(values: list[Any], where: str) -> list[int]:
    if not values:
        raise StudyFileError(f"{where}: give at least one repeat")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
            raise StudyFileError(f"{where}: repeats are non-negative integers; got {value!r}")
    if len(set(values)) != len(values):
        raise StudyFileError(f"{where}: a repeat appears twice")
    return [int(v) for v in values]


def _choices(
    entry: Mapping[str, Any], key: str, allowed: Sequence[str], where: str,
    default: list[str] | None = None,
) -> list[str]:
    values = _get(entry, key, list, list(allowed) if default is None else default,
                  f"{where}.{key}")
    if not values:
        raise StudyFileError(f"{where}.{key}: give at least one")
    for j, value in enumerate(values):
        if value not in allowed:
            raise StudyFileError(
                f"{where}.{key}[{j}]: unknown {key.removesuffix('s')} {value!r}; {key} are "
                f"{', '.join(allowed)}"
            )
    return list(values)


def _plain(value: Any) -> Any:
    """Nested tables as sorted plain dicts (stable JSON for task ids)."""
    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
