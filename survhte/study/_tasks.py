"""Tasks: one (design, repeat, method, estimand) each, identified by a hash of its full spec."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ._spec import Design, Estimand, MethodSpec, Study


@dataclass(frozen=True)
class Task:
    """Everything one worker needs to produce one result row (small: no data inside).

    Attributes
    ----------
    study : str
        Name of the study (not part of the id: renaming a study keeps its results).
    design : Design
    repeat : int
    method : MethodSpec
    estimand : Estimand
    sizes : (train, val, test)
    seed : int
        The study's base seed.
    alpha : float
    metrics : tuple of str
    """

    study: str
    design: Design
    repeat: int
    method: MethodSpec
    estimand: Estimand
    sizes: tuple[int, int, int]
    seed: int
    alpha: float
    metrics: tuple[str, ...]

    def spec(self) -> dict[str, Any]:
        """The JSON-serialisable spec the id hashes."""
        return {
            "design": self.design.spec(),
            "repeat": self.repeat,
            "method": self.method.spec(),
            "target": self.estimand.target,
            "horizon": self.estimand.horizon,
            "sizes": list(self.sizes),
            "seed": self.seed,
            "alpha": self.alpha,
            "metrics": sorted(self.metrics),
        }

    @cached_property
    def id(self) -> str:
        """Stable id: the first 20 hex digits of the SHA-256 of the canonical JSON spec."""
        text = json.dumps(self.spec(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def seeds(self) -> tuple[int, int]:
        """``(data_seed, method_seed)`` of this repeat; see :func:`repeat_seeds`."""
        return repeat_seeds(self.seed, self.repeat)


def repeat_seeds(seed: int, repeat: int) -> tuple[int, int]:
    """Data and method seeds of repeat ``repeat`` of a study with base seed ``seed``.

    Both come from ``numpy.random.SeedSequence([seed, repeat])``; every design and method of a
    repeat shares them (common random numbers). A design with a fixed ``random_state``
    (the legacy benchmark data) ignores the data seed.

    Returns
    -------
    data_seed, method_seed : int
        32-bit seeds, valid for ``default_rng`` and legacy ``RandomState``.
    """
    data_seed, method_seed = np.random.SeedSequence([seed, repeat]).generate_state(2)
    return int(data_seed), int(method_seed)


def expand(study: Study) -> list[Task]:
    """All tasks of ``study``: designs x repeats x methods x estimands, in that nesting."""
    return [
        Task(study.name, design, repeat, method, estimand, study.sizes, study.seed, study.alpha,
             study.metrics)
        for design in study.designs
        for repeat in study.repeats
        for method in study.methods
        for estimand in study.estimands
    ]
