"""botocore's data files (service models, endpoints), read once per process while local mode runs.

Every botocore ``Loader`` caches what it reads, but only for itself, and local mode's process
makes several: its own session's, the one moto's backends use for region lists, and a new
one each time moto's request router reads a service's model. Each re-lists the data folder
(~25,000 file checks) and re-parses the same JSON: ~0.2 s of a start. While the patch
registry is installed, loaders with the same search paths share one cache, and moto asks for
a model with the same arguments a client does, so each file is read once. The data is what
each loader would have read itself (same paths, same files); botocore already shares one
parsed model between all the clients of a session, so nothing changes the cached objects.
"""

from __future__ import annotations

import threading
from typing import Any

from .patches import Patches

_caches: dict[tuple[Any, ...], dict[Any, Any]] = {}
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

    from moto.core import utils as moto_utils

    def load_service_model(service_name: str, model_name: str) -> dict[str, Any]:
        """moto's own reading of a model, asked exactly as a botocore client asks for it, so the
        shared cache answers both with the one parse (``api_version=None`` is the default)."""
        return loaders.create_loader().load_service_model(service_name, model_name, api_version=None)

    patches.add("moto.service-models", moto_utils, "_load_service_model", load_service_model)
