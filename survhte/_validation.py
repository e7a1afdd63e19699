"""Input validation shared by every survhte estimator.

One place turns what a user passes as ``(X, y, w)`` into the arrays the kernels expect,
following the contract in ``spec/api.md``:

- ``X``: a 2-D array-like or DataFrame of finite numbers -> float64 ``(n, p)``;
- ``y``: a scikit-survival structured array ``(event, time)``, a tuple ``(time, event)``,
  an ``(n, 2)`` array ``[time, event]`` or a DataFrame with the two columns named by the caller
  -> float64 ``time`` (finite, >= 0) and bool ``event``;
- ``w``: a treatment coded ``0..K`` (0 = control), or labels (strings, categories, booleans)
  mapped to codes with a stored ``classes_``, the control first (``control=`` names it).

Every failure is a ``ValueError`` or ``TypeError`` whose message names the argument.

Arrays of other libraries are accepted wherever a NumPy array is. By default they become
NumPy arrays: array-API arrays (``array_api_strict``, ...) and anything NumPy can read convert as
usual, and GPU arrays (CuPy, numba device arrays: anything exporting
``__cuda_array_interface__``) are copied to host memory once, here (:func:`host_array`), for
the estimators that run only on the CPU (forests, Cox and Weibull models, propensity
classifiers): CuPy refuses NumPy's implicit conversion, which would otherwise fail with a
TypeError that does not say which argument was the problem.

Namespace-preserving mode. The functions and estimators whose computation is written against
the array API standard (Kaplan-Meier, Nelson-Aalen, pseudo-observations, IPCW weights, the
imputed T- and S-learners, the AIPCW score arithmetic) pass ``keep_namespace=True``: an input
that is an array of a non-NumPy array-API library (CuPy, ``array_api_strict``, torch, ...;
:func:`foreign_namespace`, decided by ``array_api_compat``) is then validated in its own
namespace and returned there, on its device, and the other inputs of the same call are moved
to that namespace and device (:func:`to_namespace`). The checks are written once, with the
namespace's functions (``array_api_compat``'s NumPy namespace for NumPy), so NumPy inputs give
the same arrays, bit for bit, in either mode. Treatment labels are the one exception: they are
encoded on the host (labels of any type, sorted by NumPy), and only their integer codes move
to the input's namespace.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from array_api_compat import array_namespace, is_array_api_obj, is_numpy_array
from array_api_compat import device as array_device

TARGETS = ("rmst", "survival")
#: Largest covariate magnitude accepted: products of two covariates stay finite (sqrt of the
#: largest float64 is 1.3e154), so polynomial and spline bases cannot overflow.
MAX_COVARIATE = 1e150


def host_array(values: Any, name: str) -> Any:
    """``values`` in host memory: a GPU array (one exporting ``__cuda_array_interface__``:
    CuPy, numba device arrays, CUDA tensors) as a NumPy copy; anything else unchanged.

    CuPy arrays are copied by their ``get()``, numba device arrays by ``copy_to_host()``,
    others through ``numba.cuda.as_cuda_array`` (which needs a CUDA device); a ``TypeError``
    naming ``name`` says when none works.
    """
    if not hasattr(values, "__cuda_array_interface__"):
        return values
    for method in ("copy_to_host", "get"):  # numba device arrays; CuPy
        copy = getattr(values, method, None)
        if callable(copy):
            return np.asarray(copy())
    try:
        from numba import cuda

        return cuda.as_cuda_array(values).copy_to_host()
    except Exception as error:
        raise TypeError(
            f"{name} is a GPU array ({type(values).__name__}, exporting "
            f"__cuda_array_interface__) that could not be copied to host memory ({error}); "
            "pass a NumPy array (e.g. cupy.asnumpy)."
        ) from None


def _foreign(values: Any) -> bool:
    """Whether ``values`` is an array of an array-API library other than NumPy."""
    return (values is not None and not isinstance(values, (pd.Series, pd.DataFrame))
            and not is_numpy_array(values) and is_array_api_obj(values))


def foreign_namespace(*values: Any) -> Any:
    """The array-API namespace of the first of ``values`` that is an array of a library other
    than NumPy (CuPy, ``array_api_strict``, torch, ...), or ``None`` when there is none
    (NumPy arrays, lists, scalars, pandas objects, ``None``)."""
    for value in values:
        if _foreign(value):
            return array_namespace(value)
    return None


def to_namespace(values: Any, like: Any) -> Any:
    """``values`` as an array of the namespace and on the device of array ``like``.

    A NumPy ``like`` gives a NumPy array (GPU arrays copied by :func:`host_array`); an array
    already in ``like``'s namespace is returned unchanged; anything else is read by NumPy and
    copied to ``like``'s device by that namespace's ``asarray``.
    """
    if values is None:
        return None
    if not _foreign(like):
        return np.asarray(host_array(values, "values"))
    xp = array_namespace(like)
    if _foreign(values) and array_namespace(values) is xp:
        return values
    return xp.asarray(np.asarray(host_array(values, "values")), device=array_device(like))


def take_rows(array: Any, rows: Any) -> Any:
    """Rows ``rows`` (host integer indices, e.g. a fold) of ``array``, in its namespace and on
    its device."""
    xp = array_namespace(array)
    return xp.take(array, to_namespace(rows, array), axis=0)


def to_numpy(values: Any, name: str = "values") -> Any:
    """A host NumPy copy of an array of any namespace (``None`` and non-arrays unchanged):
    the documented boundary where namespace-preserving code hands data to CPU-only models."""
    if values is None or not (_foreign(values) or is_numpy_array(values)):
        return values
    return np.asarray(host_array(values, name))


def _common_namespace(*values: Any) -> list[Any]:
    """``values`` moved to the namespace and device of the first foreign array among them
    (unchanged when there is none); ``None`` entries stay ``None``."""
    like = next((value for value in values if _foreign(value)), None)
    if like is None:
        return list(values)
    return [to_namespace(value, like) for value in values]


def _as_array(values: Any, name: str, keep_namespace: bool) -> Any:
    """``values`` itself when it is a foreign array and ``keep_namespace``, else NumPy."""
    if keep_namespace and _foreign(values):
        return values
    return np.asarray(host_array(values, name))


def _head(array: Any, count: int = 5) -> list[Any]:
    """The first ``count`` entries of a 1-D array of any namespace as Python numbers."""
    return [array[i].item() if hasattr(array[i], "item") else float(array[i])
            for i in range(min(count, array.shape[0]))]


def _as_float64(values: Any, name: str, keep_namespace: bool = False) -> Any:
    """Return ``values`` as a float64 array; a ``TypeError`` naming ``name`` if not numeric."""
    array = _as_array(values, name, keep_namespace)
    if not is_numpy_array(array):
        xp = array_namespace(array)
        if not xp.isdtype(array.dtype, ("bool", "integral", "real floating")):
            raise TypeError(f"{name} must be numeric; got dtype {array.dtype}.")
        return xp.astype(array, xp.float64, copy=False)
    if array.dtype == object or array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be numeric; got dtype {array.dtype}.") from None
    return np.asarray(array, dtype=np.float64)


def _finite_float_vector(values: Any, name: str, keep_namespace: bool = False) -> Any:
    """Return ``values`` as a 1-D float64 array, rejecting non-numeric and non-finite entries."""
    array = _as_float64(values, name, keep_namespace)
    xp = array_namespace(array)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {tuple(array.shape)}.")
    finite = xp.isfinite(array)
    if not bool(xp.all(finite)):
        bad = int(xp.count_nonzero(~finite))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s).")
    return array


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool; ``ValueError`` naming ``name`` unless it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_time(time: Any, *, name: str = "time", keep_namespace: bool = False) -> Any:
    """Validate observed times: one-dimensional, finite and non-negative (zero is valid).

    ``keep_namespace``: a non-NumPy array-API array is checked and returned in its own
    namespace (float64, on its device); see the module notes.
    """
    time = _finite_float_vector(time, name, keep_namespace)
    xp = array_namespace(time)
    if time.shape[0] == 0:
        raise ValueError(f"{name} is empty.")
    negative = time < 0
    if bool(xp.any(negative)):
        raise ValueError(f"{name} contains {int(xp.count_nonzero(negative))} negative value(s).")
    return time


def check_event(event: Any, *, name: str = "event", require_event: bool = True,
                keep_namespace: bool = False) -> Any:
    """Validate event indicators: bool, or numbers in {0, 1}; at least one event by default.

    ``keep_namespace``: a non-NumPy array-API array is checked and returned (bool) in its own
    namespace.
    """
    array = _as_array(event, name, keep_namespace)
    xp = array_namespace(array)
    if array.dtype != xp.bool:
        numeric = _finite_float_vector(array, name, keep_namespace)
        binary = (numeric == 0) | (numeric == 1)
        if not bool(xp.all(binary)):
            bad = _head(xp.unique_values(numeric[~binary]))
            raise ValueError(f"{name} must be 0/1 or boolean; found values {bad}.")
        array = numeric == 1
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {tuple(array.shape)}.")
    if require_event and not bool(xp.any(array)):
        raise ValueError(f"{name} has no events: every row is censored.")
    return array


def check_sample_weight(sample_weight: Any, n_samples: int, *,
                        keep_namespace: bool = False) -> Any:
    """Validate case weights: finite, non-negative, positive total; ``None`` passes through."""
    if sample_weight is None:
        return None
    weight = _finite_float_vector(sample_weight, "sample_weight", keep_namespace)
    xp = array_namespace(weight)
    if weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {weight.shape[0]} rows but the data have {n_samples}."
        )
    if bool(xp.any(weight < 0)):
        raise ValueError("sample_weight contains negative values.")
    if not float(xp.sum(weight)) > 0:
        raise ValueError("sample_weight sums to zero.")
    return weight


def check_time_event(
    time: Any, event: Any, sample_weight: Any = None, *, keep_namespace: bool = False
) -> tuple[Any, Any, Any]:
    """Validate a survival outcome given as separate ``time`` and ``event`` vectors.

    ``keep_namespace``: when one of the three is an array of a non-NumPy array-API library,
    all three are checked and returned in its namespace, on its device (module notes).

    Returns
    -------
    time : ndarray of float64
    event : ndarray of bool
    sample_weight : ndarray of float64 or None
    """
    if keep_namespace:
        time, event, sample_weight = _common_namespace(time, event, sample_weight)
    time = check_time(time, keep_namespace=keep_namespace)
    event = check_event(event, keep_namespace=keep_namespace)
    if event.shape[0] != time.shape[0]:
        raise ValueError(f"event has {event.shape[0]} rows but time has {time.shape[0]}.")
    weight = check_sample_weight(sample_weight, time.shape[0], keep_namespace=keep_namespace)
    if weight is not None and not bool(array_namespace(weight).any(event & (weight > 0))):
        raise ValueError("sample_weight is zero on every event row: no events carry weight.")
    return time, event, weight


def _split_outcome(y: Any, time_col: str, event_col: str,
                   keep_namespace: bool = False) -> tuple[Any, Any]:
    """Pull the time and event columns out of any accepted form of ``y``."""
    if isinstance(y, pd.DataFrame):
        missing = [col for col in (time_col, event_col) if col not in y.columns]
        if missing:
            raise ValueError(
                f"y is a DataFrame without column(s) {missing} (it has {list(y.columns)}); "
                f"name its columns {time_col!r} and {event_col!r} (e.g. "
                f"y.rename(columns={{'months': {time_col!r}, 'died': {event_col!r}}})) or "
                "pass y as a tuple (time, event)."
            )
        return y[time_col].to_numpy(), y[event_col].to_numpy()
    if isinstance(y, tuple):
        if len(y) != 2:
            raise ValueError(f"y as a tuple must be (time, event); got {len(y)} elements.")
        return y
    if keep_namespace and _foreign(y):
        if y.ndim == 2 and y.shape[1] == 2:
            return y[:, 0], y[:, 1]
        raise TypeError(
            "y as an array must have two columns [time, event]; got shape "
            f"{tuple(y.shape)}; or pass y as a tuple (time, event)."
        )
    array = np.asarray(host_array(y, "y"))
    if array.dtype.names is not None:
        names = array.dtype.names
        if time_col in names and event_col in names:
            return array[time_col], array[event_col]
        if len(names) == 2:  # scikit-survival convention: (event, time) in that order
            return array[names[1]], array[names[0]]
        raise ValueError(
            f"y is a structured array with fields {names}; expected two fields (event, time)."
        )
    if array.ndim == 2 and array.shape[1] == 2:
        return array[:, 0], array[:, 1]
    raise TypeError(
        "y must be a structured array (event, time), a tuple (time, event), an (n, 2) array "
        f"[time, event] or a DataFrame; got {type(y).__name__} with shape {array.shape}."
    )


def check_survival_outcome(
    y: Any,
    *,
    n_samples: int | None = None,
    time_col: str = "time",
    event_col: str = "event",
    require_event: bool = True,
    keep_namespace: bool = False,
) -> tuple[Any, Any]:
    """Turn any accepted survival outcome into float64 ``time`` and bool ``event``.

    Parameters
    ----------
    y : structured array, tuple, (n, 2) array or DataFrame
        Structured arrays use fields ``time_col``/``event_col`` when present, otherwise the
        scikit-survival order (event, time). Tuples are ``(time, event)``; 2-D arrays have
        columns ``[time, event]``.
    n_samples : int, optional
        Expected number of rows (the rows of ``X``).
    time_col, event_col : str
        Column or field names for DataFrame and structured-array input.
    require_event : bool, default True
        Reject an outcome without any event (what fitting needs); ``False`` for rows that are
        only transformed or scored, which may all be censored.
    keep_namespace : bool, default False
        When ``y`` is (or holds) an array of a non-NumPy array-API library, return ``time``
        and ``event`` in its namespace, on its device (module notes).

    Returns
    -------
    time : ndarray of float64, finite and non-negative
    event : ndarray of bool
    """
    raw_time, raw_event = _split_outcome(y, time_col, event_col, keep_namespace)
    if keep_namespace:
        raw_time, raw_event = _common_namespace(raw_time, raw_event)
    time = check_time(raw_time, name="y (time)", keep_namespace=keep_namespace)
    event = check_event(raw_event, name="y (event)", require_event=require_event,
                        keep_namespace=keep_namespace)
    if time.shape[0] != event.shape[0]:
        raise ValueError(
            f"y has {time.shape[0]} times but {event.shape[0]} event indicators."
        )
    if n_samples is not None and time.shape[0] != n_samples:
        raise ValueError(f"y has {time.shape[0]} rows but X has {n_samples}.")
    return time, event


def check_covariates(
    X: Any, *, name: str = "X", n_features: int | None = None, fitted_names: Any = None,
    keep_namespace: bool = False,
) -> tuple[Any, list[str]]:
    """Validate covariates: a 2-D array or DataFrame of finite numbers.

    ``n_features`` and ``fitted_names`` (the column names seen at fit, or ``None`` when the
    estimator was fitted on an array) check ``X`` at ``predict``, as scikit-learn does: a
    DataFrame whose columns are missing, unseen or reordered is an error, never silently read
    by position. An array is read by position. ``keep_namespace``: an array of a non-NumPy
    array-API library is checked and returned (float64) in its namespace, on its device.

    Returns
    -------
    X : ndarray of float64, shape (n, p)
    feature_names : list of str
        DataFrame column names, or ``x0 .. x{p-1}``.
    """
    if isinstance(X, pd.DataFrame):
        non_numeric = [
            str(col) for col, dtype in X.dtypes.items()
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
        ]
        if non_numeric:
            raise TypeError(
                f"{name} has non-numeric column(s) {non_numeric}; encode them first "
                "(e.g. one-hot)."
            )
        feature_names = [str(col) for col in X.columns]
        array = X.to_numpy(dtype=np.float64)
    else:
        array = _as_float64(X, name, keep_namespace)
        if array.ndim == 1:
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features); got a 1-D array. "
                "Reshape with X.reshape(-1, 1) for a single feature."
            )
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-D; got shape {tuple(array.shape)}.")
        feature_names = [f"x{j}" for j in range(array.shape[1])]
    xp = array_namespace(array)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(array.shape)}.")
    finite = xp.isfinite(array)
    if not bool(xp.all(finite)):
        raise ValueError(
            f"{name} contains {int(xp.count_nonzero(~finite))} NaN or infinite value(s)."
        )
    largest = xp.max(xp.abs(array), axis=0)
    if bool(xp.any(largest > MAX_COVARIATE)):
        column = int(xp.argmax(largest))
        raise ValueError(
            f"{name} column {feature_names[column]!r} holds values up to "
            f"{float(largest[column]):.3g} "
            f"in magnitude; survhte's models square and multiply covariates, which overflows "
            f"above {MAX_COVARIATE:g}: rescale it (e.g. to standard units)."
        )
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(
            f"{name} has {array.shape[1]} features but the estimator was fitted with "
            f"{n_features}."
        )
    if fitted_names is not None and isinstance(X, pd.DataFrame) and \
            feature_names != [str(col) for col in fitted_names]:
        fitted = [str(col) for col in fitted_names]
        unseen = [col for col in feature_names if col not in fitted]
        missing = [col for col in fitted if col not in feature_names]
        detail = (f"unseen at fit: {unseen}; missing: {missing}" if unseen or missing
                  else f"in another order: {feature_names} (fitted: {fitted})")
        raise ValueError(
            f"{name}'s columns differ from those seen at fit ({detail}); pass the columns "
            "of the training data in the same order (e.g. X[est.feature_names_in_])."
        )
    return array, feature_names


def check_treatment(
    w: Any, *, n_samples: int, name: str = "w", control: Any = None,
    keep_namespace: bool = False,
) -> tuple[Any, np.ndarray]:
    """Encode a treatment vector as integer codes ``0..K`` with 0 the control level.

    ``control`` names the reference level (a label of ``w``); it gets code 0 and the other
    levels follow in sorted order (a pandas ``Categorical``: in category order). Without it the
    control is chosen only where the coding says which it is: integers ``0..K`` (every level
    present; a gap means a level with no rows) have control 0, booleans ``False``, a
    ``Categorical`` its first category. Strings and other labels have no such order, so they
    need ``control`` (sorting them would pick the control by spelling: "active" before
    "placebo").

    ``keep_namespace``: a ``w`` of a non-NumPy array-API library is encoded on the host (the
    labels are metadata; ``classes`` is a NumPy array) and its codes are returned in ``w``'s
    namespace, on its device.

    Returns
    -------
    codes : ndarray of int64, shape (n,)
    classes : ndarray
        ``classes[k]`` is the original label of code ``k``; ``classes[0]`` is the control.
    """
    codes, classes = _encode_treatment(w, n_samples=n_samples, name=name, control=control)
    return _treatment_in_namespace(w, codes, classes, keep_namespace)


def _encode_treatment(w: Any, *, n_samples: int, name: str,
                      control: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`check_treatment` on the host."""
    if isinstance(w, pd.DataFrame):
        raise TypeError(f"{name} must be one-dimensional; got a DataFrame.")
    ordered = False
    if isinstance(w, pd.Series) and isinstance(w.dtype, pd.CategoricalDtype):
        if w.isna().any():
            raise ValueError(f"{name} contains missing values.")
        classes = np.asarray(w.cat.categories)
        codes = w.cat.codes.to_numpy().astype(np.int64)
        labels = np.asarray(w)
        ordered = True
    else:
        labels = np.asarray(host_array(w, name))
        if labels.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional; got shape {labels.shape}.")
        if labels.dtype.kind in "fc":
            if not np.all(np.isfinite(labels)):
                raise ValueError(f"{name} contains NaN or infinite values.")
            if not np.all(labels == np.round(labels)):
                raise ValueError(
                    f"{name} must hold treatment levels 0..K; found non-integer values."
                )
            labels = labels.astype(np.int64)
        if labels.dtype == object and pd.isna(labels).any():
            raise ValueError(f"{name} contains missing values.")
        classes, codes = np.unique(labels, return_inverse=True)
        codes = codes.astype(np.int64)
        ordered = labels.dtype.kind in "biu"
    if labels.shape[0] != n_samples:
        raise ValueError(f"{name} has {labels.shape[0]} rows but X has {n_samples}.")
    if classes.size < 2:
        raise ValueError(f"{name} has a single level {classes.tolist()}: nothing to compare.")
    if labels.dtype.kind in "iu" and control is None \
            and not np.array_equal(classes, np.arange(classes.size)):
        if classes.min() < 0:
            raise ValueError(f"{name} has negative levels; code treatments as 0..K or pass "
                             "control= naming the reference level.")
        missing = sorted(set(range(int(classes.max()) + 1)) - set(classes.tolist()))
        raise ValueError(
            f"{name} is coded 0..{int(classes.max())} but level(s) {missing} have no rows."
        )
    counts = np.bincount(codes, minlength=classes.size)
    if np.any(counts == 0):
        empty = [str(c) for c, k in zip(classes, counts, strict=True) if k == 0]
        raise ValueError(f"{name} level(s) {empty} have no rows.")
    if control is None:
        if not ordered:
            raise ValueError(
                f"{name} has labels {classes.tolist()}, which say nothing of which is the "
                "control; pass control= naming the reference level (e.g. "
                f"control={classes.tolist()[0]!r}), or code {name} as 0..K with 0 the control."
            )
        return codes, classes
    matches = np.flatnonzero(classes == control)
    if matches.size != 1:
        raise ValueError(f"control={control!r} is not a level of {name}; its levels are "
                         f"{classes.tolist()}.")
    order = np.concatenate([matches, np.delete(np.arange(classes.size), matches[0])])
    recode = np.empty(classes.size, dtype=np.int64)
    recode[order] = np.arange(classes.size)
    return recode[codes], classes[order]


