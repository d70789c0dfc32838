"""The workflow's two input shapes, parsed once: S3's EventBridge event, or ``{bucket, key}``.

EventBridge events are read through Powertools' data class for S3's EventBridge
notifications, which follows the shape AWS documents (``detail.object.etag``,
``version-id`` ...). Anything else is a named outcome, never a crash: a malformed
input is rejected as ``bad-input``; an S3 event that is not an upload (a delete, a
tag change) is ignored by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from .errors import ImageRejected, InputIgnored
from .formats import MAX_KEY_BYTES
from .records import SourceRef

UPLOAD = "Object Created"
DELETION = "Object Deleted"
S3_SOURCE = "aws.s3"
MAX_SHOWN_KEY = 200  # characters of an unusable key that alerts and logs repeat


def shown(text: str, limit: int = MAX_SHOWN_KEY) -> str:
    """A value as a message may repeat it: bounded, so a huge key cannot swell the payload."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ImageRejected("bad-input", f"{what} must be a non-empty string")
    return value


def _optional(value: Any) -> str | None:
    if value in (None, "", "null"):
        return None
    if not isinstance(value, str):
        raise ImageRejected("bad-input", f"expected a string, got {type(value).__name__}")
    return value.strip('"')


def _checked_key(key: str) -> str:
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ImageRejected("bad-input", "the key is not valid UTF-8 (it holds a lone surrogate)") from None
    if size > MAX_KEY_BYTES:
        raise ImageRejected(
            "key-too-long", f"the key is {size} bytes; S3 keys are at most {MAX_KEY_BYTES} bytes"
        )
    return key


def from_event(raw: Mapping[str, Any], accept: str = UPLOAD) -> SourceRef:
    """An S3 EventBridge notification of the ``accept`` kind, or a named reason to do nothing."""
    event = S3EventBridgeNotificationEvent(dict(raw))
    if event.get("source") != S3_SOURCE:
        raise ImageRejected("bad-input", f"events from {shown(str(event.get('source')))!r} are not S3's")
    detail_type = event.get("detail-type")
    if not isinstance(detail_type, str):
        raise ImageRejected("bad-input", "the event has no detail-type")
    if detail_type != accept:
        what = "an-upload" if accept == UPLOAD else "a-deletion"
        raise InputIgnored(f"not-{what}: {shown(detail_type)} events are not {accept} events")
    detail = raw.get("detail")
    if not isinstance(detail, Mapping):
        raise ImageRejected("bad-input", "the event has no detail")
    bucket, obj = detail.get("bucket"), detail.get("object")
    if not isinstance(bucket, Mapping) or not isinstance(obj, Mapping):
        raise ImageRejected("bad-input", "the event's detail has no bucket or object")
    # The raw key: S3 keys may arrive URL-encoded, and storage.resolve tries both forms.
    key = _checked_key(_text(obj.get("key"), "detail.object.key"))
    details = event.detail
    return SourceRef(
        bucket=_text(bucket.get("name"), "detail.bucket.name"),
        key=key,
        etag=_optional(details.object.etag),
        version=_optional(obj.get("version-id")),
    )


def from_manual(raw: Mapping[str, Any]) -> SourceRef:
    """``{"bucket", "key"}`` as an operator starts it (``etag``/``version`` optional pins)."""
    key = _checked_key(_text(raw.get("key"), "key"))
    return SourceRef(
        bucket=_text(raw.get("bucket"), "bucket"),
        key=key,
        etag=_optional(raw.get("etag")),
        version=_optional(raw.get("version")),
    )


def parse(raw: Any, accept: str = UPLOAD) -> SourceRef:
    """The source an execution input names; raises ImageRejected or InputIgnored by name."""
    if not isinstance(raw, Mapping):
        raise ImageRejected("bad-input", f"the input must be a JSON object, got {type(raw).__name__}")
    if "detail-type" in raw or "detail" in raw:
        return from_event(raw, accept)
    if "bucket" in raw or "key" in raw:
        return from_manual(raw)
    raise ImageRejected(
        "bad-input", 'expected an S3 Object Created event from EventBridge or {"bucket": ..., "key": ...}'
    )
