"""Find the uploaded object and judge it from its header, before anything decodes it.

The core of the Validate step: every way an upload can be unusable becomes an
``ImageRejected`` with a specific reason, and the header is read in bounded
steps: the first ``imaging.HEADER_BYTES``, then wider reads only while the
header is still incomplete, never past ``MAX_HEADER_BYTES`` (headers that point
elsewhere, a TIFF directory at the end, read just those ranges, in the same budget).
What rendering will cost is estimated from the header and refused by name
(``too-costly``) when it would not fit the function that renders.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import imaging, storage
from .errors import ImageRejected, SourceChanged
from .records import PinnedSource, RenderGroup, SourceRef
from .settings import Settings

# Rekognition DetectModerationLabels reads JPEG and PNG, up to 15 MB from S3.
MODERATABLE_FORMATS = frozenset({"jpeg", "png"})
MODERATION_MAX_BYTES = 15 * 1024 * 1024
# A header (with its EXIF, ICC and XMP) needing more than this is refused rather than read.
MAX_HEADER_BYTES = imaging.MAX_HEADER_BYTES


def locate(ref: SourceRef, settings: Settings) -> storage.ObjectInfo:
    """The object the reference names, at the bytes the event saw."""
    if ref.bucket != settings.source_bucket:
        raise ImageRejected(
            "wrong-bucket", f"{ref.bucket!r} is not the source bucket {settings.source_bucket!r}"
        )
    info = storage.resolve(ref.bucket, ref.key, ref.version, ref.etag, prefetch=imaging.HEADER_BYTES)
    if info is None:
        raise ImageRejected("missing", f"s3://{ref.bucket}/{ref.key} does not exist")
    if ref.etag and ref.etag != info.etag:
        raise SourceChanged(
            f"superseded: s3://{info.bucket}/{info.key} now has ETag {info.etag}, "
            f"the event was for {ref.etag}"
        )
    return info


def judge(info: storage.ObjectInfo, settings: Settings, groups: Sequence[RenderGroup] = ()) -> PinnedSource:
    """Accept or reject the object from its first bytes: format by magic, byte and pixel caps.

    With ``groups`` (the render groups it would be rendered in), also what each would cost,
    against the render function's MemorySize and Timeout (``render_limits``).
    """
    if info.size == 0:
        raise ImageRejected("empty", "the object has 0 bytes")
    if info.size > settings.max_source_bytes:
        raise ImageRejected(
            "too-many-bytes", f"{info.size} bytes is over MaxSourceBytes {settings.max_source_bytes}"
        )
    want = min(imaging.HEADER_BYTES, info.size)
    head = storage.read(info, (0, want - 1))
    imaging.sniff(head)

    fetched: dict[tuple[int, int], bytes] = {}

    def fetch(first: int, last: int) -> bytes:  # ranges a header points to (a TIFF directory)
        if (first, last) not in fetched:
            fetched[first, last] = storage.read(info, (first, last))
        return fetched[first, last]

    largest = max(groups, key=lambda g: max(s.width * s.height for s in g.sizes), default=None)
    while (
        facts := imaging.probe(
            head,
            total_bytes=info.size,
            max_pixels=settings.max_source_pixels,
            fetch=fetch,
            specs=largest.sizes if largest else (),
        )
    ) is None:
        # A header past the first read (big EXIF or ICC segments): widen, within bounds.
        if want >= info.size:
            raise ImageRejected("truncated", "the object ends inside its header")
        if want >= MAX_HEADER_BYTES:
            raise ImageRejected(
                "header-too-large", f"the header runs past {MAX_HEADER_BYTES} bytes without its end"
            )
        want = min(want * 4, info.size, MAX_HEADER_BYTES)
        head = storage.read(info, (0, want - 1))
    for group in groups:
        imaging.check_cost(facts, group.sizes, info.size, render_limits(settings))
    return PinnedSource(
        bucket=info.bucket,
        key=info.key,
        etag=info.etag,
        version=info.version,
        bytes=info.size,
        format=facts.format,
        width=facts.width,
        height=facts.height,
    )


def render_limits(settings: Settings) -> imaging.Limits:
    """The render function's limits, as the template gave them to this function."""
    return imaging.Limits(settings.render_memory_mb, settings.render_timeout_s, settings.render_function)


def moderatable(source: PinnedSource) -> bool:
    """Whether Rekognition can read this source directly from S3."""
    return source.format in MODERATABLE_FORMATS and source.bytes <= MODERATION_MAX_BYTES
