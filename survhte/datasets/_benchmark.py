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
Caveat: in both censoring versions a row followed to 30 months has event = 1: its truncated
outcome min(T, 30) is known (the convention grf uses for RMST at horizon 30). Use target="rmst"
with horizon <= 30; do not read those events at 30 months as failures.
"""
_CENSORING_NOTES = {
    "low": "the original follow-up (`observed_time_month`, `effect_non_censor`).",
    "high": "version {version} of 10 with extra censoring injected (`t{version}`, `e{version}`), "
    "about 75-80% censored (SurvHTE-Bench 'actgHC').",
}

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
) -> ACTG175Dataset:
    """Load one ACTG 175 comparison as prepared by SurvHTE-Bench (real randomized trial).

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

    Notes
    -----
    Rows followed to 30 months carry ``effect_non_censor = 1``: their outcome ``min(T, 30)`` is
    known. That is right for RMST up to 30 months but not for the hazard of failure at 30.

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
    """
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {list(COMPARISONS)}; got {comparison!r}.")
    if censoring not in CENSORING:
        raise ValueError(f"censoring must be one of {list(CENSORING)}; got {censoring!r}.")
    if censoring == "high" and (
        isinstance(version, bool)
        or not isinstance(version, (int, np.integer))
        or not 0 <= version < N_VERSIONS
    ):
        raise ValueError(f"version must be an integer 0..{N_VERSIONS - 1}; got {version!r}.")
    frame = pd.read_csv(benchmark_file(f"real/ACTG_175_{comparison}.csv", data_home))
    permutations = _read_permutations(f"real/idx_split_{comparison}.csv", data_home)
    if censoring == "low":
        time_col, event_col, used_version = "observed_time_month", "effect_non_censor", None
    else:
        time_col, event_col, used_version = f"t{version}", f"e{version}", int(version)
    description = _ACTG_DESCRIPTION.format(
        comparison=comparison,
        arms=COMPARISONS[comparison],
        time_col=time_col,
        event_col=event_col,
        censoring=censoring,
        censoring_note=_CENSORING_NOTES[censoring].format(version=used_version),
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
