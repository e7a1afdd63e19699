"""Session-wide test settings."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_openmp_thread():
    """scikit-learn's OpenMP code (the imputed learners' histogram gradient boosting) on one
    thread for the whole run, as tests/test_estimator_checks.py and tests/test_ensemble.py
    already did for their modules. numba's ``omp`` layer loads the system libgomp and
    scikit-learn its own copy, so after every fit two OpenMP runtimes spin on the two cores;
    on these small fits that is waste: one test's fit took 89.5 s wall / 88.0 s CPU with two
    OpenMP threads beside another 2-thread job, 4.7 s / 5.0 s CPU with one. Results do not
    depend on the OpenMP thread count (scikit-learn's boosting is deterministic given its
    seed), and numba keeps its own threads (``numba.get_num_threads()`` is unchanged, and the
    thread checks set them explicitly). Subprocesses (CLI, notebooks, the study's workers)
    keep the environment's settings."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield
