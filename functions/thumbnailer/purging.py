"""Remove every thumbnail of a deleted source, and only those.

A source's thumbnails are the objects ``<stem>_<W>x<H>.<ext>`` of ThumbnailBucket whose
metadata names that source (``source-key``): the workflow's sizes and every size ever
rendered on demand. A re-upload racing the delete keeps its own: when the key holds an
object again, thumbnails made from its bytes (``source-etag``) stay, and every delete is
conditional on the ETag that was looked at, so a thumbnail rewritten meanwhile survives.
Deleting what is already gone is a no-op, so a purge can run any number of times. The
workflow invalidates the purged paths at CloudFront in a state of its own, so a CloudFront
failure is retried without re-running the deletes.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from . import ownership, storage
from .errors import ImageRejected
from .naming import key_stem, parse_thumbnail_key
from .settings import Settings


@dataclass(frozen=True)
class Purge:
    """What a purge did, as the PurgeWorkflow reports it and ``Thumbnails Purged`` carries it."""

    bucket: str
    key: str
    purged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    released: bool = False

    @property
    def paths(self) -> list[str]:
        """The purged thumbnails' URL paths at the endpoint: what CloudFront must invalidate."""
        return ["/" + quote(k, safe="/") for k in self.purged]

    def to_payload(self) -> dict[str, Any]:
        return {
            "source": {"bucket": self.bucket, "key": self.key},
            "purged": self.purged,
            "kept": self.kept,
            "claimReleased": self.released,
            "paths": self.paths,
        }


def derivatives(settings: Settings, source_key: str) -> list[tuple[str, storage.ObjectInfo]]:
    """Every stored thumbnail made from ``source_key`` (any size, any time), with what HEAD saw."""
    stem = key_stem(source_key)
    found: list[tuple[str, storage.ObjectInfo]] = []
    for key, _etag, _size in storage.list_keys(settings.thumbnail_bucket, stem + "_"):
        name = parse_thumbnail_key(key)
        if name is None or name.stem != stem:
            continue  # e.g. photos/cat_x_1x1.jpg belongs to photos/cat_x.*
        info = storage.head(settings.thumbnail_bucket, key)
        if info is not None and info.metadata.get("source-key") == ownership.encoded(source_key):
            found.append((key, info))
    return found


def purge(settings: Settings, source_key: str) -> Purge:
    """Delete the thumbnails of ``source_key`` that no current upload owns; release its claim."""
    current = storage.head(settings.source_bucket, source_key)
    purged: list[str] = []
    kept: list[str] = []
    for key, info in derivatives(settings, source_key):
        if current is not None and info.metadata.get("source-etag") == current.etag:
            kept.append(key)  # made from the object that holds the key now
        elif storage.delete(settings.thumbnail_bucket, key, if_match=info.etag):
            purged.append(key)
    released = current is None and ownership.release(settings, source_key)
    if released and storage.head(settings.source_bucket, source_key) is not None:
        # Uploaded again while this purge ran: its execution may have read the claim before the
        # release and stored its thumbnails after it. The key is in use again: claim it back
        # (unless another source with the stem claimed it meanwhile: then the names are its).
        with suppress(ImageRejected):
            ownership.claim(settings, source_key)
    return Purge(settings.source_bucket, source_key, sorted(purged), sorted(kept), released)
