"""The ``device`` seam of the forests (issue 22): ``device="auto"|"cpu"|"gpu"``.

Tests marked ``cuda`` run the public estimators with ``device="gpu"`` on the numba.cuda
kernels, in CI under numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1 python -m pytest -m
cuda``), and compare with ``device="cpu"``: the GPU kernels add the trees in the CPU kernels'
order, so every estimate, variance and interval must be *equal*, not close (the simulator
runs the kernels' Python, so no fused multiply-add changes a last bit). Inputs are small
(the simulator runs every GPU thread in Python). The unmarked tests check what happens
without a GPU: ``auto`` gives the CPU, ``gpu`` warns and gives the CPU with the same answers.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone

import survhte._kernels.forest_predict_cuda as cuda_kernels
from survhte import _device
from survhte._device import DeviceWarning, gpu_available, resolve_device
from survhte._params import InvalidParameterError
from survhte.forest import (
    CausalForest,
    CausalSurvivalForest,
    MultiArmCausalForest,
    MultiArmCausalSurvivalForest,
    RegressionForest,
    SurvivalForest,
)
from survhte.simulate import survhte_bench

FORESTS = (RegressionForest, CausalForest, CausalSurvivalForest, SurvivalForest,
           MultiArmCausalForest, MultiArmCausalSurvivalForest)

cuda = pytest.mark.cuda
needs_gpu = pytest.mark.skipif(
    not gpu_available(), reason="no CUDA device; run with NUMBA_ENABLE_CUDASIM=1 to simulate")


@pytest.fixture
def no_gpu(monkeypatch):
    """A machine without a CUDA device, whatever this one has."""
    monkeypatch.setattr(_device, "gpu_available", lambda: False)


@pytest.fixture
def count_gpu_calls(monkeypatch):
    """Counts launches of the GPU twins of ``forest_means`` and ``little_bag_sums``."""
    calls = {"means": 0, "little_bags": 0}
    for name, key in (("forest_means_cuda", "means"), ("little_bag_sums_cuda", "little_bags")):
        original = getattr(cuda_kernels, name)

        def counted(*args, _original=original, _key=key, **kwargs):
            calls[_key] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(cuda_kernels, name, counted)
    return calls


def _regression(n=150, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    w = rng.integers(0, 2, n)
    y = X[:, 0] + w * (1 + X[:, 1]) + rng.normal(scale=0.5, size=n)
    return X, y, w


# ----------------------------------------------------------------- without a GPU (unmarked)
@pytest.mark.parametrize("cls", FORESTS)
def test_device_is_a_parameter(cls):
    forest = cls(device="gpu")
    assert forest.get_params()["device"] == "gpu"
    assert cls().get_params()["device"] == "auto"
    assert clone(forest).get_params()["device"] == "gpu"
    assert forest.set_params(device="cpu").device == "cpu"


def test_resolver_without_a_gpu(no_gpu):
    assert resolve_device("cpu") == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # auto falls back silently
        assert resolve_device("auto") == "cpu"
    with pytest.warns(DeviceWarning, match="no CUDA device"):
        assert resolve_device("gpu") == "cpu"
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")


def test_a_failing_gpu_under_auto_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(_device, "gpu_available", lambda: True)
    monkeypatch.setattr(_device, "_GPU_FAILED", [])

    def run(device):
        if device == "gpu":
            raise RuntimeError("NVVM_ERROR_INVALID_OPTION")
        return "cpu result"

    with pytest.raises(RuntimeError, match="NVVM"):
        _device.run_on_device("gpu", run)
    assert resolve_device("auto") == "gpu"
    with pytest.warns(DeviceWarning, match="GPU kernels failed .*NVVM_ERROR"):
        assert _device.run_on_device("auto", run) == "cpu result"
    # From then on "auto" is the CPU, silently; "gpu" still tries the GPU.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_device("auto") == "cpu"
        assert _device.run_on_device("auto", run) == "cpu result"
    assert resolve_device("gpu") == "gpu"


def test_an_unknown_device_is_refused_at_fit():
    X, y, _ = _regression(n=60)
    with pytest.raises(InvalidParameterError, match="device"):
        RegressionForest(n_estimators=4, device="cuda").fit(X, y)


def test_gpu_without_a_device_warns_and_gives_the_cpu_answers(no_gpu):
    X, y, w = _regression()
    cpu = CausalForest(n_estimators=8, device="cpu", random_state=0).fit(X, y, w)
    with pytest.warns(DeviceWarning):
        gpu = CausalForest(n_estimators=8, device="gpu", random_state=0).fit(X, y, w)
    with pytest.warns(DeviceWarning):
        np.testing.assert_array_equal(gpu.predict(X[:20]), cpu.predict(X[:20]))


def test_import_needs_neither_cupy_nor_numba_cuda():
    code = ("import sys, survhte; from survhte.forest import CausalSurvivalForest; "
            "print('cupy' in sys.modules, 'numba.cuda' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------- on the GPU kernels (marked cuda)
def _same(gpu, cpu):
    np.testing.assert_array_equal(np.asarray(gpu), np.asarray(cpu))


@cuda
@needs_gpu
def test_auto_resolves_to_the_gpu():
    assert resolve_device("auto") == "gpu"
    assert resolve_device("gpu") == "gpu"


@cuda
@needs_gpu
def test_a_kernel_failure_under_auto_gives_the_cpu_answers(monkeypatch):
    X, y, _ = _regression()
    monkeypatch.setattr(_device, "_GPU_FAILED", [])
    cpu, auto = (RegressionForest(n_estimators=4, device=d, random_state=1).fit(X, y)
                 for d in ("cpu", "auto"))

    def broken(*args, **kwargs):
        raise RuntimeError("no kernel image is available for execution on the device")

    monkeypatch.setattr(cuda_kernels, "forest_means_cuda", broken)
    with pytest.warns(DeviceWarning, match="no kernel image"):
        _same(auto.predict(X[:20]), cpu.predict(X[:20]))
    with pytest.raises(RuntimeError, match="no kernel image"):
        auto.set_params(device="gpu").predict(X[:20])


@cuda
@needs_gpu
def test_regression_forest_on_the_gpu_equals_the_cpu(count_gpu_calls):
    X, y, _ = _regression()
    cpu, gpu = (RegressionForest(n_estimators=10, device=d, random_state=1).fit(X, y)
                for d in ("cpu", "gpu"))
    assert count_gpu_calls["means"] == 0
    X_new = np.random.default_rng(5).normal(size=(50, 4))
    _same(gpu.predict(X_new), cpu.predict(X_new))
    _same(gpu.predict_variance(X_new), cpu.predict_variance(X_new))
    _same(gpu.oob_prediction_, cpu.oob_prediction_)
    _same(gpu.oob_variance_, cpu.oob_variance_)
    for g, c in ((gpu.get_forest_weights(X_new), cpu.get_forest_weights(X_new)),
                 (gpu.get_forest_weights(), cpu.get_forest_weights())):  # out of bag
        for part in ("indptr", "indices", "data"):
            _same(getattr(g, part), getattr(c, part))
    # The GPU kernels ran (estimates and little bags, in and out of bag); the CPU fit's
    # predictions did not launch them.
    assert count_gpu_calls["means"] == 4 and count_gpu_calls["little_bags"] == 2


@cuda
@needs_gpu
def test_causal_forest_on_the_gpu_equals_the_cpu(count_gpu_calls):
    X, y, w = _regression()
    cpu, gpu = (CausalForest(n_estimators=10, device=d, random_state=2).fit(X, y, w)
                for d in ("cpu", "gpu"))
    # The fit's nuisance forests (out-of-bag m(x), e(x)) ran on the GPU too.
    assert count_gpu_calls["means"] == 2
    _same(gpu.y_hat_, cpu.y_hat_)
    _same(gpu.w_hat_, cpu.w_hat_)
    _same(gpu.predict(X[:30]), cpu.predict(X[:30]))
    for g, c in zip(gpu.predict_interval(X[:30]), cpu.predict_interval(X[:30]), strict=True):
        _same(g, c)
    _same(gpu.ate(), cpu.ate())
    for g, c in zip(gpu.ate_interval(), cpu.ate_interval(), strict=True):
        _same(g, c)


@cuda
@needs_gpu
def test_causal_forest_with_three_levels_passes_the_device_to_each_level():
    X, y, _ = _regression()
    w = np.random.default_rng(3).integers(0, 3, X.shape[0])
    cpu, gpu = (CausalForest(n_estimators=6, device=d, random_state=3).fit(X, y, w)
                for d in ("cpu", "gpu"))
    assert all(arm.device == "gpu" for arm in gpu.arm_forests_)
    _same(gpu.predict(X[:25]), cpu.predict(X[:25]))
    _same(gpu.oob_prediction_, cpu.oob_prediction_)


@cuda
@needs_gpu
def test_causal_survival_forest_on_the_gpu_equals_the_cpu(count_gpu_calls):
    d = survhte_bench("RCT-50", "A", n=200, random_state=0)
    cpu, gpu = (CausalSurvivalForest(n_estimators=8, horizon=1.0, device=dev,
                                     random_state=0).fit(d.X, d.y, d.w)
                for dev in ("cpu", "gpu"))
    assert count_gpu_calls["means"] == 1  # the propensity forest's out-of-bag estimates
    _same(gpu.w_hat_, cpu.w_hat_)
    _same(gpu.predict(d.X[:40]), cpu.predict(d.X[:40]))
    for g, c in zip(gpu.predict_interval(d.X[:40]), cpu.predict_interval(d.X[:40]),
                    strict=True):
        _same(g, c)
    _same(gpu.ate(), cpu.ate())
    assert count_gpu_calls["little_bags"] == 1


@cuda
@needs_gpu
def test_multi_arm_forests_on_the_gpu_equal_the_cpu():
    X, y, _ = _regression(n=180)
    w = np.random.default_rng(4).integers(0, 3, X.shape[0])
    cpu, gpu = (MultiArmCausalForest(n_estimators=6, device=d, random_state=4).fit(X, y, w)
                for d in ("cpu", "gpu"))
    _same(gpu.predict(X[:20]), cpu.predict(X[:20]))
    for g, c in zip(gpu.effect_interval(X[:20], 1, 2), cpu.effect_interval(X[:20], 1, 2),
                    strict=True):
        _same(g, c)

    d = survhte_bench("RCT-50", "A", n=180, random_state=1)
    w3 = np.random.default_rng(5).integers(0, 3, d.X.shape[0])
    cpu, gpu = (MultiArmCausalSurvivalForest(n_estimators=6, horizon=1.0, device=dev,
                                             random_state=5).fit(d.X, d.y, w3)
                for dev in ("cpu", "gpu"))
    _same(gpu.predict(d.X[:20]), cpu.predict(d.X[:20]))
    _same(gpu.ate(), cpu.ate())


@cuda
@needs_gpu
def test_survival_forest_accepts_the_device_and_stays_on_the_cpu(count_gpu_calls):
    d = survhte_bench("RCT-50", "A", n=150, random_state=2)
    cpu, gpu = (SurvivalForest(n_estimators=6, device=dev, random_state=6).fit(d.X, d.y)
                for dev in ("cpu", "gpu"))
    _same(gpu.predict_survival(d.X[:10], [0.5, 1.0]), cpu.predict_survival(d.X[:10], [0.5, 1.0]))
    assert count_gpu_calls == {"means": 0, "little_bags": 0}


# ------------------------------------------------------------------ the CLI's --device flag
def test_cli_device_flag_parses_and_reaches_the_forest(monkeypatch, tmp_path, capsys):
    from survhte import _cli_estimate
    from survhte.cli import build_parser, main

    parse = build_parser().parse_args
    assert parse(["estimate"]).device == "auto"
    assert parse(["estimate", "--device", "gpu"]).device == "gpu"
    assert main(["estimate", "--device", "tpu"]) == 2
    assert "invalid choice: 'tpu'" in capsys.readouterr().err

    seen = {}

    class Stop(ValueError):
        pass

    def build(target, horizon, n_bootstrap, seed):
        forest = CausalSurvivalForest(n_estimators=2, target=target, horizon=horizon)

        def fit(*args, **kwargs):
            seen["device"] = forest.device
            raise Stop("stop before fitting")

        forest.fit = fit
        return forest

    monkeypatch.setitem(_cli_estimate.METHODS, "csf", _cli_estimate.Method("stub", build))
    assert main(["estimate", "--out", str(tmp_path / "out"), "--device", "cpu"]) == 2
    assert seen == {"device": "cpu"}


# ----------------------------------------------- GPU and array-API inputs through validation
class FakeCupyArray:
    """Stand-in for a CuPy array: exports ``__cuda_array_interface__``, copies to host by
    ``get()`` and refuses NumPy's implicit conversion, as CuPy does."""

    def __init__(self, array):
        self._array = np.ascontiguousarray(array)
        self.shape = self._array.shape

    @property
    def __cuda_array_interface__(self):
        return {"shape": self._array.shape, "typestr": self._array.dtype.str,
                "data": (self._array.ctypes.data, False), "version": 3}

    def get(self):
        return self._array.copy()

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __len__(self):
        return self.shape[0]


