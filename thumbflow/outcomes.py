"""What thumbflow told apps about a source: the outcome events published for it, as rows show them."""

from __future__ import annotations

from typing import Any

from .local import LocalCloud


def events_about(cloud: LocalCloud, key: str, execution: str = "") -> list[dict[str, Any]]:
    """The thumbflow events published for ``key`` (by ``execution`` when given)."""
    found = []
    for event in cloud.events():
        detail = event.get("detail") or {}
        source = detail.get("source") or {}
        if source.get("key") != key or (execution and detail.get("execution") != execution):
            continue
        found.append({"source": event.get("source"), "detail-type": event.get("detail-type"),
                      "detail": detail})
    return found