def _treatment_in_namespace(w: Any, codes: np.ndarray, classes: np.ndarray,
                            keep_namespace: bool) -> tuple[Any, np.ndarray]:
    """Codes moved to ``w``'s namespace and device when kept (:func:`check_treatment`)."""
    if keep_namespace and _foreign(w):
        return to_namespace(codes, w), classes
    return codes, classes


def check_target(target: Any) -> str:
    """Validate the estimand name: ``"rmst"`` or ``"survival"``."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}.")
    return target


def check_horizon(horizon: Any, time: np.ndarray, *, name: str = "horizon") -> float:
    """Validate a horizon: a finite number in ``(0, max(time)]``.

    A horizon beyond the last observed time asks for survival where the data say nothing,
    so it is an error rather than an extrapolation.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(horizon).__name__}.")
    horizon = float(horizon)
    if not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {horizon}.")
    last = float(array_namespace(time).max(time))
    if horizon > last:
        raise ValueError(
            f"{name}={horizon:g} is beyond the last observed time {last:g}; "
            "choose a horizon within the follow-up."
        )
    return horizon


def default_horizon(time: np.ndarray, w: np.ndarray) -> float:
    """The data-driven horizon used when ``horizon=None``.

    The smallest, over treatment arms, of each arm's largest observed time: the longest
    horizon up to which every arm's survival curve is observed (the default ``tau`` of
    survRM2; Tian, Zhao & Wei 2014, "Predicting the restricted mean event time with the
    subject's baseline covariates in survival analysis", Biostatistics).
    """
    xp = array_namespace(time, w)
    levels = xp.unique_values(w)
    return float(min(float(xp.max(time[w == levels[i]])) for i in range(levels.shape[0])))


