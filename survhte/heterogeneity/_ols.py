"""Least squares with HC3 heteroskedasticity-robust standard errors (statsmodels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

COLUMNS = ["estimate", "std_error", "t_value", "p_value", "ci_lower", "ci_upper"]


def hc3_table(response: np.ndarray, design: np.ndarray, terms: list[str],
              alpha: float = 0.05) -> pd.DataFrame:
    """OLS of ``response`` on ``design`` (no added intercept) with HC3 errors (MacKinnon &
    White 1985): estimate, std_error, t_value, two-sided p_value and the ``1 - alpha``
    interval. The reference distribution is Student's t with ``n - p`` degrees of freedom,
    as R's ``lmtest::coeftest`` on an ``lm`` fit (what grf reports).
    """
    n, p = design.shape
    if np.linalg.matrix_rank(design) < p:
        raise ValueError(
            f"the regressors {terms} are collinear (rank {np.linalg.matrix_rank(design)} "
            f"of {p}); drop constant or duplicated covariates."
        )
    if n <= p:
        raise ValueError(f"{n} rows cannot estimate {p} coefficients.")
    fit = sm.OLS(response, design).fit(cov_type="HC3")
    estimate = np.asarray(fit.params)
    std_error = np.asarray(fit.bse)
    t_value = estimate / std_error
    df = n - p
    p_value = 2 * stats.t.sf(np.abs(t_value), df)
    half = stats.t.ppf(1 - alpha / 2, df) * std_error
    return pd.DataFrame(
        {"estimate": estimate, "std_error": std_error, "t_value": t_value, "p_value": p_value,
         "ci_lower": estimate - half, "ci_upper": estimate + half},
        index=pd.Index(terms, name="term"),
    )
