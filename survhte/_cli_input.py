"""Reading and checking the data table of ``survhte estimate``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder

from ._validation import check_covariates, check_event, check_time, check_treatment
from .datasets import load_rossi

#: Defaults of --time/--event/--treatment for a --data CSV.
CSV_DEFAULTS = {"time": "time", "event": "event", "treatment": "w"}
#: Ground-truth columns of survhte's simulators and the SurvHTE-Bench files: never default
#: covariates (they would leak the potential outcomes into the model).
TRUTH_COLUMNS = ("T0", "T1", "T", "C", "propensity", "true_cate")
TRUTH_PREFIX = "p_surv_"
#: A text column with more distinct values is no default covariate (an identifier or free
#: text); naming it in --covariates encodes it anyway.
MAX_DEFAULT_LEVELS = 50


@dataclass(frozen=True)
class EstimateInput:
    """Validated inputs of one ``survhte estimate`` run.

    ``X`` holds the covariates as numbers: text columns one-hot encoded (``encoded`` maps
    each to its indicator columns); ``classes[k]`` is the label of treatment code ``k``,
    ``classes[0]`` the control.
    """

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
    encoded: tuple[str, ...] = ()


def read_csv(path: Path) -> pd.DataFrame:
    """Read a ``--data`` CSV; a file pandas cannot read is a ValueError naming it."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise ValueError(f"data file {path} is empty (--data): no header, no rows.")
    if b"\x00" in head:
        raise ValueError(
            f"data file {path} is binary, not a CSV text file (--data); save it as CSV "
            "(comma-separated, UTF-8) first."
        )
    try:
        frame = pd.read_csv(path)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"data file {path} is not UTF-8 text (--data): byte {error.object[error.start]:#04x} "
            f"at position {error.start}; is it a spreadsheet or other binary file? Save it as "
            "CSV (comma-separated, UTF-8) first."
        ) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"data file {path} is empty (--data): no header, no rows.") from None
    except pd.errors.ParserError as error:
        detail = " ".join(str(error).split())
        raise ValueError(f"data file {path} is not a well-formed CSV (--data): {detail}") from None
    if frame.empty:
        raise ValueError(
            f"data file {path} has no rows (--data): only the header "
            f"({', '.join(map(str, frame.columns))})."
        )
    return frame


def _column(frame: pd.DataFrame, name: str, option: str, source: str) -> pd.Series:
    if name not in frame.columns:
        hint = ""
        if frame.shape[1] == 1:
            header = str(frame.columns[0])
            separator = next((s for s in (";", "\t", "|") if s in header), None)
            if separator is not None:
                hint = (f" (the file seems to be separated by {separator!r}; survhte reads "
                        "comma-separated files)")
        raise ValueError(
            f"column {name!r} ({option}) not found in {source}; its columns are "
            f"{', '.join(map(str, frame.columns))}{hint}."
        )
    values = frame[name]
    if values.isna().any():
        raise ValueError(
            f"column {name!r} ({option}) has {int(values.isna().sum())} missing value(s); "
            "drop or impute those rows first."
        )
    return values


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _numeric(values: pd.Series, option: str) -> pd.Series:
    if not _is_numeric(values):
        raise ValueError(
            f"column {values.name!r} ({option}) is not numeric (dtype {values.dtype}); "
            "encode it as numbers first."
        )
    return values


def _check_text(values: pd.Series, option: str) -> None:
    """Refuse a text column that is numbers with a few typos (encoding it would be wrong)."""
    as_numbers = pd.to_numeric(values, errors="coerce")
    if as_numbers.notna().mean() >= 0.5:
        bad = values[as_numbers.isna()]
        examples = ", ".join(repr(v) for v in pd.unique(bad)[:3])
        raise ValueError(
            f"column {values.name!r} ({option}) is mostly numbers but {bad.size} value(s) are "
            f"not ({examples}, first at row {bad.index[0]}); fix or drop those rows."
        )


def _default_covariates(
    frame: pd.DataFrame, outcome: list[str]
) -> tuple[list[str], list[str]]:
    """Every other column, less ground-truth columns and text identifiers; a note per exclusion."""
    candidates = [c for c in frame.columns if c not in outcome]
    truth = [c for c in candidates if c in TRUTH_COLUMNS or str(c).startswith(TRUTH_PREFIX)]
    text = [c for c in candidates if c not in truth and not _is_numeric(frame[c])]
    for column in text:
        _check_text(frame[column], "a default covariate")
    identifiers = [c for c in text if frame[c].nunique() > MAX_DEFAULT_LEVELS]
    covariates = [c for c in candidates if c not in truth and c not in identifiers]
    notes = []
    if truth:
        notes.append(f"left out as simulation ground truth: {', '.join(truth)}")
    if identifiers:
        notes.append(
            f"left out as text with more than {MAX_DEFAULT_LEVELS} distinct values (an "
            f"identifier or free text?): {', '.join(map(str, identifiers))}; name them in "
            "--covariates to one-hot encode them"
        )
    return covariates, notes


def encode_covariates(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One-hot encode the text columns of ``frame`` (scikit-learn's ``OneHotEncoder``).

    Each text column with levels ``l_0 < l_1 < ... < l_m`` (sorted) becomes ``m`` indicator
    columns ``name_l1 .. name_lm``; ``l_0`` is the reference (all indicators 0). Dropping one
    level keeps the indicators from summing to a constant, which the Cox model and the OLS
    summary of the CATE cannot separate from the baseline. Numeric columns pass unchanged and
    the column order is kept.

    Returns
    -------
    X : DataFrame of numbers
    mapping : list of str
        One line per encoded column: its levels, reference and indicator columns.
    """
    text = [c for c in frame.columns if not _is_numeric(frame[c])]
    if not text:
        return frame, []
    encoder = OneHotEncoder(drop="first", sparse_output=False, dtype=np.float64)
    indicators = encoder.fit_transform(frame[text].astype(str))
    names = encoder.get_feature_names_out([str(c) for c in text])
    pieces, mapping, start = {}, [], 0
    for column, levels in zip(text, encoder.categories_, strict=True):
        width = len(levels) - 1
        block = list(names[start:start + width])
        pieces[column] = pd.DataFrame(indicators[:, start:start + width], columns=block,
                                      index=frame.index)
        start += width
        target = ", ".join(block) if block else "no column (a single level)"
        mapping.append(
            f"{column} ({len(levels)} levels: {', '.join(map(str, levels))}; reference "
            f"{levels[0]}) -> {target}"
        )
    parts = [pieces[c] if c in pieces else frame[[c]] for c in frame.columns]
    X = pd.concat(parts, axis=1)
    clash = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
    if clash:
        raise ValueError(
            f"one-hot encoding the text covariates gives column(s) {clash}, which already "
            "exist; rename those columns."
        )
    return X, mapping


def resolve_control(treatment: pd.Series, control: str | None, name: str) -> object | None:
    """The label of ``treatment`` that ``--control`` names (or ``None`` when coded 0..K).

    ``--control`` is text; it names the level whose printed form it is (``1`` for the
    integer 1). Without it the treatment must be coded ``0..K`` (0 the control) or boolean
    (``False`` the control); other labels say nothing of which is the control.
    """
    values = treatment.to_numpy()
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        values = values.astype(np.int64)
    levels = pd.unique(values)
    try:
        levels = np.sort(levels)
    except TypeError:  # mixed label types: keep them in order of appearance
        pass
    shown = ", ".join(map(str, levels))
    if control is None:
        if values.dtype.kind == "b" or (
            values.dtype.kind in "iu" and np.array_equal(levels, np.arange(levels.size))
        ):
            return None
        if levels.size < 2:
            return None  # check_treatment says there is nothing to compare
        raise ValueError(
            f"{name} has levels {shown}, which do not say which is the control (survhte "
            f"reads 0..K with 0 the control); name it with --control LABEL, LABEL one of "
            f"{shown}."
        )
    matches = [level for level in levels if str(level) == control]
    if len(matches) != 1:
        raise ValueError(
            f"--control {control!r} is not a level of {name}; its levels are {shown}."
        )
    return matches[0]


def read_estimate_input(
    data: str | None,
    time_col: str | None,
    event_col: str | None,
    treatment_col: str | None,
    covariates: str | None,
    control: str | None = None,
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
        frame, source, time_unit = read_csv(path), str(path), "time units"
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
    treatment_name = f"column {treatment_col!r} (--treatment)"
    codes, classes = check_treatment(
        treatment, n_samples=len(frame), name=treatment_name,
        control=resolve_control(treatment, control, treatment_name),
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
        raise ValueError(f"no covariates: {source} has no column besides {outcome}.")
    option = "--covariates" if covariates is not None else "a default covariate"
    for name in names:
        values = _column(frame, name, option, source)
        if not _is_numeric(values):
            _check_text(values, option)
    X, encoded = encode_covariates(frame[names])
    if X.shape[1] == 0:
        raise ValueError(f"no covariates: every covariate of {source} has a single level.")
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
        encoded=tuple(encoded),
    )
