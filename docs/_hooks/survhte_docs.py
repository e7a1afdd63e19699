"""mkdocs hook: the API reference pages and the notebooks, generated at build time.

The reference is written from the packages' ``__all__`` lists, so a new export appears in the
site without anyone editing a page: one page per public subpackage (every name of its
``__all__``, rendered by mkdocstrings from the docstrings) and one page for the top-level
``survhte`` namespace that links each of its names to the page that documents it. A top-level
name that no subpackage exports fails the build. ``notebooks/*.ipynb`` (outside ``docs/``) are
added as pages rendered by mkdocs-jupyter from their stored outputs (never executed at build
time), so a new notebook is picked up by the glob. ``tests/test_docs.py`` imports this module to
check the pages name every public name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = "reference"
NOTEBOOK_DIR = "notebooks"
REFERENCE_NAV = "API reference"
NOTEBOOK_NAV = "Notebooks"
# Modules that are not part of the documented API: the console script (documented in the guide)
# and the deprecated aliases of renamed packages.
UNDOCUMENTED_MODULES = ("cli", "metalearners", "survival_metalearners")


def public_modules() -> list[str]:
    """Names of the public submodules of ``survhte`` (no leading underscore), sorted."""
    import survhte

    return sorted(
        f"survhte.{info.name}"
        for info in pkgutil.iter_modules(survhte.__path__)
        if not info.name.startswith("_") and info.name not in UNDOCUMENTED_MODULES
    )


def public_names(module_name: str) -> list[str]:
    """A module's public names: its ``__all__``, else the public functions/classes it defines."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module_name
        ]
    return [name for name in names if name != "__version__"]


def _page_name(module_name: str) -> str:
    return f"{REFERENCE_DIR}/{module_name.split('.', 1)[1]}.md"


def _title(module_name: str) -> str:
    return f"`{module_name}`"


def module_page(module_name: str) -> str:
    """Markdown of one subpackage's reference page: one mkdocstrings block per public name."""
    lines = [
        f"# {_title(module_name)}",
        "",
        f"::: {module_name}",
        "    options:",
        "      members: false",
        "      show_root_heading: false",
        "      show_root_toc_entry: false",
        "",
    ]
    for name in public_names(module_name):
        lines += [f"::: {module_name}.{name}", ""]
    return "\n".join(lines)


def top_level_targets() -> dict[str, str]:
    """Where each name of ``survhte.__all__`` is documented: ``name -> module.name`` path.

    A name is documented on the page of a subpackage that exports the same object; a top-level
    name that no subpackage exports raises ``LookupError`` (the build fails).
    """
    import survhte

    owners: dict[int, str] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            owners.setdefault(id(getattr(module, name)), f"{module_name}.{name}")
    targets = {}
    for name in public_names("survhte"):
        path = owners.get(id(getattr(survhte, name)))
        if path is None:
            raise LookupError(
                f"survhte.{name} is exported at the top level but by no public subpackage's "
                "__all__, so the API reference has no page for it."
            )
        targets[name] = path
    return targets


_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc|math):`(~?)([^`]+)`")


def summary(obj: object) -> str:
    """The first paragraph of ``obj``'s docstring, on one line, as Markdown table text."""
    text = (inspect.getdoc(obj) or "").strip().split("\n\n")[0].replace("\n", " ")
    text = _ROLE.sub(lambda m: f"`{m[2].rsplit('.', 1)[-1] if m[1] else m[2]}`", text)
    return text.replace("``", "`").replace("|", "\\|")


def top_level_page() -> str:
    """Markdown of the ``survhte`` page: each top-level name, linked to its documentation."""
    import survhte

    lines = [
        "# `survhte`",
        "",
        "Every estimator class and loader is importable from the top level "
        "(`from survhte import CausalSurvivalForest`); each name below links to the page of the "
        "subpackage that defines it.",
        "",
        "| name | documented as | summary |",
        "| --- | --- | --- |",
    ]
    for name, path in top_level_targets().items():
        lines.append(f"| [`{name}`][{path}] | `{path}` | {summary(getattr(survhte, name))} |")
    return "\n".join(lines) + "\n"


def reference_pages() -> dict[str, str]:
    """Every generated reference page: ``path under docs/ -> Markdown``."""
    pages = {f"{REFERENCE_DIR}/index.md": top_level_page()}
    for module_name in public_modules():
        pages[_page_name(module_name)] = module_page(module_name)
    return pages


def notebooks() -> list[Path]:
    """The stored notebooks rendered in the site (``notebooks/*.ipynb``), sorted by name."""
    return sorted((ROOT / NOTEBOOK_DIR).glob("*.ipynb"))


def _fill_nav(nav: list, reference: list, notebook_entries: list) -> None:
    for index, entry in enumerate(nav):
        if isinstance(entry, dict):
            ((title, value),) = entry.items()
            if title == REFERENCE_NAV:
                nav[index] = {title: reference}
            elif title == NOTEBOOK_NAV:
                nav[index] = {title: notebook_entries}
            elif isinstance(value, list):
                _fill_nav(value, reference, notebook_entries)


# --- mkdocs events ----------------------------------------------------------------------------

def on_config(config):
    reference = [{"survhte": f"{REFERENCE_DIR}/index.md"}] + [
        {module_name: _page_name(module_name)} for module_name in public_modules()
    ]
    entries = [f"{NOTEBOOK_DIR}/{path.name}" for path in notebooks()]
    if config["nav"] is not None:
        _fill_nav(config["nav"], reference, entries)
    return config


def _on_files(files, config):
    from mkdocs.structure.files import File

    for path, content in reference_pages().items():
        files.append(File.generated(config, path, content=content))
    for path in notebooks():
        files.append(
            File(
                f"{NOTEBOOK_DIR}/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


try:  # run before mkdocs-jupyter's on_files, which turns .ipynb files into pages
    from mkdocs.plugins import event_priority

    on_files = event_priority(100)(_on_files)
except ImportError:  # pragma: no cover - the module is imported by tests without mkdocs
    on_files = _on_files
