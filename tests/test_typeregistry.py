"""TypeRegistry: lookups along the MRO, exact entries, and errors that list the registered classes."""

import pytest
from torch import nn

from spikesmith import layer
from spikesmith.typeregistry import TypeRegistry, UnknownTypeError


class Base:
    pass


class Child(Base):
    pass


class GrandChild(Child):
    pass


def test_lookup_walks_the_mro_and_the_nearest_entry_wins():
    reg = TypeRegistry("widget kind")
    reg.register(Base, "base")
    assert reg.get(Child()) == "base" and reg.get(GrandChild) == "base"
    reg.register(Child, "child")
    assert reg.get(GrandChild()) == "child" and reg.get(Base()) == "base"
    assert reg.match(GrandChild) == (Child, "child")
    kinds = TypeRegistry("layer kind")
    kinds.register(nn.Linear, "linear")
    assert kinds.get(layer.Linear(2, 3)) == "linear"            # spikesmith's layer through torch's class


def test_exact_entries_cover_their_own_class_only():
    reg = TypeRegistry("neuron entry")
    reg.register(Child, "child", exact=True)
    assert reg.get(Child) == "child"
    assert reg.get(GrandChild, None) is None and GrandChild not in reg
    reg.register(Base, "base")
    assert reg.get(GrandChild) == "base"                       # skips the exact entry, finds the base


def test_unknown_class_lists_the_registered_ones():
    reg = TypeRegistry("widget kind")
    reg.register(Child, 1)
    with pytest.raises(UnknownTypeError, match=r"no widget kind for .*Base; registered classes: .*Child") as err:
        reg.lookup(Base())
    assert isinstance(err.value, TypeError) and isinstance(err.value, KeyError)
    assert reg.get(Base, "fallback") == "fallback"


def test_registration_errors_and_decorator():
    reg = TypeRegistry("widget kind")
    with pytest.raises(TypeError, match="must be a class"):
        reg.register("Child", 1)
    with pytest.raises(TypeError, match="must be a class"):
        reg.register(Child(), 1)

    @reg.register(Child)
    def handler():
        return 3

    assert reg.get(Child) is handler
    with pytest.raises(ValueError, match="already registered"):
        reg.register(Child, 2)
    reg.unregister(Child)
    assert len(reg) == 0 and reg.get(Child, None) is None
    with pytest.raises(UnknownTypeError, match="not registered"):
        reg.unregister(Child)