class InterfaceOnly:
    """Exports ``__cuda_array_interface__`` and nothing to copy it with."""

    @property
    def __cuda_array_interface__(self):
        return {"shape": (3, 2), "typestr": "<f8", "data": (0, False), "version": 3}


def test_gpu_arrays_are_copied_to_the_host_with_the_same_fit():
    d = survhte_bench("RCT-50", "A", n=200, random_state=3)
    time, event = d.y["time"], d.y["event"]
    weight = np.random.default_rng(0).uniform(0.5, 1.5, d.X.shape[0])
    kwargs = dict(n_estimators=8, horizon=1.0, device="cpu", random_state=0)
    host = CausalSurvivalForest(**kwargs).fit(d.X, (time, event), d.w, sample_weight=weight)
    gpu = CausalSurvivalForest(**kwargs).fit(
        FakeCupyArray(d.X), (FakeCupyArray(time), FakeCupyArray(event)), FakeCupyArray(d.w),
        sample_weight=FakeCupyArray(weight))
    np.testing.assert_array_equal(gpu.predict(FakeCupyArray(d.X[:20])), host.predict(d.X[:20]))
    # An (n, 2) outcome array on the device too.
    both = FakeCupyArray(np.column_stack([time, event.astype(float)]))
    again = CausalSurvivalForest(**kwargs).fit(d.X, both, d.w, sample_weight=weight)
    np.testing.assert_array_equal(again.predict(d.X[:20]), host.predict(d.X[:20]))


