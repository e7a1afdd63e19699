"""numba options shared by the forest kernels."""

from __future__ import annotations


def prange_only() -> dict[str, bool]:
    """``parallel=`` options that parallelize the explicit ``prange`` loops only.

    ``parallel=True`` also turns every array expression (``np.zeros``, ``np.full``, array
    arithmetic, ``a[:] = x``) into a parallel loop, each compiled as its own gufunc: about
    half of the kernels' first-run compile time for no speed (they fill O(n) outputs
    around an O(n x trees) ``prange`` loop), and no change in the numbers (elementwise work
    gives the same values in any order). A fresh dict per call: numba consumes it.
    """
    return {"prange": True, "comprehension": False, "reduction": False, "inplace_binop": False,
            "setitem": False, "numpy": False, "stencil": False, "fusion": False}
