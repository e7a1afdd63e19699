"""Progress reporting of forest fits: ``survhte.set_config`` / ``config_context``, the progress
line (``survhte._config.Progress``) and the chunk callbacks of ``_jit.parallel_range``.

References: the fitted forests with progress on equal the silent fits bit for bit (progress
only changes how the trees are chunked between threads, and each tree depends on the seed and
its index only); the counts reported add up to the totals.
"""

from __future__ import annotations

import io

import numba
import numpy as np
import pytest

import survhte
from survhte import config as _config
from survhte._kernels._jit import chunk_callback, parallel_range
from survhte.forest import CausalForest, CausalSurvivalForest
from survhte.simulate import survhte_bench


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def immediate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Report from the first item on (the real delay keeps fast fits silent)."""
    monkeypatch.setattr(_config, "PROGRESS_DELAY", 0.0)


def test_config_defaults_set_and_context() -> None:
    assert survhte.get_config() == {"progress": False}
    with survhte.config_context(progress=True):
        assert survhte.get_config()["progress"] is True
        with survhte.config_context(progress=False):
            assert survhte.get_config()["progress"] is False
        assert survhte.get_config()["progress"] is True
    assert survhte.get_config()["progress"] is False
    survhte.set_config(progress=True)
    try:
        assert survhte.get_config()["progress"] is True
        survhte.set_config()  # None leaves it as is
        assert survhte.get_config()["progress"] is True
    finally:
        survhte.set_config(progress=False)
    with pytest.raises(TypeError, match="progress must be a bool, got int"):
        survhte.set_config(progress=1)


def test_log_lines_every_tenth(immediate: None) -> None:
    stream = io.StringIO()
    with _config.Progress("growing", 200, stream=stream, enabled=True) as progress:
        for _ in range(200):
            progress.update(1)
    lines = stream.getvalue().splitlines()
    # The first item, then one line per tenth: 1 + 10 lines, the last one complete.
    assert len(lines) == 11
    assert lines[0].startswith("growing: 1/200 trees")
    assert lines[-1].startswith("growing: 200/200 trees (100%)")
    assert all("ETA" in line for line in lines)


def test_terminal_line_rewritten_in_place(immediate: None, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    stream = _Terminal()
    with _config.Progress("scores", 50, "rows", stream=stream, enabled=True) as progress:
        for _ in range(5):
            progress.update(10)
    text = stream.getvalue()
    assert text.startswith("\r") and text.endswith("\n") and text.count("\n") == 1
    assert "scores: 50/50 rows (100%)" in text.split("\r")[-1]


def test_disabled_and_short_phases_write_nothing() -> None:
    stream = io.StringIO()
    with _config.Progress("x", 10, stream=stream, enabled=False) as progress:
        progress.update(10)
    with _config.Progress("x", 10, stream=stream, enabled=True) as progress:
        progress.update(10)  # done within PROGRESS_DELAY: silent
    assert stream.getvalue() == ""


@pytest.mark.parametrize("threads", [1, 2])
def test_parallel_range_callback_counts_every_item(threads: int) -> None:
    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("needs 2 numba threads")

    @numba.njit(nogil=True)
    def square(first, last, out):
        for i in range(first, last):
            out[i] = i * i

    seen: list[tuple[int, int]] = []
    out = np.zeros(300, dtype=np.int64)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        with chunk_callback(lambda count, n: seen.append((count, n))):
            parallel_range(square, 300, out)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(out, np.arange(300) ** 2)
    assert sum(count for count, _ in seen) == 300 and {n for _, n in seen} == {300}
    assert len(seen) >= 64  # _jit._PROGRESS_CHUNKS: steps of at most 1/64


def test_library_fits_are_silent(capsys: pytest.CaptureFixture[str]) -> None:
    d = survhte_bench("RCT-50", "A", n=300, random_state=0)
    CausalSurvivalForest(20, horizon=0.5, random_state=0).fit(d.X, d.y, d.w)
    assert capsys.readouterr().err == ""


def test_fit_reports_each_phase_and_results_are_unchanged(
        immediate: None, capsys: pytest.CaptureFixture[str]) -> None:
    d = survhte_bench("RCT-50", "A", n=600, random_state=1)
    silent = CausalSurvivalForest(60, horizon=0.5, random_state=4).fit(d.X, d.y, d.w)
    capsys.readouterr()
    with survhte.config_context(progress=True):
        reported = CausalSurvivalForest(60, horizon=0.5, random_state=4).fit(d.X, d.y, d.w)
    err = capsys.readouterr().err
    for done in ("propensity forest: 50/50 trees", "event survival forest: 50/50 trees",
                 "censoring survival forest: 50/50 trees", "causal survival scores: 600/600 rows",
                 "causal survival forest: 60/60 trees"):
        assert done in err, err
    # Same trees (bit for bit), however the progress chunks split them between threads.
    np.testing.assert_array_equal(reported.predict(d.X), silent.predict(d.X))
    np.testing.assert_array_equal(reported.predict_variance(d.X), silent.predict_variance(d.X))

    rng = np.random.default_rng(0)
    y = d.X[:, 0] + rng.normal(size=d.X.shape[0])
    silent_cf = CausalForest(40, random_state=2).fit(d.X, y, d.w)
    with survhte.config_context(progress=True):
        reported_cf = CausalForest(40, random_state=2).fit(d.X, y, d.w)
    np.testing.assert_array_equal(reported_cf.predict(d.X), silent_cf.predict(d.X))


def test_cli_estimate_reports_progress(immediate: None, tmp_path, capsys, monkeypatch) -> None:
    from survhte import _cli_estimate
    from survhte.cli import main
    from survhte.datasets import load_rossi

    data = tmp_path / "rossi.csv"
    load_rossi().frame.to_csv(data, index=False)
    small = _cli_estimate.Method(
        "causal survival forest, 40 trees",
        lambda target, horizon, n_bootstrap, seed: CausalSurvivalForest(
            40, target=target, horizon=horizon, random_state=seed),
    )
    monkeypatch.setitem(_cli_estimate.METHODS, "csf", small)
    assert main(["estimate", "--data", str(data), "--time", "week", "--event", "arrest",
                 "--treatment", "fin", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "causal survival forest: 40/40 trees (100%)" in err, err
    assert survhte.get_config()["progress"] is False  # on for the command only