def test_a_gpu_array_that_cannot_be_copied_is_a_clear_error():
    with pytest.raises(TypeError, match=r"X is a GPU array \(InterfaceOnly"):
        RegressionForest(n_estimators=2).fit(InterfaceOnly(), np.zeros(3))


def test_array_api_strict_inputs_give_the_numpy_fit():
    xp = pytest.importorskip("array_api_strict")
    X, y, w = _regression(n=120)
    numpy_fit = CausalForest(n_estimators=6, device="cpu", random_state=0).fit(X, y, w)
    strict_fit = CausalForest(n_estimators=6, device="cpu", random_state=0).fit(
        xp.asarray(X), xp.asarray(y), xp.asarray(w))
    np.testing.assert_array_equal(strict_fit.predict(xp.asarray(X[:10])),
                                  numpy_fit.predict(X[:10]))
    d = survhte_bench("RCT-50", "A", n=150, random_state=4)
    outcome = (xp.asarray(d.y["time"]), xp.asarray(d.y["event"]))
    forest = SurvivalForest(n_estimators=4, device="cpu", random_state=0)
    np.testing.assert_array_equal(
        forest.fit(xp.asarray(d.X), outcome).predict_survival(d.X[:5], [0.5]),
        clone(forest).fit(d.X, d.y).predict_survival(d.X[:5], [0.5]))


