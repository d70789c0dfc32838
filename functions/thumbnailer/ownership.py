"""Who owns a stem's thumbnail names: the rule that keeps two sources from sharing a thumbnail.

``photos/cat.jpg`` and ``photos/cat.png`` both name their thumbnails
``photos/cat_<W>x<H>.<ext>``. The first source to be accepted claims the stem: a small
object ``<stem>.owner.json`` in ThumbnailBucket, written with If-None-Match, so exactly
one claim can win even when both uploads arrive together. A later source with the same
stem is refused by name (``name-collision``) while the owner exists; once the owner is
deleted, the next source takes the claim over (a conditional write on the claim's ETag).
The workflow, the on-demand resizer and the purge all go through this module.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from . import storage
from .errors import ImageRejected, TransientError
from .naming import key_stem
from .settings import Settings

CLAIM_SUFFIX = ".owner.json"
"""Never the end of a thumbnail key (those end in _<W>x<H>.<jpg|png|webp>)."""
ATTEMPTS = 4


def claim_key(source_key: str) -> str:
    """Where the claim of ``source_key``'s stem is kept in ThumbnailBucket."""
    return key_stem(source_key) + CLAIM_SUFFIX


def encoded(source_key: str) -> str:
    """A key as S3 user metadata can carry it (ASCII only): percent-encoded."""
    return quote(source_key, safe="/")


def _owner(body: bytes) -> str | None:
    try:
        owner = json.loads(body).get("source")
    except (ValueError, AttributeError):
        return None  # an unreadable claim is no claim: it is replaced
    return owner if isinstance(owner, str) else None


def owner_of(settings: Settings, source_key: str) -> str | None:
    """The source that owns the thumbnail names of ``source_key``'s stem, if any has claimed them."""
    got = storage.get(settings.thumbnail_bucket, claim_key(source_key))
    return None if got is None else _owner(got[1])


def _write(settings: Settings, source_key: str, *, if_match: str | None) -> None:
    storage.put(
        settings.thumbnail_bucket,
        claim_key(source_key),
        json.dumps({"source": source_key}).encode(),
        content_type="application/json",
        metadata={"source-key": encoded(source_key)},
        if_match=if_match,
        if_absent=if_match is None,
    )


def claim(settings: Settings, source_key: str) -> None:
    """Make ``source_key`` the owner of its stem's thumbnail names, or refuse it by name."""
    key = claim_key(source_key)
    for _ in range(ATTEMPTS):
        got = storage.get(settings.thumbnail_bucket, key)
        try:
            if got is None:
                _write(settings, source_key, if_match=None)
                return
            info, body = got
            owner = _owner(body)
            if owner == source_key:
                return
            if owner is not None and storage.head(settings.source_bucket, owner) is not None:
                raise ImageRejected(
                    "name-collision",
                    f"its thumbnails would be named like those of {owner}, which has the same "
                    f"name without its extension and came first; rename one of them",
                )
            _write(settings, source_key, if_match=info.etag)  # the owner is gone: take over
            return
        except storage.WriteConflict:
            continue  # another source claimed or took over meanwhile: look again
    raise TransientError(f"s3://{settings.thumbnail_bucket}/{key}: claim contended {ATTEMPTS} times")


def release(settings: Settings, source_key: str) -> bool:
    """Drop ``source_key``'s claim (after its thumbnails are purged); True when it held one."""
    got = storage.get(settings.thumbnail_bucket, claim_key(source_key))
    if got is None or _owner(got[1]) != source_key:
        return False
    return storage.delete(settings.thumbnail_bucket, claim_key(source_key), if_match=got[0].etag)
