"""The one registry shape: names, aliases, metadata, order and the errors a user sees."""

import pytest

from spikesmith.registry import Registry, UnknownNameError, compact_key


def make():
    reg = Registry("widget")
    reg.register("alpha", 1, aliases=("a", "first"), colour="red")
    reg.register("Beta", 2)

    @reg.register("gamma", T_dependent=True)
    def gamma():
        return 3

    return reg, gamma


def test_lookup_by_name_alias_and_any_case():
    reg, gamma = make()
    assert reg.get("alpha") == 1 and reg.get(" A ") == 1 and reg.get("FIRST") == 1
    assert reg["beta"] == 2 and reg.canonical("BETA") == "beta"
    assert reg.get("gamma") is gamma and gamma() == 3


def test_mapping_views_and_order():
    reg, _ = make()
    assert list(reg) == ["alpha", "beta", "gamma"]          # registration order
    assert reg.names() == ["alpha", "beta", "gamma"] and len(reg) == 3
    assert "a" in reg and "alpha" in reg and "delta" not in reg and 3 not in reg
    assert dict(reg.items())["beta"] == 2


def test_metadata_on_the_entry():
    reg, _ = make()
    entry = reg.entry("first")
    assert entry.name == "alpha" and entry.aliases == ("a", "first")
    assert entry.colour == "red" and entry.info == {"colour": "red"}
    assert reg.entry("gamma").T_dependent is True
    with pytest.raises(AttributeError, match="no 'colour'"):
        reg.entry("beta").colour


def test_unknown_name_lists_valid_names_and_aliases():
    reg, _ = make()
    with pytest.raises(UnknownNameError) as err:
        reg.get("delta")
    message = str(err.value)
    assert message == "unknown widget 'delta'; known widgets: alpha (aliases: a, first), beta, gamma"
    assert isinstance(err.value, ValueError) and isinstance(err.value, KeyError)
    assert reg.get("delta", None) is None


def test_non_string_name_is_a_type_error():
    reg, _ = make()
    with pytest.raises(TypeError, match="widget name must be a string such as 'alpha', got int"):
        reg.get(3)


def test_duplicate_names_and_aliases_are_refused():
    reg, _ = make()
    with pytest.raises(ValueError, match="'alpha' is already registered"):
        reg.register("ALPHA", 9)
    with pytest.raises(ValueError, match="'a' is already registered \\(as 'alpha'\\)"):
        reg.register("other", 9, aliases=("a",))
    with pytest.raises(TypeError, match="non-empty string"):
        reg.register("  ", 9)
    assert "other" not in reg                                # nothing half-registered


def test_unregister_removes_aliases():
    reg, _ = make()
    reg.unregister("first")
    assert "alpha" not in reg and "a" not in reg
    reg.register("a", 5)
    assert reg.get("A") == 5


def test_custom_normalisation():
    reg = Registry("surrogate", normalise=compact_key, plural="surrogate functions")
    reg.register("fastsigmoid", 1)
    assert reg.get("Fast-Sigmoid") == 1 and reg.get("fast_sigmoid") == 1
    assert repr(reg) == "Registry('surrogate': fastsigmoid)"
    with pytest.raises(ValueError, match="known surrogate functions: fastsigmoid"):
        reg.get("sigmoid")
