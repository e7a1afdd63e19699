"""Real data sets that ship with lifelines: available offline, no download."""

from __future__ import annotations

from lifelines import datasets as _lifelines_datasets

from ._containers import SurvivalDataset, base_fields

ROSSI_COVARIATES = ["age", "race", "wexp", "mar", "paro", "prio"]

GBSG2_COVARIATES = [
    "age", "menostat_post", "tsize", "tgrade", "pnodes", "progrec", "estrec",
]
GBSG2_TREATMENT = {"no": 0, "yes": 1}
GBSG2_GRADE = {"I": 1, "II": 2, "III": 3}

_ROSSI_DESCRIPTION = """\
Rossi recidivism data (Rossi, Berk & Lenihan 1980; Allison 1995), via lifelines.

432 men released from Maryland state prisons, followed for 52 weeks. Half were randomly assigned
financial aid: the comparison is a randomized trial.
- time: `week` of first arrest after release, or 52 (end of follow-up)
- event: `arrest` (1 = arrested during follow-up)
- treatment: `fin` (1 = received financial aid, 0 = none)
- covariates: age (years at release), race (1 = black), wexp (1 = full-time work experience),
  mar (1 = married at release), paro (1 = released on parole), prio (number of prior convictions)
"""

_GBSG2_DESCRIPTION = """\
German Breast Cancer Study Group 2 (Schumacher et al. 1994, J Clin Oncol 12:2086), via lifelines.

686 women with primary node-positive breast cancer; outcome recurrence-free survival in days.
OBSERVATIONAL comparison: hormone therapy (tamoxifen) was not randomly assigned to all patients,
so the arms may differ in prognosis; adjust for confounding (e.g. with a learner that models the
propensity) and read effects with that caveat.
- time: `time` (days); event: `cens` (1 = recurrence or death observed)
- treatment: `horTh` mapped to w: "no" -> 0, "yes" -> 1
- covariates: age (years), menostat_post (menopausal status, 1 = "Post", 0 = "Pre"),
  tsize (tumour size, mm), tgrade (tumour grade as ordinal I/II/III -> 1/2/3),
  pnodes (positive lymph nodes), progrec (progesterone receptor, fmol), estrec (oestrogen receptor,
  fmol)
"""


def load_rossi() -> SurvivalDataset:
    """Load the Rossi recidivism trial (randomized financial aid), shipped with lifelines.

    The default data set of the ``survhte estimate`` command. The treatment ``fin`` was
    randomized, so the arms are exchangeable and Kaplan-Meier contrasts are valid ATEs.

    Returns
    -------
    SurvivalDataset
        ``X`` (age, race, wexp, mar, paro, prio), ``time`` (weeks), ``event`` (arrest),
        ``w`` (``fin``: 1 = financial aid), ``frame`` (lifelines' table), ``description``.

    References
    ----------
    Rossi, P. H., Berk, R. A. & Lenihan, K. J. (1980). *Money, Work, and Crime: Some
    Experimental Results*. Academic Press.
    Allison, P. D. (1995). *Survival Analysis Using the SAS System*. SAS Institute.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> data = load_rossi()
    >>> data.X.shape, int(data.event.sum())
    ((432, 6), 114)
    """
    frame = _lifelines_datasets.load_rossi()
    return SurvivalDataset(
        **base_fields(
            frame,
            time_col="week",
            event_col="arrest",
            treatment_col="fin",
            covariates=ROSSI_COVARIATES,
            treatment_labels={0: "no financial aid", 1: "financial aid"},
            description=_ROSSI_DESCRIPTION,
            time_unit="weeks",
        )
    )


def load_gbsg2() -> SurvivalDataset:
    """Load the GBSG2 breast cancer data (hormone therapy, observational), shipped with lifelines.

    Hormone therapy ``horTh`` is mapped to ``w`` as ``"no" -> 0``, ``"yes" -> 1``. It was **not**
    randomized for all patients: treat the comparison as observational (confounded).
    Categorical covariates are made numeric: ``menostat`` becomes ``menostat_post``
    (1 = post-menopausal) and the ordered ``tgrade`` I/II/III becomes 1/2/3.

    Returns
    -------
    SurvivalDataset
        ``X`` (age, menostat_post, tsize, tgrade, pnodes, progrec, estrec), ``time`` (days),
        ``event`` (``cens`` = 1), ``w`` (hormone therapy), ``frame`` (lifelines' table plus the
        encoded columns ``w``, ``menostat_post`` and ``tgrade`` as numbers).

    References
    ----------
    Schumacher, M. et al. (1994). Randomized 2 x 2 trial evaluating hormonal treatment and the
    duration of chemotherapy in node-positive breast cancer patients. *Journal of Clinical
    Oncology*, 12(10), 2086-2093.

    Examples
    --------
    >>> from survhte.datasets import load_gbsg2
    >>> data = load_gbsg2()
    >>> data.X.shape[0] == data.time.shape[0] == data.w.shape[0]
    True
    """
    frame = _lifelines_datasets.load_gbsg2()
    frame = frame.assign(
        w=frame["horTh"].map(GBSG2_TREATMENT),
        menostat_post=(frame["menostat"] == "Post").astype("int64"),
        tgrade=frame["tgrade"].map(GBSG2_GRADE).astype("int64"),
    )
    return SurvivalDataset(
        **base_fields(
            frame,
            time_col="time",
            event_col="cens",
            treatment_col="w",
            covariates=GBSG2_COVARIATES,
            treatment_labels={code: f"horTh={label}" for label, code in GBSG2_TREATMENT.items()},
            description=_GBSG2_DESCRIPTION,
            time_unit="days",
        )
    )
