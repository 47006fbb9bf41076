"""One registry shape for every extension point: models, neurons, surrogates, encoders, losses,
datasets, event formats, calibration steps and export targets.

A :class:`Registry` maps canonical names to objects. Each entry may carry aliases (other accepted
spellings) and free-form metadata (``info``): an event format's extension and magic bytes, a
calibration step's T-dependence, a model's config class. Lookups normalise the name once (lower
case and stripped by default), so every registry accepts the same spellings in the CLI, in config
files and in Python.

    >>> LOSSES = Registry("loss")
    >>> @LOSSES.register("mse", aliases=("mean_squared",))
    ... def mse(out, target): ...
    >>> LOSSES.get("MSE") is mse
    True
    >>> LOSSES.get("nope")
    Traceback (most recent call last):
    UnknownNameError: unknown loss 'nope'; known losses: mse (aliases: mean_squared)

A registry is a read-only ``Mapping`` from canonical names to objects, so ``sorted(REG)``,
``REG["name"]`` and ``name in REG`` work as on a dict; ``name in REG`` also accepts aliases.
Registration order is kept: ``names()`` is sorted, iteration follows registration (calibration
steps rely on that order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["Entry", "Registry", "UnknownNameError", "lower_key", "compact_key"]


class UnknownNameError(ValueError, KeyError):
    """A name no registry entry has; the message lists the valid names.

    A ``ValueError`` for callers that validate input, and a ``KeyError`` for callers that use the
    registry as a mapping.
    """

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


def lower_key(name: str) -> str:
    """The default normalisation: stripped and lower-case (``" LIF " -> "lif"``)."""
    return name.strip().lower()


def compact_key(name: str) -> str:
    """Lower-case with ``-``, ``_`` and spaces removed (``"Fast-Sigmoid" -> "fastsigmoid"``)."""
    return lower_key(name).replace("-", "").replace("_", "").replace(" ", "")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered object: its canonical name, the object, its aliases and metadata."""

    name: str
    obj: T
    aliases: tuple[str, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, key: str) -> Any:
        # entry.extension reads info["extension"]; a missing key is an AttributeError as usual
        info = object.__getattribute__(self, "info")
        if key in info:
            return info[key]
        raise AttributeError(f"{type(self).__name__} {object.__getattribute__(self, 'name')!r} has no {key!r}")


class Registry(Mapping, Generic[T]):
    """Named objects of one kind (``kind`` is used in error messages: "unknown model 'x'").

    Args:
        kind: what the entries are, singular (``"model"``, ``"event file format"``).
        normalise: maps a user's spelling to the key compared (default :func:`lower_key`).
        plural: ``kind`` in the plural for messages (default ``kind + "s"``).
    """

    def __init__(self, kind: str, normalise: Callable[[str], str] = lower_key, plural: str | None = None):
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._normalise = normalise
        self._entries: dict[str, Entry[T]] = {}
        self._lookup: dict[str, str] = {}

    # -- registration ---------------------------------------------------------------------------
    def register(self, name: str, obj: Any = None, *, aliases: tuple[str, ...] | list[str] = (),
                 **info: Any):
        """Register ``obj`` under ``name`` (and ``aliases``), with metadata ``info``.

        Without ``obj`` it returns a decorator. Registering a name or alias twice is an error:
        two extensions must not silently shadow each other.
        """
        if obj is None:
            def decorator(target):
                self.register(name, target, aliases=aliases, **info)
                return target
            return decorator
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{self.kind} registry: a name must be a non-empty string, got {name!r}")
        canonical = self._normalise(name)
        keys = [canonical, *(self._normalise(a) for a in aliases)]
        for key in keys:
            if key in self._lookup:
                raise ValueError(f"{self.kind} registry: {key!r} is already registered "
                                 f"(as {self._lookup[key]!r}); pick another name")
        self._entries[canonical] = Entry(canonical, obj, tuple(self._normalise(a) for a in aliases), dict(info))
        for key in keys:
            self._lookup[key] = canonical
        return obj

    def unregister(self, name: str) -> None:
        """Remove an entry and its aliases (for tests and plug-ins that replace one)."""
        canonical = self.canonical(name)
        entry = self._entries.pop(canonical)
        for key in (canonical, *entry.aliases):
            self._lookup.pop(key, None)

    # -- lookup ---------------------------------------------------------------------------------
    def canonical(self, name: str) -> str:
        """The canonical name for ``name`` (any accepted spelling); UnknownNameError if none."""
        if not isinstance(name, str):
            raise TypeError(f"a {self.kind} name must be a string such as {self._example()!r}, "
                            f"got {type(name).__name__}")
        key = self._normalise(name)
        if key not in self._lookup:
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known {self.plural}: {self.describe()}")
        return self._lookup[key]

    def entry(self, name: str) -> Entry[T]:
        """The :class:`Entry` for ``name`` (object, aliases and metadata)."""
        return self._entries[self.canonical(name)]

    def get(self, name: str, default: Any = ...) -> T:  # type: ignore[override]
        """The object for ``name``; without ``default``, an unknown name raises UnknownNameError."""
        if default is not ...:
            try:
                return self._entries[self.canonical(name)].obj
            except (UnknownNameError, TypeError):
                return default
        return self._entries[self.canonical(name)].obj

    def names(self) -> list[str]:
        """The canonical names, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        """The entries in registration order."""
        return list(self._entries.values())

    def describe(self) -> str:
        """``"a, b (aliases: c, d), e"``: what an error message lists."""
        parts = []
        for name in self.names():
            aliases = self._entries[name].aliases
            parts.append(f"{name} (aliases: {', '.join(aliases)})" if aliases else name)
        return ", ".join(parts) if parts else "(none registered)"

    def _example(self) -> str:
        return next(iter(self._entries), "name")

    # -- Mapping --------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._normalise(name) in self._lookup

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"
