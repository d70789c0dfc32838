"""The one registry of local mode's patches puts back exactly what it replaced."""

from __future__ import annotations

import types

import pytest

from thumbflow.local.patches import PatchError, Patches, installed


class Base:
    def inherited(self) -> str:
        return "base"


class Target(Base):
    @staticmethod
    def static() -> str:
        return "static"

    def method(self) -> str:
        return "method"


def module() -> types.ModuleType:
    mod = types.ModuleType("fake_module")
    mod.value = 1  # type: ignore[attr-defined]
    return mod


def test_install_replaces_and_uninstall_restores_the_very_objects() -> None:
    mod = module()
    originals = {name: vars(Target)[name] for name in ("static", "method")}
    patches = Patches()
    patches.add("module value", mod, "value", 2)
    patches.add("static", Target, "static", staticmethod(lambda: "patched"))
    patches.add("method", Target, "method", lambda self: "patched")
    with patches.applied():
        assert mod.value == 2  # type: ignore[attr-defined]
        assert Target.static() == "patched" and Target().method() == "patched"
        assert installed() is patches
        assert patches.original("static") is originals["static"]
    assert mod.value == 1  # type: ignore[attr-defined]
    assert vars(Target)["static"] is originals["static"]  # the staticmethod object itself
    assert vars(Target)["method"] is originals["method"]
    assert installed() is None and not patches.installed


def test_an_inherited_attribute_is_removed_again_not_copied_down() -> None:
    patches = Patches()
    patches.add("inherited", Target, "inherited", lambda self: "patched")
    with patches.applied():
        assert Target().inherited() == "patched"
    assert "inherited" not in vars(Target) and Target().inherited() == "base"


def test_one_registry_at_a_time() -> None:
    first, second = Patches(), Patches()
    first.add("a", module(), "value", 3)
    second.add("b", module(), "value", 4)
    with first.applied(), pytest.raises(PatchError, match="another local cloud"):
        second.install()
    second.install()
    second.uninstall()
    second.uninstall()  # idempotent


def test_entries_are_named_once_and_must_exist() -> None:
    patches = Patches()
    patches.add("a", module(), "value", 1)
    with pytest.raises(PatchError, match="already registered"):
        patches.add("a", module(), "value", 2)
    with pytest.raises(PatchError, match="no attribute"):
        patches.add("b", module(), "missing", 2)
    with patches.applied(), pytest.raises(PatchError, match="before installing"):
        patches.add("c", module(), "value", 2)
    assert patches.names() == ["a"]


class _ReadOnly:
    value = 1

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("read-only")


def test_a_failing_install_undoes_what_it_did() -> None:
    mod = module()
    patches = Patches()
    patches.add("module", mod, "value", 2)
    patches.add("read-only", _ReadOnly(), "value", 2)
    with pytest.raises(AttributeError):
        patches.install()
    assert mod.value == 1  # type: ignore[attr-defined]
    assert installed() is None and not patches.installed
