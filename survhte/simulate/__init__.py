"""Simulated survival data with causal ground truth.

Generators of the 40 synthetic datasets of SurvHTE-Bench (Noroozizadeh et al.,
"SurvHTE-Bench: A Benchmark for Heterogeneous Treatment Effect Estimation in Survival
Analysis", ICLR 2026): 8 causal configurations (:data:`CONFIGS`) x 5 survival scenarios
(:data:`SCENARIOS`), each with exact conditional truth, and the benchmark's
train/validation/test split protocol; their K-arm extension (:func:`multi_arm_bench`);
Acharki et al.'s multi-valued treatment designs (:func:`acharki_design`).
"""

from ._acharki import ACHARKI_DESIGNS, AcharkiSimulation, acharki_design
from ._data import SurvivalSimulation
from ._designs import CONFIGS, SCENARIOS
from ._generate import survhte_bench
from ._multi_arm import (
    MultiArmSimulation,
    multi_arm_bench,
    multi_arm_cate,
    multi_arm_potential_outcome,
)
from ._splits import benchmark_split, split_from_permutation
from ._stress import STRESS_DESIGNS, StressSimulation, stress_design
from ._truth import conditional_cate, conditional_potential_outcome

__all__ = [
    "ACHARKI_DESIGNS",
    "CONFIGS",
    "SCENARIOS",
    "STRESS_DESIGNS",
    "AcharkiSimulation",
    "MultiArmSimulation",
    "StressSimulation",
    "SurvivalSimulation",
    "acharki_design",
    "benchmark_split",
    "conditional_cate",
    "conditional_potential_outcome",
    "multi_arm_bench",
    "multi_arm_cate",
    "multi_arm_potential_outcome",
    "split_from_permutation",
    "stress_design",
    "survhte_bench",
]
