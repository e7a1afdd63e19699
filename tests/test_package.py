"""The top-level namespace: every advertised name resolves, unknown names fail clearly."""

import importlib

import pytest

import survhte


@pytest.mark.parametrize("name", sorted(survhte._EXPORTS))
def test_top_level_names_resolve_to_their_module(name):
    module = importlib.import_module(survhte._EXPORTS[name])
    assert getattr(survhte, name) is getattr(module, name)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        survhte.Nope  # noqa: B018
