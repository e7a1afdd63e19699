"""ACTG 175 data sets of SurvHTE-Bench, read from a local copy of the benchmark's data folder."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .._data_home import benchmark_file
from ._containers import ACTG175Dataset, ACTGSyntheticDataset, base_fields

#: Baseline covariates of the real ACTG 175 sets (``z30`` is a held-out confounder).
ACTG175_COVARIATES = [
    "gender", "race", "hemo", "homo", "drugs", "str2", "symptom",
    "age", "wtkg", "karnof", "cd40", "cd80",
]
#: Covariates of the semi-synthetic set, as SurvHTE-Bench uses them (``data.py``).
ACTG_SYNTHETIC_COVARIATES = [
    "age", "wtkg", "hemo", "homo", "drugs", "karnof", "oprior", "z30", "zprior", "preanti",
    "race", "gender", "str2", "strat", "symptom", "treat", "offtrt",
    "cd40", "cd420", "cd496", "r", "cd80", "cd820",
]
ACTG_SYNTHETIC_TRUTH = [
    "T0", "T1", "T", "C", "true_cate",
    *(f"p_surv_t{q}_w{w}" for w in (0, 1) for q in (25, 50, 75)),
]
COMPARISONS = {
    "HIV1": "zidovudine (ZDV) vs ZDV + didanosine (ddI)",
    "HIV2": "ZDV vs ZDV + zalcitabine (Zal)",
    "HIV3": "ZDV vs ddI",
}
CENSORING = ("low", "high")
ARMS = ("comparison", "all")
#: Treatment codes of ``load_actg175(arms="all")`` (UCI's ``trt`` coding; ZDV the control).
ACTG175_ARMS = {0: "ZDV", 1: "ZDV+ddI", 2: "ZDV+ddC", 3: "ddI"}
#: Source file of each treated arm of the four-arm set (HIV2's "Zal" is zalcitabine, ddC).
_ARM_COMPARISON = {1: "HIV1", 2: "HIV2", 3: "HIV3"}
N_VERSIONS = 10

_ACTG_DESCRIPTION = """\
ACTG 175 (Hammer et al. 1996, NEJM 335:1081), randomized trial in HIV-1 infected adults, as
prepared by SurvHTE-Bench (comparison {comparison}: {arms}); UCI dataset id 890.
- time: `{time_col}`, months, capped at 30; event: `{event_col}`
- treatment: `trt` (0 = ZDV arm, 1 = the other arm of the comparison)
- covariates: gender, race, hemo (haemophilia), homo (homosexual activity), drugs (IV drug use),
  str2 (prior antiretroviral therapy), symptom (symptomatic), age, wtkg (weight, kg),
  karnof (Karnofsky score), cd40 (baseline CD4), cd80 (baseline CD8)
- `z30` (ZDV in the 30 days before treatment) is NOT a covariate: the benchmark holds it out as
  an unobserved confounder of the injected censoring.
- cate_base: the benchmark's reference CATE (RMST difference up to 30 months; the average of 10
  grf causal survival forest fits on the low-censoring data).
Censoring "{censoring}": {censoring_note}
{cap_note}
"""
_CAP_NOTES = {
    False: "Caveat: a row followed to 30 months has event = 1: its truncated outcome min(T, 30) "
    "is known (SurvHTE-Bench's coding, the convention grf uses for RMST at horizon 30). Use "
    "target=\"rmst\" with horizon <= 30; do not read those events at 30 months as failures "
    "(censor_at_cap=True codes them as censored).",
    True: "A row followed to 30 months is censored there (event = 0; censor_at_cap=True); the "
    "files code it as an event.",
}
_CENSORING_NOTES = {
    "low": "the original follow-up (`observed_time_month`, `effect_non_censor`).",
    "high": "version {version} of 10 with extra censoring injected (`t{version}`, `e{version}`), "
    "about 75-80% censored (SurvHTE-Bench 'actgHC').",
}

_ALL_ARMS_DESCRIPTION = """\
ACTG 175 (Hammer et al. 1996, NEJM 335:1081), randomized trial in HIV-1 infected adults, all four
arms, rebuilt from SurvHTE-Bench's three comparison files (the UCI dataset id 890 rows: 2,139 of the
2,467 randomized patients).
- time: `{time_col}`, months, capped at 30; event: `{event_col}`
- treatment: `trt` = 0 ZDV (532), 1 ZDV+ddI (522), 2 ZDV+ddC (zalcitabine, 524), 3 ddI (561);
  the ZDV rows are in every comparison file, identical, and appear once here.
