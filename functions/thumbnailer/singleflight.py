"""One render per missing thumbnail, however many requests miss it at once.

Misses for one URL can reach the on-demand resizer together (several CloudFront edges,
a page that asks twice). The first takes a short lease, ``<thumbnail key>.rendering`` in
ThumbnailBucket, written with If-None-Match so exactly one request wins it; it renders,
stores, and drops the lease. The others wait for the thumbnail to appear and serve it. A
lease whose holder died (older than ``LEASE_SECONDS``) is taken over with If-Match, so a
crash never blocks a URL for long. Each lease's body is a random token: its ETag is its own,
so a take-over (If-Match) and a holder's final delete (If-Match) act on exactly one lease.
A lease carries the tag ``thumbflow-lease=yes``, which the bucket's lifecycle rule expires.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from . import storage
from .settings import Settings

LEASE_SUFFIX = ".rendering"
"""Never the end of a thumbnail key (_<W>x<H>.<ext>), so no lease is ever served or expired as one."""
LEASE_SECONDS = 30.0  # the on-demand function's Timeout: a holder alive longer is gone
WAIT_STEP_SECONDS = 0.1
WAIT_SECONDS = 20.0  # then answer "try again" rather than hold the request past the timeout
LEASE_TAGS = {"thumbflow-lease": "yes"}
MAX_KEY_BYTES = 1024


def lease_key(key: str) -> str:
    return key + LEASE_SUFFIX


def _take(settings: Settings, key: str, now: float, seen: storage.ObjectInfo | None) -> str | None:
    """The lease's ETag when this request now holds it, None when another request does."""
    try:
        return storage.put(
            settings.thumbnail_bucket, lease_key(key), uuid.uuid4().hex.encode(), content_type="text/plain",
            metadata={"expires": f"{now + LEASE_SECONDS:.3f}"}, tags=LEASE_TAGS,
            if_match=seen.etag if seen is not None else None, if_absent=seen is None,
        )
    except storage.WriteConflict:
        return None


def _expired(info: storage.ObjectInfo, now: float) -> bool:
    try:
        return float(info.metadata.get("expires", "0")) < now
    except ValueError:
        return True


def once(
    settings: Settings,
    key: str,
    render: Callable[[], object],
    ready: Callable[[], object | None],
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> object | None:
    """``render()`` if this request wins the lease and ``ready()`` still finds nothing; else what
    ``ready()`` gives once it is stored.

    None when the thumbnail did not appear within ``WAIT_SECONDS`` (the caller says try again),
    counted on the clock: each step's two requests take time too.
    A key too long to have a lease beside it (S3 keys are at most 1,024 bytes) renders without one.
    """
    if len(lease_key(key).encode()) > MAX_KEY_BYTES:
        found = ready()
        return found if found is not None else render()
    deadline = clock() + WAIT_SECONDS
    seen: storage.ObjectInfo | None = None
    while True:
        etag = _take(settings, key, clock(), seen)
        if etag is not None:
            try:
                # A holder that finished between this request's miss and its lease stored it.
                found = ready()
                return found if found is not None else render()
            finally:
                storage.delete(settings.thumbnail_bucket, lease_key(key), if_match=etag)
        for _ in range(round(WAIT_SECONDS / WAIT_STEP_SECONDS)):  # at most that many steps ...
            if clock() >= deadline:  # ... and no longer than WAIT_SECONDS, requests included
                return None
            sleep(WAIT_STEP_SECONDS)
            found = ready()
            if found is not None:
                return found
            seen = storage.head(settings.thumbnail_bucket, lease_key(key))
            if seen is None or _expired(seen, clock()):
                break  # the holder finished without storing it, or died: try to take the lease
        else:
            return None
