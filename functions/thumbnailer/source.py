"""Find the uploaded object and judge it from its header, before anything decodes it.

This is the core of the Validate step: it accepts both input shapes of the
workflow, reads as few bytes as the header needs, and turns every way an upload
can be unusable into an ``ImageRejected`` with a specific reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from . import imaging, storage
from .errors import ImageRejected, SourceChanged
from .settings import Settings

# Rekognition DetectModerationLabels reads JPEG and PNG, up to 15 MB from S3.
MODERATABLE_FORMATS = frozenset({"jpeg", "png"})
MODERATION_MAX_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class SourceRef:
    """Which object an execution is about, and which bytes of it (when the event says)."""

    bucket: str
    key: str
    etag: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class SourceFacts:
    """What later steps need: where the exact bytes are, and what they are."""

    bucket: str
    key: str
    etag: str
    version: str | None
    bytes: int
    format: str
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_ref(raw_input: Mapping[str, Any], obj: Mapping[str, Any]) -> SourceRef:
    """Build a SourceRef from the workflow input (EventBridge event or manual {bucket, key})."""
    bucket, key = obj.get("bucket"), obj.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        raise ImageRejected("bad-input", "bucket and key must be non-empty strings")
    detail = raw_input.get("detail") if isinstance(raw_input, Mapping) else None
    if isinstance(detail, Mapping) and isinstance(detail.get("object"), Mapping):
        o = detail["object"]
        return SourceRef(bucket, key, _opt(o.get("eTag")), _opt(o.get("version-id")))
    return SourceRef(bucket, key, _opt(raw_input.get("etag")), _opt(raw_input.get("version")))


def _opt(value: Any) -> str | None:
    return str(value).strip('"') if value not in (None, "", "null") else None


def locate(ref: SourceRef, settings: Settings) -> storage.ObjectInfo:
    """The object the reference names, at the bytes the event saw."""
    if ref.bucket != settings.source_bucket:
        raise ImageRejected(
            "wrong-bucket", f"{ref.bucket!r} is not the source bucket {settings.source_bucket!r}"
        )
    info = storage.resolve(ref.bucket, ref.key, ref.version, ref.etag)
    if info is None:
        raise ImageRejected("missing", f"s3://{ref.bucket}/{ref.key} does not exist")
    if ref.etag and ref.etag != info.etag:
        raise SourceChanged(
            f"superseded: s3://{info.bucket}/{info.key} now has ETag {info.etag}, "
            f"the event was for {ref.etag}"
        )
    return info


def inspect(info: storage.ObjectInfo, settings: Settings) -> SourceFacts:
    """Accept or reject the object from its first bytes: format by magic, byte and pixel caps."""
    if info.size == 0:
        raise ImageRejected("empty", "the object has 0 bytes")
    if info.size > settings.max_source_bytes:
        raise ImageRejected(
            "too-many-bytes", f"{info.size} bytes is over MaxSourceBytes {settings.max_source_bytes}"
        )
    want = min(imaging.HEADER_BYTES, info.size)
    head = storage.read(info, (0, want - 1))
    imaging.sniff(head)
    while (
        facts := imaging.probe(head, total_bytes=info.size, max_pixels=settings.max_source_pixels)
    ) is None:
        # A header past the first read (big EXIF or ICC segments): widen, never past the object.
        if want >= info.size:
            raise ImageRejected("truncated", "the object ends inside its header")
        want = min(want * 4, info.size)
        head = storage.read(info, (0, want - 1))
    return SourceFacts(
        bucket=info.bucket,
        key=info.key,
        etag=info.etag,
        version=info.version,
        bytes=info.size,
        format=facts.format,
        width=facts.width,
        height=facts.height,
    )


def moderatable(facts: SourceFacts) -> bool:
    """Whether Rekognition can read this source directly from S3."""
    return facts.format in MODERATABLE_FORMATS and facts.bytes <= MODERATION_MAX_BYTES
