"""The definition-program cache: built at most once per text, never wrong, safe to lose."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from thumbflow.local.programs import CACHE_ENV, ProgramCache, default_directory, versions_of


class Build:
    """A stand-in for parsing: a program that is plain data, and a count of the parses."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str) -> dict[str, object]:
        self.calls.append(text)
        if text == "bad":
            raise ValueError("not a definition")
        return {"states": text.upper(), "parsed": len(self.calls)}


def test_a_text_is_built_once_per_process_and_read_back_by_the_next(tmp_path: Path) -> None:
    build = Build()
    first = ProgramCache(tmp_path, "v1")
    assert first.get("a", build) == {"states": "A", "parsed": 1}
    assert first.get("a", build) is first.get("a", build)
    assert build.calls == ["a"] and first.built == 1
    later = ProgramCache(tmp_path, "v1")  # another process: an empty memory, the same folder
    assert later.get("a", build) == {"states": "A", "parsed": 1}
    assert build.calls == ["a"] and later.loaded == 1 and later.built == 0


def test_other_versions_or_texts_never_share_an_entry(tmp_path: Path) -> None:
    build = Build()
    ProgramCache(tmp_path, "v1").get("a", build)
    assert ProgramCache(tmp_path, "v2").get("a", build)["parsed"] == 2
    assert ProgramCache(tmp_path, "v1").get("b", build)["states"] == "B"
    assert len(list(tmp_path.glob("*.pickle"))) == 3


def test_a_torn_or_foreign_file_is_parsed_anew_and_replaced(tmp_path: Path) -> None:
    build = Build()
    cache = ProgramCache(tmp_path, "v1")
    cache.get("a", build)
    (path,) = tmp_path.glob("*.pickle")
    path.write_bytes(b"\x80\x05 torn")
    assert ProgramCache(tmp_path, "v1").get("a", build)["parsed"] == 2
    path.write_bytes(pickle.dumps(("another key", {"states": "WRONG"})))
    assert ProgramCache(tmp_path, "v1").get("a", build)["states"] == "A"
    assert pickle.loads(path.read_bytes())[0] == cache.key("a")


def test_a_bad_definition_raises_each_time_and_leaves_nothing(tmp_path: Path) -> None:
    build = Build()
    cache = ProgramCache(tmp_path, "v1")
    for _ in range(2):
        with pytest.raises(ValueError, match="not a definition"):
            cache.get("bad", build)
    assert build.calls == ["bad", "bad"] and not list(tmp_path.iterdir())


def test_no_folder_means_memory_only(tmp_path: Path) -> None:
    build = Build()
    cache = ProgramCache(None, "v1")
    cache.get("a", build)
    assert ProgramCache(None, "v1").get("a", build)["parsed"] == 2


def test_an_unwritable_folder_costs_the_cache_not_the_program(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert ProgramCache(blocker / "cache", "v1").get("a", Build())["states"] == "A"


def test_the_folder_is_the_users_cache_unless_told(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_directory() == tmp_path / "thumbflow" / "programs"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert default_directory() == tmp_path / "mine"
    monkeypatch.setenv(CACHE_ENV, "off")
    assert default_directory() is None


def test_versions_change_when_a_named_file_changes(tmp_path: Path) -> None:
    source = tmp_path / "parser.py"
    source.write_text("one")
    before = versions_of("moto=5", source)
    source.write_text("two, longer")
    assert versions_of("moto=5", source) != before
    assert versions_of("moto=6", source) != versions_of("moto=5", source)


def test_the_folder_keeps_only_the_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import thumbflow.local.programs as programs

    monkeypatch.setattr(programs, "MAX_ENTRIES", 3)
    build = Build()
    cache = ProgramCache(tmp_path, "v1")
    for text in "abcde":
        cache.get(text, build)
    kept = {p.name for p in tmp_path.glob("*.pickle")}
    assert len(kept) == 3 and f"{cache.key('e')}.pickle" in kept and f"{cache.key('a')}.pickle" not in kept
