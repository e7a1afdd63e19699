"""Reading and checking the data table of ``survhte estimate``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import check_covariates, check_event, check_time, check_treatment
from .datasets import load_rossi

#: Defaults of --time/--event/--treatment for a --data CSV.
CSV_DEFAULTS = {"time": "time", "event": "event", "treatment": "w"}
#: Ground-truth columns of survhte's simulators and the SurvHTE-Bench files: never default
#: covariates (they would leak the potential outcomes into the model).
TRUTH_COLUMNS = ("T0", "T1", "T", "C", "propensity", "true_cate")
TRUTH_PREFIX = "p_surv_"


@dataclass(frozen=True)
class EstimateInput:
    """Validated inputs of one ``survhte estimate`` run."""

    source: str
    time_col: str
    event_col: str
    treatment_col: str
    X: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    w_codes: np.ndarray
    classes: np.ndarray
    arm_labels: tuple[str, ...]
    time_unit: str
    notes: tuple[str, ...]


def _column(frame: pd.DataFrame, name: str, option: str, source: str) -> pd.Series:
    if name not in frame.columns:
        raise ValueError(
            f"column {name!r} ({option}) not found in {source}; its columns are "
            f"{', '.join(map(str, frame.columns))}."
        )
    values = frame[name]
    if values.isna().any():
        raise ValueError(
            f"column {name!r} ({option}) has {int(values.isna().sum())} missing value(s); "
            "drop or impute those rows first."
        )
    return values


def _numeric(values: pd.Series, option: str) -> pd.Series:
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise ValueError(
            f"column {values.name!r} ({option}) is not numeric (dtype {values.dtype}); "
            "encode it as numbers first."
        )
    return values


def _default_covariates(
    frame: pd.DataFrame, outcome: list[str]
) -> tuple[list[str], list[str]]:
    """All other numeric columns, less ground-truth columns; and a note per exclusion."""
    candidates = [c for c in frame.columns if c not in outcome]
    truth = [c for c in candidates if c in TRUTH_COLUMNS or str(c).startswith(TRUTH_PREFIX)]
    text = [
        c for c in candidates
        if c not in truth and not pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    covariates = [c for c in candidates if c not in truth and c not in text]
    notes = []
    if truth:
        notes.append(f"left out as simulation ground truth: {', '.join(truth)}")
    if text:
        notes.append(f"left out as non-numeric: {', '.join(map(str, text))}")
    return covariates, notes


def read_estimate_input(
    data: str | None,
    time_col: str | None,
    event_col: str | None,
    treatment_col: str | None,
    covariates: str | None,
) -> EstimateInput:
    """Load the table (``--data`` CSV or the built-in Rossi data) and check every column.

    Raises
    ------
    FileNotFoundError, ValueError
        With a message naming the file, column and option at fault.
    """
    if data is None:
        rossi = load_rossi()
        frame, source, time_unit = rossi.frame, "Rossi recidivism data (lifelines)", rossi.time_unit
        defaults = {"time": rossi.time_col, "event": rossi.event_col,
                    "treatment": rossi.treatment_col}
        labels = rossi.treatment_labels
    else:
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"data file not found: {path} (--data).")
        frame, source, time_unit = pd.read_csv(path), str(path), "time units"
        defaults, labels = CSV_DEFAULTS, None
    time_col = time_col or defaults["time"]
    event_col = event_col or defaults["event"]
    treatment_col = treatment_col or defaults["treatment"]
    time = check_time(
        _numeric(_column(frame, time_col, "--time", source), "--time"),
        name=f"column {time_col!r} (--time)",
    )
    event = check_event(
        _numeric(_column(frame, event_col, "--event", source), "--event"),
        name=f"column {event_col!r} (--event)",
    )
    treatment = _column(frame, treatment_col, "--treatment", source)
    codes, classes = check_treatment(
        treatment, n_samples=len(frame), name=f"column {treatment_col!r} (--treatment)"
    )
    outcome = [time_col, event_col, treatment_col]
    if covariates is None:
        names, notes = _default_covariates(frame, outcome)
    else:
        names, notes = [c.strip() for c in covariates.split(",") if c.strip()], []
        clash = [c for c in names if c in outcome]
        if clash:
            raise ValueError(f"--covariates includes outcome/treatment column(s) {clash}.")
    if not names:
        raise ValueError(f"no covariates: {source} has no numeric column besides {outcome}.")
    for name in names:
        _numeric(_column(frame, name, "--covariates", source), "--covariates")
    X = frame[names]
    check_covariates(X, name="covariates")
    if labels is None:
        arm_labels = tuple(f"{treatment_col}={label}" for label in classes)
    else:
        arm_labels = tuple(labels[int(label)] for label in classes)
    return EstimateInput(
        source=source,
        time_col=time_col,
        event_col=event_col,
        treatment_col=treatment_col,
        X=X,
        time=time,
        event=event,
        w_codes=codes,
        classes=classes,
        arm_labels=arm_labels,
        time_unit=time_unit,
        notes=tuple(notes),
    )
