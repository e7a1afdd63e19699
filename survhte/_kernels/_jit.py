"""numba options shared by the forest kernels."""

from __future__ import annotations


def prange_only() -> dict[str, bool]:
    """``parallel=`` options that parallelize the explicit ``prange`` loops only.

    ``parallel=True`` also turns every array expression (``np.zeros``, ``np.full``, array
    arithmetic, ``a[:] = x``) into a parallel loop of its own, for no speed here (the kernels
    fill O(n) outputs around an O(n x trees) ``prange`` loop) and no change in the numbers
    (elementwise work gives the same values in any order; checked bitwise on the CLI's
    Rossi and 3-arm fits). Measured effect on the cold compile: within the noise of a
    shared 2-core machine (66-68 s CPU before and after). A fresh dict per call: numba
    consumes it.
    """
    return {"prange": True, "comprehension": False, "reduction": False, "inplace_binop": False,
            "setitem": False, "numpy": False, "stencil": False, "fusion": False}
