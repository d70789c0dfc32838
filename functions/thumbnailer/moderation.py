"""Tags that mark a source moderation flagged, merged into the tags it already has.

S3 has no 'add a tag': the Flag step reads the tag set, merges these in and writes it
back, so the uploader's own tags survive. At most 10 tags fit on an object.
"""

from __future__ import annotations

from typing import Any

MAX_TAGS = 10  # S3's limit per object
_TAG_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/@")


def moderation_tags(labels: list[dict[str, Any]]) -> dict[str, str]:
    """The tags that say why: the flag and the most confident label."""
    top = max(labels, key=lambda lab: float(lab.get("Confidence", 0)), default={})
    name = "".join(c for c in str(top.get("Name", "unknown")) if c in _TAG_SAFE)[:256]
    return {"moderation": "flagged", "moderation-label": name or "unknown"}


def merge_tags(existing: dict[str, str], added: dict[str, str]) -> dict[str, str]:
    """Ours win on the same key; if over S3's limit, ours are kept and the oldest others dropped."""
    merged = {k: v for k, v in existing.items() if k not in added}
    overflow = len(merged) + len(added) - MAX_TAGS
    if overflow > 0:
        merged = dict(list(merged.items())[overflow:])
    merged.update(added)
    return merged
