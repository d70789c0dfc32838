"""Who owns a stem's thumbnail names: the rule that keeps two sources from sharing a thumbnail.

``photos/cat.jpg`` and ``photos/cat.png`` both name their thumbnails
``photos/cat_<W>x<H>.<ext>``. The first source to be accepted claims the stem: an item
``{stem, source}`` in the NameClaims table, written with ``attribute_not_exists(stem)``, so
exactly one claim can win even when both uploads arrive together. A later source with the
same stem is refused by name (``name-collision``) while the owner exists; once the owner is
deleted, the next source takes the claim over (a conditional write on the owner it saw). The
workflow, the on-demand resizer, the backfill and the purge all go through this module, the
only one that talks to DynamoDB.

A table rather than an object beside the thumbnails: a new upload's claim costs a strongly
consistent GetItem and a conditional PutItem (1 RRU + 1 WRU) instead of an S3 GET and a
conditional PUT, about a seventh of the price.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from . import clients, storage
from .errors import ConfigError, ImageRejected, TransientError
from .naming import key_stem
from .settings import Settings

ATTEMPTS = 4
_CONFLICT = "ConditionalCheckFailedException"
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
_TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionConflictException",
})
# ``source`` is a DynamoDB reserved word: expressions name it through #src.
_NAMES = {"#src": "source"}

T = TypeVar("T")


dynamodb = clients.Lazy("dynamodb")


class _Conflict(Exception):
    """The write's condition did not hold: someone else claimed or took over since the look."""


def _call(what: str, request: Callable[[], T]) -> T:
    """One DynamoDB request; throttling and 5xx become TransientError, a failed condition _Conflict."""
    try:
        return request()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code == _CONFLICT:
            raise _Conflict(what) from exc
        if code in _TRANSIENT_CODES or status >= 500:
            raise TransientError(f"{what}: {code or status}") from exc
        raise
    except BotoCoreError as exc:
        raise TransientError(f"{what}: {exc}") from exc


def _table(settings: Settings) -> str:
    if not settings.claims_table:
        raise ConfigError("environment variable CLAIMS_TABLE is not set")
    return settings.claims_table


def _key(stem: str) -> dict[str, Any]:
    return {"stem": {"S": stem}}


def encoded(source_key: str) -> str:
    """A key as S3 user metadata can carry it (ASCII only): percent-encoded."""
    return quote(source_key, safe="/")


def _owner(item: Mapping[str, Any]) -> str | None:
    owner = (item.get("source") or {}).get("S")
    return owner if isinstance(owner, str) else None  # an unreadable claim is no claim: replaced


@dataclass(frozen=True)
class Claim:
    """A stem's claim as read: who owns the names (None: unreadable, so it is replaced)."""

    owner: str | None


def _get(settings: Settings, stem: str) -> Claim | None:
    table = _table(settings)
    resp = _call(f"get claim {stem!r} in {table}", lambda: dynamodb().get_item(
        TableName=table, Key=_key(stem), ConsistentRead=True))
    item = resp.get("Item")
    return None if item is None else Claim(_owner(item))


def look(settings: Settings, source_key: str) -> Claim | None:
    """The claim of ``source_key``'s stem, None when nobody claimed it.

    No claim means no thumbnail was ever written under the stem (the claim comes first and
    the purge drops it last), so the workflow has nothing to look for before rendering.
    Strongly consistent: a claim just written is seen.
    """
    return _get(settings, key_stem(source_key))


def owner_of(settings: Settings, source_key: str) -> str | None:
    """The source that owns the thumbnail names of ``source_key``'s stem, if any has claimed them."""
    return owner_of_stem(settings, key_stem(source_key))


def owner_of_stem(settings: Settings, stem: str) -> str | None:
    """The source that owns the thumbnail names ``<stem>_…``, if any has claimed them."""
    found = _get(settings, stem)
    return None if found is None else found.owner


def _write(settings: Settings, source_key: str, seen: Claim | None) -> None:
    """Claim the stem: only if unclaimed (``seen`` None), else only while ``seen`` still holds it."""
    table, stem = _table(settings), key_stem(source_key)
    condition: dict[str, Any]
    if seen is None:
        condition = {"ConditionExpression": "attribute_not_exists(stem)"}
    elif seen.owner is None:  # unreadable: replaced only while it still is
        condition = {"ConditionExpression": "attribute_exists(stem) AND NOT attribute_type(#src, :s)",
                     "ExpressionAttributeNames": _NAMES, "ExpressionAttributeValues": {":s": {"S": "S"}}}
    elif seen.owner == source_key:  # kept: still ours, or released meanwhile (by a purge) and ours again
        condition = {"ConditionExpression": "attribute_not_exists(stem) OR #src = :seen",
                     "ExpressionAttributeNames": _NAMES,
                     "ExpressionAttributeValues": {":seen": {"S": source_key}}}
    else:
        condition = {"ConditionExpression": "#src = :seen", "ExpressionAttributeNames": _NAMES,
                     "ExpressionAttributeValues": {":seen": {"S": seen.owner}}}
    _call(f"claim {stem!r} in {table}", lambda: dynamodb().put_item(
        TableName=table, Item={**_key(stem), "source": {"S": source_key}}, **condition))


_UNREAD = Claim(None)


def claim(settings: Settings, source_key: str, looked: Claim | None = _UNREAD) -> None:
    """Make ``source_key`` the owner of its stem's thumbnail names, or refuse it by name.

    ``looked``: what ``look`` found before rendering, so the claim need not be read again. It
    may be stale by then (a purge of the previous upload under this key can release the claim
    while this one renders), so a claim ``looked`` says is ours is written again, on the
    condition that it is still ours or nobody's: never are thumbnails stored under no claim.
    """
    for attempt in range(ATTEMPTS):
        stale = not attempt and looked is not _UNREAD
        found = looked if stale else look(settings, source_key)
        try:
            if found is None:
                _write(settings, source_key, None)
                return
            owner = found.owner
            if owner == source_key:
                if stale:
                    _write(settings, source_key, found)
                return
            if owner is not None and storage.head(settings.source_bucket, owner) is not None:
                raise ImageRejected(
                    "name-collision",
                    f"its thumbnails would be named like those of {owner}, which has the same "
                    f"name without its extension and came first; rename one of them",
                )
            _write(settings, source_key, found)  # the owner is gone: take over
            return
        except _Conflict:
            continue  # another source claimed or took over meanwhile: look again
    raise TransientError(f"claim of {key_stem(source_key)!r} in {settings.claims_table}: "
                         f"contended {ATTEMPTS} times")


def release(settings: Settings, source_key: str) -> bool:
    """Drop ``source_key``'s claim (after its thumbnails are purged); True when it held one.

    One conditional DeleteItem: a claim another source holds (or none) is left as it is.
    """
    table, stem = _table(settings), key_stem(source_key)
    try:
        _call(f"release {stem!r} in {table}", lambda: dynamodb().delete_item(
            TableName=table, Key=_key(stem), ConditionExpression="#src = :me",
            ExpressionAttributeNames=_NAMES, ExpressionAttributeValues={":me": {"S": source_key}}))
    except _Conflict:
        return False
    return True
