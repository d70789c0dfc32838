"""The only module that talks to S3.

Every S3 failure is translated here into the error names the workflow acts on:
throttling and 5xx become ``TransientError`` (retried with backoff); a replaced
source becomes ``SourceChanged`` and a source S3 will not serve (any other 4xx)
a named ``ImageRejected`` (neither is retried).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import quote, unquote_plus

from botocore.exceptions import BotoCoreError, ClientError

from . import clients
from .errors import ImageRejected, SourceChanged, TransientError

_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "503",
        "500",
        "502",
        "504",
    }
)
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion"})
# A conditional write lost: the key changed since it was read (412), or a concurrent
# conditional write to the same key won the race (409).
_CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})

s3 = clients.Lazy("s3")


class Pinned(Protocol):
    """Exact bytes of an object: what reads of a validated source are pinned to."""

    @property
    def bucket(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def etag(self) -> str: ...
    @property
    def version(self) -> str | None: ...


class WriteConflict(Exception):
    """A conditional write was refused: someone else wrote the key since the caller looked."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD tells: enough to pin later reads to these exact bytes."""

    bucket: str
    key: str
    etag: str
    size: int
    version: str | None = None
    content_type: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    # The object's first bytes, when the lookup read them with its GET (``resolve``'s
    # ``prefetch``): pinned reads inside them are answered from here, without a request.
    prefix: bytes = field(default=b"", repr=False, compare=False)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _is_transient(exc: ClientError) -> bool:
    return _code(exc) in _TRANSIENT_CODES or _status(exc) >= 500


def _translate(exc: Exception, what: str) -> Exception:
    """Map an SDK error onto the workflow's error names; unknown ones pass through."""
    if isinstance(exc, BotoCoreError):
        return TransientError(f"{what}: {exc}")
    if isinstance(exc, ClientError) and _is_transient(exc):
        return TransientError(f"{what}: {_code(exc)}")
    return exc


def _refusal(exc: ClientError, what: str, version: str | None = None) -> ImageRejected | None:
    """A source S3 will not serve (4xx, not throttling): a named rejection, never retried."""
    status, code = _status(exc), _code(exc)
    if not 400 <= status < 500 or _is_transient(exc) or code in _MISSING_CODES or status in (404, 412):
        return None
    if code == "KeyTooLongError":
        return ImageRejected("key-too-long", f"S3 refused the key of {what}: longer than 1024 bytes")
    if version and status == 400:
        return ImageRejected("bad-version", f"S3 has no version {version!r} of {what} (400 {code})")
    if status == 403:
        return ImageRejected("access-denied", f"S3 denied access to {what} (403 {code})")
    return ImageRejected("s3-refused", f"S3 refused {what}: {status} {code}")


def _call(
    what: str,
    operation: Callable[[], Any],
    *,
    none_on: frozenset[str] = frozenset(),
    special: Callable[[ClientError], Exception | None] = lambda exc: None,
) -> Any:
    """Run one SDK call with its errors in the workflow's names.

    A ClientError whose code is in ``none_on`` gives None; ``special`` may name the
    exception to raise for the others; whatever is left goes through ``_translate``.
    """
    try:
        return operation()
    except ClientError as exc:
        if _code(exc) in none_on:
            return None
        raise special(exc) or _translate(exc, what) from exc
    except BotoCoreError as exc:
        raise _translate(exc, what) from exc


def _strip(etag: str) -> str:
    return etag.strip('"')


def _info(bucket: str, key: str, resp: Mapping[str, Any], default_size: int = 0) -> ObjectInfo:
    """The facts HEAD and GET both answer with."""
    return ObjectInfo(
        bucket=bucket,
        key=key,
        etag=_strip(resp.get("ETag", "")),
        size=int(resp.get("ContentLength", default_size)),
        version=resp.get("VersionId"),
        content_type=resp.get("ContentType", ""),
        metadata=dict(resp.get("Metadata", {})),
    )


