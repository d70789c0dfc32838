"""botocore's data files (service models, endpoints), read once per process while local mode runs.

Every botocore ``Loader`` caches what it reads, but only for itself, and local mode's process
makes several: its own session's, the one moto's backends use for region lists, and a new
one each time moto's request router reads a service's model. Each re-lists the data folder
(~25,000 file checks) and re-parses the same JSON: ~0.2 s of a start. While the patch
registry is installed, loaders with the same search paths share one cache, and moto asks for
a model with the same arguments a client does. Loaders whose search paths differ (boto3's
sessions add boto3's own data folder, moto's loaders do not) still find the very same files,
so the parsed files themselves are shared too, by path: each file is read once. The data is
what each loader would have read itself (same paths, same files); botocore already shares one
parsed model between all the clients of a session, and the only change a loader makes to what
it read, merging a model's ``sdk-extras`` into it, gives the same dict when done again.

Between processes the parsed files are kept too (``DataCache``, in local mode's cache folder
beside the definitions' programs): JSON parsing of the endpoint table and the half-dozen
models a start reads is ~90 ms, reading them back with ``marshal`` a quarter of that. An
entry is named by the file's path, size and modification time (a reinstalled botocore has
new ones); what is kept is the parsed data as plain dicts and lists (botocore parses into
``OrderedDict``, whose order a plain dict keeps, and nothing in botocore or moto needs more).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from .patches import Patches

MAX_ENTRIES = 200  # the folder keeps the most recently written ones

_caches: dict[tuple[Any, ...], dict[Any, Any]] = {}
_files: dict[str, Any] = {}  # parsed data files, by the path a loader asked for
_lock = threading.Lock()


def add_patches(patches: Patches) -> None:
    from botocore import loaders

    original_init = loaders.Loader.__init__

    def init(loader: Any, *args: Any, **kwargs: Any) -> None:
        original_init(loader, *args, **kwargs)
        key = (type(loader), tuple(loader.search_paths), tuple(loader.extras_types),
               type(loader.file_loader))
        with _lock:
            loader._cache = _caches.setdefault(key, {})

    patches.add("botocore.shared-data", loaders.Loader, "__init__", init)

    original_load_file = loaders.JSONFileLoader.load_file
    kept = DataCache(_directory())

    def load_file(file_loader: Any, file_path: str) -> Any:
        with _lock:
            if file_path in _files:
                return _files[file_path]
        name = kept.name(file_path)
        data = kept.load(name) if name is not None else None
        if data is None:
            data = original_load_file(file_loader, file_path)
            if data is None:  # not there (a search path without it): the next loader asks again
                return None
            if name is not None:
                kept.store(name, data)
        with _lock:
            return _files.setdefault(file_path, data)

    patches.add("botocore.shared-files", loaders.JSONFileLoader, "load_file", load_file)

    from moto.core import utils as moto_utils

    def load_service_model(service_name: str, model_name: str) -> dict[str, Any]:
        """moto's own reading of a model, asked exactly as a botocore client asks for it, so the
        shared cache answers both with the one parse (``api_version=None`` is the default)."""
        return loaders.create_loader().load_service_model(service_name, model_name, api_version=None)

    patches.add("moto.service-models", moto_utils, "_load_service_model", load_service_model)


def _directory() -> Path | None:
    from . import programs

    directory = programs.default_directory()
    return None if directory is None else directory / "botocore"


def _plain(value: Any) -> Any:
    """JSON data with every mapping a plain dict (``marshal`` takes no subclasses)."""
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


class DataCache:
    """Parsed botocore data files in a folder, by file path, size and modification time."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def name(self, file_path: str) -> str | None:
        """The entry's file name for the data file botocore would read (``.json``, else
        ``.json.gz``); None without a folder or a file."""
        if self.directory is None:
            return None
        for ext in (".json", ".json.gz"):
            try:
                stat = os.stat(file_path + ext)
            except OSError:
                continue
            key = f"{sys.implementation.cache_tag}\0{file_path}{ext}\0{stat.st_size}\0{stat.st_mtime_ns}"
            return hashlib.sha256(key.encode()).hexdigest() + ".marshal"
        return None

    def load(self, name: str) -> Any:
        assert self.directory is not None
        try:
            return marshal.loads((self.directory / name).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):  # absent or torn: parse anew
            return None

    def store(self, name: str, data: Any) -> None:
        """Atomically (a temporary file, then rename); any failure only means no entry."""
        assert self.directory is not None
        try:
            blob = marshal.dumps(_plain(data))
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            os.replace(tmp, self.directory / name)
            entries = sorted(self.directory.glob("*.marshal"), key=lambda p: p.stat().st_mtime_ns,
                             reverse=True)
            for stale in entries[MAX_ENTRIES:]:
                stale.unlink(missing_ok=True)
        except (OSError, ValueError, TypeError):
            return
