"""Where the forests' prediction kernels run: the ``device`` parameter (issue 22).

``device="auto"`` (the default) runs them on a CUDA GPU when numba finds one it can compile
for (a device and libNVVM; numba's CUDA simulator, ``NUMBA_ENABLE_CUDASIM=1``, counts: that
is how the GPU path is tested without a GPU), else on the CPU, and on the CPU for the rest
of the process once the GPU kernels fail (:func:`run_on_device`, with a warning). ``"cpu"``
runs them on the CPU. ``"gpu"`` runs them on the GPU, and where there is none, on the CPU
with a :class:`DeviceWarning` rather than an error, since the two paths give the same
answers (the GPU kernels add the trees in the CPU kernels' order) and a script written for
a GPU machine should still run on a laptop; a GPU that fails under ``"gpu"`` raises.

Nothing here imports CuPy, and ``numba.cuda`` is imported only when a device other than
``"cpu"`` is resolved, so ``import survhte`` needs neither.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from ._params import Options
from ._warnings import user_stacklevel

T = TypeVar("T")

#: The values of ``device``.
DEVICES = ("auto", "cpu", "gpu")

#: ``_parameter_constraints`` entry of ``device``.
DEVICE_CONSTRAINT: list[Any] = [Options(set(DEVICES))]


#: Why the GPU kernels failed in this process under ``device="auto"`` (then ``"auto"``
#: resolves to the CPU).
_GPU_FAILED: list[str] = []


class DeviceWarning(UserWarning):
    """``device="gpu"`` was asked for but no CUDA device is available: the CPU path runs
    (with the same results)."""


def gpu_available() -> bool:
    """Whether a CUDA device, or numba's CUDA simulator, can run the GPU kernels."""
    try:
        from ._kernels.forest_predict_cuda import cuda_available
    except Exception:  # numba without its CUDA target: no GPU
        return False
    return cuda_available()


def resolve_device(device: str) -> str:
    """``"cpu"`` or ``"gpu"``: where the kernels of an estimator with ``device`` run.

    Parameters
    ----------
    device : {"auto", "cpu", "gpu"}

    Returns
    -------
    str
        ``"gpu"`` for ``"auto"`` or ``"gpu"`` when :func:`gpu_available`, else ``"cpu"``
        (``"gpu"`` without a device warns, :class:`DeviceWarning`).
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}; got {device!r}.")
    if device == "cpu" or (device == "auto" and _GPU_FAILED):
        return "cpu"
    if gpu_available():
        return "gpu"
    if device == "gpu":
        warnings.warn(
            "device='gpu' but no CUDA device is available (numba.cuda.is_available() is "
            "False): running on the CPU, which gives the same results. Install a CUDA driver "
            "or pass device='auto' / 'cpu' to silence this warning.",
            DeviceWarning,
            stacklevel=user_stacklevel(),
        )
    return "cpu"


def run_on_device(device: str, run: Callable[[str], T]) -> T:
    """``run(resolved)`` on ``device`` resolved (:func:`resolve_device`).

    Under ``"auto"``, a GPU run that raises (a driver or toolkit that numba cannot use,
    however ``numba.cuda.is_available()`` answered) is run again on the CPU with a
    :class:`DeviceWarning`, and ``"auto"`` means the CPU for the rest of the process; under
    ``"gpu"`` the error propagates.
    """
    resolved = resolve_device(device)
    if resolved == "cpu":
        return run("cpu")
    try:
        return run("gpu")
    except Exception as error:
        if device == "gpu":
            raise
        _GPU_FAILED.append(f"{type(error).__name__}: {error}")
        warnings.warn(
            f"device='auto': the GPU kernels failed ({type(error).__name__}: "
            f"{' '.join(str(error).split())[:300]}); running on the CPU, as will every "
            "device='auto' prediction of this process (device='gpu' raises the error).",
            DeviceWarning,
            stacklevel=user_stacklevel(),
        )
        return run("cpu")