# ------------------------------------------------- the GPU code as compiled for a GPU (PTX)
def test_the_gpu_kernels_compile_without_fused_multiply_adds(monkeypatch):
    """On a GPU, NVVM contracts ``a * b + c`` into one fused multiply-add (one rounding, not
    the CPU's two) unless told not to; the kernels round their products apart
    (``forest_predict_cuda._mul``), so their PTX has no ``fma`` and their results are the
    CPU's on hardware too, not only under the simulator. Compiled for an H100 (sm_90)
    without a GPU (where there is one, the tests marked ``cuda`` compare on it instead);
    skipped where no libNVVM (CUDA toolkit) is installed."""
    import numba.cuda.dispatcher
    from numba import config, cuda, typeof
    from numba.cuda.cudadrv import nvvm

    if config.ENABLE_CUDASIM or gpu_available() or not nvvm.is_available():
        pytest.skip("a GPU or the simulator is here, or no libNVVM to compile PTX with")

    class H100:
        compute_capability = (9, 0)

    # The kernels' device functions compile for "the current device": there is none here.
    monkeypatch.setattr(numba.cuda.dispatcher, "get_current_device", H100)
    X, y, _ = _regression(n=60)
    forest = RegressionForest(n_estimators=4, device="cpu", random_state=0).fit(X, y).forest_
    tree = (forest.feature, forest.threshold, forest.left, forest.leaf_size,
            forest.node_offset, forest.inbag)
    rows, values = np.empty(0, dtype=np.int64), np.ones((forest.leaf_size.shape[0], 2))
    vector, counts = np.empty(3), np.empty(3, dtype=np.int64)
    kernels = {
        "_means_kernel": (X, *tree, values, rows, values, counts),
        "_little_bags_kernel": (X, *tree, values, values, 2, rows, vector, vector, vector),
        "_weights_accumulate": (X, 0, 3, forest.feature, forest.threshold, forest.left,
                                forest.leaf_start, forest.leaf_size, forest.node_offset,
                                forest.leaf_samples, forest.inbag, rows, values, counts,
                                counts),
    }
    for name, args in kernels.items():
        kernel = getattr(cuda_kernels, name)
        ptx, _ = cuda.compile_ptx(kernel.py_func, tuple(typeof(a) for a in args), cc=(9, 0))
        assert "fma" not in ptx, name
        if name == "_little_bags_kernel":  # the products are there, rounded on their own
            assert "mul.rn.f64" in ptx