- `comparison`: the file a treated row comes from ("all" for the ZDV rows, in all three files);
  `source_id`: its id in that file (the ZDV rows: their id in HIV1).
- covariates as in the two-arm sets (gender, race, hemo, homo, drugs, str2, symptom, age, wtkg,
  karnof, cd40, cd80; `z30` held out).
- cate_base: (n, 3), column k - 1 the benchmark's reference CATE of comparison HIV{{k}} (arm k vs
  ZDV) on the rows of that file, NaN on the other rows.
- No benchmark splits exist for the four arms (`n_repeats` is 0).
Censoring "{censoring}": {censoring_note}
{cap_note}
"""

_SYNTHETIC_DESCRIPTION = """\
SurvHTE-Bench semi-synthetic ACTG set: ACTG 175 covariates with simulated potential outcomes.
- time: `observed_time` = min(T, C); event: `event`; treatment: `W` (simulated)
- covariates: the 23 ACTG columns the benchmark uses, among them z30 and variables measured after
  randomization in the real trial (treat, offtrt, cd420, cd496, r, cd820); here they are simply
  inputs of the simulation.
- truth: T0, T1 (potential event times), T (factual), C (censoring), true_cate = T1 - T0 per row
  (untruncated), p_surv_t{25,50,75}_w{0,1} = true survival probabilities at the 25/50/75% time
  quantiles.