def head(bucket: str, key: str, version: str | None = None, *, source: bool = False) -> ObjectInfo | None:
    """HEAD an object; None when it does not exist. ``source``: a refusal is a named rejection."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        kwargs["VersionId"] = version
    where = f"s3://{bucket}/{key}"
    resp = _call(
        f"head {where}",
        lambda: s3().head_object(**kwargs),
        none_on=_MISSING_CODES,
        special=(lambda exc: _refusal(exc, where, version)) if source else (lambda exc: None),
    )
    return None if resp is None else _info(bucket, key, resp)


def resolve(bucket: str, key: str, version: str | None = None,
            etag: str | None = None, *, prefetch: int = 0) -> ObjectInfo | None:
    """Find an object whose key may have arrived URL-encoded.

    S3 notifications encode keys (space as ``+``); EventBridge and manual inputs
    usually do not. Try the key as given first, then its decoded form. When the
    event names an ETag and both keys exist (``a+b.jpg`` and ``a b.jpg``), the
    one holding those bytes is the object the event is about.

    ``prefetch``: look with a ranged GET of the first bytes instead of a HEAD (same price,
    same facts), so the caller's first read of the header costs no second request.
    """
    info = _look(bucket, key, version, prefetch)
    if info is not None and (etag is None or info.etag == etag):
        return info
    decoded = unquote_plus(key)
    if decoded != key:
        other = _look(bucket, decoded, version, prefetch)
        if other is not None and (info is None or other.etag == etag):
            return other
    return info


def _look(bucket: str, key: str, version: str | None, prefetch: int) -> ObjectInfo | None:
    """HEAD a source, or GET its first ``prefetch`` bytes with the same facts.

    A ranged GET tells the whole size in Content-Range (``bytes 0-65535/1234567``). S3
    refuses any range of an empty object (416 InvalidRange): that one is HEADed instead.
    """
    if prefetch <= 0:
        return head(bucket, key, version, source=True)
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": f"bytes=0-{prefetch - 1}"}
    if version:
        kwargs["VersionId"] = version
    where = f"s3://{bucket}/{key}"

    def refused(exc: ClientError) -> Exception | None:
        return _EmptyObject() if _code(exc) == "InvalidRange" else _refusal(exc, where, version)

    try:
        found = _call(f"get {where}", lambda: _get_object(kwargs), none_on=_MISSING_CODES, special=refused)
    except _EmptyObject:
        return head(bucket, key, version, source=True)  # S3 gives no range of 0 bytes
    if found is None:
        return None
    resp, body = found
    info = _info(bucket, key, resp, default_size=len(body))
    return replace(info, size=_total_size(resp.get("ContentRange", ""), len(body)), prefix=body)


def _get_object(kwargs: Mapping[str, Any]) -> tuple[Mapping[str, Any], bytes]:
    """One GetObject: its answer and the bytes, read whole."""
    resp = s3().get_object(**kwargs)
    return resp, resp["Body"].read()


class _EmptyObject(Exception):
    """A ranged GET of a 0-byte object: S3 answers 416 InvalidRange."""


def _total_size(content_range: str, read: int) -> int:
    """The object's size from a ranged GET's ``Content-Range: bytes 0-N/TOTAL``."""
    _, _, total = content_range.rpartition("/")
    return int(total) if total.isdigit() else read  # no range in the answer: the whole object


def _source_gone(exc: ClientError, where: str, etag: str) -> Exception | None:
    """A failed If-Match or a vanished object: newer bytes own the key now."""
    code = _code(exc)
    if code in ("PreconditionFailed", "412") or _status(exc) == 412:
        return SourceChanged(f"{where} no longer has ETag {etag}")
    if code in _MISSING_CODES:
        return SourceChanged(f"{where} was deleted after the event")
    return _refusal(exc, where)


def read(info: Pinned, byte_range: tuple[int, int] | None = None) -> bytes:
    """Read the object's bytes, pinned to the ETag (and version) seen when it was validated.

    A 412 or a vanished object means a newer upload replaced these bytes: raise
    SourceChanged so no thumbnail of stale bytes is ever published. A range inside the
    bytes the lookup already read (``ObjectInfo.prefix``) is answered from them.
    """
    prefix = getattr(info, "prefix", b"")
    if byte_range is not None and prefix and byte_range[1] < len(prefix):
        return prefix[byte_range[0] : byte_range[1] + 1]
    kwargs: dict[str, Any] = {"Bucket": info.bucket, "Key": info.key, "IfMatch": f'"{info.etag}"'}
    if info.version:
        kwargs["VersionId"] = info.version
    if byte_range is not None:
        kwargs["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
    where = f"s3://{info.bucket}/{info.key}"
    body = _call(
        f"read {where}",
        lambda: s3().get_object(**kwargs)["Body"].read(),
        none_on=frozenset({"InvalidRange"}),  # a range past the end of a short object
        special=lambda exc: _source_gone(exc, where, info.etag),
    )
    return b"" if body is None else body


def encode_tags(tags: Mapping[str, str]) -> str:
    """The URL-encoded ``Tagging`` header S3 expects on PutObject."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items())


