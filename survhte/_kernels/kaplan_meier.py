"""Kaplan-Meier survival curve, Greenwood variance and log-log confidence band.

Array-API kernels on a :class:`~survhte._kernels.risk_table.RiskTable`; elementwise operations
and one cumulative sum each, so O(m) in the number of unique times.

Conventions (shared with lifelines): a time with no event (``d_j = 0``, including a risk set of
zero total weight) leaves the curve unchanged; a time where every row at risk has its event
(``n_j = d_j``) sends the curve to 0 and contributes nothing to the Greenwood sum.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

from .risk_table import RiskTable


def survival_curve(table: RiskTable) -> Any:
    """Kaplan-Meier estimate ``S(t_j) = prod_{k <= j} (1 - d_k / n_k)`` at each unique time.

    The product is accumulated as ``exp(cumsum(log(n_k - d_k) - log(n_k)))``, exactly as
    lifelines does, so that no cumulative-product primitive is needed.
    """
    xp = array_namespace(table.n_events)
    has_event = table.n_events > 0
    survives = table.n_survivors > 0
    one = xp.ones_like(table.n_events)
    log_step = xp.log(xp.where(survives, table.n_survivors, one)) - xp.log(
        xp.where(has_event, table.n_at_risk, one)
    )
    log_step = xp.where(survives, log_step, xp.full_like(one, -xp.inf))
    log_step = xp.where(has_event, log_step, xp.zeros_like(one))
    return xp.exp(xp.cumulative_sum(log_step))


def greenwood_terms(table: RiskTable) -> Any:
    """Greenwood increments ``d_j / (n_j (n_j - d_j))``, zero where ``d_j = 0`` or ``n_j = d_j``.

    With case weights, ``n_j`` and ``d_j`` are weighted totals: the plug-in analogue, exact for
    frequency weights (a weight of 2 is a duplicated row) but not a valid variance for
    estimated inverse-probability weights.
    """
    xp = array_namespace(table.n_events)
    defined = (table.n_events > 0) & (table.n_survivors > 0)
    denominator = xp.where(defined, table.n_at_risk * table.n_survivors,
                           xp.ones_like(table.n_events))
    return xp.where(defined, table.n_events / denominator, xp.zeros_like(table.n_events))


def greenwood_variance(survival: Any, terms: Any) -> Any:
    """Greenwood (1926) variance ``Var S(t_j) = S(t_j)^2 sum_{k <= j} terms_k``."""
    xp = array_namespace(survival)
    return survival**2 * xp.cumulative_sum(terms)


def loglog_interval(survival: Any, terms: Any, z: float) -> tuple[Any, Any]:
    """Pointwise confidence band from the log(-log S) transform (Kalbfleisch & Prentice 1980).

    ``(lower, upper) = S ** exp(-+z sigma / log S)`` with the Greenwood sum
    ``sigma^2 = sum_{k <= j} terms_k``, written as ``exp(-exp(log(-log S) -+ z sigma / log S))``
    as lifelines does. Where ``S = 1`` or
    ``S = 0`` the band collapses onto ``S``.

    Parameters
    ----------
    survival, terms : arrays of shape (m,)
        Output of :func:`survival_curve` and :func:`greenwood_terms`.
    z : float
        Standard normal quantile ``Phi^{-1}(1 - alpha / 2)``.

    Returns
    -------
    lower, upper : arrays of shape (m,)
    """
    xp = array_namespace(survival)
    interior = (survival > 0.0) & (survival < 1.0)
    log_s = xp.log(xp.where(interior, survival, xp.full_like(survival, 0.5)))
    centre = xp.log(-log_s)
    spread = z * xp.sqrt(xp.cumulative_sum(terms)) / log_s
    lower = xp.where(interior, xp.exp(-xp.exp(centre - spread)), survival)
    upper = xp.where(interior, xp.exp(-xp.exp(centre + spread)), survival)
    return lower, upper
