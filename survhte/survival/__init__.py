"""Nonparametric survival primitives: Kaplan-Meier, Nelson-Aalen, RMST and group contrasts."""

from ._groups import RMSTDifference, kaplan_meier_by_group, rmst_difference
from ._nonparametric import KaplanMeier, NelsonAalen

__all__ = [
    "KaplanMeier",
    "NelsonAalen",
    "RMSTDifference",
    "kaplan_meier_by_group",
    "rmst_difference",
]
