"""Benchmark split protocol: ``benchmark_split`` and ``split_from_permutation``."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survhte.simulate import benchmark_split, split_from_permutation

DATA = Path(__file__).parents[1] / ".." / "shared" / "data" / "survhte_bench"
SPLIT_FILE = DATA / "synthetic" / "idx_split.csv"
needs_split_file = pytest.mark.skipif(
    not SPLIT_FILE.is_file(), reason=f"benchmark split file not available at {SPLIT_FILE}"
)


@needs_split_file
@pytest.mark.parametrize("repeat", [0, 9])
def test_benchmark_split_follows_the_protocol(repeat):
    train, val, test = benchmark_split(repeat, split_file=SPLIT_FILE)
    perm = pd.read_csv(SPLIT_FILE)[f"random_idx{repeat}"].to_numpy()
    assert (train.size, val.size, test.size) == (5_000, 2_500, 2_500)
    # first 5,000 / next 2,500 / the 2,500 after those, each returned in row order
    np.testing.assert_array_equal(train, np.sort(perm[:5_000]))
    np.testing.assert_array_equal(val, np.sort(perm[5_000:7_500]))
    np.testing.assert_array_equal(test, np.sort(perm[7_500:10_000]))
    assert np.unique(np.concatenate([train, val, test])).size == 10_000
    assert train.dtype == np.int64 and train.min() >= 0 and test.max() < 50_000


@needs_split_file
def test_benchmark_split_reads_the_environment_variable(monkeypatch):
    monkeypatch.setenv("SURVHTE_DATA", str(DATA))
    for got, expected in zip(benchmark_split(3), benchmark_split(3, SPLIT_FILE), strict=True):
        np.testing.assert_array_equal(got, expected)


@needs_split_file
@pytest.mark.parametrize("repeat", [10, -1, 1.0, "0"])
def test_benchmark_split_rejects_bad_repeat(repeat):
    with pytest.raises(ValueError, match="repeat"):
        benchmark_split(repeat, split_file=SPLIT_FILE)


def test_benchmark_split_without_data_says_where_to_get_it(monkeypatch):
    monkeypatch.delenv("SURVHTE_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"SURVHTE_DATA.*SurvHTE-Bench"):
        benchmark_split(0)


def test_benchmark_split_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVHTE_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"idx_split\.csv"):
        benchmark_split(0)
    with pytest.raises(FileNotFoundError, match="not found"):
        benchmark_split(0, split_file=tmp_path / "nope.csv")


def test_split_from_permutation_fractions_follow_the_benchmark_rule():
    perm = np.random.default_rng(0).permutation(1_001)
    train, val, test = split_from_permutation(perm, fractions=(0.5, 0.25, 0.25), sort=False)
    # int(1001 * 0.5) = 500, int(1001 * 0.25) = 250, remainder 251
    assert (train.size, val.size, test.size) == (500, 250, 251)
    np.testing.assert_array_equal(np.concatenate([train, val, test]), perm)


def test_split_from_permutation_sizes_and_sorting():
    perm = np.array([9, 3, 7, 1, 0, 8, 2])
    a, b = split_from_permutation(perm, sizes=(3, 2))
    np.testing.assert_array_equal(a, [3, 7, 9])
    np.testing.assert_array_equal(b, [0, 1])
    (c,) = split_from_permutation(perm, sizes=[0])
    assert c.size == 0


@pytest.mark.parametrize(
    ("perm", "kwargs", "argument"),
    [
        (np.arange(10), {}, "sizes and fractions"),
        (np.arange(10), {"sizes": (5,), "fractions": (1.0,)}, "sizes and fractions"),
        (np.arange(10), {"sizes": (6, 5)}, "sizes"),
        (np.arange(10), {"sizes": (-1, 5)}, "sizes"),
        (np.arange(10), {"sizes": (2.5, 5)}, "sizes"),
        (np.arange(10), {"fractions": (0.5, 0.4)}, "fractions"),
        (np.arange(10), {"fractions": (1.5, -0.5)}, "fractions"),
        (np.array([0, 1, 1]), {"sizes": (1,)}, "perm"),
        (np.linspace(0, 1, 4), {"sizes": (1,)}, "perm"),
        (np.arange(4).reshape(2, 2), {"sizes": (1,)}, "perm"),
    ],
)
def test_split_from_permutation_rejects_bad_arguments(perm, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        split_from_permutation(perm, **kwargs)