"""


def _read_permutations(relative: str, data_home: str | os.PathLike | None) -> pd.DataFrame:
    """The ``random_idx0..9`` permutation columns of a split file."""
    return pd.read_csv(benchmark_file(relative, data_home)).filter(like="random_idx")


def load_actg175(
    comparison: str = "HIV1",
    censoring: str = "low",
    version: int = 0,
    data_home: str | os.PathLike | None = None,
    arms: str = "comparison",
    censor_at_cap: bool | None = None,
) -> ACTG175Dataset:
    """Load one ACTG 175 comparison, or all four arms, as prepared by SurvHTE-Bench.

    Reads ``real/ACTG_175_{comparison}.csv`` and ``real/idx_split_{comparison}.csv`` under
    ``data_home`` (or the directory in ``$SURVHTE_DATA``), laid out like the SurvHTE-Bench
    repository's ``data/`` folder. Nothing is downloaded.

    Parameters
    ----------
    comparison : {"HIV1", "HIV2", "HIV3"}
        HIV1 = ZDV vs ZDV+ddI, HIV2 = ZDV vs ZDV+Zal, HIV3 = ZDV vs ddI; ``trt`` is 1 for the
        non-ZDV arm.
    censoring : {"low", "high"}
        ``"low"``: the trial's own follow-up (``observed_time_month``, ``effect_non_censor``).
        ``"high"``: SurvHTE-Bench's "actgHC" version with censoring injected through the held-out
        confounder ``z30`` (columns ``t{version}``, ``e{version}``).
    version : int, default 0
        Injected-censoring version 0-9, used when ``censoring="high"``.
    data_home : path-like, optional
        Benchmark data directory; defaults to ``$SURVHTE_DATA``.
    arms : {"comparison", "all"}, default "comparison"
        ``"comparison"``: the two arms of ``comparison``. ``"all"``: the four arms of the trial
        (``comparison`` is then ignored), built from the three files: ``w`` = 0 ZDV, 1 ZDV+ddI,
        2 ZDV+ddC (zalcitabine), 3 ddI (UCI's ``trt`` coding; the names are in
        ``treatment_labels``). The ZDV rows are in each file; they are checked to be identical
        (covariates, ``z30``, outcome and injected-censoring columns) and kept once.
        ``cate_base`` is then (n, 3), column ``k - 1`` comparison ``HIV{k}``'s reference CATE on
        that file's rows and NaN elsewhere; ``comparison`` is ``"all"``; ``ids`` number the rows
        1..n and there are no benchmark splits (``n_repeats`` is 0).
    censor_at_cap : bool, optional
        How a row followed to the 30-month cap is coded. ``True``: censored there (``event``
        0), the coding survival models need (a proportional hazards model reads SurvHTE-Bench's
        events at 30 months as failures: on the four arms a Cox S-learner's RMST differences
        at 24 months were 0.41/0.37/0.33 months with them and 1.37/1.26/1.12 without, against
        AIPCW 1.84/1.66/1.36). ``False``: SurvHTE-Bench's coding, ``event`` 1 (its
        ``min(T, 30)`` is known), which reproduces the benchmark's numbers; nonparametric RMST
        estimates up to ``horizon <= 30`` barely differ (AIPCW 1.78/1.59/1.41 at 24 months).
        ``None`` (default): ``True`` for ``arms="all"`` (an analysis of the trial, no benchmark
        split to reproduce), ``False`` for a comparison (the benchmark's data as published).

    Returns
    -------
    ACTG175Dataset
        Covariates gender, race, hemo, homo, drugs, str2, symptom, age, wtkg, karnof, cd40, cd80
        (not ``z30``); ``time`` in months (capped at 30); ``w`` = ``trt``; ``cate_base`` the
        benchmark's reference CATE; ``split(repeat)`` the benchmark's 0.5/0.25/0.25 splits.

    Raises
    ------
    FileNotFoundError
        When the files are not there; the message says where they were looked for and where to
        get them.
    ValueError
        If an argument is invalid, or (``arms="all"``) the ZDV rows differ between the files.

    Notes
    -----
    The SurvHTE-Bench files hold the 2,139 patients of the UCI copy of ACTG 175 (of 2,467
    randomized): ZDV 532, ZDV+ddI 522, ZDV+ddC 524, ddI 561.

    In the files, rows followed to 30 months carry ``effect_non_censor = 1``: their outcome
    ``min(T, 30)`` is known. That is right for RMST up to 30 months but not for the hazard of
    failure at 30; ``censor_at_cap=True`` codes them as censored at 30.

    The split files list 0-based ids while the ACTG ``id`` column is 1-based; :meth:`split`
    reproduces the benchmark's selection by id, so id 0 selects nothing and the row with the
    largest id is in no split.

    References
    ----------
    Hammer, S. M. et al. (1996). A trial comparing nucleoside monotherapy with combination
    therapy in HIV-infected adults with CD4 cell counts from 200 to 500 per cubic millimeter.
    *New England Journal of Medicine*, 335(15), 1081-1090.
    Noroozizadeh, S. et al. (2026). SurvHTE-Bench: a benchmark for heterogeneous treatment effect
    estimation in survival analysis. ICLR. arXiv:2603.05483.

    Examples
    --------
    Needs a copy of the SurvHTE-Bench data (``$SURVHTE_DATA`` or ``data_home=``):

    >>> from survhte.datasets import load_actg175
    >>> trial = load_actg175(arms="all")
    >>> sorted(set(trial.w.tolist()))
    [0, 1, 2, 3]
    """
    if arms not in ARMS:
        raise ValueError(f"arms must be one of {list(ARMS)}; got {arms!r}.")
    if arms == "comparison" and comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {list(COMPARISONS)}; got {comparison!r}.")
    if censoring not in CENSORING:
        raise ValueError(f"censoring must be one of {list(CENSORING)}; got {censoring!r}.")
    if censoring == "high" and (
        isinstance(version, bool)
        or not isinstance(version, (int, np.integer))
        or not 0 <= version < N_VERSIONS
    ):
        raise ValueError(f"version must be an integer 0..{N_VERSIONS - 1}; got {version!r}.")
    if censoring == "low":
        time_col, event_col, used_version = "observed_time_month", "effect_non_censor", None
    else:
        time_col, event_col, used_version = f"t{version}", f"e{version}", int(version)
    censoring_note = _CENSORING_NOTES[censoring].format(version=used_version)
    if censor_at_cap is None:
        censor_at_cap = arms == "all"
    if not isinstance(censor_at_cap, (bool, np.bool_)):
        raise TypeError(f"censor_at_cap must be True, False or None; got {censor_at_cap!r}.")
    if arms == "all":
        return _load_actg175_all_arms(
            data_home, time_col, event_col, censoring, used_version, censoring_note,
            bool(censor_at_cap),
        )
    frame = pd.read_csv(benchmark_file(f"real/ACTG_175_{comparison}.csv", data_home))
    if censor_at_cap:
        frame = _censored_at_cap(frame, time_col, event_col)
    permutations = _read_permutations(f"real/idx_split_{comparison}.csv", data_home)
    description = _ACTG_DESCRIPTION.format(
        comparison=comparison,
        arms=COMPARISONS[comparison],
        time_col=time_col,
        event_col=event_col,
        censoring=censoring,
        censoring_note=censoring_note,
        cap_note=_CAP_NOTES[bool(censor_at_cap)],
    )
    control, treated = COMPARISONS[comparison].split(" vs ")
    return ACTG175Dataset(
        **base_fields(
            frame,
            time_col=time_col,
            event_col=event_col,
            treatment_col="trt",
            covariates=ACTG175_COVARIATES,
            treatment_labels={0: control, 1: treated},
            description=description,
            time_unit="months",
        ),
        ids=frame["id"].to_numpy(),
        permutations=permutations,
        cate_base=frame["cate_base"].to_numpy(dtype=np.float64),
        comparison=comparison,
        censoring=censoring,
        version=used_version,
    )


#: Months of follow-up at which SurvHTE-Bench capped ACTG 175 (``observed_time_month``).
ACTG175_CAP = 30.0


def _censored_at_cap(frame: pd.DataFrame, time_col: str, event_col: str) -> pd.DataFrame:
    """``frame`` with the rows followed to :data:`ACTG175_CAP` months coded as censored."""
    frame = frame.copy()
    at_cap = frame[time_col].to_numpy(dtype=np.float64) >= ACTG175_CAP
    frame.loc[at_cap, event_col] = 0
    return frame


def _load_actg175_all_arms(
    data_home: str | os.PathLike | None,
    time_col: str,
    event_col: str,
    censoring: str,
    version: int | None,
    censoring_note: str,
    censor_at_cap: bool,
) -> ACTG175Dataset:
    """The four ACTG 175 arms from the three comparison files (see :func:`load_actg175`)."""
    files = {c: pd.read_csv(benchmark_file(f"real/ACTG_175_{c}.csv", data_home))
             for c in COMPARISONS}
    # every column but the file's own id and its reference CATE describes the patient
    patient = [c for c in files["HIV1"].columns if c not in ("id", "cate_base")]
    controls = {c: f[f["trt"] == 0].reset_index(drop=True) for c, f in files.items()}
    reference = controls["HIV1"]
    for name, other in controls.items():
        if other.shape != reference.shape or not reference[patient].equals(other[patient]):
            raise ValueError(
                f"the ZDV rows of ACTG_175_HIV1.csv and ACTG_175_{name}.csv differ "
                f"({reference.shape[0]} vs {other.shape[0]} rows); cannot merge the arms."
            )
    parts = [reference.assign(comparison="all", source_id=reference["id"])]
    cate_columns = {c: np.full(reference.shape[0], np.nan) for c in COMPARISONS}
    for name in COMPARISONS:
        cate_columns[name] = controls[name]["cate_base"].to_numpy(dtype=np.float64)
    for code, name in _ARM_COMPARISON.items():
        treated = files[name][files[name]["trt"] == 1]
        parts.append(treated.assign(trt=code, comparison=name, source_id=treated["id"]))
        for other in COMPARISONS:
            own = treated["cate_base"].to_numpy(dtype=np.float64)
            cate_columns[other] = np.concatenate(
                [cate_columns[other], own if other == name else np.full(own.size, np.nan)]
            )
    frame = pd.concat(parts, ignore_index=True).drop(columns="cate_base")
    frame["id"] = np.arange(1, frame.shape[0] + 1)
    if censor_at_cap:
        frame = _censored_at_cap(frame, time_col, event_col)
    description = _ALL_ARMS_DESCRIPTION.format(
        time_col=time_col, event_col=event_col, censoring=censoring,
        censoring_note=censoring_note, cap_note=_CAP_NOTES[censor_at_cap],
    )
    return ACTG175Dataset(
        **base_fields(
            frame,
            time_col=time_col,
            event_col=event_col,
            treatment_col="trt",
            covariates=ACTG175_COVARIATES,
            treatment_labels=ACTG175_ARMS,
            description=description,
            time_unit="months",
        ),
        ids=frame["id"].to_numpy(),
        permutations=pd.DataFrame(index=pd.RangeIndex(0)),
        cate_base=np.column_stack([cate_columns[c] for c in COMPARISONS]),
        comparison="all",
        censoring=censoring,
        version=version,
    )


def load_actg_synthetic(data_home: str | os.PathLike | None = None) -> ACTGSyntheticDataset:
    """Load SurvHTE-Bench's semi-synthetic ACTG set (real covariates, simulated outcomes).

    Reads ``semi-synthetic/actg_syn.csv`` and ``semi-synthetic/idx_split_actg_syn.csv`` under
    ``data_home`` (or ``$SURVHTE_DATA``).

    Parameters
    ----------
    data_home : path-like, optional
        Benchmark data directory; defaults to ``$SURVHTE_DATA``.

    Returns
    -------
    ACTGSyntheticDataset
        ``X``: the 23 covariates SurvHTE-Bench uses (age, wtkg, hemo, homo, drugs, karnof,
        oprior, z30, zprior, preanti, race, gender, str2, strat, symptom, treat, offtrt, cd40,
        cd420, cd496, r, cd80, cd820); ``time`` = ``observed_time``; ``event``; ``w`` = ``W``;
        ``truth`` with T0, T1, T, C, true_cate (= T1 - T0 per row) and the true survival
        probabilities ``p_surv_t{25,50,75}_w{0,1}``; ``split(repeat)``.

    Raises
    ------
    FileNotFoundError
        When the files are not there; the message says where they were looked for and where to
        get them.

    References
    ----------
    Noroozizadeh, S. et al. (2026). SurvHTE-Bench: a benchmark for heterogeneous treatment effect
    estimation in survival analysis. ICLR. arXiv:2603.05483.

    Examples
    --------
    Needs a copy of the SurvHTE-Bench data (``$SURVHTE_DATA`` or ``data_home=``):

    >>> from survhte.datasets import load_actg_synthetic
    >>> data = load_actg_synthetic()
    >>> data.X.shape[0] == data.w.shape[0]
    True
    """
    frame = pd.read_csv(benchmark_file("semi-synthetic/actg_syn.csv", data_home))
    permutations = _read_permutations("semi-synthetic/idx_split_actg_syn.csv", data_home)
    return ACTGSyntheticDataset(
        **base_fields(
            frame,
            time_col="observed_time",
            event_col="event",
            treatment_col="W",
            covariates=ACTG_SYNTHETIC_COVARIATES,
            treatment_labels={0: "control", 1: "treated"},
            description=_SYNTHETIC_DESCRIPTION,
            time_unit="time units of the simulation",
        ),
        ids=frame["idx"].to_numpy(),
        permutations=permutations,
        truth=frame[ACTG_SYNTHETIC_TRUTH].copy(),
    )
