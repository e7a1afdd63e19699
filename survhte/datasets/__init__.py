"""Data sets for heterogeneous treatment effects on survival outcomes.

Embedded (shipped with lifelines, no download): :func:`load_rossi` (randomized),
:func:`load_gbsg2` (observational). SurvHTE-Bench ACTG 175 sets, read from a local copy of the
benchmark's data folder (``data_home=`` or ``$SURVHTE_DATA``): :func:`load_actg175`,
:func:`load_actg_synthetic`.
"""

from .._data_home import DATA_ENV_VAR
from ._benchmark import (
    ACTG175_COVARIATES,
    ACTG_SYNTHETIC_COVARIATES,
    load_actg175,
    load_actg_synthetic,
)
from ._containers import ACTG175Dataset, ACTGSyntheticDataset, Split, SurvivalDataset
from ._embedded import load_gbsg2, load_rossi

__all__ = [
    "ACTG175_COVARIATES",
    "ACTG_SYNTHETIC_COVARIATES",
    "DATA_ENV_VAR",
    "ACTG175Dataset",
    "ACTGSyntheticDataset",
    "Split",
    "SurvivalDataset",
    "load_actg175",
    "load_actg_synthetic",
    "load_gbsg2",
    "load_rossi",
]
