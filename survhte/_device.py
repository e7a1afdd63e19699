"""Where the forests' prediction kernels run: the ``device`` parameter (issue 22).

``device="auto"`` (the default) runs them on a CUDA GPU when numba finds one (numba's CUDA
simulator, ``NUMBA_ENABLE_CUDASIM=1``, counts as one: that is how the GPU path is tested
without a GPU), else on the CPU; ``"cpu"`` always on the CPU; ``"gpu"`` on the GPU, and
where there is none, on the CPU with a :class:`DeviceWarning` rather than an error, since
the two paths give the same answers (the GPU kernels add the trees in the CPU kernels'
order) and a script written for a GPU machine should still run on a laptop.

Nothing here imports CuPy, and ``numba.cuda`` is imported only when a device other than
``"cpu"`` is resolved, so ``import survhte`` needs neither.
"""

from __future__ import annotations

import warnings
from typing import Any

from ._params import Options
from ._warnings import user_stacklevel

#: The values of ``device``.
DEVICES = ("auto", "cpu", "gpu")

#: ``_parameter_constraints`` entry of ``device``.
DEVICE_CONSTRAINT: list[Any] = [Options(set(DEVICES))]


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
    if device == "cpu":
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