def validate_fit_inputs(
    X: Any,
    y: Any,
    w: Any,
    *,
    time_col: str = "time",
    event_col: str = "event",
    control: Any = None,
    keep_namespace: bool = False,
) -> tuple[Any, list[str], Any, Any, Any, np.ndarray]:
    """Validate ``(X, y, w)`` together, as every estimator's ``fit`` does; ``control`` is
    the reference level of ``w`` (:func:`check_treatment`).

    ``keep_namespace``: when ``X``, ``y``'s arrays or ``w`` are arrays of a non-NumPy
    array-API library, ``X``, ``time``, ``event`` and the codes are returned in that namespace,
    on that device (``X``'s when it is one of them); ``classes`` stays NumPy.

    Returns
    -------
    X, feature_names, time, event, w_codes, classes
    """
    X_array, feature_names = check_covariates(X, keep_namespace=keep_namespace)
    n_samples = X_array.shape[0]
    time, event = check_survival_outcome(
        y, n_samples=n_samples, time_col=time_col, event_col=event_col,
        keep_namespace=keep_namespace,
    )
    codes, classes = check_treatment(w, n_samples=n_samples, control=control,
                                     keep_namespace=keep_namespace)
    if keep_namespace:
        X_array, time, event, codes = _common_namespace(X_array, time, event, codes)
    return X_array, feature_names, time, event, codes, classes
