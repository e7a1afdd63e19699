"""griffe extension: the reST bits of survhte's numpydoc docstrings, rendered as Markdown.

The docstrings follow numpydoc, whose prose uses Sphinx roles and directives that Markdown does
not read. Before mkdocstrings renders a docstring this rewrites

- ``:class:`~a.b.C``` (also ``:func:``, ``:meth:``, ``:mod:``, ``:attr:``, ``:data:``,
  ``:obj:``) into a cross-reference that links when the target is documented and is plain code
  otherwise (autorefs' optional references: private helpers are named but not documented);
- ``.. math::`` blocks into ``$$ ... $$`` (indented ones, in a list or a section, into a
  display-style ``\\( ... \\)``) and ``:math:`x``` into ``\\( x \\)`` (arithmatex);
- a paragraph ending in ``::`` (a reST literal block follows) into one ending in ``:``.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc):`(~?)([^`<]+?)(?:\s*<([^>]+)>)?`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_LITERAL = re.compile(r"(\S)::$", re.M)


def _pages():
    """The mkdocs hook module beside this file (it lists the documented names)."""
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import survhte_docs
    finally:
        sys.path.pop(0)
    return survhte_docs


@functools.cache
def _documented() -> dict[str, set[str]]:
    """The documented names of each public module (the reference pages' ``__all__`` lists)."""
    pages = _pages()
    return {module: set(pages.public_names(module)) for module in pages.public_modules()}


@functools.cache
def _top_level() -> dict[str, str]:
    return _pages().top_level_targets()


def resolve(name: str, owner: str) -> str:
    """The documented identifier a role's ``name`` means inside object ``owner`` (a dotted path).

    Tried in turn: the name as written; relative to the public package of ``owner``
    (``CausalForest`` in ``survhte.forest._causal`` -> ``survhte.forest.CausalForest``); a
    top-level ``survhte.X`` -> the subpackage page documenting ``X``. Unresolved names are kept
    (the reference is optional, so they render as plain code).
    """
    documented = _documented()
    parts = owner.split(".")
    package = ".".join(parts[:2]) if len(parts) > 1 and not parts[1].startswith("_") else None
    candidates = [name]
    if package and not name.startswith("survhte"):
        candidates.append(f"{package}.{name}")
    for candidate in candidates:
        for module, names in documented.items():
            member = candidate[len(module) + 1:].split(".")[0]
            if candidate.startswith(module + ".") and member in names:
                return candidate
    head, _, rest = name.removeprefix("survhte.").partition(".")
    target = _top_level().get(head)
    if target is not None and (name.startswith("survhte.") or package is None):
        return f"{target}.{rest}" if rest else target
    return name


def _role(match: re.Match, owner: str = "") -> str:
    tilde, text, target = match.groups()
    identifier = resolve((target or text).strip().rstrip("()"), owner)
    label = text.strip()
    if tilde:
        label = label.rsplit(".", 1)[-1]
    return f'<autoref identifier="{identifier}" optional><code>{label}</code></autoref>'


def _math_blocks(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(".. math::"):
            indent = line[: len(line) - len(line.lstrip())]
            body = [stripped[len(".. math::"):].strip()]
            i += 1
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
                body.append(lines[i].strip())
                i += 1
            body = [b for b in body if b]
            if indent:  # inside a list or a section: a display-style inline formula, which
                # renders at any indentation (a $$ block must start its own unindented block)
                out += [f"{indent}\\( \\displaystyle {' '.join(body)} \\)", ""]
            else:
                out += ["$$", *body, "$$", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def rewrite(text: str, owner: str = "") -> str:
    """The docstring ``text`` of object ``owner`` with its reST roles and directives in Markdown."""
    text = _math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: f"\\( {m.group(1)} \\)", text)
    text = _ROLE.sub(lambda match: _role(match, owner), text)
    return _LITERAL.sub(r"\1:", text)


class SphinxToMarkdown(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value, obj.path)
