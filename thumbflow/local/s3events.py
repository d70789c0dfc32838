"""The events S3 sends to EventBridge, in the shape the S3 user guide documents.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html: a unique ``id``
(UUID v4), ``time`` in ISO-8601, ``resources`` with the bucket ARN and a ``detail``
whose ``object`` carries ``key``, ``size``, ``etag`` (lower case), ``sequencer`` and,
only in versioned buckets, ``version-id``; then ``request-id``, ``requester``,
``source-ip-address`` and ``reason`` (the API that caused it). "Object Deleted"
events add ``deletion-type`` and carry no size.

moto builds its own event (a fixed id and request id, ``time`` as an epoch float,
``eTag``, ``version-id: null`` for unversioned buckets, ``reason`` "ObjectCreated", and
an "Object Tags Added" after every PutObject with tags): this is the one place local
mode turns what moto knows about an S3 change into the documented event instead.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

# moto's notification names -> EventBridge detail-type.
DETAIL_TYPES = {
    "s3:ObjectCreated:Put": "Object Created",
    "s3:ObjectCreated:Post": "Object Created",
    "s3:ObjectCreated:Copy": "Object Created",
    "s3:ObjectCreated:CompleteMultipartUpload": "Object Created",
    "s3:ObjectRemoved:Delete": "Object Deleted",
    "s3:ObjectRemoved:DeleteMarkerCreated": "Object Deleted",
    "s3:LifecycleExpiration:Delete": "Object Deleted",
    "s3:LifecycleExpiration:DeleteMarkerCreated": "Object Deleted",
    "s3:ObjectTagging:Put": "Object Tags Added",
    "s3:ObjectTagging:Delete": "Object Tags Deleted",
}
# The documented ``reason`` of each Object Created event, by notification name.
CREATED_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}
# API operations after which moto reports a tagging change that S3 does not send separately.
_TAGS_WITH_OBJECT = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload", "PostObject"})


@dataclass(frozen=True)
class ObjectFacts:
    """What S3 knows of the object the event is about."""

    key: str
    size: int | None
    etag: str | None
    version_id: str | None  # None in an unversioned bucket


@dataclass(frozen=True)
class RequestFacts:
    """The request that caused the event (from the wire that served it)."""

    operation: str  # PutObject, DeleteObject, PutObjectTagging, ...
    request_id: str
    requester: str
    source_ip: str | None = "127.0.0.1"


class Sequencer:
    """Strictly increasing hex strings: later events of a key compare greater, as S3's do."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:018X}"


def wanted(notification: str, request: RequestFacts | None) -> bool:
    """Whether S3 sends this change to EventBridge at all."""
    if notification not in DETAIL_TYPES:
        return False
    # A PutObject (or copy, or multipart completion) with tags is one "Object Created":
    # moto applies the tags through its tagging path and reports them once more.
    return not (notification == "s3:ObjectTagging:Put" and request is not None
                and request.operation in _TAGS_WITH_OBJECT)


def s3_event(
    notification: str,
    *,
    bucket: str,
    region: str,
    account: str,
    obj: ObjectFacts,
    request: RequestFacts,
    sequencer: str,
    when: dt.datetime | None = None,
) -> dict[str, Any]:
    """The documented EventBridge event for one S3 change."""
    detail_type = DETAIL_TYPES[notification]
    when = when or dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {"key": obj.key}
    if detail_type != "Object Deleted" and obj.size is not None:
        body["size"] = obj.size
    if obj.etag and (detail_type != "Object Deleted" or "DeleteMarker" in notification):
        body["etag"] = obj.etag.strip('"')
    if obj.version_id is not None:
        body["version-id"] = obj.version_id
    body["sequencer"] = sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": body,
        "request-id": request.request_id,
        "requester": request.requester,
    }
    if request.source_ip:
        detail["source-ip-address"] = request.source_ip
    if detail_type == "Object Created":
        detail["reason"] = CREATED_REASONS[notification]
    elif detail_type == "Object Deleted":
        lifecycle = notification.startswith("s3:LifecycleExpiration")
        detail["reason"] = "Lifecycle Expiration" if lifecycle else "DeleteObject"
        detail["deletion-type"] = ("Delete Marker Created" if "DeleteMarker" in notification
                                   else "Permanently Deleted")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": detail,
    }
