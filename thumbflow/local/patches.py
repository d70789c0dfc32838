"""Every change local mode makes to moto and botocore, in one registry that can undo it.

Each patch is a named entry: the object (module or class), the attribute, and what
replaces it. ``install`` saves what each attribute held (the object's own entry,
so a staticmethod comes back as a staticmethod, and an attribute that was only
inherited is deleted again rather than copied down) and ``uninstall`` puts every one
back, in reverse order. Only one registry may be installed in a process at a time:
moto's mock is process-wide, so two local clouds would answer each other's requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()
_lock = threading.Lock()
_installed: Patches | None = None


class PatchError(RuntimeError):
    """A registry was misused: installed twice, or while another one is installed."""


@dataclass
class Patch:
    """One replaced attribute and what it held before."""

    name: str
    owner: Any
    attribute: str
    replacement: Any
    original: Any = _MISSING

    def current(self) -> Any:
        return vars(self.owner).get(self.attribute, _MISSING)


@dataclass
class Patches:
    """The registry: add entries, then install them all and uninstall them all."""

    entries: list[Patch] = field(default_factory=list)
    installed: bool = False

    def add(self, name: str, owner: Any, attribute: str, replacement: Any) -> None:
        if self.installed:
            raise PatchError(f"{name}: add entries before installing")
        if any(p.name == name for p in self.entries):
            raise PatchError(f"{name}: a patch of that name is already registered")
        if not hasattr(owner, attribute):
            raise PatchError(f"{name}: {owner!r} has no attribute {attribute!r} to replace")
        self.entries.append(Patch(name, owner, attribute, replacement))

    def names(self) -> list[str]:
        return [p.name for p in self.entries]

    def original(self, name: str) -> Any:
        """What the attribute held before this registry replaced it (its own entry)."""
        for patch in self.entries:
            if patch.name == name:
                value = patch.original if self.installed else patch.current()
                if value is _MISSING:
                    return getattr(patch.owner, patch.attribute)
                return value
        raise KeyError(name)

    def install(self) -> None:
        global _installed
        with _lock:
            if self.installed:
                raise PatchError("this registry is installed already")
            if _installed is not None:
                raise PatchError("another local cloud is running in this process: stop it first")
            done: list[Patch] = []
            try:
                for patch in self.entries:
                    patch.original = patch.current()
                    setattr(patch.owner, patch.attribute, patch.replacement)
                    done.append(patch)
            except BaseException:
                _restore(done)
                raise
            self.installed = True
            _installed = self

    def uninstall(self) -> None:
        global _installed
        with _lock:
            if not self.installed:
                return
            _restore(self.entries)
            self.installed = False
            if _installed is self:
                _installed = None

    @contextmanager
    def applied(self) -> Iterator[Patches]:
        self.install()
        try:
            yield self
        finally:
            self.uninstall()


def _restore(patches: list[Patch]) -> None:
    for patch in reversed(patches):
        if patch.original is _MISSING:
            if patch.attribute in vars(patch.owner):
                delattr(patch.owner, patch.attribute)
        else:
            setattr(patch.owner, patch.attribute, patch.original)
        patch.original = _MISSING


def installed() -> Patches | None:
    """The registry installed in this process now, if any."""
    return _installed
