"""The top-level namespace: every advertised name resolves, unknown names fail clearly."""

import importlib
import subprocess
import sys

import pytest

import survhte


@pytest.mark.parametrize("name", sorted(survhte._EXPORTS))
def test_top_level_names_resolve_to_their_module(name):
    module = importlib.import_module(survhte._EXPORTS[name])
    assert getattr(survhte, name) is getattr(module, name)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        survhte.Nope  # noqa: B018


@pytest.mark.parametrize("module", ["survhte.imputation", "survhte.inference",
                                    "survhte.imputed_learners", "survhte.survival_model_learners"])
def test_every_class_of_the_estimator_packages_is_exported(module):
    package = importlib.import_module(module)
    classes = [name for name in package.__all__ if isinstance(getattr(package, name), type)]
    assert classes
    assert {name: survhte._EXPORTS.get(name) for name in classes} == dict.fromkeys(classes, module)


def test_import_is_lazy():
    code = "import sys, survhte; print(any(m.startswith('sklearn') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
