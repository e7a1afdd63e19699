"""The documentation site: every public name in the API reference, every estimator with an
example that runs, and the site builds in mkdocs' strict mode (broken links, missing references
and unparsable docstrings fail).

The reference pages are generated from the packages' ``__all__`` lists by the mkdocs hook
``docs/_hooks/survhte_docs.py``; these tests import the same hook, so what they check is what
the site shows.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import pytest
from sklearn.base import BaseEstimator

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "survhte_docs", ROOT / "docs" / "_hooks" / "survhte_docs.py"
)
pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pages)

EXAMPLES = re.compile(r"^Examples\n-{3,}\n", re.M)
# Examples that read the SurvHTE-Bench files (not shipped; tests/test_datasets.py reads the same
# copy): they run where $SURVHTE_DATA or this copy has them, and are skipped elsewhere.
BENCH = ROOT.parent / "shared" / "data" / "survhte_bench"
NEEDS_BENCH = re.compile(r"\b(load_actg175|load_actg_synthetic|benchmark_split)\(")


def _documented_objects() -> dict[str, object]:
    """Every documented class and function, once each: ``module.name -> object``."""
    objects: dict[str, object] = {}
    seen: set[int] = set()
    for module_name in pages.public_modules():
        module = importlib.import_module(module_name)
        for name in pages.public_names(module_name):
            value = getattr(module, name)
            if (inspect.isclass(value) or inspect.isfunction(value)) and id(value) not in seen:
                seen.add(id(value))
                objects[f"{module_name}.{name}"] = value
    return objects


OBJECTS = _documented_objects()
ESTIMATORS = {
    path: value
    for path, value in OBJECTS.items()
    if inspect.isclass(value) and issubclass(value, BaseEstimator)
}


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(recurse=False)
    tests = []
    for path, value in OBJECTS.items():
        # An empty namespace: an example imports what it uses, as a reader copying it must.
        tests += [test for test in finder.find(value, path, globs={}) if test.examples]
    return tests


DOCTESTS = _doctests()


def test_reference_pages_document_every_public_name():
    """Each name of each public subpackage's ``__all__`` has its mkdocstrings block, and each
    top-level name links to the page of a subpackage that exports the same object."""
    generated = pages.reference_pages()
    modules = pages.public_modules()
    # The subpackages of issue 19's list must be among the documented ones (a rename that
    # dropped one from the site would otherwise pass silently).
    for required in ("simulate", "datasets", "heterogeneity", "metrics", "plotting", "survival",
                     "imputation", "inference", "study", "forest", "ensemble",
                     "imputed_learners", "survival_model_learners"):
        assert f"survhte.{required}" in modules
    n_names = 0
    for module_name in modules:
        page = generated[f"reference/{module_name.split('.', 1)[1]}.md"]
        for name in pages.public_names(module_name):
            assert f"::: {module_name}.{name}\n" in page, f"{module_name}.{name} not documented"
            n_names += 1
    import survhte

    targets = pages.top_level_targets()
    assert set(targets) == set(survhte.__all__) - {"__version__"}
    index = generated["reference/index.md"]
    for name, path in targets.items():
        module_name, _, attr = path.rpartition(".")
        assert getattr(importlib.import_module(module_name), attr) is getattr(survhte, name)
        assert f"[`{name}`][{path}]" in index
    assert n_names >= len(targets)


def test_a_new_export_appears_in_the_reference(monkeypatch):
    """The pages follow ``__all__``: a name added to it is documented without editing a page."""
    import survhte.inference as inference

    monkeypatch.setattr(inference, "__all__", [*inference.__all__, "brand_new"])
    assert "::: survhte.inference.brand_new\n" in pages.module_page("survhte.inference")


def test_every_public_estimator_has_an_example():
    missing = [path for path, value in ESTIMATORS.items()
               if not EXAMPLES.search(inspect.getdoc(value) or "")]
    assert not missing, f"public estimators without an Examples section: {missing}"


def test_every_top_level_name_has_an_example():
    import survhte

    missing = [name for name in survhte.__all__ if name != "__version__"
               and not EXAMPLES.search(inspect.getdoc(getattr(survhte, name)) or "")]
    assert not missing, f"top-level names without an Examples section: {missing}"


def test_docstrings_dedent():
    """A docstring line left of the others (a backslash-continued line in a raw docstring) stops
    ``inspect.getdoc`` and griffe from dedenting it: the page shows it as one code block."""
    bad = []
    for path, value in OBJECTS.items():
        lines = (value.__doc__ or "").expandtabs().split("\n")[1:]
        body = [line for line in lines if line.strip()]
        if body and min(len(line) - len(line.lstrip()) for line in body) == 0 and any(
            line.startswith(" ") for line in body
        ):
            bad.append(path)
    assert not bad, f"docstrings with a line at column 0: {bad}"


@pytest.mark.parametrize("test", DOCTESTS, ids=[test.name for test in DOCTESTS])
def test_docstring_example_runs(test, monkeypatch):
    if any(NEEDS_BENCH.search(example.source) for example in test.examples):
        if not os.environ.get("SURVHTE_DATA"):
            if not BENCH.is_dir():
                pytest.skip("needs the SurvHTE-Bench data ($SURVHTE_DATA is not set)")
            monkeypatch.setenv("SURVHTE_DATA", str(BENCH))
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    report: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


GUIDE_PAGES = sorted(
    path for path in (ROOT / "docs").rglob("*.md") if "```python\n" in path.read_text()
)


@pytest.mark.parametrize("page", GUIDE_PAGES,
                         ids=[str(p.relative_to(ROOT / "docs")) for p in GUIDE_PAGES])
def test_guide_code_runs(page):
    """The ```python blocks of a page run in order, as a reader pastes them (```py blocks are
    shown, not run: copies of the README's examples, which tests/test_readme.py runs)."""
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in blocks:
            exec(compile(block, str(page), "exec"), namespace)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter"):
        if importlib.util.find_spec(module.split(".")[0]) is None or (
            "." in module and importlib.util.find_spec(module) is None
        ):
            pytest.skip(f"{module} is not installed (pip install -e '.[dev]' installs the "
                        "documentation tools)")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-6000:]
    return out


def test_site_builds_in_strict_mode_with_every_public_name(site):
    for module_name in pages.public_modules():
        html = (site / "reference" / module_name.split(".", 1)[1] / "index.html").read_text()
        for name in pages.public_names(module_name):
            assert f'id="{module_name}.{name}"' in html, f"{module_name}.{name} not rendered"
    index = (site / "reference" / "index.html").read_text()
    for path in pages.top_level_targets().values():
        assert f"{path}" in index


def test_site_renders_every_notebook(site):
    notebooks = pages.notebooks()
    assert notebooks, "notebooks/ has no notebook"
    for path in notebooks:
        assert (site / "notebooks" / path.stem / "index.html").is_file(), path.name