def put(
    bucket: str,
    key: str,
    body: bytes,
    *,
    content_type: str,
    metadata: Mapping[str, str],
    cache_control: str = "",
    tags: Mapping[str, str] | None = None,
    if_match: str | None = None,
    if_absent: bool = False,
) -> str:
    """Write an object with its tags in the same request (no untagged window); returns its ETag.

    ``if_match`` (an ETag) or ``if_absent`` make it a conditional write: S3 refuses it when
    the key changed since the caller looked, and ``WriteConflict`` says so.
    """
    kwargs: dict[str, Any] = {}
    if if_match:
        kwargs["IfMatch"] = f'"{if_match}"'
    elif if_absent:
        kwargs["IfNoneMatch"] = "*"
    extra: dict[str, Any] = {}
    if cache_control:
        extra["CacheControl"] = cache_control
    if tags:
        extra["Tagging"] = encode_tags(tags)

    def conflict(exc: ClientError) -> Exception | None:
        code = _code(exc)
        if kwargs and (code in _CONFLICT_CODES or code in _MISSING_CODES or _status(exc) in (409, 412)):
            return WriteConflict(f"s3://{bucket}/{key} changed since it was read ({code})")
        return None

    resp = _call(
        f"put s3://{bucket}/{key}",
        lambda: s3().put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            Metadata=dict(metadata),
            **extra,
            **kwargs,
        ),
        special=conflict,
    )
    return _strip(resp.get("ETag", ""))


def confirm(info: Pinned) -> None:
    """Raise SourceChanged unless the object still has the ETag it was validated with.

    One conditional HEAD, made after rendering and before publishing, so a render of bytes
    replaced meanwhile is not published (conditional writes close the rest of the window).
    """
    # The key's current object, never a version: a version's ETag never changes.
    kwargs: dict[str, Any] = {"Bucket": info.bucket, "Key": info.key, "IfMatch": f'"{info.etag}"'}
    where = f"s3://{info.bucket}/{info.key}"
    _call(f"head {where}", lambda: s3().head_object(**kwargs),
          special=lambda exc: _source_gone(exc, where, info.etag))


def get_tags(bucket: str, key: str, version: str | None = None) -> dict[str, str]:
    """An object's tags as a dict."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        kwargs["VersionId"] = version
    resp = _call(f"get tags of s3://{bucket}/{key}", lambda: s3().get_object_tagging(**kwargs))
    return {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}


def put_tags(bucket: str, key: str, tags: Mapping[str, str], version: str | None = None) -> None:
    """Replace an object's tag set (callers merge first: S3 has no 'add tag')."""
    kwargs: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
    }
    if version:
        kwargs["VersionId"] = version
    missing = ImageRejected("missing", f"s3://{bucket}/{key} no longer exists")
    _call(f"tag s3://{bucket}/{key}", lambda: s3().put_object_tagging(**kwargs),
          special=lambda exc: missing if _code(exc) in _MISSING_CODES else None)


def get(bucket: str, key: str) -> tuple[ObjectInfo, bytes] | None:
    """One GET for an object's facts and bytes (the on-demand resizer answers with them); None if absent."""
    found = _call(f"get s3://{bucket}/{key}", lambda: _get_object({"Bucket": bucket, "Key": key}),
                  none_on=_MISSING_CODES)
    if found is None:
        return None
    resp, body = found
    return _info(bucket, key, resp, default_size=len(body)), body


def delete(bucket: str, key: str, *, if_match: str) -> bool:
    """Delete an object only while it still has ETag ``if_match``; False when it changed or is gone.

    A conditional delete (If-Match), so a thumbnail rewritten since it was looked at, by a
    newer upload's execution, is never removed. S3 answers 412 when the ETag differs, 404
    when the key is gone, and 409 when a concurrent PUT or DELETE of the key won the race.
    """
    gone = frozenset({*_MISSING_CODES, *_CONFLICT_CODES})
    result = _call(
        f"delete s3://{bucket}/{key}",
        lambda: s3().delete_object(Bucket=bucket, Key=key, IfMatch=f'"{if_match}"'),
        none_on=gone,
    )
    return result is not None


def list_keys(bucket: str, prefix: str) -> Iterator[tuple[str, str, int]]:
    """(key, ETag, size) of every object under ``prefix``, page by page."""
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = _call(f"list s3://{bucket}/{prefix}", lambda kw=kwargs: s3().list_objects_v2(**kw))
        for item in page.get("Contents", []):
            yield item["Key"], _strip(item.get("ETag", "")), int(item.get("Size", 0))
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return


def presigned_get(bucket: str, key: str, expires_s: int = 300) -> str:
    """A short-lived GET URL: how a thumbnail too large for a Lambda response is handed out.

    Signed locally (no request), so it needs only the s3:GetObject the caller already has.
    """
    return str(
        s3().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
        )
    )
