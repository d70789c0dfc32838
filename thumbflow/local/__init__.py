"""Local mode: the SAM template, its definition and its handlers, running on this machine.

``LocalCloud`` (``cloud``) is the one entry point; ``from thumbflow.local import LocalCloud``
works. Importing the package imports nothing heavy (names are loaded on first use):
Lambda workers import ``thumbflow.local.worker`` and must never load moto.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LocalCloud": "cloud", "Alert": "observe", "TERMINAL": "observe",
    "repo_root": "cloud", "Fault": "lambdas", "Invocation": "lambdas", "ServiceFault": "wire",
    "WireHook": "wire", "Request": "wire", "TemplateError": "template",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
