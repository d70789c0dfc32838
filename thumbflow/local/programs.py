"""The definition's program, built once per text: in this process, and pickled between processes.

moto's interpreter builds an evaluation program from a definition's text (ANTLR parse,
then its preprocessor) at CreateStateMachine and at every StartExecution: ~0.5 s for
the upload workflow. The program does not change once built (everything an execution
changes lives in that execution's own environment), so local mode keeps one per text
for the whole process, and pickles it into a cache folder so the next process loads it
in milliseconds instead of parsing again.

The cache is only ever a copy of what parsing would give: an entry is found by the
SHA-256 of the definition text together with the versions of everything that shapes the
program (moto, the ANTLR runtime, Python, this module's format); an entry that does not
load, or that holds another key, is parsed anew and rewritten. Deleting the folder is
always safe. This module knows nothing of moto: ``build`` is whatever parses.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when what is pickled changes shape
MAX_ENTRIES = 64  # the folder keeps the most recently written ones
CACHE_ENV = "THUMBFLOW_CACHE_DIR"  # a folder, or "off" for no cache between processes


def default_directory() -> Path | None:
    """``$THUMBFLOW_CACHE_DIR`` ("off": none), else the user's cache folder (XDG)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "thumbflow" / "programs"


class ProgramCache:
    """``get(text, build)``: the program of ``text``, built at most once per process and key."""

    def __init__(self, directory: Path | None, versions: str, keep_in_memory: bool = True) -> None:
        self.directory = directory
        self.versions = versions  # everything besides the text that shapes the program
        # False: every ``get`` gives an object of its own (for data a caller may change)
        self.keep_in_memory = keep_in_memory
        self._memory: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.loaded = 0  # programs read from the folder (for tests and the bench)
        self.built = 0  # programs built by ``build``

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{FORMAT}\0{self.versions}\0{text}".encode()).hexdigest()

    def get(self, text: str, build: Callable[[str], Any]) -> Any:
        key = self.key(text)
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        program = self._load(key)
        if program is None:
            program = build(text)  # raises on a bad definition, as parsing does; nothing is kept
            with self._lock:
                self.built += 1
            self._store(key, program)
        else:
            with self._lock:
                self.loaded += 1
        if not self.keep_in_memory:
            return program
        with self._lock:
            return self._memory.setdefault(key, program)

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.pickle"

    def _load(self, key: str) -> Any:
        path = self._path(key)
        if path is None:
            return None
        try:
            stored_key, program = pickle.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except Exception:  # a torn or foreign file: parse anew, and overwrite it below
            return None
        return program if stored_key == key else None

    def _store(self, key: str, program: Any) -> None:
        """Write atomically (a temporary file, then rename): a reader sees all or nothing."""
        path = self._path(key)
        if path is None:
            return
        try:
            data = pickle.dumps((key, program), protocol=pickle.HIGHEST_PROTOCOL)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:12]}-", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
            self._prune(path.parent)
        except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return  # no cache this time; the program in memory is what counts

    @staticmethod
    def _prune(folder: Path) -> None:
        """Keep the folder bounded: definitions edited over time leave entries nobody reads."""
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for stale in entries[MAX_ENTRIES:]:
            stale.unlink(missing_ok=True)


def versions_of(version: str, *files: str | Path) -> str:
    """A version string for the cache key: Python's, the given one, and each file's size and
    modification time (a reinstall of the same version still changes the key)."""
    parts = [f"python={sys.implementation.cache_tag}", version]
    for file in files:
        try:
            stat = os.stat(file)
            parts.append(f"{Path(file).name}={stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{Path(file).name}=?")
    return ";".join(parts)


_shared: dict[tuple[Path | None, str], ProgramCache] = {}
_shared_lock = threading.Lock()


def shared(directory: Path | None, versions: str) -> ProgramCache:
    """One cache per folder and versions for the whole process (every local cloud in it)."""
    with _shared_lock:
        return _shared.setdefault((directory, versions), ProgramCache(directory, versions))