def test_the_survival_curve_kernel_compiles_without_fused_multiply_adds(monkeypatch):
    """The survival forest's GPU curve kernel as compiled for an H100 (sm_90; skipped as
    above): it types on the CUDA target (the simulator runs Python, and once hid two-argument
    ``min``/``max`` that the target refuses), its products are rounded apart
    (``mul.rn.f64``), and it has no fused multiply-add of its own. libdevice's ``exp`` (the
    Nelson-Aalen curve) has some inside it, so ``exp`` is swapped for a device function
    without any before compiling."""
    import math
    import types

    import numba.cuda.dispatcher
    from numba import config, cuda, typeof
    from numba.cuda.cudadrv import nvvm

    if config.ENABLE_CUDASIM or gpu_available() or not nvvm.is_available():
        pytest.skip("a GPU or the simulator is here, or no libNVVM to compile PTX with")
    from survhte._kernels import forest_survival_cuda

    class H100:
        compute_capability = (9, 0)

    monkeypatch.setattr(numba.cuda.dispatcher, "get_current_device", H100)
    no_exp = types.ModuleType("no_exp")
    no_exp.nan = math.nan
    no_exp.exp = cuda.jit(device=True)(lambda x: -x)
    monkeypatch.setattr(forest_survival_cuda, "math", no_exp)
    d = survhte_bench("RCT-50", "A", n=120, random_state=0)
    forest = SurvivalForest(n_estimators=4, device="cpu", random_state=0).fit(d.X, d.y)
    X, tree, hist, rows, grid = forest._kernel_args(d.X)
    width = grid.size + 2
    acc, curves = np.zeros((3, width, 2)), np.zeros((3, width))
    flags, ints = np.zeros((3, width), dtype=np.uint8), np.zeros((3, width), dtype=np.int64)
    out, query = np.zeros((X.shape[0], 2)), np.zeros(2, dtype=np.int64)
    args = (X, 0, 3, *tree, *hist, rows, grid, query, np.ones(2), True, acc, flags, ints, ints,
            curves, out, out)
    ptx, _ = cuda.compile_ptx(forest_survival_cuda._curves_kernel.py_func,
                              tuple(typeof(a) for a in args), cc=(9, 0))
    assert "mul.rn.f64" in ptx
    assert "fma" not in ptx
