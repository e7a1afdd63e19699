"""Outcome imputers (Margin, IPCW-T) and IPCW weights: definitions, identities, no leakage."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from survhte.imputation import IPCWT, CensoringKaplanMeier, IPCWeights, Margin
from survhte.simulate import survhte_bench
from survhte.survival import KaplanMeier


def tied_sample(n=200, seed=0):
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(2.0, n))  # integer times: ties, and time 0
    return time, rng.random(n) < 0.6


class TestMargin:
    def test_hand_example_and_event_rows_kept(self):
        imputer = Margin().fit(([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1]))
        # S = 3/4 on [1, 3), 3/8 on [3, 4), 0 from 4: from c = 2, 2 + (0.75 + 0.375)/0.75 = 3.5.
        out = imputer.impute_time(([2.0, 0.5, 3.0], [0, 0, 1]))
        np.testing.assert_allclose(out, [3.5, 0.5 + (0.5 + 2 * 0.75 + 0.375) / 1.0, 3.0])

    def test_tail_extrapolation_follows_survivaleval(self):
        # Last time censored: S(4) = 3/8 > 0; the line through (0, 1) and (4, 3/8) hits 0 at
        # z = 4 / (1 - 3/8) = 6.4, adding the triangle 3/8 * 2.4 / 2 = 0.45.
        imputer = Margin().fit(([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 0]))
        assert imputer.tail_end_ == pytest.approx(6.4)
        out = imputer.impute_time(([2.0, 4.0, 5.0, 10.0], [0, 0, 0, 0]))
        np.testing.assert_allclose(out, [2.0 + (0.75 + 0.375 + 0.45) / 0.75, 4.0 + 1.2,
                                         5.0 + 0.7, 10.0])

    def test_zero_survival_imputes_the_censoring_time(self):
        imputer = Margin().fit(([1.0, 2.0, 2.0], [0, 1, 1]))  # both rows at risk die at 2
        assert imputer.impute_time(([1.0, 2.0, 3.0], [0, 0, 0])).tolist() == [2.0, 2.0, 3.0]

    def test_matches_numerical_integral_of_the_km_curve(self):
        time, event = tied_sample()
        imputer = Margin().fit((time, event))
        km = KaplanMeier().fit(time, event)
        c = np.array([0.0, 1.0, 2.5, 5.0])
        # Step integral up to the last time by a fine Riemann sum (error <= step * jumps) +
        # the extrapolated triangle.
        grid = np.arange(0, time.max(), 1e-4) + 5e-5
        s_last = km.survival_[-1]
        tail = 0.5 * s_last * (imputer.tail_end_ - time.max())
        expected = [ci + (1e-4 * km.predict(grid[grid > ci]).sum() + tail) / km.predict(ci)
                    for ci in c]
        np.testing.assert_allclose(imputer.impute_time((c, np.zeros(4, bool))), expected,
                                   atol=1e-3)

    def test_target_scales_and_forms_of_y(self):
        time, event = tied_sample()
        imputed = Margin().fit((time, event)).impute_time((time, event))
        assert np.all(imputed >= time) and np.all(imputed[event] == time[event])
        rmst = Margin(horizon=3.0).fit_transform(np.column_stack([time, event]))
        np.testing.assert_allclose(rmst, np.minimum(imputed, 3.0))
        frame = pd.DataFrame({"time": time, "event": event})
        surv = Margin("survival", horizon=3.0).fit(frame).transform(frame)
        censored_late = ~event & (time >= 3.0)
        np.testing.assert_array_equal(surv, ((imputed > 3.0) | censored_late).astype(float))

    def test_transform_all_censored_rows_and_no_leakage(self):
        time, event = tied_sample()
        imputer = Margin(horizon=4.0).fit((time, event))
        new = (np.array([0.5, 1.5, 7.0]), np.zeros(3, bool))
        batch = imputer.transform(new)
        single = [imputer.transform((new[0][[i]], new[1][[i]]))[0] for i in range(3)]
        np.testing.assert_array_equal(batch, single)

    def test_errors(self):
        time, event = tied_sample(30)
        with pytest.raises(ValueError, match="needs a horizon"):
            Margin("survival").fit((time, event))
        with pytest.raises(ValueError, match="beyond the last observed time"):
            Margin(horizon=1e3).fit((time, event))
        with pytest.raises(ValueError, match="no events"):
            Margin().fit((time, np.zeros(30, bool)))
        with pytest.raises(ValueError, match="target"):
            Margin("median").fit((time, event))
        assert clone(Margin(horizon=2.0)).get_params()["horizon"] == 2.0


class TestIPCWT:
    def test_uniform_weighting_is_survivaleval_mean_of_later_events(self):
        # SurvivalEVAL's own test case: censored at 2, later events {8} (the tied 2s excluded).
        imputer = IPCWT(weighting="uniform").fit(([8.0, 2.0, 10.0, 2.0, 1.0], [1, 1, 0, 1, 1]))
        assert imputer.impute_time(([2.0, 8.0], [0, 0])).tolist() == [8.0, 10.0]

    def test_ipcw_weighting_is_the_km_conditional_mean(self):
        # Satten & Datta (2001): d_j / G(t_j-) is proportional to the KM jump at t_j, so the
        # IPCW mean of the later events is E_KM[T | c < T <= t_max].
        time, event = tied_sample()
        imputer = IPCWT().fit((time, event))
        km = KaplanMeier().fit(time, event)
        jumps = -np.diff(np.append(1.0, km.survival_))
        for c in (0.0, 1.0, 3.0):
            after = km.timeline_ > c
            expected = np.sum(jumps[after] * km.timeline_[after]) / np.sum(jumps[after])
            assert imputer.impute_time(([c], [0]))[0] == pytest.approx(expected, rel=1e-12)

    def test_no_later_event_imputes_last_training_time(self):
        imputer = IPCWT().fit(([1.0, 2.0, 5.0], [1, 1, 0]))
        assert imputer.impute_time(([3.0, 6.0], [0, 0])).tolist() == [5.0, 6.0]

    def test_bad_weighting(self):
        with pytest.raises(ValueError, match="weighting"):
            IPCWT(weighting="km").fit(([1.0, 2.0], [1, 0]))


class TestIPCWeights:
    @pytest.mark.parametrize("horizon", [1.0, 2.5, 4.0])
    def test_km_weighted_means_are_km_functionals(self, horizon):
        # Events first at ties gives S(t-) G(t-) = n_j / n, so the weighted complete-case mean
        # of min(Y, h) is the KM RMST and that of 1{Y > h} is S_KM(h), exactly.
        time, event = tied_sample()
        weights = IPCWeights(horizon=horizon, floor=1e-9).fit_transform((time, event))
        km = KaplanMeier().fit(time, event)
        assert np.mean(weights * np.minimum(time, horizon)) == pytest.approx(
            km.rmst(horizon), rel=1e-12)
        survived = ~(event & (time <= horizon))  # known rows: T > h unless an event by h
        assert np.mean(weights * survived) == pytest.approx(km.predict(horizon), rel=1e-12)

    def test_left_limit_at_a_tie(self):
        # Censoring and event both at t = 2: the event happens first, so its weight uses
        # G(2-) = 1 (no earlier censoring), not G(2).
        time = np.array([1.0, 2.0, 2.0, 3.0])
        event = np.array([True, True, False, True])
        weights = IPCWeights(horizon=3.0).fit_transform((time, event))
        assert weights[1] == 1.0 and weights[2] == 0.0
        assert weights[3] == pytest.approx(2.0)  # G(3-) = 1 - 1/2: one of 2 at risk censored

    def test_censoring_km_convention(self):
        g = CensoringKaplanMeier().fit(None, [1.0, 2.0, 2.0, 3.0], [1, 1, 0, 1])
        np.testing.assert_allclose(g.predict([1.0, 2.0, 3.0]), [1.0, 0.5, 0.5])
        np.testing.assert_allclose(g.predict([2.0, 3.0], left=True), [1.0, 0.5])

    def test_floor_warning_names_the_share(self):
        time, event = tied_sample()
        with pytest.warns(UserWarning, match=r"below floor=0.6 for \d+\.\d% of the rows"):
            weights = IPCWeights(horizon=4.0, floor=0.6).fit_transform((time, event))
        assert weights.max() == pytest.approx(1 / 0.6)

    def test_cox_and_stratified_km_on_simulated_data(self):
        # Scenario A censors uniformly on (0, 3) whatever (X, W): every model of G is correct,
        # so each weighted mean of min(T, 1) estimates the same RMST; 0.03 is ~3 standard
        # errors of an IPCW mean at n = 3000 (sd of the weighted outcome ~0.5).
        d = survhte_bench("OBS-CPS", "A", n=3000, random_state=5)
        truth = np.mean(np.minimum(d.T, 1.0))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for model in (IPCWeights(horizon=1.0), IPCWeights("cox", horizon=1.0)):
                weights = model.fit_transform(d.y, d.X, d.w)
                assert abs(np.mean(weights * np.minimum(d.time, 1.0)) - truth) < 0.03
        model = IPCWeights(horizon=1.0).fit(d.y, w=d.w)
        assert set(model.models_) == {0, 1}
        with pytest.raises(ValueError, match="pass w"):
            model.transform(d.y)

    def test_errors(self):
        time, event = tied_sample(30)
        with pytest.raises(ValueError, match="needs the covariates"):
            IPCWeights("cox").fit((time, event))
        with pytest.raises(ValueError, match="censoring of IPCWeights must be"):
            IPCWeights("weibull").fit((time, event))
        with pytest.raises(ValueError, match="floor"):
            IPCWeights(floor=0.0).fit((time, event))
