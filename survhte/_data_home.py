"""Where survhte finds the SurvHTE-Bench data files a user keeps locally.

The benchmark's files (ACTG 175, the semi-synthetic ACTG set, split permutations) are not
shipped with survhte. A loader finds them under a directory given as ``data_home`` or, failing
that, in the environment variable ``SURVHTE_DATA``; the directory is laid out as
``real/``, ``semi-synthetic/`` and ``synthetic/``. A missing file is a ``FileNotFoundError``
that says which file, where it was looked for, and where to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV_VAR = "SURVHTE_DATA"
"""Environment variable naming a local copy of the SurvHTE-Bench data directory."""

SOURCES = (
    "the SurvHTE-Bench repository (github.com/Shahriarnz14/SurvHTE-Bench; data also on Harvard "
    "Dataverse, doi:10.7910/DVN/VLJO28); the original ACTG 175 trial data are UCI Machine "
    "Learning Repository dataset id 890"
)


def benchmark_file(relative: str, data_home: str | os.PathLike[str] | None = None) -> Path:
    """Path of ``relative`` (e.g. ``"real/ACTG_175_HIV1.csv"``) in the benchmark data directory.

    Parameters
    ----------
    relative : str
        Path inside the data directory.
    data_home : path-like, optional
        The data directory; defaults to ``$SURVHTE_DATA``.

    Raises
    ------
    FileNotFoundError
        If the file is not there, saying where it was looked for and where to get it.
    """
    if data_home is not None:
        root, how = Path(data_home).expanduser(), f"data_home={str(data_home)!r}"
    elif os.environ.get(DATA_ENV_VAR):
        root, how = Path(os.environ[DATA_ENV_VAR]).expanduser(), f"${DATA_ENV_VAR}"
    else:
        root, how = None, f"no data_home argument and ${DATA_ENV_VAR} is not set"
    if root is not None and (root / relative).is_file():
        return root / relative
    where = f"looked for {root / relative}" if root is not None else "nowhere to look"
    raise FileNotFoundError(
        f"SurvHTE-Bench file '{relative}' not found ({where}; {how}). Pass data_home= or set "
        f"${DATA_ENV_VAR} to a directory holding real/, semi-synthetic/ and synthetic/ as in "
        f"{SOURCES}."
    )
