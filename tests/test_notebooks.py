"""The notebooks run top to bottom in a real Jupyter kernel (nbclient), on the small settings
they are stored with, and still produce the outputs they were stored with.

Each notebook is committed with its outputs. The test executes a copy in a fresh ``python3``
kernel (the environment's own interpreter, through ipykernel) from the ``notebooks/`` folder,
fails on any cell that raises, and checks that every code cell still shows what it stored:
its figures (as many PNGs) and its results (tables, values), so a figure or table that
silently disappears fails too. Numbers are not compared: they depend on the platform's
floating point and thread scheduling, and the notebooks' own text says what they show.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Notebooks that read the SurvHTE-Bench data folder (not shipped with the package).
NEEDS_BENCHMARK_DATA = {"actg175_clinical.ipynb"}
#: Seconds one cell may take before the run fails (the slowest cell takes ~20 s warm).
CELL_TIMEOUT = 600


def benchmark_data() -> Path:
    """Where the notebooks look for the data: $SURVHTE_DATA, else ../shared/data/survhte_bench
    relative to the repository root (the notebooks search their folder's parents)."""
    if os.environ.get("SURVHTE_DATA"):
        return Path(os.environ["SURVHTE_DATA"])
    return ROOT.parent / "shared" / "data" / "survhte_bench"


def output_kinds(cell) -> tuple[int, bool]:
    """(number of PNG figures, whether a result or rich display other than a figure is shown)."""
    figures, result = 0, False
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            figures += 1
        elif output.get("output_type") in ("execute_result", "display_data"):
            result = True
    return figures, result


def test_notebooks_found():
    names = {p.name for p in NOTEBOOKS}
    assert {"quickstart.ipynb", "actg175_clinical.ipynb", "simulation_study.ipynb",
            "multi_arm_and_model_selection.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_keeps_its_outputs(path, monkeypatch):
    if path.name in NEEDS_BENCHMARK_DATA and not (benchmark_data() / "real").is_dir():
        pytest.skip(f"{path.name} reads the SurvHTE-Bench data, not found at "
                    f"{benchmark_data()} (set SURVHTE_DATA)")
    stored = nbformat.read(path, as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    # stored executed, top to bottom, on the small settings
    assert all(cell.execution_count is not None for cell in code), (
        f"{path.name}: store it executed (jupyter nbconvert --execute --inplace)")
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code:
        assert not any(o.get("output_type") == "error" for o in cell.outputs)
        if cell.source.lstrip().startswith("FULL ="):
            assert cell.source.lstrip().startswith("FULL = False"), (
                f"{path.name}: store it with FULL = False (the CI settings)")

    executed = nbformat.read(path, as_version=4)
    # The kernel (and the study workers it starts) with scikit-learn's OpenMP on one thread, as
    # tests/conftest.py sets for this process: numba's and scikit-learn's two libgomp copies
    # spin against each other on two cores (multi_arm_and_model_selection.ipynb: 416 s beside
    # another job with the default). numba keeps its threads (it does not read this variable).
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    client = nbclient.NotebookClient(executed, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell

    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    for index, (before, after) in enumerate(zip(code, ran, strict=True)):
        figures, result = output_kinds(before)
        now_figures, now_result = output_kinds(after)
        assert now_figures == figures, (
            f"{path.name}, code cell {index}: {now_figures} figure(s), stored {figures}")
        assert now_result or not result, (
            f"{path.name}, code cell {index}: no result shown; one is stored")
