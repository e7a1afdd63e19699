"""Figures of survhte.plotting: what each draws (against lifelines and direct computation),
and the errors on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from survhte import SurvivalTLearner, cate_group_effects
from survhte.plotting import (
    calibration_plot,
    overlap_plot,
    plot_cate_intervals,
    plot_counterfactual_curves,
    plot_km_by_arm,
    plot_survival_by_arm,
    subgroup_effects,
    subgroup_forest_plot,
)
from survhte.survival import KaplanMeier

from ._arms import exponential_arms


@pytest.fixture(scope="module")
def three_arms():
    X, (time, event), w, _ = exponential_arms(600, seed=3)
    return X, time, event, w


def _band_values(ax) -> np.ndarray:
    """Every y value of the bands (fill_between polygons) drawn on ``ax``."""
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    return [np.unique(p.get_paths()[0].vertices[:, 1].round(10)) for p in polys]


def test_survival_by_arm_band_matches_lifelines(three_arms):
    lifelines = pytest.importorskip("lifelines")
    _, time, event, w = three_arms
    ax = plot_survival_by_arm(time, event, w, alpha=0.1, horizon=2.0)
    # one step line per arm and the horizon line; one band per arm
    assert len(ax.get_lines()) == 4
    bands = _band_values(ax)
    assert len(bands) == 3
    for code, drawn in enumerate(bands):
        rows = w == code
        fitter = lifelines.KaplanMeierFitter(alpha=0.1).fit(time[rows], event[rows])
        ci = fitter.confidence_interval_
        km = KaplanMeier().fit(time[rows], event[rows])
        reference = ci.loc[km.timeline_].to_numpy()
        # lifelines computes the same log-log formula; 1e-10 is float round-off
        np.testing.assert_allclose(np.column_stack(km.confidence_interval(0.1)), reference,
                                   atol=1e-10)
        # every bound lifelines gives is a vertex of the drawn band (rounded to 1e-10)
        assert np.isin(reference.round(10), drawn).all()


def test_survival_by_arm_at_risk_table(three_arms):
    _, time, event, w = three_arms
    ax = plot_survival_by_arm(time, event, w, labels={0: "A", 1: "B", 2: "C"},
                              at_risk_times=[0.0, 1.0, 2.5])
    assert list(ax.get_xticks()) == [0.0, 1.0, 2.5]
    table = ax.at_risk_ax
    assert [t.get_text() for t in table.get_yticklabels()] == ["A", "B", "C"]
    cells = {(round(t.get_position()[0], 6), round(t.get_position()[1])): int(t.get_text())
             for t in table.texts}
    for code in range(3):
        for t in (0.0, 1.0, 2.5):
            assert cells[(t, code)] == int(np.sum(time[w == code] >= t))
    # default times: the x ticks within follow-up, and the table has a count under each
    ax = plot_survival_by_arm(time, event, w)
    ticks = ax.get_xticks()
    assert ticks.min() >= 0 and ticks.max() <= time.max()
    assert len(ax.at_risk_ax.texts) == 3 * len(ticks)
    ax.figure.canvas.draw()  # lays out without error


@pytest.mark.parametrize("kwargs, name", [
    ({"labels": ["a", "b"]}, "labels"),
    ({"labels": {0: "a"}}, "labels"),
    ({"alpha": 1.5}, "alpha"),
    ({"at_risk_times": [-1.0]}, "at_risk_times"),
    ({"horizon": -2.0}, "horizon"),
])
def test_survival_by_arm_errors(three_arms, kwargs, name):
    _, time, event, w = three_arms
    with pytest.raises(ValueError, match=name):
        plot_survival_by_arm(time, event, w, **kwargs)


def test_survival_by_arm_input_errors(three_arms):
    _, time, event, w = three_arms
    with pytest.raises(ValueError, match="w has a single level"):
        plot_survival_by_arm(time, event, np.zeros_like(w))
    with pytest.raises(ValueError, match="event has"):
        plot_survival_by_arm(time, event[:-1], w)


def test_km_by_arm_keeps_its_signature(three_arms):
    _, time, event, w = three_arms
    ax = Figure().subplots()
    plot_km_by_arm(ax, time, event, w, ["a", "b", "c"], horizon=1.0)
    assert len(ax.get_lines()) == 4 and len(_band_values(ax)) == 3
    ax = Figure().subplots()
    plot_km_by_arm(ax, time, event, w, ["a", "b", "c"], alpha=None)
    assert len(_band_values(ax)) == 0


def test_counterfactual_curves_are_mean_predictions(three_arms):
    X, time, event, w = three_arms
    model = SurvivalTLearner(horizon=2.0, n_bootstrap=0).fit(X, (time, event), w)
    times = np.linspace(0, 2.0, 30)
    rows = X[:, 0] > 0.5
    ax = plot_counterfactual_curves(model, X, rows=rows, times=times)
    lines = ax.get_lines()
    assert len(lines) == 4  # three levels and the horizon
    for level, line in zip(model.classes_, lines[:3], strict=True):
        expected = model.predict_survival(X[rows], level, times).mean(axis=0)
        np.testing.assert_allclose(line.get_ydata(), expected)
    # integer rows, default times (up to the shortest arm's follow-up)
    ax = plot_counterfactual_curves(model, X, rows=np.flatnonzero(rows))
    assert ax.get_lines()[0].get_xdata().max() == pytest.approx(model.arm_last_time_.min())
    with pytest.raises(ValueError, match="rows"):
        plot_counterfactual_curves(model, X, rows=rows[:-1])
    with pytest.raises(ValueError, match="rows"):
        plot_counterfactual_curves(model, X, rows=np.zeros(len(X), bool))
    with pytest.raises(ValueError, match="labels"):
        plot_counterfactual_curves(model, X, labels=["a"])
    with pytest.raises(TypeError, match="estimator"):
        plot_counterfactual_curves(KaplanMeier(), X)


def test_cate_intervals_figure():
    rng = np.random.default_rng(0)
    tau = rng.normal(size=200)
    half = rng.uniform(0.2, 1.0, size=200)
    fig = plot_cate_intervals(tau, tau - half, tau + half, ate=(0.1, -0.1, 0.3))
    main, side = fig.axes
    # sorted CATE, zero line, ATE line; the interval ribbon
    assert len(main.get_lines()) == 3
    assert np.all(np.diff(main.get_lines()[0].get_ydata()) >= 0)
    assert len([c for c in main.collections if isinstance(c, PolyCollection)]) == 1
    assert len(side.patches) > 5  # histogram bars
    above = int(np.sum(tau - half > 0))
    assert f"above 0 for {above} " in main.get_title(loc="left")
    # two columns: the chosen one; default ATE line at the mean
    both = np.column_stack([tau, -tau])
    fig = plot_cate_intervals(both, both - 1, both + 1, column=1)
    assert fig.axes[0].get_lines()[2].get_ydata()[0] == pytest.approx(-tau.mean())


@pytest.mark.parametrize("args, kwargs, name", [
    ((np.zeros(5), np.ones(5), np.zeros(5)), {}, "lower"),
    ((np.zeros(5), np.zeros(4), np.ones(5)), {}, "lower"),
    ((np.zeros(5), np.zeros(5), np.ones(5)), {"column": 1}, "column"),
    ((np.zeros(5), np.zeros(5), np.ones(5)), {"ate": (1.0, 2.0)}, "ate"),
    ((np.array([0.0, np.nan]), np.zeros(2), np.ones(2)), {}, "cate"),
])
def test_cate_intervals_errors(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        plot_cate_intervals(*args, **kwargs)


def test_subgroup_effects_reuse_group_effects():
    rng = np.random.default_rng(1)
    psi = rng.normal(1.0, 2.0, size=(400, 2))
    sex = np.repeat(["female", "male"], 200)
    effects = subgroup_effects(sex, psi, column=1, alpha=0.1)
    assert effects["label"].tolist() == ["female", "male", "All patients"]
    assert effects["overall"].tolist() == [False, False, True]
    for label, mask in (("female", sex == "female"), ("All patients", np.ones(400, bool))):
        row = effects.set_index("label").loc[label]
        reference = cate_group_effects(np.zeros(mask.sum()), scores=psi[mask, 1], n_groups=1,
                                       alpha=0.1).iloc[0]
        assert row["estimate"] == pytest.approx(psi[mask, 1].mean())
        assert row["lower"] == pytest.approx(reference["ci_lower"])
        assert row["upper"] == pytest.approx(reference["ci_upper"])
        assert row["n"] == mask.sum()
    masks = {"x > 0": psi[:, 0] > 0, "all but 3": np.arange(400) > 2}
    effects = subgroup_effects(masks, psi[:, 0])
    assert effects["n"].tolist() == [int(masks["x > 0"].sum()), 397, 400]
    with pytest.raises(ValueError, match="subgroups"):
        subgroup_effects({"bad": np.ones(10, bool)}, psi[:, 0])
    with pytest.raises(ValueError, match="subgroups"):
        subgroup_effects({"one row": np.arange(400) == 0}, psi[:, 0])
    with pytest.raises(ValueError, match="subgroups"):
        subgroup_effects(sex[:10], psi[:, 0])
    with pytest.raises(ValueError, match="column"):
        subgroup_effects(sex, psi, column=2)


def test_subgroup_forest_plot():
    effects = pd.DataFrame({"label": ["men", "women", "all"], "estimate": [0.1, 0.3, 0.2],
                            "lower": [-0.1, 0.1, 0.05], "upper": [0.3, 0.5, 0.35],
                            "n": [120, 80, 200], "overall": [False, False, True]})
    ax = subgroup_forest_plot(effects)
    # per subgroup: an interval line and a square; the zero line and the overall's dotted line
    assert len(ax.get_lines()) == 2 * 2 + 2
    assert len(ax.patches) == 1  # the overall diamond
    assert [t.get_text() for t in ax.get_yticklabels()] == ["men", "women", "all"]
    ax.figure.canvas.draw()
    ax = subgroup_forest_plot(effects.drop(columns="overall"))
    assert len(ax.patches) == 0 and len(ax.get_lines()) == 3 * 2 + 1
    with pytest.raises(ValueError, match="effects lacks"):
        subgroup_forest_plot(effects.drop(columns="n"))
    with pytest.raises(ValueError, match="effects"):
        subgroup_forest_plot(effects.assign(lower=1.0))
    with pytest.raises(TypeError, match="effects"):
        subgroup_forest_plot(effects.to_numpy())


def test_overlap_plot_panels_and_clip(three_arms):
    w = three_arms[3]
    rng = np.random.default_rng(2)
    e = rng.uniform(0.05, 0.95, size=300)
    fig = overlap_plot(e, rng.binomial(1, e), bins=20, clip=0.02)
    (ax,) = fig.axes
    # 20 bars per arm, two shaded clipped regions; two dashed bounds and the zero line
    assert len(ax.patches) == 2 * 20 + 2
    assert sorted(line.get_xdata()[0] for line in ax.get_lines()
                  if line.get_linestyle() == "--") == [0.02, 0.98]
    probs = np.full((len(w), 3), 1 / 3)
    fig = overlap_plot(probs, w, labels=["a", "b", "c"], clip=None)
    assert len(fig.axes) == 2 and [a.get_title() for a in fig.axes] == ["b vs a", "c vs a"]
    assert len(fig.axes[0].patches) == 2 * 30


@pytest.mark.parametrize("kwargs, name", [
    ({"propensity": np.full(300, 1.5)}, "propensity"),
    ({"propensity": np.full((300, 3), 0.3)}, "propensity"),
    ({"clip": 0.6}, "clip"),
    ({"bins": 1}, "bins"),
])
def test_overlap_plot_errors(kwargs, name):
    w = np.repeat([0, 1], 150)
    args = {"propensity": np.full(300, 0.5), **kwargs}
    with pytest.raises(ValueError, match=name):
        overlap_plot(args.pop("propensity"), w, **args)


def test_overlap_plot_needs_one_column_per_level(three_arms):
    _, _, _, w = three_arms
    with pytest.raises(ValueError, match="one column per level"):
        overlap_plot(np.full(len(w), 0.5), w)


def test_calibration_plot_legend_outside():
    rng = np.random.default_rng(7)
    tau = rng.normal(size=2000)
    groups = cate_group_effects(tau, scores=tau + rng.normal(size=2000), n_groups=4)
    ax = calibration_plot(groups)
    legend = ax.get_legend()
    ax.figure.canvas.draw()
    # the legend lies below the axes, so it covers no group
    assert legend.get_window_extent().y1 <= ax.get_window_extent().y0
