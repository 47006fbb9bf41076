"""Values keyed by class, found along the method resolution order: what a layer *is* for a consumer.

The exporters and the analysis ask what a module is (a convolution, a max pooling, a readout
neuron) through a :class:`TypeRegistry` instead of comparing ``type(m).__name__`` with a string: a
class is registered once, next to the code that knows what to do with it, and a lookup walks
``type(obj).__mro__`` so subclasses are found through their bases (``layer.Linear`` through
``nn.Linear``). An entry registered with ``exact=True`` covers its own class only: a neuron subclass
may change the dynamics, so it is not exported as its base unless it says so.

    >>> KINDS = TypeRegistry("layer kind")
    >>> KINDS.register(nn.Linear, "linear")
    >>> KINDS.get(layer.Linear(2, 3))               # an instance or a class; found through nn.Linear
    'linear'
    >>> KINDS.get(nn.ReLU(), "other")
    'other'
    >>> KINDS.lookup(nn.ReLU)
    Traceback (most recent call last):
    UnknownTypeError: no layer kind for torch.nn.modules.activation.ReLU; registered classes: torch.nn.Linear

Registering a class twice is an error (two extensions must not silently shadow each other);
``unregister`` removes an entry (for tests and plug-ins that replace one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, Optional, TypeVar

T = TypeVar("T")

__all__ = ["TypeRegistry", "UnknownTypeError", "class_path"]


class UnknownTypeError(TypeError, KeyError):
    """A class no entry covers; the message lists the registered classes.

    A ``TypeError`` for callers that validate input, and a ``KeyError`` for callers that use the
    registry as a mapping (the same two faces as ``registry.UnknownNameError``).
    """

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


def class_path(cls: type) -> str:
    """``module.QualName`` of a class, for messages (``torch.nn.Linear`` as torch spells its own)."""
    module = getattr(cls, "__module__", "") or ""
    if module.startswith("torch.nn.modules."):
        module = "torch.nn"
    return f"{module}.{cls.__qualname__}" if module and module != "builtins" else cls.__qualname__


class TypeRegistry(Generic[T]):
    """Objects of one kind keyed by class (``kind`` is used in error messages: "no layer kind for X").

    Args:
        kind: what the values are, singular (``"layer kind"``, ``"neuron export entry"``).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[type, tuple[T, bool]] = {}

    # -- registration ---------------------------------------------------------------------------
    def register(self, cls: type, value: Any = ..., *, exact: bool = False):
        """Register ``value`` for ``cls`` (and, unless ``exact``, its subclasses).

        Without ``value`` it returns a decorator that registers the decorated object.
        """
        if value is ...:
            def decorator(target):
                self.register(cls, target, exact=exact)
                return target
            return decorator
        if not isinstance(cls, type):
            raise TypeError(f"{self.kind} registry: the key must be a class, got {cls!r} "
                            f"({type(cls).__name__}); pass the class itself, not an instance or a name")
        if cls in self._entries:
            raise ValueError(f"{self.kind} registry: {class_path(cls)} is already registered; "
                             f"unregister it first to replace its entry")
        self._entries[cls] = (value, bool(exact))
        return value

    def unregister(self, cls: type) -> None:
        """Remove the entry registered for ``cls`` itself (not one it inherits)."""
        if cls not in self._entries:
            raise UnknownTypeError(f"{self.kind} registry: {class_path(cls)} is not registered; "
                                   f"registered classes: {self.describe()}")
        del self._entries[cls]

    # -- lookup ---------------------------------------------------------------------------------
    def match(self, obj_or_cls: Any) -> Optional[tuple[type, T]]:
        """``(registered class, value)`` for the first class of the MRO with an entry; None if none."""
        cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
        for base in cls.__mro__:
            hit = self._entries.get(base)
            if hit is not None and (not hit[1] or base is cls):
                return base, hit[0]
        return None

    def lookup(self, obj_or_cls: Any) -> T:
        """The value for an instance or a class; UnknownTypeError (listing the classes) if none."""
        hit = self.match(obj_or_cls)
        if hit is None:
            cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
            raise UnknownTypeError(f"no {self.kind} for {class_path(cls)}; registered classes: {self.describe()}")
        return hit[1]

    def get(self, obj_or_cls: Any, default: Any = ...) -> T:
        """:meth:`lookup`, or ``default`` when no entry covers the class (if given)."""
        hit = self.match(obj_or_cls)
        if hit is None:
            if default is ...:
                return self.lookup(obj_or_cls)
            return default
        return hit[1]

    def classes(self) -> list[type]:
        """The registered classes in registration order."""
        return list(self._entries)

    def describe(self) -> str:
        """``"a.A, b.B (exact)"``: what an error message lists."""
        parts = [class_path(c) + (" (exact)" if exact else "") for c, (_, exact) in self._entries.items()]
        return ", ".join(parts) if parts else "(none registered)"

    def __contains__(self, obj_or_cls: object) -> bool:
        return self.match(obj_or_cls) is not None

    def __iter__(self) -> Iterator[type]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"TypeRegistry({self.kind!r}: {', '.join(c.__qualname__ for c in self._entries)})"
