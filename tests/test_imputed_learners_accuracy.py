"""Meta-learners against the exact conditional truth of SurvHTE-Bench designs (issue 4).

Design: ``survhte_bench(config, scenario, n=7500, random_state=2024)``; the first 5,000 rows
train, the last 2,500 test. Horizon: the median observed training time. (At the median of the
event time T, scenario D's censoring survival is G(h) ~ 0.002: 0.1% of rows are followed to h,
and no estimator has information there.) Every learner runs with its defaults: regularised
histogram gradient boosting, pseudo-observations (R: IPCW complete cases).

Checks: CATE MSE vs ``true_cate`` on the test rows below the MSE of the best constant (the
test rows' true mean effect), and the ATE within 3 standard errors of the true mean effect of
the training rows, the standard error being the AIPCW one (:class:`survhte.inference.AIPCW`,
the package's reference for average effects).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from survhte.imputed_learners import LEARNERS
from survhte.inference import AIPCW
from survhte.simulate import survhte_bench

DESIGNS = [("RCT-50", "A"), ("OBS-CPS", "A"), ("RCT-50", "D"), ("OBS-CPS", "D")]
#: Measured failures, kept visible (strict: a fix must remove the mark). Was: OBS-CPS D with
#: the S-learner (ATE error 2.6-3 SE, CATE MSE 1.2x the constant's: a tiny confounded effect
#: shrunk toward zero by an 8-leaf booster). Fixed by the cross-validated S default (a ridge on
#: splines with treatment interactions is chosen) and its calibration: 0.65x, +0.71 SE.
KNOWN: dict = {}
_CACHE: dict = {}


def design(config: str, scenario: str):
    if (config, scenario) not in _CACHE:
        d = survhte_bench(config, scenario, n=7500, random_state=2024)
        train, test = slice(0, 5000), slice(5000, 7500)
        horizon = float(np.median(d.time[train]))
        truth = d.true_cate("rmst", horizon)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            se = AIPCW(horizon=horizon, random_state=0).fit(
                d.X[train], d.y[train], d.w[train]).std_error_
        _CACHE[config, scenario] = (d, train, test, horizon, truth, se)
    return _CACHE[config, scenario]


def fitted(config: str, scenario: str, name: str):
    d, train, test, horizon, truth, se = design(config, scenario)
    params = {"n_bootstrap": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LEARNERS[name](horizon=horizon, random_state=0, **params)
        est.fit(d.X[train], d.y[train], d.w[train])
    tau = est.predict(d.X[test])
    ratio = np.mean((tau - truth[test]) ** 2) / np.mean((truth[test] - truth[test].mean()) ** 2)
    z = (est.ate() - truth[train].mean()) / se
    return ratio, z


CASES = [
    pytest.param(config, scenario, name,
                 marks=pytest.mark.xfail(reason=KNOWN[config, scenario, name], strict=True)
                 if (config, scenario, name) in KNOWN else ())
    for config, scenario in DESIGNS for name in LEARNERS
]


@pytest.mark.parametrize(("config", "scenario", "name"), CASES)
def test_beats_constant_and_ate_within_3_se(config, scenario, name):
    ratio, z = fitted(config, scenario, name)
    assert ratio < 1.0, f"CATE MSE / constant's = {ratio:.3f}"
    assert abs(z) < 3.0, f"ATE error = {z:+.2f} SE"
