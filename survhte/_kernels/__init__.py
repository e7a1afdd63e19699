"""Array-API kernels: one implementation for NumPy and CuPy arrays (inputs pre-validated)."""

from .kaplan_meier import greenwood_terms, greenwood_variance, loglog_interval, survival_curve
from .nelson_aalen import cumulative_hazard, cumulative_hazard_variance
from .pseudo_observations import added_pseudo_values, jackknife_pseudo_values, km_functional
from .risk_table import RiskTable, risk_table
from .step_function import restricted_mean, restricted_mean_variance, step_values

__all__ = [
    "RiskTable",
    "added_pseudo_values",
    "cumulative_hazard",
    "cumulative_hazard_variance",
    "greenwood_terms",
    "greenwood_variance",
    "jackknife_pseudo_values",
    "km_functional",
    "loglog_interval",
    "restricted_mean",
    "restricted_mean_variance",
    "risk_table",
    "step_values",
    "survival_curve",
]
