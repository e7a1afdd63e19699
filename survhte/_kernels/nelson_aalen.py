"""Nelson-Aalen cumulative hazard and its variance (array-API kernels on a risk table)."""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

from .risk_table import RiskTable


def cumulative_hazard(table: RiskTable) -> Any:
    """Nelson (1972) / Aalen (1978) estimate ``H(t_j) = sum_{k <= j} d_k / n_k``.

    Times with no event (including a risk set of zero total weight) add nothing.
    """
    xp = array_namespace(table.n_events)
    has_event = table.n_events > 0
    at_risk = xp.where(has_event, table.n_at_risk, xp.ones_like(table.n_at_risk))
    increments = xp.where(has_event, table.n_events / at_risk, xp.zeros_like(at_risk))
    return xp.cumulative_sum(increments)


def cumulative_hazard_variance(table: RiskTable) -> Any:
    """Binomial-type variance ``sum_{k <= j} (n_k - d_k) d_k / n_k^3``.

    The formula of lifelines' ``NelsonAalenFitter(nelson_aalen_smoothing=False)``, written as
    ``(1 - d/n) (d/n) / n`` there. Without ties (``d_k = 1``) it differs from the Poisson-type
    ``sum d_k / n_k^2`` (Klein & Moeschberger 2003, Sec. 4.2) only by ``sum 1 / n_k^3``.
    """
    xp = array_namespace(table.n_events)
    has_event = table.n_events > 0
    at_risk = xp.where(has_event, table.n_at_risk, xp.ones_like(table.n_at_risk))
    increments = table.n_survivors * table.n_events / at_risk**3
    return xp.cumulative_sum(xp.where(has_event, increments, xp.zeros_like(at_risk)))
