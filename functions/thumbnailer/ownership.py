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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Claim:
    """A stem's claim as read: who owns the names, and the claim object's ETag."""

    owner: str | None  # None: unreadable, so it is replaced
    etag: str


def look(settings: Settings, source_key: str) -> Claim | None:
    """The claim of ``source_key``'s stem, None when nobody claimed it.

    No claim means no thumbnail was ever written under the stem (the claim comes first and
    the purge drops it last), so the workflow has nothing to look for before rendering.
    """
    got = storage.get(settings.thumbnail_bucket, claim_key(source_key))
    return None if got is None else Claim(_owner(got[1]), got[0].etag)


def owner_of(settings: Settings, source_key: str) -> str | None:
    """The source that owns the thumbnail names of ``source_key``'s stem, if any has claimed them."""
    return owner_of_stem(settings, key_stem(source_key))


def owner_of_stem(settings: Settings, stem: str) -> str | None:
    """The source that owns the thumbnail names ``<stem>_…``, if any has claimed them."""
    got = storage.get(settings.thumbnail_bucket, stem + CLAIM_SUFFIX)
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


_UNREAD = Claim(None, "")


def claim(settings: Settings, source_key: str, looked: Claim | None = _UNREAD) -> None:
    """Make ``source_key`` the owner of its stem's thumbnail names, or refuse it by name.

    ``looked``: what ``look`` just found, so the first attempt need not read the claim again.
    """
    key = claim_key(source_key)
    for attempt in range(ATTEMPTS):
        found = look(settings, source_key) if attempt or looked is _UNREAD else looked
        try:
            if found is None:
                _write(settings, source_key, if_match=None)
                return
            owner = found.owner
            if owner == source_key:
                return
            if owner is not None and storage.head(settings.source_bucket, owner) is not None:
                raise ImageRejected(
                    "name-collision",
                    f"its thumbnails would be named like those of {owner}, which has the same "
                    f"name without its extension and came first; rename one of them",
                )
            _write(settings, source_key, if_match=found.etag)  # the owner is gone: take over
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
